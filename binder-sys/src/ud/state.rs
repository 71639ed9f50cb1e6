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

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Answer to `DebugQuery::State`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverState {
    /// Instance name (`\0binder-ud/<instance>`).
    pub instance: String,
    /// Process id of the driver.
    pub driver_pid: u32,
    pub context_manager: Option<ContextManagerState>,
    /// Live processes, in connection order.
    pub processes: Vec<ProcessState>,
    /// Nodes whose process died while other processes still hold refs to them.
    pub dead_nodes: Vec<NodeState>,
    /// Every transaction the driver knows about (queued, being handled, awaiting a reply).
    pub transactions: Vec<TransactionState>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextManagerState {
    /// `debug_id` of the context manager's node.
    pub node: u64,
    /// Pid of the owning process; `None` once it died.
    pub pid: Option<u32>,
    /// The uid the context manager is pinned to (as the kernel's `binder_context_mgr_uid`).
    pub uid: Option<u32>,
}

/// One `binder_proc`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessState {
    pub debug_id: u64,
    pub pid: u32,
    pub uid: u32,
    pub gid: u32,
    pub max_threads: u32,
    pub requested_threads: u32,
    pub requested_threads_started: u32,
    /// Transactions queued to or being handled by this process.
    pub outstanding_transactions: u32,
    /// The receive area (`None` before `OP_MMAP`).
    pub area: Option<AreaState>,
    /// The registered send arena, if any.
    pub arena: Option<ArenaState>,
    pub threads: Vec<ThreadState>,
    /// Thread `tid`s waiting for process work, most recent first.
    pub waiting_threads: Vec<u32>,
    pub nodes: Vec<NodeState>,
    pub refs: Vec<RefState>,
    /// Buffers currently allocated in the receive area.
    pub buffers: Vec<BufferState>,
    /// The process-wide work queue.
    pub todo: Vec<WorkState>,
    /// Cookies of death notifications delivered and not yet acknowledged.
    pub delivered_death: Vec<u64>,
}

/// The receive area and its allocator (`binder_alloc`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaState {
    /// Bytes granted (at most 4 MiB).
    pub size: u64,
    /// Where the process mapped it (`OP_MMAP_ADDR`).
    pub user_addr: Option<u64>,
    pub free_bytes: u64,
    pub largest_free_chunk: u64,
    /// Space left for oneway transactions (starts at half the area).
    pub free_async_space: u64,
    pub buffers_in_use: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArenaState {
    pub addr: u64,
    pub size: u64,
}

/// One `binder_thread`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadState {
    pub debug_id: u64,
    pub tid: u32,
    /// Raw `BINDER_LOOPER_STATE_*` bits.
    pub looper: u32,
    /// The same bits by name: `registered`, `entered`, `exited`, `invalid`, `waiting`.
    pub looper_flags: Vec<String>,
    /// Blocked in a read (its `BINDER_WRITE_READ` has not been answered yet).
    pub waiting: bool,
    pub looper_need_return: bool,
    pub process_todo: bool,
    /// Top of stack first.
    pub transaction_stack: Vec<StackEntry>,
    pub todo: Vec<WorkState>,
    /// Pending `return_error` / `reply_error` (`BR_*` names), if any.
    pub return_error: Option<String>,
    pub reply_error: Option<String>,
    /// File descriptors delivered and waiting for `OP_FD_FIXUP`.
    pub pending_fd_fixups: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StackDirection {
    /// This thread sent the transaction and waits for its reply.
    Outgoing,
    /// This thread received the transaction and owes a reply.
    Incoming,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackEntry {
    pub direction: StackDirection,
    pub transaction: TransactionState,
}

/// One `binder_transaction`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionState {
    pub debug_id: u64,
    pub is_reply: bool,
    pub from_pid: Option<u32>,
    pub from_tid: Option<u32>,
    pub to_pid: Option<u32>,
    pub to_tid: Option<u32>,
    pub code: u32,
    pub flags: u32,
    pub need_reply: bool,
    /// `debug_id` of the target node (transactions, not replies).
    pub target_node: Option<u64>,
    /// Size of the buffer in the target's area, while it is attached.
    pub data_size: Option<u64>,
    pub offsets_size: Option<u64>,
    /// File descriptors still to be delivered.
    pub fds: u32,
}

/// One `binder_node`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeState {
    pub debug_id: u64,
    /// Owner's pid; `None` for a dead node.
    pub owner_pid: Option<u32>,
    pub ptr: u64,
    pub cookie: u64,
    pub has_strong_ref: bool,
    pub has_weak_ref: bool,
    pub pending_strong_ref: bool,
    pub pending_weak_ref: bool,
    pub local_strong_refs: u32,
    pub local_weak_refs: u32,
    pub internal_strong_refs: u32,
    pub tmp_refs: u32,
    /// Pids of the processes holding a ref (one entry per ref).
    pub ref_holders: Vec<u32>,
    pub accept_fds: bool,
    pub has_async_transaction: bool,
    /// Oneway transactions waiting for the previous one's buffer to be freed.
    pub async_todo: Vec<TransactionState>,
}

/// One `binder_ref`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefState {
    pub debug_id: u64,
    pub desc: u32,
    /// `debug_id` of the node.
    pub node: u64,
    /// The node's owner; `None` when the node is dead.
    pub node_owner_pid: Option<u32>,
    pub strong: u32,
    pub weak: u32,
    /// Cookie of the registered death notification.
    pub death_cookie: Option<u64>,
}

/// One `binder_buffer` in use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BufferState {
    pub debug_id: u64,
    /// Offset in the receive area.
    pub offset: u64,
    /// Address in the process's mapping.
    pub user_addr: Option<u64>,
    /// Bytes the allocator reserved (data and offsets, each aligned to 8).
    pub size: u64,
    pub data_size: u64,
    pub offsets_size: u64,
    pub async_transaction: bool,
    /// Delivered to the process, which may free it (`allow_user_free`).
    pub delivered: bool,
    /// The transaction still attached to it.
    pub transaction: Option<u64>,
    pub target_node: Option<u64>,
}

/// An item of a work queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WorkState {
    Transaction { transaction: TransactionState },
    TransactionComplete,
    ReturnError { cmd: String },
    Node { node: u64, ptr: u64, cookie: u64 },
    DeadBinder { cookie: u64 },
    DeadBinderAndClear { cookie: u64 },
    ClearDeathNotification { cookie: u64 },
}

/// Answer to `DebugQuery::Stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    #[serde(default)]
    pub fds_in_flight: u64,
    /// Connections of every kind open now (processes, threads, not yet identified).
    #[serde(default)]
    pub connections: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectCount {
    pub active: u64,
    pub total: u64,
}

#[cfg(test)]
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
}
