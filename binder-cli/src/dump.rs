//! `binder dump`: the driver's state and counters as tables.
//!
//! The userspace driver answers structured queries ([`introspect::state`],
//! [`introspect::stats`]). Linux's driver has debugfs: `state` (text, parsed by
//! [`crate::kernel_state`]) and `stats` (global counters); both need root and a mounted
//! debugfs, and the dump says so when they cannot be read.

use std::fmt::Write;
use std::path::Path;

use binder_rt::DriverSpec;
use binder_rt::introspect::{self, DriverState, DriverStats, IntrospectError};

use crate::device;
use crate::kernel_state::{self, KernelState, looper_flags};
use crate::table::{Table, command_of, list, opt, size};
use crate::{CliError, CliResult, print};

#[derive(Debug, clap::Args)]
pub struct DumpArgs {
    /// Print JSON ({"state": ..., "stats": ...}) instead of tables.
    #[arg(long)]
    pub json: bool,
}

pub fn run(spec: &DriverSpec, args: &DumpArgs) -> CliResult {
    device::ensure_available(spec)?;
    match spec {
        DriverSpec::Userspace(name) => userspace(spec, name, args),
        DriverSpec::Kernel(path) => kernel(spec, path, args),
    }
}

/// Columns both drivers' node and ref tables show (the kernel's from debugfs).
const NODE_COLUMNS: [&str; 8] = [
    "ID",
    "OWNER",
    "PTR",
    "STRONG",
    "WEAK",
    "LOCAL S/W",
    "REF HOLDERS",
    "ASYNC QUEUED",
];
const REF_COLUMNS: [&str; 7] = [
    "PID",
    "DESC",
    "NODE",
    "NODE OWNER",
    "STRONG",
    "WEAK",
    "DEATH",
];

fn introspect_error(spec: &DriverSpec, e: IntrospectError) -> CliError {
    match e {
        IntrospectError::NotRunning(name) => CliError::new(format!(
            "no binder driver running (userspace instance {name:?})"
        )),
        e => CliError::new(format!("cannot read the state of {spec}: {e}")),
    }
}

// ---- userspace driver -------------------------------------------------------------------------

fn userspace(spec: &DriverSpec, name: &str, args: &DumpArgs) -> CliResult {
    let state = introspect::state(spec).map_err(|e| introspect_error(spec, e))?;
    let stats = introspect::stats(spec).map_err(|e| introspect_error(spec, e))?;
    if args.json {
        let doc = serde_json::json!({ "driver": "userspace", "instance": name, "state": state, "stats": stats });
        let text = serde_json::to_string_pretty(&doc)
            .map_err(|e| CliError::new(format!("cannot format JSON: {e}")))?;
        return print(&(text + "\n"));
    }
    let mut out = String::new();
    render_userspace(&mut out, &state, &stats);
    print(&out)
}

fn pid_tid(pid: Option<u32>, tid: Option<u32>) -> String {
    match (pid, tid) {
        (Some(p), Some(t)) if t != 0 => format!("{p}:{t}"),
        (Some(p), _) => p.to_string(),
        _ => "-".to_owned(),
    }
}

fn yes(b: bool) -> String {
    if b { "yes" } else { "-" }.to_owned()
}

pub fn render_userspace(out: &mut String, state: &DriverState, stats: &DriverStats) {
    let _ = writeln!(
        out,
        "binder driver: userspace instance {:?} (driver pid {})",
        state.instance, state.driver_pid
    );
    let cm = match &state.context_manager {
        Some(cm) => format!("pid {}, uid {}, node {}", opt(cm.pid), opt(cm.uid), cm.node),
        None => "none (no service manager)".to_owned(),
    };
    let _ = writeln!(out, "context manager: {cm}");
    out.push('\n');

    let mut procs = Table::new(
        format!("PROCESSES ({})", state.processes.len()),
        &[
            "PID",
            "COMMAND",
            "UID",
            "THREADS",
            "NODES",
            "REFS",
            "BUFFERS",
            "AREA USED/SIZE",
            "ARENA",
            "TODO",
            "OUTSTANDING",
        ],
    );
    for p in &state.processes {
        let area = p.area.as_ref().map_or_else(
            || "-".to_owned(),
            |a| {
                format!(
                    "{}/{}",
                    size(a.size.saturating_sub(a.free_bytes)),
                    size(a.size)
                )
            },
        );
        let buffers = p
            .area
            .as_ref()
            .map_or(p.buffers.len() as u64, |a| a.buffers_in_use);
        procs.row(vec![
            p.pid.to_string(),
            command_of(p.pid),
            p.uid.to_string(),
            format!("{}/{}", p.threads.len(), p.counts.max_threads),
            p.nodes.len().to_string(),
            p.refs.len().to_string(),
            buffers.to_string(),
            area,
            p.arena.as_ref().map_or("-".to_owned(), |a| size(a.size)),
            p.todo.len().to_string(),
            p.counts.outstanding_transactions.to_string(),
        ]);
    }
    procs.render(out);
    out.push('\n');

    let mut threads = Table::new(
        "THREADS",
        &["PID", "TID", "LOOPER", "WAITING", "STACK", "TODO", "ERROR"],
    );
    for p in &state.processes {
        for t in &p.threads {
            let error = t
                .return_error
                .iter()
                .chain(&t.reply_error)
                .cloned()
                .collect::<Vec<_>>();
            threads.row(vec![
                p.pid.to_string(),
                t.tid.to_string(),
                if t.looper_flags.is_empty() {
                    "-".to_owned()
                } else {
                    t.looper_flags.join(",")
                },
                yes(t.waiting),
                t.transaction_stack.len().to_string(),
                t.todo.len().to_string(),
                list(&error),
            ]);
        }
    }
    threads.render(out);
    out.push('\n');

    let mut nodes = Table::new("NODES", &NODE_COLUMNS);
    let node_rows = state
        .processes
        .iter()
        .flat_map(|p| p.nodes.iter())
        .chain(&state.dead_nodes);
    for n in node_rows {
        nodes.row(vec![
            n.debug_id.to_string(),
            n.owner_pid.map_or("dead".to_owned(), |p| p.to_string()),
            format!("{:#x}", n.ptr),
            yes(n.counts.has_strong_ref),
            yes(n.counts.has_weak_ref),
            format!(
                "{}/{}",
                n.counts.local_strong_refs, n.counts.local_weak_refs
            ),
            list(&n.ref_holders),
            n.async_todo.len().to_string(),
        ]);
    }
    nodes.render(out);
    out.push('\n');

    let mut refs = Table::new("REFS", &REF_COLUMNS);
    for p in &state.processes {
        for r in &p.refs {
            refs.row(vec![
                p.pid.to_string(),
                r.desc.to_string(),
                r.node.to_string(),
                r.node_owner_pid
                    .map_or("dead".to_owned(), |p| p.to_string()),
                r.counts.strong.to_string(),
                r.counts.weak.to_string(),
                yes(r.death_cookie.is_some()),
            ]);
        }
    }
    refs.render(out);
    out.push('\n');

    let mut buffers = Table::new(
        "BUFFERS IN USE",
        &[
            "PID",
            "ID",
            "SIZE",
            "DATA",
            "OFFSETS",
            "ONEWAY",
            "DELIVERED",
            "TRANSACTION",
        ],
    );
    for p in &state.processes {
        for b in &p.buffers {
            buffers.row(vec![
                p.pid.to_string(),
                b.debug_id.to_string(),
                b.size.to_string(),
                b.data_size.to_string(),
                b.offsets_size.to_string(),
                yes(b.async_transaction),
                yes(b.delivered),
                opt(b.transaction),
            ]);
        }
    }
    buffers.render(out);
    out.push('\n');

    let mut txs = Table::new(
        "TRANSACTIONS IN FLIGHT",
        &["ID", "FROM", "TO", "CODE", "FLAGS", "NODE", "DATA", "KIND"],
    );
    for t in &state.transactions {
        let kind = if t.is_reply {
            "reply"
        } else if t.need_reply {
            "call"
        } else {
            "oneway"
        };
        txs.row(vec![
            t.debug_id.to_string(),
            pid_tid(t.from_pid, t.from_tid),
            pid_tid(t.to_pid, t.to_tid),
            format!("{:#x}", t.code),
            format!("{:#x}", t.flags),
            opt(t.target_node),
            opt(t.data_size),
            kind.to_owned(),
        ]);
    }
    txs.render(out);
    out.push('\n');

    render_counters(out, stats, false);
}

/// Counters, then objects and the BC/BR tables. `kernel`: the kernel keeps no byte or oneway
/// counters, and its counters are global to all binder devices.
fn render_counters(out: &mut String, stats: &DriverStats, kernel: bool) {
    let na = "n/a (the kernel driver does not count this)";
    let mut counters = Table::new(
        if kernel {
            "COUNTERS (all binder devices of the kernel)"
        } else {
            "COUNTERS"
        },
        &["COUNTER", "VALUE"],
    );
    let mut add = |name: &str, value: String| counters.row(vec![name.to_owned(), value]);
    add("transactions", stats.transactions.to_string());
    add("replies", stats.replies.to_string());
    add(
        "oneway",
        if kernel {
            na.to_owned()
        } else {
            stats.oneway.to_string()
        },
    );
    add("failed", stats.failed.to_string());
    if kernel {
        for name in [
            "bytes_copied",
            "bytes_copied_arena",
            "bytes_copied_vm",
            "fds_passed",
            "lock_contended",
        ] {
            add(name, na.to_owned());
        }
    } else {
        add("bytes_copied", stats.bytes_copied.to_string());
        add(
            "bytes_copied_arena",
            format!("{} (memcpy from send arenas)", stats.bytes_copied_arena),
        );
        add(
            "bytes_copied_vm",
            format!(
                "{} (outside the arena, through /proc/PID/mem)",
                stats.bytes_copied_vm
            ),
        );
        add("fds_passed", stats.fds_passed.to_string());
        add(
            "lock_contended",
            format!(
                "{} of {} (the driver's state lock found held by another driver thread)",
                stats.lock_contended, stats.lock_acquisitions
            ),
        );
    }
    counters.render(out);
    out.push('\n');

    let mut objects = Table::new("OBJECTS", &["KIND", "ACTIVE", "TOTAL"]);
    for (kind, c) in &stats.objects {
        objects.row(vec![
            kind.clone(),
            c.active.to_string(),
            c.total.to_string(),
        ]);
    }
    objects.render(out);
    out.push('\n');

    let mut bc = Table::new("COMMANDS (BC_*)", &["COMMAND", "COUNT"]);
    for (name, n) in &stats.bc {
        bc.row(vec![name.clone(), n.to_string()]);
    }
    bc.render(out);
    out.push('\n');

    let mut br = Table::new("RETURNS (BR_*)", &["RETURN", "COUNT"]);
    for (name, n) in &stats.br {
        br.row(vec![name.clone(), n.to_string()]);
    }
    br.render(out);
}

// ---- kernel driver ----------------------------------------------------------------------------

/// Why a debugfs file could not be read, in words.
fn debugfs_note(e: &IntrospectError) -> String {
    match e {
        IntrospectError::Debugfs { path, source } => match source.kind() {
            std::io::ErrorKind::NotFound => format!(
                "{path} does not exist: debugfs is not mounted (mount -t debugfs none /sys/kernel/debug) or this kernel's binder has no debugfs"
            ),
            std::io::ErrorKind::PermissionDenied => {
                format!("{path}: permission denied (debugfs is readable by root only)")
            }
            _ => format!("{path}: {source}"),
        },
        e => e.to_string(),
    }
}

/// The debugfs context name of a device node: the name the driver was given for it, which is
/// the node's file name (`/dev/binder1` → `binder1`, also through a symlink).
fn context_name(path: &Path) -> String {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    real.file_name()
        .or_else(|| path.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn kernel(spec: &DriverSpec, path: &Path, args: &DumpArgs) -> CliResult {
    let context = context_name(path);
    let state_text = introspect::kernel_state_text();
    let stats = introspect::stats(spec);
    if let (Err(a), Err(b)) = (&state_text, &stats) {
        // Both files live in the same directory: usually one reason for both.
        let why = match (a, b) {
            (
                IntrospectError::Debugfs { source: x, .. },
                IntrospectError::Debugfs { source: y, .. },
            ) if x.kind() == y.kind() => debugfs_note(a),
            _ => format!("{}; {}", debugfs_note(a), debugfs_note(b)),
        };
        return Err(CliError::new(format!(
            "cannot read the kernel binder driver's state: {why}"
        )));
    }
    let state = state_text.as_ref().ok().map(|t| kernel_state::parse(t));
    if args.json {
        return kernel_json(path, &context, &state_text, &stats);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "binder driver: Linux kernel, device {} (debugfs context {context:?})",
        path.display()
    );
    let _ = writeln!(out, "debugfs: {}", introspect::KERNEL_DEBUGFS);
    out.push('\n');
    match (&state, &state_text) {
        (Some(state), _) => render_kernel_state(&mut out, state, &context),
        (None, Err(e)) => {
            let _ = writeln!(
                out,
                "STATE\n  unavailable: {}\n",
                debugfs_note(e).replace('\n', " ")
            );
        }
        (None, Ok(_)) => {}
    }
    match &stats {
        Ok(stats) => render_counters(&mut out, stats, true),
        Err(e) => {
            let _ = writeln!(out, "COUNTERS\n  unavailable: {}", debugfs_note(e));
        }
    }
    print(&out)
}

fn kernel_json(
    path: &Path,
    context: &str,
    state_text: &Result<String, IntrospectError>,
    stats: &Result<DriverStats, IntrospectError>,
) -> CliResult {
    let mut unavailable = Vec::new();
    if let Err(e) = state_text {
        unavailable.push(debugfs_note(e));
    }
    if let Err(e) = stats {
        unavailable.push(debugfs_note(e));
    }
    let doc = serde_json::json!({
        "driver": "kernel",
        "device": path.display().to_string(),
        "context": context,
        "state_text": state_text.as_ref().ok(),
        "stats": stats.as_ref().ok(),
        "unavailable": unavailable,
    });
    let text = serde_json::to_string_pretty(&doc)
        .map_err(|e| CliError::new(format!("cannot format JSON: {e}")))?;
    print(&(text + "\n"))
}

fn render_kernel_state(out: &mut String, state: &KernelState, context: &str) {
    let procs: Vec<_> = state
        .procs
        .iter()
        .filter(|p| p.context == context)
        .collect();
    let others = state.procs.len() - procs.len();

    let mut table = Table::new(
        format!("PROCESSES ({})", procs.len()),
        &[
            "PID", "COMMAND", "THREADS", "NODES", "REFS", "BUFFERS", "TODO",
        ],
    );
    for p in &procs {
        table.row(vec![
            p.pid.to_string(),
            command_of(p.pid),
            p.threads.len().to_string(),
            p.nodes.len().to_string(),
            p.refs.len().to_string(),
            p.buffers.len().to_string(),
            p.pending_work.to_string(),
        ]);
    }
    table.render(out);
    if others > 0 {
        let _ = writeln!(
            out,
            "  ({others} more on other binder devices; select one with --device)"
        );
    }
    out.push('\n');

    let mut threads = Table::new(
        "THREADS",
        &["PID", "TID", "LOOPER", "NEED RETURN", "STACK", "TODO"],
    );
    for p in &procs {
        for t in &p.threads {
            threads.row(vec![
                p.pid.to_string(),
                t.tid.to_string(),
                looper_flags(t.looper),
                yes(t.need_return),
                t.stack.to_string(),
                t.todo.to_string(),
            ]);
        }
    }
    threads.render(out);
    out.push('\n');

    let mut nodes = Table::new("NODES", &NODE_COLUMNS);
    for p in &procs {
        for n in &p.nodes {
            nodes.row(vec![
                n.id.to_string(),
                p.pid.to_string(),
                u64::from_str_radix(&n.ptr, 16)
                    .map_or_else(|_| n.ptr.clone(), |p| format!("{p:#x}")),
                yes(n.has_strong != 0),
                yes(n.has_weak != 0),
                format!("{}/{}", n.local_strong, n.local_weak),
                list(&n.ref_holders),
                n.async_pending.to_string(),
            ]);
        }
    }
    nodes.render(out);
    if !state.dead_nodes.is_empty() {
        let _ = writeln!(
            out,
            "  ({} dead nodes still referenced, on all devices)",
            state.dead_nodes.len()
        );
    }
    out.push('\n');

    // Node ids are unique across the driver: find each ref's node owner among all processes.
    let owners: std::collections::BTreeMap<u64, u32> = state
        .procs
        .iter()
        .flat_map(|p| p.nodes.iter().map(move |n| (n.id, p.pid)))
        .collect();
    let mut refs = Table::new("REFS", &REF_COLUMNS);
    for p in &procs {
        for r in &p.refs {
            refs.row(vec![
                p.pid.to_string(),
                r.desc.to_string(),
                r.node.to_string(),
                if r.node_dead {
                    "dead".to_owned()
                } else {
                    opt(owners.get(&r.node))
                },
                r.strong.to_string(),
                r.weak.to_string(),
                yes(r.death),
            ]);
        }
    }
    refs.render(out);
    out.push('\n');

    let mut buffers = Table::new(
        "BUFFERS IN USE",
        &["PID", "ID", "OFFSET", "DATA:OFFSETS:EXTRA", "STATE"],
    );
    for p in &procs {
        for b in &p.buffers {
            buffers.row(vec![
                p.pid.to_string(),
                b.id.to_string(),
                b.offset.clone(),
                b.sizes.clone(),
                b.state.clone(),
            ]);
        }
    }
    buffers.render(out);
    out.push('\n');

    // A transaction appears once per process that sees it (sender's stack, receiver's stack or
    // queue): show it once, as the first process printed it.
    let mut seen = std::collections::BTreeSet::new();
    let mut txs = Table::new(
        "TRANSACTIONS IN FLIGHT",
        &["ID", "FROM", "TO", "CODE", "FLAGS", "NEED REPLY", "SEEN AS"],
    );
    for p in &procs {
        for t in &p.transactions {
            if !seen.insert(t.id) {
                continue;
            }
            txs.row(vec![
                t.id.to_string(),
                t.from.clone(),
                t.to.clone(),
                format!("{:#x}", u32::from_str_radix(&t.code, 16).unwrap_or(0)),
                format!("{:#x}", u32::from_str_radix(&t.flags, 16).unwrap_or(0)),
                yes(t.need_reply),
                format!("{} (pid {})", t.kind, p.pid),
            ]);
        }
    }
    txs.render(out);
    out.push('\n');
}
