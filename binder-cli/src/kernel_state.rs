//! Parsing the kernel driver's debugfs `state` file (`drivers/android/binder.c`,
//! `binder_state_show`) into processes, threads, nodes, refs, buffers and transactions, so that
//! `binder dump` can show it as the same tables as the userspace driver's state.
//!
//! The format, per process (`print_binder_proc`):
//!
//! ```text
//! proc 1234
//! context binder1
//!   thread 1234: l 12 need_return 0 tr 0
//!     outgoing transaction 45: 0000000000000000 from 1234:1234 to 1240:1241 code 1 flags 10 pri 0:120 r1
//!   node 7: u00007f..00 c00007f..00 pri 0:139 hs 1 hw 1 ls 0 lw 0 is 1 iw 1 tr 1 proc 1240
//!   ref 9: desc 0 node 1 s 1 w 1 d 0000000000000000
//!   buffer 44: 0 size 8:0:0 delivered
//!   pending transaction 46: ...
//! ```
//!
//! Lines that do not match are kept in [`KernelProc::other`] and never fail the parse: the
//! format changes between kernel versions.

/// One `proc` section.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KernelProc {
    pub pid: u32,
    /// The binder device (context) this process opened, e.g. `binder1`.
    pub context: String,
    pub threads: Vec<KernelThread>,
    pub nodes: Vec<KernelNode>,
    pub refs: Vec<KernelRef>,
    pub buffers: Vec<KernelBuffer>,
    /// Transactions on thread stacks and work queues, as seen from this process.
    pub transactions: Vec<KernelTransaction>,
    /// Items of the process's work queue (transactions and other work).
    pub pending_work: usize,
    /// Lines not understood (kept for completeness).
    pub other: Vec<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KernelThread {
    pub tid: u32,
    /// `BINDER_LOOPER_STATE_*` bits.
    pub looper: u32,
    pub need_return: bool,
    pub tmp_refs: i64,
    /// Depth of its transaction stack (outgoing and incoming).
    pub stack: usize,
    /// Items on its own work queue.
    pub todo: usize,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KernelNode {
    pub id: u64,
    pub ptr: String,
    pub cookie: String,
    /// (`hs`, `hw`, `ls`, `lw`, `is`, `iw`, `tr`) as printed.
    pub has_strong: i64,
    pub has_weak: i64,
    pub local_strong: i64,
    pub local_weak: i64,
    pub internal_strong: i64,
    pub internal_weak: i64,
    pub tmp_refs: i64,
    /// Pids of the processes holding a ref to it.
    pub ref_holders: Vec<u32>,
    pub async_pending: usize,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KernelRef {
    pub id: u64,
    pub desc: u32,
    pub node: u64,
    pub node_dead: bool,
    pub strong: i64,
    pub weak: i64,
    /// Whether a death notification is registered (the `d` pointer is not null; kernels that
    /// hide pointers print zeros, so this is a lower bound).
    pub death: bool,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KernelBuffer {
    pub id: u64,
    pub offset: String,
    /// `data:offsets:extra` sizes as printed.
    pub sizes: String,
    /// `active` (a transaction is attached) or `delivered`.
    pub state: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KernelTransaction {
    /// `outgoing`, `incoming`, `pending`, `pending async`, `bad`, ...
    pub kind: String,
    pub id: u64,
    pub from: String,
    pub to: String,
    pub code: String,
    pub flags: String,
    pub need_reply: bool,
}

/// The whole file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KernelState {
    pub dead_nodes: Vec<KernelNode>,
    pub procs: Vec<KernelProc>,
}

/// The value after `key` in a list of words.
fn after<'a>(words: &[&'a str], key: &str) -> Option<&'a str> {
    words
        .iter()
        .position(|w| *w == key)
        .and_then(|i| words.get(i + 1).copied())
}

fn num<T: std::str::FromStr + Default>(words: &[&str], key: &str) -> T {
    after(words, key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_default()
}

/// `N:` → N.
fn id(word: Option<&&str>) -> u64 {
    word.and_then(|w| w.trim_end_matches(':').parse().ok())
        .unwrap_or_default()
}

fn parse_node(words: &[&str]) -> KernelNode {
    let holders = words
        .iter()
        .position(|w| *w == "proc")
        .map(|i| {
            words[i + 1..]
                .iter()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    KernelNode {
        id: id(words.get(1)),
        ptr: words
            .get(2)
            .and_then(|w| w.strip_prefix('u'))
            .unwrap_or("?")
            .to_owned(),
        cookie: words
            .get(3)
            .and_then(|w| w.strip_prefix('c'))
            .unwrap_or("?")
            .to_owned(),
        has_strong: num(words, "hs"),
        has_weak: num(words, "hw"),
        local_strong: num(words, "ls"),
        local_weak: num(words, "lw"),
        internal_strong: num(words, "is"),
        internal_weak: num(words, "iw"),
        tmp_refs: num(words, "tr"),
        ref_holders: holders,
        async_pending: 0,
    }
}

fn parse_transaction(kind: &str, rest: &str) -> KernelTransaction {
    let words: Vec<&str> = rest.split_whitespace().collect();
    KernelTransaction {
        kind: kind.to_owned(),
        id: id(words.first()),
        from: after(&words, "from").unwrap_or("?").to_owned(),
        to: after(&words, "to").unwrap_or("?").to_owned(),
        code: after(&words, "code").unwrap_or("?").to_owned(),
        flags: after(&words, "flags").unwrap_or("?").to_owned(),
        need_reply: words.contains(&"r1"),
    }
}

/// Splits `"    outgoing transaction 45: ..."` into (`outgoing`, `45: ...`).
fn transaction_line(line: &str) -> Option<(&str, &str)> {
    let (kind, rest) = line.trim().split_once("transaction ")?;
    let rest = rest.trim_start();
    // "transaction complete", "transaction error: N" are other work items.
    if !rest.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some((kind.trim(), rest))
}

/// Parses debugfs `state`.
pub fn parse(text: &str) -> KernelState {
    let mut state = KernelState::default();
    let mut in_dead_nodes = false;
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with("binder state") {
            continue;
        }
        if line.starts_with("dead nodes") {
            in_dead_nodes = true;
            continue;
        }
        if let Some(pid) = line.strip_prefix("proc ") {
            in_dead_nodes = false;
            state.procs.push(KernelProc {
                pid: pid.trim().parse().unwrap_or_default(),
                ..Default::default()
            });
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if in_dead_nodes {
            if words.first() == Some(&"node") {
                state.dead_nodes.push(parse_node(&words));
            }
            continue;
        }
        let Some(p) = state.procs.last_mut() else {
            continue;
        };
        if let Some(ctx) = line.strip_prefix("context ") {
            p.context = ctx.trim().to_owned();
            continue;
        }
        // Two-space indent: the process's own items; four: items of the thread or node above.
        let nested = line.starts_with("    ");
        match words.first().copied() {
            Some("thread") if !nested => p.threads.push(KernelThread {
                tid: id(words.get(1)) as u32,
                looper: after(&words, "l")
                    .and_then(|l| u32::from_str_radix(l, 16).ok())
                    .unwrap_or_default(),
                need_return: num::<u32>(&words, "need_return") != 0,
                tmp_refs: num(&words, "tr"),
                ..Default::default()
            }),
            Some("node") if !nested => p.nodes.push(parse_node(&words)),
            Some("ref") if !nested => p.refs.push(KernelRef {
                id: id(words.get(1)),
                desc: num(&words, "desc"),
                node: num(&words, "node"),
                node_dead: words.contains(&"dead"),
                strong: num(&words, "s"),
                weak: num(&words, "w"),
                death: after(&words, "d").is_some_and(|d| d.chars().any(|c| c != '0')),
            }),
            Some("buffer") if !nested => p.buffers.push(KernelBuffer {
                id: id(words.get(1)),
                offset: words.get(2).copied().unwrap_or("?").to_owned(),
                sizes: after(&words, "size").unwrap_or("?").to_owned(),
                state: words.last().copied().unwrap_or("?").to_owned(),
            }),
            _ => {
                if let Some((kind, rest)) = transaction_line(line) {
                    let t = parse_transaction(kind, rest);
                    if nested {
                        if kind.contains("async") {
                            if let Some(n) = p.nodes.last_mut() {
                                n.async_pending += 1;
                            }
                        } else if let Some(th) = p.threads.last_mut() {
                            if kind == "pending" {
                                th.todo += 1;
                            } else {
                                th.stack += 1;
                            }
                        }
                    } else {
                        p.pending_work += 1;
                    }
                    p.transactions.push(t);
                } else if nested {
                    // Other work on a thread's queue (transaction complete, errors, ...).
                    if let Some(th) = p.threads.last_mut() {
                        th.todo += 1;
                    }
                    p.other.push(line.trim().to_owned());
                } else {
                    // Other work on the process's queue, or a line this parser does not know.
                    if line.starts_with("  ") {
                        p.pending_work += 1;
                    }
                    p.other.push(line.trim().to_owned());
                }
            }
        }
    }
    state
}

/// `BINDER_LOOPER_STATE_*` bits by name.
pub fn looper_flags(bits: u32) -> String {
    const NAMES: [(u32, &str); 6] = [
        (0x01, "registered"),
        (0x02, "entered"),
        (0x04, "exited"),
        (0x08, "invalid"),
        (0x10, "waiting"),
        (0x20, "poll"),
    ];
    let names: Vec<&str> = NAMES
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
        .collect();
    if names.is_empty() {
        "-".to_owned()
    } else {
        names.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
binder state:
dead nodes:
  node 99: u0000000000000000 c0000000000000000 pri 0:139 hs 0 hw 0 ls 0 lw 0 is 1 iw 1 tr 1 proc 300
proc 300
context binder1
  thread 300: l 00 need_return 0 tr 0
    outgoing transaction 45: 0000000000000000 from 300:300 to 200:201 code 1 flags 10 pri 0:120 r1
  thread 301: l 12 need_return 0 tr 0
  ref 9: desc 0 node 1 s 1 w 1 d 0000000000000000
  ref 10: desc 1 dead node 99 s 1 w 1 d 00000000deadbeef
proc 200
context binder1
  thread 200: l 12 need_return 0 tr 0
  thread 201: l 11 need_return 0 tr 0
    incoming transaction 45: 0000000000000000 from 300:300 to 200:201 code 1 flags 10 pri 0:120 r1 node 7 size 100:8 data 0000000000000000
  node 7: u00007f0000001000 c00007f0000002000 pri 0:139 hs 1 hw 1 ls 0 lw 0 is 1 iw 1 tr 1 proc 300
  buffer 44: 0 size 100:8:0 active
  pending transaction 46: 0000000000000000 from 300:301 to 200:0 code 2 flags 11 pri 0:120 r0
proc 100
context binder
  thread 100: l 12 need_return 0 tr 0
";

    #[test]
    fn sample_is_parsed() {
        let s = parse(SAMPLE);
        assert_eq!(s.dead_nodes.len(), 1);
        assert_eq!(s.dead_nodes[0].id, 99);
        assert_eq!(s.procs.len(), 3);
        let client = &s.procs[0];
        assert_eq!((client.pid, client.context.as_str()), (300, "binder1"));
        assert_eq!(client.threads.len(), 2);
        assert_eq!(client.threads[0].stack, 1);
        assert_eq!(client.threads[1].looper, 0x12);
        assert_eq!(client.refs.len(), 2);
        assert!(client.refs[1].node_dead && client.refs[1].death);
        assert!(!client.refs[0].death);
        let server = &s.procs[1];
        assert_eq!(server.nodes[0].id, 7);
        assert_eq!(server.nodes[0].ptr, "00007f0000001000");
        assert_eq!(server.nodes[0].ref_holders, vec![300]);
        assert_eq!(server.buffers[0].sizes, "100:8:0");
        assert_eq!(server.buffers[0].state, "active");
        assert_eq!(server.pending_work, 1);
        assert_eq!(server.transactions.len(), 2);
        assert_eq!(server.transactions[0].kind, "incoming");
        assert_eq!(server.transactions[0].from, "300:300");
        assert!(server.transactions[0].need_reply);
        assert!(!server.transactions[1].need_reply);
        assert_eq!(s.procs[2].context, "binder");
    }

    #[test]
    fn looper_bits_are_named() {
        assert_eq!(looper_flags(0x12), "entered,waiting");
        assert_eq!(looper_flags(0), "-");
    }

    #[test]
    fn garbage_does_not_fail() {
        let s = parse("  stray\nproc x\n  thread\n  node\n  ref\n  buffer\nwhatever\n");
        assert_eq!(s.procs.len(), 1);
    }
}
