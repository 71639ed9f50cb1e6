//! Timing: the round-trip loop every transport runs the same way, percentiles, pinning.

use std::time::Instant;

use nix::sched::{CpuSet, sched_setaffinity};
use nix::unistd::Pid;

/// One side of a connection that carries a request of any size and answers with a number.
pub trait Link {
    /// Sends `payload` and waits for the answer.
    fn call(&mut self, payload: &[u8]) -> Result<u64, String>;

    /// For a floor whose requests are built where the transport reads them (a send arena):
    /// that buffer, `size` bytes long. The measured loop then changes the request in place and
    /// calls [`Link::call_in_place`], so the floor does not pay for building a request.
    fn request_buffer(&mut self, _size: usize) -> Option<&mut [u8]> {
        None
    }

    /// Sends the `size`-byte request in [`Link::request_buffer`].
    fn call_in_place(&mut self, _size: usize) -> Result<u64, String> {
        Err("this transport has no request buffer".into())
    }
}

/// One call of `size` bytes, the request marked for call `i`; checks the answer.
fn one_call(link: &mut dyn Link, payload: &mut [u8], i: usize) -> Result<(), String> {
    let size = payload.len();
    let (got, want) = match link.request_buffer(size) {
        Some(buf) => {
            mark(buf, i);
            let want = answer(buf);
            (link.call_in_place(size)?, want)
        }
        None => {
            mark(payload, i);
            (link.call(payload)?, answer(payload))
        }
    };
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "wrong answer for a {size} B request: {got}, expected {want}"
        ))
    }
}

/// What every server answers: the request's length plus its first and last byte, read where
/// the request arrived. The client changes both bytes every call, so a stale or truncated
/// request gives a wrong answer.
pub fn answer(data: &[u8]) -> u64 {
    data.len() as u64
        + data.first().copied().map_or(0, u64::from)
        + data.last().copied().map_or(0, u64::from)
}

/// Marks call `i` in `payload` (its first and last byte).
fn mark(payload: &mut [u8], i: usize) {
    if let Some(b) = payload.first_mut() {
        *b = (i % 251) as u8;
    }
    if let Some(b) = payload.last_mut() {
        *b = (i * 7 % 253) as u8;
    }
}

/// Latency of one payload size.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub mean_ns: u64,
}

impl Summary {
    pub fn of(mut ns: Vec<u64>) -> Option<Summary> {
        if ns.is_empty() {
            return None;
        }
        ns.sort_unstable();
        let at = |q: usize| ns[((ns.len() - 1) * q).div_ceil(100)];
        Some(Summary {
            p50_ns: at(50),
            p99_ns: at(99),
            mean_ns: (ns.iter().map(|&n| u128::from(n)).sum::<u128>() / ns.len() as u128) as u64,
        })
    }

    /// A line a client role prints and the orchestrator parses.
    pub fn to_line(self, size: usize) -> String {
        format!(
            "ROW size={size} p50={} p99={} mean={}",
            self.p50_ns, self.p99_ns, self.mean_ns
        )
    }

    pub fn from_fields(f: &std::collections::HashMap<String, String>) -> Option<(usize, Summary)> {
        let get = |k: &str| f.get(k)?.parse::<u64>().ok();
        Some((
            get("size")? as usize,
            Summary {
                p50_ns: get("p50")?,
                p99_ns: get("p99")?,
                mean_ns: get("mean")?,
            },
        ))
    }
}

/// `warmup` unmeasured calls, then `rounds` timed ones; every answer is checked.
pub fn latency(
    link: &mut dyn Link,
    size: usize,
    warmup: usize,
    rounds: usize,
) -> Result<Summary, String> {
    let mut payload = vec![0x5a_u8; size];
    let mut ns = Vec::with_capacity(rounds);
    for i in 0..warmup + rounds {
        let t0 = Instant::now();
        one_call(link, &mut payload, i)?;
        let dt = t0.elapsed();
        if i >= warmup {
            ns.push(dt.as_nanos() as u64);
        }
    }
    Summary::of(ns).ok_or_else(|| "no rounds measured".to_string())
}

/// `calls` calls of `size` bytes as fast as they go; every answer is checked.
pub fn burst(link: &mut dyn Link, size: usize, calls: usize) -> Result<(), String> {
    let mut payload = vec![0x5a_u8; size];
    for i in 0..calls {
        one_call(link, &mut payload, i)?;
    }
    Ok(())
}

/// Restricts this process (and what it starts afterwards) to `cpus`; `None`: every online CPU.
pub fn pin(cpus: Option<&[usize]>) -> Result<(), String> {
    let mut set = CpuSet::new();
    match cpus {
        Some(cpus) => {
            for &c in cpus {
                set.set(c).map_err(|e| format!("cpu {c}: {e}"))?;
            }
        }
        None => {
            let n = std::thread::available_parallelism().map_or(1, usize::from);
            let online = online_cpus().unwrap_or_else(|| (0..n).collect());
            for c in online {
                set.set(c).map_err(|e| format!("cpu {c}: {e}"))?;
            }
        }
    }
    sched_setaffinity(Pid::from_raw(0), &set).map_err(|e| format!("sched_setaffinity: {e}"))
}

/// `/sys/devices/system/cpu/online` (e.g. `0-15`), which `available_parallelism` does not give
/// once this process has been pinned.
fn online_cpus() -> Option<Vec<usize>> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online").ok()?;
    let mut cpus = Vec::new();
    for part in text.trim().split(',') {
        match part.split_once('-') {
            Some((a, b)) => cpus.extend(a.parse::<usize>().ok()?..=b.parse::<usize>().ok()?),
            None => cpus.push(part.parse().ok()?),
        }
    }
    Some(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_sample() {
        let s = Summary::of((1..=100).collect()).unwrap();
        assert_eq!((s.p50_ns, s.p99_ns, s.mean_ns), (51, 100, 50));
        assert!(Summary::of(vec![]).is_none());
    }

    #[test]
    fn an_answer_depends_on_length_and_both_ends() {
        let mut p = vec![0u8; 10];
        mark(&mut p, 3);
        assert_eq!(answer(&p), 10 + 3 + 21);
        assert_eq!(answer(&[]), 0);
    }
}
