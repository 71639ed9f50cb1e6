//! The driver's own view of its state and counters: the userspace driver's debug queries, or the
//! kernel driver's debugfs files. Usable from any process, binder user or not (tools, tests).

use std::collections::BTreeMap;

use binder_sys::ud::DebugQuery;
pub use binder_sys::ud::state::{DriverState, DriverStats, ObjectCount};
use nix::errno::Errno;

use crate::driver::DriverSpec;
use crate::driver::userspace::debug_query;

/// Where the kernel driver's debugfs files are.
pub const KERNEL_DEBUGFS: &str = "/sys/kernel/debug/binder";

/// Why state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    /// No userspace driver instance of this name answers.
    #[error("no userspace binder driver {0:?} is running")]
    NotRunning(String),
    /// The kernel driver's debugfs file could not be read.
    #[error("cannot read {path}: {source} (is debugfs mounted, and are you root?)")]
    Debugfs {
        /// The file.
        path: String,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// Talking to the userspace driver failed.
    #[error("binder driver: {0}")]
    Io(#[from] std::io::Error),
    /// The driver's answer could not be understood.
    #[error("binder driver sent malformed state: {0}")]
    Malformed(String),
    /// This driver cannot answer the question.
    #[error("{0}")]
    Unsupported(String),
}

fn userspace_json(instance: &str, q: DebugQuery) -> Result<String, IntrospectError> {
    debug_query(instance, q).map_err(|e| match e.raw_os_error().map(Errno::from_raw) {
        Some(Errno::ECONNREFUSED | Errno::ENOENT) => {
            IntrospectError::NotRunning(instance.to_owned())
        }
        _ => IntrospectError::Io(e),
    })
}

fn read_debugfs(file: &str) -> Result<String, IntrospectError> {
    let path = format!("{KERNEL_DEBUGFS}/{file}");
    std::fs::read_to_string(&path).map_err(|source| IntrospectError::Debugfs { path, source })
}

/// The driver's counters. For the kernel driver, from debugfs `stats` (it keeps no byte
/// counters, so those stay 0).
pub fn stats(spec: &DriverSpec) -> Result<DriverStats, IntrospectError> {
    match spec {
        DriverSpec::Userspace(name) => {
            let json = userspace_json(name, DebugQuery::Stats)?;
            serde_json::from_str(&json).map_err(|e| IntrospectError::Malformed(e.to_string()))
        }
        DriverSpec::Kernel(_) => Ok(parse_kernel_stats(&read_debugfs("stats")?)),
    }
}

/// The driver's state (processes, threads, nodes, refs, buffers, transactions). Only the
/// userspace driver returns it structured; for the kernel use [`kernel_state_text`].
pub fn state(spec: &DriverSpec) -> Result<DriverState, IntrospectError> {
    match spec {
        DriverSpec::Userspace(name) => {
            let json = userspace_json(name, DebugQuery::State)?;
            serde_json::from_str(&json).map_err(|e| IntrospectError::Malformed(e.to_string()))
        }
        DriverSpec::Kernel(_) => Err(IntrospectError::Unsupported(
            "the kernel driver's state is text in debugfs; see kernel_state_text()".into(),
        )),
    }
}

/// The kernel driver's debugfs `state` file as it is.
pub fn kernel_state_text() -> Result<String, IntrospectError> {
    read_debugfs("state")
}

/// How many buffers the driver has allocated in the receive areas of the processes `pids`.
pub fn buffers_in_use(device: &str, pids: &[u32]) -> Result<usize, IntrospectError> {
    match DriverSpec::parse(device) {
        spec @ DriverSpec::Userspace(_) => Ok(state(&spec)?
            .processes
            .iter()
            .filter(|p| pids.contains(&p.pid))
            .map(|p| p.buffers.len())
            .sum()),
        DriverSpec::Kernel(_) => {
            let mut n = 0;
            for pid in pids {
                // A process that already exited has no file, and no buffers.
                let Ok(text) = read_debugfs(&format!("proc/{pid}")) else {
                    continue;
                };
                n += text
                    .lines()
                    .filter(|l| l.trim_start().starts_with("buffer "))
                    .count();
            }
            Ok(n)
        }
    }
}

/// Parses debugfs `stats`: the global section's `BC_*:`/`BR_*:` counters and object counts
/// (`proc: active 2 total 5`).
fn parse_kernel_stats(text: &str) -> DriverStats {
    let mut bc = BTreeMap::new();
    let mut br = BTreeMap::new();
    let mut objects = BTreeMap::new();
    for line in text.lines() {
        // Only the first (global) section; per-process sections start with "proc ".
        if line.starts_with("proc ") {
            break;
        }
        let Some((name, value)) = line.trim().split_once(':') else {
            continue;
        };
        if let ["active", active, "total", total] = value.split_whitespace().collect::<Vec<_>>()[..]
            && let (Ok(active), Ok(total)) = (active.parse(), total.parse())
        {
            objects.insert(name.to_owned(), ObjectCount { active, total });
            continue;
        }
        let Ok(v) = value.trim().parse::<u64>() else {
            continue;
        };
        if name.starts_with("BC_") {
            bc.insert(name.to_owned(), v);
        } else if name.starts_with("BR_") {
            br.insert(name.to_owned(), v);
        }
    }
    let get = |m: &BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
    DriverStats {
        transactions: get(&bc, "BC_TRANSACTION") + get(&bc, "BC_TRANSACTION_SG"),
        replies: get(&bc, "BC_REPLY") + get(&bc, "BC_REPLY_SG"),
        failed: get(&br, "BR_FAILED_REPLY") + get(&br, "BR_DEAD_REPLY"),
        bc,
        br,
        objects,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_stats_text_is_parsed() {
        let text = "binder stats:\nBC_TRANSACTION: 12\nBC_REPLY: 10\nBR_FAILED_REPLY: 1\nproc: active 2 total 5\nproc 123\n  BC_TRANSACTION: 3\n";
        let s = parse_kernel_stats(text);
        assert_eq!((s.transactions, s.replies, s.failed), (12, 10, 1));
        assert_eq!(s.bc["BC_TRANSACTION"], 12);
        assert_eq!(
            s.objects["proc"],
            ObjectCount {
                active: 2,
                total: 5
            }
        );
    }
}
