//! The JSON documents an [`OP_DEBUG`](super::OP_DEBUG) connection returns.
//!
//! [`DriverState`] answers [`DebugQuery::State`](super::DebugQuery::State) (the kernel's debugfs
//! `state` file: processes, threads, nodes, refs, buffers, transactions in flight) and
//! [`DriverStats`] answers [`DebugQuery::Stats`](super::DebugQuery::Stats) (debugfs `stats`
//! plus the userspace driver's copy counters). Both sides build on these types, so the JSON
//! can be parsed back with `serde_json::from_str::<DriverState>`.
//!
//! Identifiers named `debug_id` come from one counter shared by every object of a driver
//! instance, as the kernel's `binder_last_id`. `pid`/`uid` are the peer credentials of a
//! process connection; `tid` is what the process announced with `OP_NEW_THREAD`.
//!
//! The types exist without the `serde` feature too: the driver keeps the groups of plain
//! fields that its model and these documents share ([`ProcThreadCounts`], [`ThreadWakeState`],
//! [`NodeRefCounts`], [`RefCounts`]) in these structs, so a dump copies each group whole. With
//! the feature they serialize, each group flattened into its owner.

use std::collections::BTreeMap;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// Answer to `DebugQuery::State`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct DriverState {
    /// Instance name (`\0binder-ud/<instance>`).
    pub instance: String,
    /// Process id of the driver.
    pub driver_pid: u32,
    /// The context manager (handle 0), if one is set.
    pub context_manager: Option<ContextManagerState>,
    /// Live processes, in connection order.
    pub processes: Vec<ProcessState>,
    /// Nodes whose process died while other processes still hold refs to them.
    pub dead_nodes: Vec<NodeState>,
    /// Every transaction the driver knows about (queued, being handled, awaiting a reply).
    pub transactions: Vec<TransactionState>,
}

/// The context manager of the instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ContextManagerState {
    /// `debug_id` of the context manager's node.
    pub node: u64,
    /// Pid of the owning process; `None` once it died.
    pub pid: Option<u32>,
    /// The uid the context manager is pinned to (as the kernel's `binder_context_mgr_uid`).
    pub uid: Option<u32>,
}

/// One `binder_proc`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ProcessState {
    /// The process's id in the driver.
    pub debug_id: u64,
    /// Pid from the connection's credentials.
    pub pid: u32,
    /// Uid from the connection's credentials.
    pub uid: u32,
    /// Gid from the connection's credentials.
    pub gid: u32,
    /// Its thread pool and transaction counters.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub counts: ProcThreadCounts,
    /// The receive area (`None` before `OP_MMAP`).
    pub area: Option<AreaState>,
    /// The registered send arena, if any.
    pub arena: Option<ArenaState>,
    /// The process's threads.
    pub threads: Vec<ThreadState>,
    /// Thread `tid`s waiting for process work, most recent first.
    pub waiting_threads: Vec<u32>,
    /// The process's own objects.
    pub nodes: Vec<NodeState>,
    /// The process's references (handles) to nodes.
    pub refs: Vec<RefState>,
    /// Buffers currently allocated in the receive area.
    pub buffers: Vec<BufferState>,
    /// The process-wide work queue.
    pub todo: Vec<WorkState>,
    /// Cookies of death notifications delivered and not yet acknowledged.
    pub delivered_death: Vec<u64>,
}

/// A process's thread pool and transaction counters (`binder_proc`'s).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ProcThreadCounts {
    /// `BINDER_SET_MAX_THREADS`.
    pub max_threads: u32,
    /// Loopers asked for with `BR_SPAWN_LOOPER` and not yet registered.
    pub requested_threads: u32,
    /// Loopers started on request (`BC_REGISTER_LOOPER`).
    pub requested_threads_started: u32,
    /// Transactions queued to or being handled by this process.
    pub outstanding_transactions: u32,
}

/// The receive area and its allocator (`binder_alloc`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct AreaState {
    /// Bytes granted (at most 4 MiB).
    pub size: u64,
    /// Where the process mapped it (`OP_MMAP_ADDR`).
    pub user_addr: Option<u64>,
    /// Bytes not allocated.
    pub free_bytes: u64,
    /// The largest free block.
    pub largest_free_chunk: u64,
    /// Space left for oneway transactions (starts at half the area).
    pub free_async_space: u64,
    /// Buffers allocated.
    pub buffers_in_use: u64,
}

/// A registered send arena (`OP_REGISTER_ARENA`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ArenaState {
    /// Where the process mapped it.
    pub addr: u64,
    /// Its size.
    pub size: u64,
}

/// One `binder_thread`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ThreadState {
    /// The thread's id in the driver.
    pub debug_id: u64,
    /// The tid the process announced.
    pub tid: u32,
    /// Raw `BINDER_LOOPER_STATE_*` bits.
    pub looper: u32,
    /// The same bits by name: `registered`, `entered`, `exited`, `invalid`, `waiting`.
    pub looper_flags: Vec<String>,
    /// Blocked in a read (its `BINDER_WRITE_READ` has not been answered yet).
    pub waiting: bool,
    /// Why its next read returns at once.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub wake: ThreadWakeState,
    /// Top of stack first.
    pub transaction_stack: Vec<StackEntry>,
    /// The thread's work queue.
    pub todo: Vec<WorkState>,
    /// Pending `return_error` (a `BR_*` name), if any.
    pub return_error: Option<String>,
    /// Pending `reply_error` (a `BR_*` name), if any.
    pub reply_error: Option<String>,
    /// File descriptors delivered and waiting for `OP_FD_FIXUP`.
    pub pending_fd_fixups: u32,
}

/// What makes a thread's next read return at once (`binder_thread`'s).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ThreadWakeState {
    /// Its next read returns at once (a new thread, or after a write needing it).
    pub looper_need_return: bool,
    /// Its own work queue has items to process first.
    pub process_todo: bool,
}

/// Which side of a transaction on a thread's stack the thread is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum StackDirection {
    /// This thread sent the transaction and waits for its reply.
    Outgoing,
    /// This thread received the transaction and owes a reply.
    Incoming,
}

/// An entry of a thread's transaction stack.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct StackEntry {
    /// Sent or received by the thread.
    pub direction: StackDirection,
    /// The transaction.
    pub transaction: TransactionState,
}

/// One `binder_transaction`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct TransactionState {
    /// The transaction's id in the driver.
    pub debug_id: u64,
    /// A reply (`BC_REPLY`), not a transaction.
    pub is_reply: bool,
    /// The sender's pid (two-way transactions).
    pub from_pid: Option<u32>,
    /// The sending thread's tid (two-way transactions).
    pub from_tid: Option<u32>,
    /// The target process's pid.
    pub to_pid: Option<u32>,
    /// The target thread's tid, once a thread has it.
    pub to_tid: Option<u32>,
    /// The transaction code.
    pub code: u32,
    /// `TF_*` flags.
    pub flags: u32,
    /// The sender waits for a reply.
    pub need_reply: bool,
    /// `debug_id` of the target node (transactions, not replies).
    pub target_node: Option<u64>,
    /// Size of the buffer in the target's area, while it is attached.
    pub data_size: Option<u64>,
    /// Size of its offsets, while the buffer is attached.
    pub offsets_size: Option<u64>,
    /// File descriptors still to be delivered.
    pub fds: u32,
}

/// One `binder_node`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct NodeState {
    /// The node's id in the driver.
    pub debug_id: u64,
    /// Owner's pid; `None` for a dead node.
    pub owner_pid: Option<u32>,
    /// The object's `ptr` in its owner.
    pub ptr: u64,
    /// The object's cookie in its owner.
    pub cookie: u64,
    /// Its reference counts and the owner's acknowledged references.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub counts: NodeRefCounts,
    /// Pids of the processes holding a ref (one entry per ref).
    pub ref_holders: Vec<u32>,
    /// Transactions to it may carry file descriptors.
    pub accept_fds: bool,
    /// A oneway transaction to it is being handled.
    pub has_async_transaction: bool,
    /// Oneway transactions waiting for the previous one's buffer to be freed.
    pub async_todo: Vec<TransactionState>,
}

/// A node's reference counts, and what its owner was asked to hold (`binder_node`'s).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct NodeRefCounts {
    /// The owner was asked to hold a strong reference (`BR_ACQUIRE`).
    pub has_strong_ref: bool,
    /// The owner was asked to hold a weak reference (`BR_INCREFS`).
    pub has_weak_ref: bool,
    /// `BR_ACQUIRE` sent, `BC_ACQUIRE_DONE` not yet received.
    pub pending_strong_ref: bool,
    /// `BR_INCREFS` sent, `BC_INCREFS_DONE` not yet received.
    pub pending_weak_ref: bool,
    /// Strong references held by the driver itself.
    pub local_strong_refs: u32,
    /// Weak references held by the driver itself.
    pub local_weak_refs: u32,
    /// Strong references held through refs of other processes.
    pub internal_strong_refs: u32,
    /// Temporary references of operations in progress.
    pub tmp_refs: u32,
}

/// One `binder_ref`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct RefState {
    /// The ref's id in the driver.
    pub debug_id: u64,
    /// The handle.
    pub desc: u32,
    /// `debug_id` of the node.
    pub node: u64,
    /// The node's owner; `None` when the node is dead.
    pub node_owner_pid: Option<u32>,
    /// The references the process holds through it.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub counts: RefCounts,
    /// Cookie of the registered death notification.
    pub death_cookie: Option<u64>,
}

/// The references a process holds through a ref (`binder_ref`'s `data`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct RefCounts {
    /// Strong references the process holds through it.
    pub strong: u32,
    /// Weak references the process holds through it.
    pub weak: u32,
}

/// One `binder_buffer` in use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct BufferState {
    /// The buffer's id in the driver.
    pub debug_id: u64,
    /// Offset in the receive area.
    pub offset: u64,
    /// Address in the process's mapping.
    pub user_addr: Option<u64>,
    /// Bytes the allocator reserved (data and offsets, each aligned to 8).
    pub size: u64,
    /// Bytes of data.
    pub data_size: u64,
    /// Bytes of offsets.
    pub offsets_size: u64,
    /// It holds a oneway transaction (counted against the async space).
    pub async_transaction: bool,
    /// Delivered to the process, which may free it (`allow_user_free`).
    pub delivered: bool,
    /// The transaction still attached to it.
    pub transaction: Option<u64>,
    /// `debug_id` of the node it was sent to.
    pub target_node: Option<u64>,
}

/// An item of a work queue.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
pub enum WorkState {
    /// A transaction or reply to deliver.
    Transaction {
        /// The transaction.
        transaction: TransactionState,
    },
    /// A `BR_TRANSACTION_COMPLETE` to deliver.
    TransactionComplete,
    /// An error return to deliver.
    ReturnError {
        /// Its `BR_*` name.
        cmd: String,
    },
    /// Reference changes of a node to tell its owner.
    Node {
        /// `debug_id` of the node.
        node: u64,
        /// The node's `ptr`.
        ptr: u64,
        /// The node's cookie.
        cookie: u64,
    },
    /// A `BR_DEAD_BINDER` to deliver.
    DeadBinder {
        /// The death notification's cookie.
        cookie: u64,
    },
    /// A `BR_DEAD_BINDER` whose notification is also being cleared.
    DeadBinderAndClear {
        /// The death notification's cookie.
        cookie: u64,
    },
    /// A `BR_CLEAR_DEATH_NOTIFICATION_DONE` to deliver.
    ClearDeathNotification {
        /// The death notification's cookie.
        cookie: u64,
    },
}

/// Answer to `DebugQuery::Stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct DriverStats {
    /// `BC_*` commands read, by name (as debugfs `stats`; only non-zero entries).
    pub bc: BTreeMap<String, u64>,
    /// `BR_*` returns written, by name (only non-zero entries).
    pub br: BTreeMap<String, u64>,
    /// Objects by kind (`proc`, `thread`, `node`, `ref`, `death`, `transaction`,
    /// `transaction_complete`): how many exist and how many were ever created.
    pub objects: BTreeMap<String, ObjectCount>,
    /// Transactions (two-way and oneway) queued to their target.
    pub transactions: u64,
    /// The oneway part of `transactions`.
    pub oneway: u64,
    /// Replies queued to the waiting caller.
    pub replies: u64,
    /// Transactions and replies that ended in an error return (`BR_FAILED_REPLY`,
    /// `BR_DEAD_REPLY`, ...).
    pub failed: u64,
    /// Payload bytes (data + offsets) copied into receive areas, by both paths.
    pub bytes_copied: u64,
    /// The part of `bytes_copied` copied with `memcpy` from a send arena.
    pub bytes_copied_arena: u64,
    /// The part of `bytes_copied` read from outside the send arena, through the memory file
    /// the sender gave with its hello (`/proc/self/mem`).
    pub bytes_copied_vm: u64,
    /// File descriptors passed in transactions.
    pub fds_passed: u64,
    /// File descriptors the driver holds now for transactions not yet delivered.
    #[cfg_attr(feature = "serde", serde(default))]
    pub fds_in_flight: u64,
    /// Connections of every kind open now (processes, threads, not yet identified).
    #[cfg_attr(feature = "serde", serde(default))]
    pub connections: u64,
    /// Times the driver's state lock was taken since the driver started.
    #[cfg_attr(feature = "serde", serde(default))]
    pub lock_acquisitions: u64,
    /// The part of `lock_acquisitions` that found the lock held by another driver thread and
    /// had to wait: how much the one lock serializes the driver's threads.
    #[cfg_attr(feature = "serde", serde(default))]
    pub lock_contended: u64,
}

/// How many objects of a kind exist and were ever created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ObjectCount {
    /// Alive now.
    pub active: u64,
    /// Created since the driver started.
    pub total: u64,
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_through_json() {
        let state = DriverState {
            instance: "t".into(),
            driver_pid: 1,
            processes: vec![ProcessState {
                pid: 2,
                todo: vec![
                    WorkState::DeadBinder { cookie: 7 },
                    WorkState::TransactionComplete,
                ],
                ..Default::default()
            }],
            ..Default::default()
        };
        let text = serde_json::to_string(&state).unwrap();
        assert!(text.contains("\"kind\":\"dead_binder\""));
        assert_eq!(serde_json::from_str::<DriverState>(&text).unwrap(), state);
    }

    #[test]
    fn groups_are_flat_in_the_json() {
        let node = NodeState {
            debug_id: 3,
            owner_pid: Some(4),
            counts: NodeRefCounts {
                has_strong_ref: true,
                local_weak_refs: 2,
                tmp_refs: 1,
                ..Default::default()
            },
            ref_holders: vec![5],
            ..Default::default()
        };
        let text = serde_json::to_string(&node).unwrap();
        assert_eq!(
            text,
            "{\"debug_id\":3,\"owner_pid\":4,\"ptr\":0,\"cookie\":0,\"has_strong_ref\":true,\
             \"has_weak_ref\":false,\"pending_strong_ref\":false,\"pending_weak_ref\":false,\
             \"local_strong_refs\":0,\"local_weak_refs\":2,\"internal_strong_refs\":0,\
             \"tmp_refs\":1,\"ref_holders\":[5],\"accept_fds\":false,\
             \"has_async_transaction\":false,\"async_todo\":[]}"
        );
        assert_eq!(serde_json::from_str::<NodeState>(&text).unwrap(), node);

        let r = RefState {
            debug_id: 6,
            desc: 1,
            counts: RefCounts { strong: 1, weak: 2 },
            ..Default::default()
        };
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(
            text,
            "{\"debug_id\":6,\"desc\":1,\"node\":0,\"node_owner_pid\":null,\"strong\":1,\
             \"weak\":2,\"death_cookie\":null}"
        );
        assert_eq!(serde_json::from_str::<RefState>(&text).unwrap(), r);

        let thread = ThreadState {
            tid: 7,
            wake: ThreadWakeState {
                looper_need_return: true,
                process_todo: false,
            },
            ..Default::default()
        };
        let proc = ProcessState {
            pid: 2,
            counts: ProcThreadCounts {
                max_threads: 4,
                requested_threads: 1,
                requested_threads_started: 2,
                outstanding_transactions: 3,
            },
            threads: vec![thread],
            ..Default::default()
        };
        let text = serde_json::to_string(&proc).unwrap();
        assert!(text.contains(
            "\"gid\":0,\"max_threads\":4,\"requested_threads\":1,\
             \"requested_threads_started\":2,\"outstanding_transactions\":3,\"area\":null,"
        ));
        assert!(text.contains(
            "\"waiting\":false,\"looper_need_return\":true,\"process_todo\":false,\
             \"transaction_stack\":[]"
        ));
        assert_eq!(serde_json::from_str::<ProcessState>(&text).unwrap(), proc);
    }
}
