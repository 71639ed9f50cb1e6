//! The driver's objects, with their kernel names and meaning (`binder_proc`, `binder_thread`,
//! `binder_node`, `binder_ref`, `binder_transaction`, `binder_ref_death`), and the work queues
//! that connect them.
//!
//! Objects refer to each other by id, never by pointer: a lookup that fails means the object is
//! gone (a dead thread, a freed transaction), which is how every path below tolerates
//! processes dying at any moment.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::os::fd::OwnedFd;
use std::sync::Arc;

use binder_sys::ud::state::{NodeRefCounts, ProcThreadCounts, RefCounts, ThreadWakeState};
use binder_sys::{BR_OK, BinderWriteRead, ExtendedError};

use crate::alloc::BinderAlloc;
use crate::chan::Chan;
use crate::stats::{Obj, Stats};
use crate::sys::SharedMapping;
use crate::worklist::{DeliveredDeaths, WorkQueue};
use crate::{Access, Limits};

macro_rules! id_type {
    ($($name:ident),*) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u64);
    )*};
}
id_type!(ProcId, ThreadId, NodeId, TxnId, DeathId);

// `binder_thread.looper` bits.
pub const LOOPER_REGISTERED: u32 = 0x01;
pub const LOOPER_ENTERED: u32 = 0x02;
pub const LOOPER_EXITED: u32 = 0x04;
pub const LOOPER_INVALID: u32 = 0x08;
pub const LOOPER_WAITING: u32 = 0x10;

/// An item on a work list (`binder_work`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Work {
    Transaction(TxnId),
    TransactionComplete,
    /// The completion of a oneway call whose sender fills the target's async space
    /// (`BINDER_WORK_TRANSACTION_ONEWAY_SPAM_SUSPECT`).
    OnewaySpamSuspect,
    /// The thread's `return_error`.
    ReturnError,
    /// The thread's `reply_error`.
    ReplyError,
    Node(NodeId),
    Death(DeathId),
}

/// Where a node's or a death notification's single work item is queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkList {
    Proc(ProcId),
    Thread(ThreadId),
    /// `proc->delivered_death` (death notifications only).
    Delivered(ProcId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeathKind {
    /// Not queued, or `BINDER_WORK_DEAD_BINDER`.
    DeadBinder,
    DeadBinderAndClear,
    ClearNotification,
}

/// `binder_ref_death`.
#[derive(Debug)]
pub struct Death {
    /// The process that registered it.
    pub proc: ProcId,
    pub cookie: u64,
    pub kind: DeathKind,
    pub queued: Option<WorkList>,
}

/// The receive area of a process and its allocator.
#[derive(Debug)]
pub struct Area {
    pub mapping: Arc<SharedMapping>,
    pub alloc: BinderAlloc,
    /// Where the process mapped it; transactions cannot land before it is known.
    pub user_addr: Option<u64>,
}

/// A registered send arena.
#[derive(Debug)]
pub struct Arena {
    pub mapping: SharedMapping,
    pub addr: u64,
    pub size: u64,
}

impl Arena {
    /// Offset of `[ptr, ptr + len)` inside the arena, if it lies fully inside.
    pub fn offset_of(&self, ptr: u64, len: u64) -> Option<usize> {
        let start = ptr.checked_sub(self.addr)?;
        let end = start.checked_add(len)?;
        (end <= self.size).then_some(start as usize)
    }
}

/// `binder_proc`.
#[derive(Debug)]
pub struct Proc {
    pub debug_id: u64,
    pub pid: u32,
    pub uid: u32,
    pub gid: u32,
    /// The process's own `/proc/self/mem`, sent with its hello: the only way the driver reads
    /// memory of the process outside its send arena.
    pub mem: Option<Arc<OwnedFd>>,
    pub is_dead: bool,
    pub threads: BTreeSet<ThreadId>,
    /// Nodes by `ptr`.
    pub nodes: BTreeMap<u64, NodeId>,
    pub refs_by_desc: BTreeMap<u32, Ref>,
    pub refs_by_node: HashMap<NodeId, u32>,
    /// Which descriptors are free, for the lowest-free allocation of new refs.
    pub descs: DescAllocator,
    pub todo: WorkQueue,
    pub delivered_death: DeliveredDeaths,
    /// Threads blocked in a read that may take process work; most recent first.
    pub waiting_threads: VecDeque<ThreadId>,
    /// Thread pool and transaction counters, as dumped.
    pub counts: ProcThreadCounts,
    pub area: Option<Area>,
    pub arena: Option<Arc<Arena>>,
    pub oneway_spam_detection: bool,
    /// Sockets of its thread connections, shut down when the process dies.
    pub thread_chans: Vec<Arc<Chan>>,
    /// A copy outside the send arena failed once already (logged once).
    pub mem_read_failed: bool,
    /// Files of this process's transactions that the driver holds until delivery.
    pub fds_sent: usize,
    /// Files of transactions to this process that the driver holds until delivery.
    pub fds_queued: usize,
    /// ... by sending process.
    pub fds_queued_from: HashMap<ProcId, usize>,
    /// Death notifications of this process (registered, or cleared and not yet acknowledged).
    pub deaths: usize,
    /// `HELLO_FLAG_NO_REPLY_COMPLETE`: its replies get no `BR_TRANSACTION_COMPLETE`.
    pub no_reply_complete: bool,
}

/// Hands out the lowest free descriptor at or above 0 (the context manager's node) or 1 (any
/// other), as the kernel does, in O(log n): every descriptor below `next` is either in use or
/// in `holes`, and every descriptor from `next` on is free.
#[derive(Debug)]
pub struct DescAllocator {
    holes: BTreeSet<u32>,
    next: u32,
}

impl Default for DescAllocator {
    fn default() -> Self {
        DescAllocator {
            holes: BTreeSet::from([0]),
            next: 1,
        }
    }
}

impl DescAllocator {
    /// The lowest free descriptor `>= first` (`first` is 0 or 1), now in use.
    pub fn allocate(&mut self, first: u32) -> Option<u32> {
        match self.holes.range(first..).next().copied() {
            Some(d) => {
                self.holes.remove(&d);
                Some(d)
            }
            None => {
                let d = self.next.max(first);
                self.next = d.checked_add(1)?;
                Some(d)
            }
        }
    }

    /// `desc` (allocated before) is free again.
    pub fn free(&mut self, desc: u32) {
        if desc < self.next {
            self.holes.insert(desc);
        }
    }
}

/// `binder_ref`: a process's handle on a node.
#[derive(Debug)]
pub struct Ref {
    pub debug_id: u64,
    pub node: NodeId,
    /// Strong and weak counts, as dumped.
    pub counts: RefCounts,
    pub death: Option<DeathId>,
}

/// `binder_node`.
#[derive(Debug)]
pub struct Node {
    pub debug_id: u64,
    /// The owner; `None` once it died (a dead node lives on while refs to it exist).
    pub proc: Option<ProcId>,
    pub ptr: u64,
    pub cookie: u64,
    /// Reference counts and what the owner was asked to hold, as dumped.
    pub counts: NodeRefCounts,
    /// Processes holding a ref to this node.
    pub refs: BTreeSet<ProcId>,
    pub accept_fds: bool,
    pub has_async_transaction: bool,
    pub async_todo: VecDeque<TxnId>,
    pub work_queued: Option<WorkList>,
}

/// A file taken from the sender, to be installed in the receiver.
#[derive(Debug)]
pub struct FdFixup {
    pub file: OwnedFd,
    /// Offset of the fd slot inside the buffer.
    pub offset: usize,
}

/// `binder_transaction`.
#[derive(Debug)]
pub struct Transaction {
    pub debug_id: u64,
    pub is_reply: bool,
    /// The thread waiting for the reply (two-way transactions only).
    pub from: Option<ThreadId>,
    /// The sending process (its files in flight are charged to it).
    pub sender: ProcId,
    /// The sending process's pid (for dumps; the kernel derives it from `from`).
    pub from_pid: u32,
    pub from_tid: u32,
    pub from_parent: Option<TxnId>,
    pub to_proc: Option<ProcId>,
    pub to_thread: Option<ThreadId>,
    pub to_parent: Option<TxnId>,
    pub need_reply: bool,
    pub code: u32,
    pub flags: u32,
    pub sender_euid: u32,
    /// Offset of the buffer in `to_proc`'s area while attached.
    pub buffer: Option<usize>,
    pub target_node: Option<NodeId>,
    pub fd_fixups: Vec<FdFixup>,
}

/// A `BINDER_WRITE_READ` whose read part is blocked.
#[derive(Debug, Clone, Copy)]
pub struct PendingRead {
    pub bwr: BinderWriteRead,
    /// Whether the thread sleeps waiting for process work too (decided when it went to sleep,
    /// as the kernel's `wait_for_proc_work`).
    pub wait_for_proc_work: bool,
}

/// File descriptors delivered with a read, waiting for `OP_FD_FIXUP`.
#[derive(Debug, Clone)]
pub struct PendingFixup {
    pub buffer_offset: usize,
    pub buffer_debug_id: u64,
    pub slots: Vec<usize>,
}

/// `binder_thread`.
#[derive(Debug)]
pub struct Thread {
    pub debug_id: u64,
    pub proc: ProcId,
    pub tid: u32,
    pub looper: u32,
    /// `looper_need_return` and `process_todo`, as dumped.
    pub wake: ThreadWakeState,
    pub transaction_stack: Option<TxnId>,
    pub todo: WorkQueue,
    pub return_error: u32,
    pub reply_error: u32,
    pub chan: Arc<Chan>,
    pub pending_read: Option<PendingRead>,
    pub pending_fixup: Option<PendingFixup>,
    /// `binder_extended_error` of the last transaction, for `BINDER_GET_EXTENDED_ERROR`.
    pub extended_error: ExtendedError,
}

/// A datagram to send once the state lock is released.
#[derive(Debug)]
pub struct Outgoing {
    pub chan: Arc<Chan>,
    pub bytes: Vec<u8>,
    pub fds: Vec<OwnedFd>,
}

/// What one user's connections hold.
#[derive(Debug, Default, Clone, Copy)]
pub struct UidUsage {
    pub connections: usize,
    pub unidentified: usize,
    pub area_bytes: u64,
    /// Files held for this user's processes' transactions and commands.
    pub fds_in_flight: usize,
    /// A state query of this user (not an administrator) is being answered.
    pub debugging: bool,
}

/// Everything behind the driver's lock: one binder "device".
#[derive(Debug, Default)]
pub struct State {
    pub instance: String,
    /// The user running the driver: with root, the instance's administrator.
    pub owner: u32,
    pub access: Access,
    pub limits: Limits,
    /// Connections of every kind.
    pub connections: usize,
    pub usage: HashMap<u32, UidUsage>,
    /// Files the driver holds for transactions not yet delivered.
    pub fds_in_flight: usize,
    next_id: u64,
    pub procs: BTreeMap<ProcId, Proc>,
    pub threads: HashMap<ThreadId, Thread>,
    pub nodes: BTreeMap<NodeId, Node>,
    pub txns: BTreeMap<TxnId, Transaction>,
    pub deaths: HashMap<DeathId, Death>,
    pub context_mgr_node: Option<NodeId>,
    pub context_mgr_uid: Option<u32>,
    pub stats: Stats,
    /// Threads to wake (their blocked read retried) before the lock is released.
    pub wakeups: Vec<ThreadId>,
    /// Datagrams to send after the lock is released.
    pub outgoing: Vec<Outgoing>,
    /// Connections that are, or may become, process connections.
    pub live_connections: usize,
    pub idle_since: Option<std::time::Instant>,
    pub shutdown_requested: bool,
}

impl State {
    pub fn new(instance: &str, owner: u32, access: Access, limits: Limits) -> Self {
        State {
            instance: instance.to_string(),
            owner,
            access,
            limits,
            ..Default::default()
        }
    }

    /// Admits a new connection of `uid` (not yet identified, or a thread connection), if the
    /// instance's and the user's limits allow it.
    pub fn admit_connection(&mut self, uid: u32, unidentified: bool) -> bool {
        let l = &self.limits;
        let u = self.usage.entry(uid).or_default();
        if self.connections >= l.max_connections
            || u.connections >= l.max_connections_per_uid
            || (unidentified && u.unidentified >= l.max_unidentified_per_uid)
        {
            return false;
        }
        self.connections += 1;
        u.connections += 1;
        u.unidentified += unidentified as usize;
        true
    }

    /// A connection of `uid` said what it is.
    pub fn connection_identified(&mut self, uid: u32) {
        if let Some(u) = self.usage.get_mut(&uid) {
            u.unidentified = u.unidentified.saturating_sub(1);
        }
    }

    /// A connection of `uid` admitted with [`State::admit_connection`] closed.
    pub fn connection_closed(&mut self, uid: u32, unidentified: bool) {
        self.connections = self.connections.saturating_sub(1);
        if let Some(u) = self.usage.get_mut(&uid) {
            u.connections = u.connections.saturating_sub(1);
            if unidentified {
                u.unidentified = u.unidentified.saturating_sub(1);
            }
            if u.connections == 0 && u.area_bytes == 0 && u.fds_in_flight == 0 {
                self.usage.remove(&uid);
            }
        }
    }

    /// Reserves `bytes` of receive area for a process of `uid`.
    pub fn charge_area(&mut self, uid: u32, bytes: u64) -> bool {
        let limit = self.limits.max_area_bytes_per_uid;
        let u = self.usage.entry(uid).or_default();
        if u.area_bytes.saturating_add(bytes) > limit {
            return false;
        }
        u.area_bytes += bytes;
        true
    }

    pub fn uncharge_area(&mut self, uid: u32, bytes: u64) {
        if let Some(u) = self.usage.get_mut(&uid) {
            u.area_bytes = u.area_bytes.saturating_sub(bytes);
        }
    }

    /// Charges `n` files in flight from `sender` (of user `uid`) to `target`, if every limit
    /// allows it: the instance's total, the user's share (a quarter of it on a shared
    /// instance), the sender's, the sender's share of the target's queue, and the target's
    /// queue (four senders' worth). With `target` `None`: files that came with a command of
    /// the sender, held while it runs, charged to the instance and the user only.
    pub fn charge_fds(
        &mut self,
        sender: ProcId,
        uid: u32,
        target: Option<ProcId>,
        n: usize,
    ) -> bool {
        let l = &self.limits;
        let per_proc = l.max_fds_in_flight_per_proc;
        let uid_cap = if self.access.shared {
            l.max_fds_in_flight / 4
        } else {
            l.max_fds_in_flight
        };
        let fits = self.fds_in_flight + n <= l.max_fds_in_flight
            && self.usage.get(&uid).map_or(0, |u| u.fds_in_flight) + n <= uid_cap
            && target.is_none_or(|t| {
                self.procs
                    .get(&sender)
                    .is_some_and(|p| p.fds_sent + n <= per_proc)
                    && self.procs.get(&t).is_some_and(|p| {
                        p.fds_queued + n <= 4 * per_proc
                            && p.fds_queued_from.get(&sender).copied().unwrap_or(0) + n <= per_proc
                    })
            });
        if fits {
            self.fds_in_flight += n;
            self.usage.entry(uid).or_default().fds_in_flight += n;
            if target.is_some()
                && let Some(p) = self.procs.get_mut(&sender)
            {
                p.fds_sent += n;
            }
            if let Some(p) = target.and_then(|t| self.procs.get_mut(&t)) {
                p.fds_queued += n;
                *p.fds_queued_from.entry(sender).or_default() += n;
            }
        }
        fits
    }

    /// Returns what [`State::charge_fds`] charged, once the files are delivered or closed.
    pub fn uncharge_fds(&mut self, sender: ProcId, uid: u32, target: Option<ProcId>, n: usize) {
        if n == 0 {
            return;
        }
        self.fds_in_flight = self.fds_in_flight.saturating_sub(n);
        if let Some(u) = self.usage.get_mut(&uid) {
            u.fds_in_flight = u.fds_in_flight.saturating_sub(n);
        }
        if target.is_some()
            && let Some(p) = self.procs.get_mut(&sender)
        {
            p.fds_sent = p.fds_sent.saturating_sub(n);
        }
        if let Some(p) = target.and_then(|t| self.procs.get_mut(&t)) {
            p.fds_queued = p.fds_queued.saturating_sub(n);
            if let Some(from) = p.fds_queued_from.get_mut(&sender) {
                *from = from.saturating_sub(n);
                if *from == 0 {
                    p.fds_queued_from.remove(&sender);
                }
            }
        }
    }

    /// A fresh id; also the `debug_id` of the object (one counter, as `binder_last_id`).
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The counters, with what the driver holds now.
    pub fn stats_snapshot(&self) -> binder_sys::ud::state::DriverStats {
        let mut s = self.stats.snapshot();
        s.fds_in_flight = self.fds_in_flight as u64;
        s.connections = self.connections as u64;
        s
    }

    /// Whether `uid` administers the instance (its owner, or root).
    pub fn is_admin(&self, uid: u32) -> bool {
        uid == self.owner || uid == 0
    }

    pub fn proc_alive(&self, p: ProcId) -> Option<&Proc> {
        self.procs.get(&p).filter(|p| !p.is_dead)
    }

    pub fn new_proc(&mut self, pid: u32, uid: u32, gid: u32, mem: Option<OwnedFd>) -> ProcId {
        let id = self.next_id();
        self.stats.created(Obj::Proc);
        self.procs.insert(
            ProcId(id),
            Proc {
                debug_id: id,
                pid,
                uid,
                gid,
                mem: mem.map(Arc::new),
                is_dead: false,
                threads: BTreeSet::new(),
                nodes: BTreeMap::new(),
                refs_by_desc: BTreeMap::new(),
                refs_by_node: HashMap::new(),
                descs: DescAllocator::default(),
                todo: WorkQueue::default(),
                delivered_death: DeliveredDeaths::default(),
                waiting_threads: VecDeque::new(),
                counts: ProcThreadCounts::default(),
                area: None,
                arena: None,
                oneway_spam_detection: false,
                thread_chans: Vec::new(),
                mem_read_failed: false,
                fds_sent: 0,
                fds_queued: 0,
                fds_queued_from: HashMap::new(),
                deaths: 0,
                no_reply_complete: false,
            },
        );
        ProcId(id)
    }

    /// `binder_get_thread` for a thread connection: a new `binder_thread` in `proc`.
    pub fn new_thread(&mut self, proc: ProcId, tid: u32, chan: Arc<Chan>) -> Option<ThreadId> {
        let id = ThreadId(self.next_id());
        let p = self.procs.get_mut(&proc).filter(|p| !p.is_dead)?;
        p.threads.insert(id);
        if !p.thread_chans.iter().any(|c| Arc::ptr_eq(c, &chan)) {
            p.thread_chans.push(chan.clone());
        }
        self.stats.created(Obj::Thread);
        self.threads.insert(
            id,
            Thread {
                debug_id: id.0,
                proc,
                tid,
                looper: 0,
                wake: ThreadWakeState {
                    looper_need_return: true,
                    process_todo: false,
                },
                transaction_stack: None,
                todo: WorkQueue::default(),
                return_error: BR_OK,
                reply_error: BR_OK,
                chan,
                pending_read: None,
                pending_fixup: None,
                extended_error: ExtendedError::ok(0),
            },
        );
        Some(id)
    }

    // ---- work lists and wake-ups ------------------------------------------------------------

    /// `binder_enqueue_thread_work_ilocked` + wake-up: the thread will process it.
    pub fn enqueue_thread_work(&mut self, t: ThreadId, w: Work) {
        if let Some(th) = self.threads.get_mut(&t) {
            th.todo.push_back(w);
            th.wake.process_todo = true;
            self.wakeups.push(t);
        }
    }

    /// `binder_enqueue_deferred_thread_work_ilocked`: delivered with the thread's next read,
    /// without waking it.
    pub fn enqueue_deferred_thread_work(&mut self, t: ThreadId, w: Work) {
        if let Some(th) = self.threads.get_mut(&t) {
            th.todo.push_back(w);
        }
    }

    pub fn enqueue_proc_work(&mut self, p: ProcId, w: Work) {
        if let Some(proc) = self.procs.get_mut(&p) {
            proc.todo.push_back(w);
        }
    }

    /// `binder_select_thread_ilocked`: takes the most recent thread waiting for process work.
    pub fn select_thread(&mut self, p: ProcId) -> Option<ThreadId> {
        self.procs.get_mut(&p)?.waiting_threads.pop_front()
    }

    /// `binder_wakeup_proc_ilocked`.
    pub fn wakeup_proc(&mut self, p: ProcId) {
        if let Some(t) = self.select_thread(p) {
            self.wakeups.push(t);
        }
    }

    /// Removes `w` (the last occurrence) from a list.
    pub fn remove_work(list: &mut WorkQueue, w: Work) -> bool {
        list.remove(w)
    }

    fn list_mut(&mut self, at: WorkList) -> Option<&mut WorkQueue> {
        match at {
            WorkList::Proc(p) => self.procs.get_mut(&p).map(|p| &mut p.todo),
            WorkList::Thread(t) => self.threads.get_mut(&t).map(|t| &mut t.todo),
            WorkList::Delivered(_) => None,
        }
    }

    /// Queues a node's work item on `at` unless it is queued already.
    pub fn enqueue_node_work(&mut self, n: NodeId, at: WorkList, deferred: bool) {
        let Some(node) = self.nodes.get_mut(&n) else {
            return;
        };
        if node.work_queued.is_some() {
            return;
        }
        node.work_queued = Some(at);
        match at {
            WorkList::Thread(t) if !deferred => self.enqueue_thread_work(t, Work::Node(n)),
            _ => {
                if let Some(list) = self.list_mut(at) {
                    list.push_back(Work::Node(n));
                }
            }
        }
    }

    pub fn dequeue_node_work(&mut self, n: NodeId) {
        let Some(at) = self
            .nodes
            .get_mut(&n)
            .and_then(|node| node.work_queued.take())
        else {
            return;
        };
        if let Some(list) = self.list_mut(at) {
            Self::remove_work(list, Work::Node(n));
        }
    }

    /// Queues a death notification's work item.
    pub fn enqueue_death_work(&mut self, d: DeathId, at: WorkList, wake: bool) {
        let Some(death) = self.deaths.get_mut(&d) else {
            return;
        };
        death.queued = Some(at);
        match at {
            WorkList::Delivered(p) => {
                let cookie = death.cookie;
                if let Some(proc) = self.procs.get_mut(&p) {
                    proc.delivered_death.push_back(d, cookie);
                }
            }
            WorkList::Thread(t) => self.enqueue_thread_work(t, Work::Death(d)),
            WorkList::Proc(p) => {
                self.enqueue_proc_work(p, Work::Death(d));
                if wake {
                    self.wakeup_proc(p);
                }
            }
        }
    }

    pub fn dequeue_death_work(&mut self, d: DeathId) {
        let Some(at) = self
            .deaths
            .get_mut(&d)
            .and_then(|death| death.queued.take())
        else {
            return;
        };
        match at {
            WorkList::Delivered(p) => {
                if let Some(proc) = self.procs.get_mut(&p) {
                    proc.delivered_death.remove(d);
                }
            }
            other => {
                if let Some(list) = self.list_mut(other) {
                    Self::remove_work(list, Work::Death(d));
                }
            }
        }
    }

    pub fn free_death(&mut self, d: DeathId) {
        self.dequeue_death_work(d);
        if let Some(death) = self.deaths.remove(&d) {
            self.stats.deleted(Obj::Death);
            if let Some(p) = self.procs.get_mut(&death.proc) {
                p.deaths = p.deaths.saturating_sub(1);
            }
        }
    }

    /// `binder_available_for_proc_work_ilocked`.
    pub fn available_for_proc_work(&self, t: ThreadId) -> bool {
        self.threads.get(&t).is_some_and(|th| {
            th.transaction_stack.is_none()
                && th.todo.is_empty()
                && th.looper & (LOOPER_ENTERED | LOOPER_REGISTERED) != 0
        })
    }

    /// `binder_has_work_ilocked`.
    pub fn has_work(&self, t: ThreadId, do_proc_work: bool) -> bool {
        let Some(th) = self.threads.get(&t) else {
            return false;
        };
        th.wake.process_todo
            || th.wake.looper_need_return
            || (do_proc_work && self.procs.get(&th.proc).is_some_and(|p| !p.todo.is_empty()))
    }

    /// `binder_free_transaction`: detaches and forgets a transaction.
    pub fn free_transaction(&mut self, id: TxnId) {
        let Some(mut t) = self.txns.remove(&id) else {
            return;
        };
        let files = std::mem::take(&mut t.fd_fixups);
        self.uncharge_fds(t.sender, t.sender_euid, t.to_proc, files.len());
        if let Some(p) = t.to_proc.and_then(|p| self.procs.get_mut(&p)) {
            p.counts.outstanding_transactions = p.counts.outstanding_transactions.saturating_sub(1);
            if let (Some(off), Some(area)) = (t.buffer, p.area.as_mut())
                && let Some(b) = area.alloc.buffer_mut(off)
                && b.transaction == Some(id)
            {
                b.transaction = None;
            }
        }
        // Undelivered files are closed by dropping `t.fd_fixups`.
        self.stats.deleted(Obj::Transaction);
    }
}

#[cfg(test)]
mod tests {
    use super::DescAllocator;

    #[test]
    fn descriptors_are_the_lowest_free_ones() {
        let mut d = DescAllocator::default();
        assert_eq!(d.allocate(1), Some(1));
        assert_eq!(d.allocate(1), Some(2));
        assert_eq!(d.allocate(0), Some(0), "the context manager gets 0");
        assert_eq!(d.allocate(1), Some(3));
        d.free(2);
        d.free(0);
        assert_eq!(d.allocate(1), Some(2), "a hole is reused first");
        assert_eq!(d.allocate(1), Some(4));
        assert_eq!(d.allocate(0), Some(0));
        d.free(1);
        d.free(3);
        assert_eq!(d.allocate(1), Some(1));
        assert_eq!(d.allocate(1), Some(3));
        assert_eq!(d.allocate(1), Some(5));
    }
}
