//! `binder_transaction`: one transaction or reply, from the sender's command to the work item
//! queued on the target, with its payload copied exactly once.
//!
//! It runs in three steps, because the copy happens without the state lock:
//! 1. [`State::txn_prepare`] (locked): find the target (node, process, and for nested calls
//!    or replies the thread), take the references that keep it alive, allocate the buffer in
//!    the target's area and describe the copy.
//! 2. [`CopyPlan::run`] (unlocked): data and offsets go from the sender's memory straight into
//!    the buffer: `memcpy` from the sender's send arena, else `pread` on the memory file the
//!    sender gave at hello (never anything found by pid).
//! 3. (locked again) [`State::txn_copied`] checks that sender and target still exist;
//!    [`State::txn_translate`] validates the offsets and objects in the target's copy (which
//!    only the driver can write) and translates binders, handles and fds, a bounded number of
//!    objects per call so that the lock is released between batches; [`State::txn_queue`]
//!    queues the transaction. Everything is undone on error.

use std::collections::HashMap;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use binder_sys::ud::MAX_FDS_PER_MESSAGE;
use binder_sys::{
    BINDER_TYPE_BINDER, BINDER_TYPE_FD, BINDER_TYPE_FDA, BINDER_TYPE_HANDLE, BINDER_TYPE_PTR,
    BINDER_TYPE_WEAK_BINDER, BINDER_TYPE_WEAK_HANDLE, BR_DEAD_REPLY, BR_FAILED_REPLY, BR_OK,
    BR_TRANSACTION_COMPLETE, ExtendedError, FlatBinderObject, TF_ACCEPT_FDS, TF_CLEAR_BUF,
    TF_ONE_WAY, TransactionData, command_name,
};

use crate::alloc::{AllocError, align8};
use crate::model::{Arena, FdFixup, NodeId, ProcId, State, ThreadId, Transaction, TxnId, Work};
use crate::objects::{BufferView, Object};
use crate::stats::Obj;
use crate::sys::SharedMapping;
use nix::errno::Errno;

/// What a `BC_TRANSACTION`/`BC_REPLY` (or their `_SG` forms) asks for.
#[derive(Debug, Clone, Copy)]
pub struct TxnRequest {
    pub tr: TransactionData,
    pub reply: bool,
    pub extra_buffers_size: u64,
}

/// The payload copy, described under the lock and run without it.
pub struct CopyPlan {
    dst: Arc<SharedMapping>,
    dst_offset: usize,
    /// `(sender address, length, offset inside the buffer)` for data, then offsets.
    segments: [(u64, usize, usize); 2],
    arena: Option<Arc<Arena>>,
    /// The sender's memory file (see `OP_HELLO_PROC`), for data outside the arena.
    mem: Option<Arc<OwnedFd>>,
}

#[derive(Debug, Default)]
pub struct CopyDone {
    arena_bytes: u64,
    vm_bytes: u64,
}

#[derive(Debug)]
pub struct CopyError {
    what: &'static str,
    err: io::Error,
}

/// Payloads up to this size that lie in the sender's arena are copied with the state lock held:
/// a `memcpy` of a few KiB costs less than letting the lock go and taking it again (which the
/// large copies, and the slow path through the memory file, still do).
const LOCKED_COPY_MAX: usize = 8 * 1024;

impl CopyPlan {
    /// Whether the copy is small and all from the arena (a `memcpy` that cannot block).
    pub fn small_from_arena(&self) -> bool {
        let total: usize = self.segments.iter().map(|s| s.1).sum();
        total <= LOCKED_COPY_MAX
            && self.segments.iter().all(|&(src, len, _)| {
                len == 0
                    || self
                        .arena
                        .as_ref()
                        .is_some_and(|a| a.offset_of(src, len as u64).is_some())
            })
    }

    /// The one copy of the payload.
    pub fn run(&self) -> Result<CopyDone, CopyError> {
        let mut done = CopyDone::default();
        for (i, &(src, len, at)) in self.segments.iter().enumerate() {
            if len == 0 {
                continue;
            }
            let what = if i == 0 { "data" } else { "offsets" };
            let dst = self.dst_offset + at;
            let from_arena = self
                .arena
                .as_ref()
                .and_then(|a| a.offset_of(src, len as u64).map(|off| (a, off)));
            match from_arena {
                Some((arena, src_off)) => {
                    if !self.dst.copy_from(dst, &arena.mapping, src_off, len) {
                        return Err(CopyError {
                            what,
                            err: io::Error::from(Errno::EFAULT),
                        });
                    }
                    done.arena_bytes += len as u64;
                }
                None => {
                    let mem = self.mem.as_ref().ok_or_else(|| CopyError {
                        what,
                        err: io::Error::new(
                            io::ErrorKind::PermissionDenied,
                            "it lies outside the send arena and the process gave no memory file",
                        ),
                    })?;
                    self.dst
                        .read_from_memory_file(dst, mem, src, len)
                        .map_err(|err| CopyError { what, err })?;
                    done.vm_bytes += len as u64;
                }
            }
        }
        Ok(done)
    }
}

/// The files that came with a `BINDER_WRITE_READ`, by the sender's fd number.
pub type FileTable = HashMap<i32, OwnedFd>;

/// A transaction whose payload is copied, while its objects are translated (step 3).
pub struct Translating {
    prep: Prepared,
    /// The sending process and its user.
    proc_id: ProcId,
    uid: u32,
    /// The next object to translate.
    next: usize,
    /// Where the next object may start (objects may not overlap).
    off_min: u64,
    /// Files taken for the fd objects translated so far (charged as in flight).
    fixups: Vec<FdFixup>,
}

/// A transaction between step 1 and step 3.
pub struct Prepared {
    debug_id: u64,
    req: TxnRequest,
    in_reply_to: Option<TxnId>,
    target_proc: ProcId,
    target_thread: Option<ThreadId>,
    /// Holds a local strong reference (released with the buffer) and a temporary one
    /// (released at the end of the transaction).
    target_node: Option<NodeId>,
    buffer_offset: usize,
    oneway_spam_suspect: bool,
    pub copy: CopyPlan,
}

/// Why an object of a transaction is refused: the errno of the sender's extended error, and
/// the reason logged.
#[derive(Debug)]
struct Refusal(Errno, String);

/// Why a transaction failed, and what must be undone.
struct Failure {
    code: u32,
    /// The errno of the thread's extended error (`None`: 0).
    errno: Option<Errno>,
    why: String,
    in_reply_to: Option<TxnId>,
    target_node: Option<NodeId>,
    /// The allocated buffer and how many of its objects were translated.
    buffer: Option<(ProcId, usize, usize)>,
    tcomplete_queued: bool,
}

impl Failure {
    fn new(code: u32, errno: Option<Errno>, why: impl Into<String>) -> Self {
        Failure {
            code,
            errno,
            why: why.into(),
            in_reply_to: None,
            target_node: None,
            buffer: None,
            tcomplete_queued: false,
        }
    }

    fn in_reply_to(mut self, t: Option<TxnId>) -> Self {
        self.in_reply_to = t;
        self
    }
}

/// A transaction that failed: what it held is undone, and the sender (and, for a reply, the
/// caller waiting for it) has been told with `BR_FAILED_REPLY` or `BR_DEAD_REPLY` and the
/// thread's extended error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnFailed;

/// Where a transaction goes: the result of step 1's lookup.
struct Target {
    proc: ProcId,
    thread: Option<ThreadId>,
    /// For a call: the node, with a local strong and a temporary reference taken.
    node: Option<NodeId>,
    /// For a reply: the transaction it answers.
    in_reply_to: Option<TxnId>,
}

impl Target {
    /// A failure after the target was found: it undoes the target's references.
    fn failure(&self, code: u32, errno: Option<Errno>, why: impl Into<String>) -> Failure {
        Failure {
            target_node: self.node,
            in_reply_to: self.in_reply_to,
            ..Failure::new(code, errno, why)
        }
    }
}

impl State {
    /// Step 1: resolve the target, allocate the buffer, plan the copy.
    pub fn txn_prepare(&mut self, t: ThreadId, req: &TxnRequest) -> Result<Prepared, TxnFailed> {
        self.txn_prepare_inner(t, req).map_err(|f| {
            self.txn_fail(t, req, f);
            TxnFailed
        })
    }

    fn txn_prepare_inner(&mut self, t: ThreadId, req: &TxnRequest) -> Result<Prepared, Failure> {
        let (proc_id, debug_id) = self.txn_sender(t)?;
        let target = if req.reply {
            self.reply_target(t)?
        } else {
            self.call_target(t, proc_id, &req.tr)?
        };
        if req.extra_buffers_size != 0 {
            return Err(target.failure(
                BR_FAILED_REPLY,
                Some(Errno::EINVAL),
                "scatter-gather buffers (BINDER_TYPE_PTR) are not supported",
            ));
        }
        let (buffer_offset, oneway_spam_suspect, dst) =
            self.txn_alloc_buffer(req, debug_id, proc_id, &target)?;
        let tr = &req.tr;
        let p = &self.procs[&proc_id];
        let copy = CopyPlan {
            dst,
            dst_offset: buffer_offset,
            segments: [
                (tr.data_buffer, tr.data_size as usize, 0),
                (
                    tr.data_offsets,
                    tr.offsets_size as usize,
                    align8(tr.data_size as usize),
                ),
            ],
            arena: p.arena.clone(),
            mem: p.mem.clone(),
        };
        Ok(Prepared {
            debug_id,
            req: *req,
            in_reply_to: target.in_reply_to,
            target_proc: target.proc,
            target_thread: target.thread,
            target_node: target.node,
            buffer_offset,
            oneway_spam_suspect,
            copy,
        })
    }

    /// The sending thread's process and a new transaction id (which the thread's extended error
    /// now names); refused while the thread leaves too many completions of its calls unread.
    fn txn_sender(&mut self, t: ThreadId) -> Result<(ProcId, u64), Failure> {
        let proc_id = self
            .threads
            .get(&t)
            .map(|th| th.proc)
            .ok_or_else(|| Failure::new(BR_DEAD_REPLY, Some(Errno::ESRCH), "sender gone"))?;
        let debug_id = self.next_id();
        let th = self
            .threads
            .get_mut(&t)
            .expect("sender thread checked above");
        th.extended_error = ExtendedError::ok(debug_id as u32);
        let backlog = th.todo.completions();
        if backlog >= self.limits.max_thread_backlog {
            return Err(Failure::new(
                BR_FAILED_REPLY,
                Some(Errno::EAGAIN),
                format!("the sender has {backlog} unread completions of its calls"),
            ));
        }
        Ok((proc_id, debug_id))
    }

    /// The target of a reply: the thread that made the call on top of the replier's stack,
    /// which is popped.
    fn reply_target(&mut self, t: ThreadId) -> Result<Target, Failure> {
        let protocol = |why: String| Failure::new(BR_FAILED_REPLY, Some(Errno::EPROTO), why);
        let th = self
            .threads
            .get_mut(&t)
            .expect("sender thread checked by txn_sender");
        let irt = th
            .transaction_stack
            .ok_or_else(|| protocol("reply with no transaction stack".into()))?;
        let Some(irt_t) = self.txns.get(&irt) else {
            return Err(protocol("reply to a vanished transaction".into()));
        };
        if irt_t.to_thread != Some(t) {
            return Err(protocol(format!(
                "reply with bad transaction stack, transaction {} has another target",
                irt_t.debug_id
            )));
        }
        th.transaction_stack = irt_t.to_parent;
        let from = irt_t.from.filter(|f| self.threads.contains_key(f));
        let Some(from) = from else {
            return Err(
                Failure::new(BR_DEAD_REPLY, None, "the caller is gone").in_reply_to(Some(irt))
            );
        };
        let caller = &self.threads[&from];
        if caller.transaction_stack != Some(irt) {
            return Err(protocol("reply to a caller whose stack moved on".into()));
        }
        Ok(Target {
            proc: caller.proc,
            thread: Some(from),
            node: None,
            in_reply_to: Some(irt),
        })
    }

    /// The target of a call: the node behind the handle, referenced for the transaction
    /// (`binder_get_node_refs_for_txn`), and for a two-way call made while this thread serves
    /// one, the thread of the target process that waits for it up the stack.
    fn call_target(
        &mut self,
        t: ThreadId,
        proc_id: ProcId,
        tr: &TransactionData,
    ) -> Result<Target, Failure> {
        let node = self.handle_target_node(proc_id, tr.handle())?;
        let owner = self.nodes.get(&node).and_then(|n| n.proc).ok_or_else(|| {
            Failure::new(BR_DEAD_REPLY, Some(Errno::EINVAL), "target node is dead")
        })?;
        let _ = self.inc_node(node, true, false, None);
        self.inc_node_tmpref(node);
        let mut target = Target {
            proc: owner,
            thread: None,
            node: Some(node),
            in_reply_to: None,
        };
        if owner == proc_id {
            let why = "transaction to own process";
            return Err(target.failure(BR_FAILED_REPLY, Some(Errno::EINVAL), why));
        }
        if tr.flags & TF_ONE_WAY == 0 {
            target.thread = self
                .nested_call_thread(t, owner)
                .map_err(|why| target.failure(BR_FAILED_REPLY, Some(Errno::EPROTO), why))?;
        }
        Ok(target)
    }

    /// The node a call to `handle` of `proc_id` goes to (handle 0: the context manager's).
    fn handle_target_node(&self, proc_id: ProcId, handle: u32) -> Result<NodeId, Failure> {
        let invalid = |why: String| Failure::new(BR_FAILED_REPLY, Some(Errno::EINVAL), why);
        if handle != 0 {
            return self
                .node_from_ref(proc_id, handle, true)
                .ok_or_else(|| invalid(format!("transaction to invalid handle {handle}")));
        }
        let node = self.context_mgr_node.ok_or_else(|| {
            Failure::new(BR_DEAD_REPLY, Some(Errno::EINVAL), "no context manager")
        })?;
        if self.nodes.get(&node).and_then(|n| n.proc) == Some(proc_id) {
            return Err(invalid(
                "transaction to context manager from process owning it".into(),
            ));
        }
        Ok(node)
    }

    /// For a two-way call: checks the sender's stack, and finds the thread of `target_proc`
    /// that waits for thread `t` up the stack (a call back into it lands on that thread).
    fn nested_call_thread(
        &self,
        t: ThreadId,
        target_proc: ProcId,
    ) -> Result<Option<ThreadId>, &'static str> {
        let th = &self.threads[&t];
        if matches!(th.todo.front(), Some(Work::Transaction(_))) {
            return Err("new transaction not allowed when there is a transaction on thread todo");
        }
        let Some(top) = th.transaction_stack else {
            return Ok(None);
        };
        if self.txns.get(&top).and_then(|x| x.to_thread) != Some(t) {
            return Err("new transaction with bad transaction stack");
        }
        let mut cur = Some(top);
        while let Some(c) = cur.and_then(|c| self.txns.get(&c)) {
            if let Some(from) = c.from
                && self
                    .threads
                    .get(&from)
                    .is_some_and(|f| f.proc == target_proc)
            {
                return Ok(Some(from));
            }
            cur = c.from_parent;
        }
        Ok(None)
    }

    /// Allocates the transaction's buffer in the target's area: its offset, whether the
    /// sender looks like a oneway spammer, and the driver's mapping of the area.
    fn txn_alloc_buffer(
        &mut self,
        req: &TxnRequest,
        debug_id: u64,
        proc_id: ProcId,
        target: &Target,
    ) -> Result<(usize, bool, Arc<SharedMapping>), Failure> {
        let tr = &req.tr;
        let oneway = !req.reply && tr.flags & TF_ONE_WAY != 0;
        let sender_id = self.procs[&proc_id].debug_id;
        let target_pid = self.procs.get(&target.proc).map_or(0, |p| p.pid);
        let area = self
            .procs
            .get_mut(&target.proc)
            .filter(|p| !p.is_dead)
            .and_then(|p| p.area.as_mut())
            .filter(|a| a.user_addr.is_some());
        let Some(area) = area else {
            let why = format!("target process {target_pid} has no mapped area");
            return Err(target.failure(BR_DEAD_REPLY, Some(Errno::ESRCH), why));
        };
        let allocated =
            area.alloc
                .new_buf(tr.data_size, tr.offsets_size, oneway, debug_id, sender_id);
        let (offset, oneway_spam_suspect) = allocated.map_err(|e| {
            let why = match e {
                AllocError::InvalidSize => "invalid size",
                AllocError::NoSpace => "no space in the target's area",
                AllocError::NoAsyncSpace => "no async space left in the target's area",
            };
            tracing::warn!(
                target_pid,
                data_size = tr.data_size,
                offsets_size = tr.offsets_size,
                area_size = area.alloc.size(),
                free_bytes = area.alloc.free_bytes(),
                largest_free = area.alloc.largest_free(),
                free_async_space = area.alloc.free_async_space(),
                oneway,
                "transaction {debug_id} does not fit: {why}"
            );
            target.failure(BR_FAILED_REPLY, Some(Errno::ENOSPC), why)
        })?;
        let b = area.alloc.buffer_mut(offset).expect("just allocated");
        b.target_node = target.node;
        b.clear_on_free = tr.flags & TF_CLEAR_BUF != 0;
        Ok((offset, oneway_spam_suspect, area.mapping.clone()))
    }

    /// Step 3a: after the copy, checks that both ends still exist and the copy worked.
    /// `None` when the transaction failed (everything is undone and reported).
    pub fn txn_copied(
        &mut self,
        t: ThreadId,
        prep: Prepared,
        copied: Result<CopyDone, CopyError>,
    ) -> Option<Translating> {
        let mut tr = Translating {
            prep,
            proc_id: ProcId(0),
            uid: 0,
            next: 0,
            off_min: 0,
            fixups: Vec::new(),
        };
        if !self.txn_ends_alive(t, &mut tr) {
            return None;
        }
        match copied {
            Ok(done) => {
                self.stats.bytes_copied_arena += done.arena_bytes;
                self.stats.bytes_copied_vm += done.vm_bytes;
            }
            Err(e) => {
                if let Some(p) = self.procs.get_mut(&tr.proc_id)
                    && !std::mem::replace(&mut p.mem_read_failed, true)
                {
                    tracing::warn!(
                        pid = p.pid,
                        "copying transaction data of process {} failed: the {}: {}. Data outside its \
                         send arena is read only through the memory file it sent with its hello",
                        p.pid,
                        e.what,
                        e.err
                    );
                }
                let why = format!("copying the {} from the sender failed: {}", e.what, e.err);
                let f = self.failure(&mut tr, BR_FAILED_REPLY, Some(Errno::EFAULT), why);
                self.txn_fail(t, &tr.prep.req, f);
                return None;
            }
        }
        if !tr.prep.req.tr.offsets_size.is_multiple_of(8) {
            let why = format!("invalid offsets size {}", tr.prep.req.tr.offsets_size);
            let f = self.failure(&mut tr, BR_FAILED_REPLY, Some(Errno::EINVAL), why);
            self.txn_fail(t, &tr.prep.req, f);
            return None;
        }
        Some(tr)
    }

    /// What a failure of `tr` must undo: its buffer (if the target lives) with the objects
    /// translated so far, its node references. Its files are closed here.
    fn failure(
        &mut self,
        tr: &mut Translating,
        code: u32,
        errno: Option<Errno>,
        why: String,
    ) -> Failure {
        let files = std::mem::take(&mut tr.fixups);
        self.uncharge_fds(tr.proc_id, tr.uid, Some(tr.prep.target_proc), files.len());
        drop(files);
        let buffer = self.proc_alive(tr.prep.target_proc).is_some().then_some((
            tr.prep.target_proc,
            tr.prep.buffer_offset,
            tr.next,
        ));
        Failure {
            code,
            errno,
            why,
            in_reply_to: tr.prep.in_reply_to,
            target_node: tr.prep.target_node,
            buffer,
            tcomplete_queued: false,
        }
    }

    /// Whether the sender, the target and the target thread of a transaction being finished
    /// still exist (checked each time the lock was released); records the sender's process.
    /// On `false` the transaction failed and was undone.
    pub fn txn_ends_alive(&mut self, t: ThreadId, tr: &mut Translating) -> bool {
        let Some(proc_id) = self.threads.get(&t).map(|th| th.proc) else {
            // The sender died while the lock was released: undo silently; its caller (if this
            // was a reply) learns that the reply will never come.
            tracing::debug!("transaction {}: the sender died", tr.prep.debug_id);
            let f = self.failure(tr, BR_DEAD_REPLY, None, "sender died".into());
            self.undo(f);
            if let Some(irt) = tr.prep.in_reply_to {
                self.send_failed_reply(irt, BR_DEAD_REPLY);
            }
            return false;
        };
        tr.proc_id = proc_id;
        tr.uid = self.procs.get(&proc_id).map_or(0, |p| p.uid);
        let prep = &tr.prep;
        let dead = if self.proc_alive(prep.target_proc).is_none() {
            Some("target died")
        } else if let Some(tt) = prep.target_thread
            && !(self.threads.contains_key(&tt)
                && prep
                    .in_reply_to
                    .is_none_or(|irt| self.txns.get(&irt).is_some_and(|x| x.from == Some(tt))))
        {
            Some("target thread died")
        } else {
            None
        };
        if let Some(why) = dead {
            let f = self.failure(tr, BR_DEAD_REPLY, None, why.into());
            self.txn_fail(t, &tr.prep.req, f);
            return false;
        }
        true
    }

    /// Step 3b: validates and translates up to `budget` objects of the target's copy.
    /// `Ok(true)` when every object is done, `Ok(false)` when more remain.
    pub fn txn_translate(
        &mut self,
        t: ThreadId,
        tr: &mut Translating,
        files: &FileTable,
        budget: usize,
    ) -> Result<bool, TxnFailed> {
        let req_tr = tr.prep.req.tr;
        let dst = tr.prep.copy.dst.clone();
        let view = BufferView {
            mapping: &dst,
            start: tr.prep.buffer_offset,
            data_size: req_tr.data_size as usize,
            offsets_start: align8(req_tr.data_size as usize),
            offsets_size: req_tr.offsets_size as usize,
        };
        let end = view.object_count().min(tr.next.saturating_add(budget));
        while tr.next < end {
            if let Err(Refusal(errno, why)) = self.translate_one(t, tr, &view, files) {
                let f = self.failure(tr, BR_FAILED_REPLY, Some(errno), why);
                self.txn_fail(t, &tr.prep.req, f);
                return Err(TxnFailed);
            }
            tr.next += 1;
        }
        Ok(tr.next == view.object_count())
    }

    /// Validates and translates object `tr.next`.
    fn translate_one(
        &mut self,
        t: ThreadId,
        tr: &mut Translating,
        view: &BufferView<'_>,
        files: &FileTable,
    ) -> Result<(), Refusal> {
        let data_size = view.data_size;
        let offset = view
            .offset_at(tr.next)
            .ok_or(Refusal(Errno::EINVAL, "unreadable offset".to_string()))?;
        let obj = view
            .object_at(offset)
            .filter(|_| offset >= tr.off_min)
            .ok_or_else(|| {
                Refusal(
                    Errno::EINVAL,
                    format!(
                        "invalid offset ({offset}, min {} max {data_size}) or object",
                        tr.off_min
                    ),
                )
            })?;
        tr.off_min = offset + obj.size as u64;
        let (proc_id, target) = (tr.proc_id, tr.prep.target_proc);
        let fp = match obj.hdr_type {
            BINDER_TYPE_BINDER | BINDER_TYPE_WEAK_BINDER => {
                self.translate_binder(t, proc_id, target, obj)
            }
            BINDER_TYPE_HANDLE | BINDER_TYPE_WEAK_HANDLE => {
                self.translate_handle(proc_id, target, obj)
            }
            BINDER_TYPE_FD => self.translate_fd(tr, obj, offset, files),
            BINDER_TYPE_PTR | BINDER_TYPE_FDA => Err(Refusal(
                Errno::EINVAL,
                "BINDER_TYPE_PTR/FDA objects are not supported".to_string(),
            )),
            other => Err(Refusal(
                Errno::EINVAL,
                format!("invalid object type {other:#x}"),
            )),
        }?;
        if !view.write_flat(offset, &fp) {
            return Err(Refusal(Errno::EINVAL, "object outside the buffer".into()));
        }
        Ok(())
    }

    /// `binder_translate_binder`: a local object becomes a handle in the target.
    fn translate_binder(
        &mut self,
        t: ThreadId,
        proc_id: ProcId,
        target: ProcId,
        obj: Object,
    ) -> Result<FlatBinderObject, Refusal> {
        let mut fp = obj.flat;
        let node = self
            .get_or_new_node(proc_id, fp.binder_or_handle, fp.cookie, fp.flags)
            .ok_or(Refusal(Errno::ENOMEM, "cannot create node".to_string()))?;
        self.inc_node_tmpref(node);
        let result = (|| {
            let n = &self.nodes[&node];
            if n.cookie != fp.cookie {
                return Err(Refusal(
                    Errno::EINVAL,
                    format!(
                        "sending node {:#x}, cookie mismatch {:#x} != {:#x}",
                        n.ptr, fp.cookie, n.cookie
                    ),
                ));
            }
            let strong = obj.hdr_type == BINDER_TYPE_BINDER;
            let rdata = self
                .inc_ref_for_node(target, node, strong, Some(t))
                .map_err(|e| Refusal(Errno::EINVAL, format!("cannot reference node: {e}")))?;
            fp.hdr_type = if strong {
                BINDER_TYPE_HANDLE
            } else {
                BINDER_TYPE_WEAK_HANDLE
            };
            fp.binder_or_handle = rdata.desc as u64;
            fp.cookie = 0;
            Ok(fp)
        })();
        self.dec_node_tmpref(node);
        result
    }

    /// `binder_translate_handle`: a handle becomes the local object again in its owner, or a
    /// handle of the target on the same node.
    fn translate_handle(
        &mut self,
        proc_id: ProcId,
        target: ProcId,
        obj: Object,
    ) -> Result<FlatBinderObject, Refusal> {
        let mut fp = obj.flat;
        let strong = obj.hdr_type == BINDER_TYPE_HANDLE;
        let node = self
            .node_from_ref(proc_id, fp.handle(), strong)
            .ok_or_else(|| {
                Refusal(
                    Errno::EINVAL,
                    format!("transaction with invalid handle {}", fp.handle()),
                )
            })?;
        self.inc_node_tmpref(node);
        let result = (|| {
            let n = &self.nodes[&node];
            if n.proc == Some(target) {
                fp.hdr_type = if strong {
                    BINDER_TYPE_BINDER
                } else {
                    BINDER_TYPE_WEAK_BINDER
                };
                fp.binder_or_handle = n.ptr;
                fp.cookie = n.cookie;
                // As the kernel, the result is not checked: the owner holds the node.
                let _ = self.inc_node(node, strong, false, None);
            } else {
                let rdata = self
                    .inc_ref_for_node(target, node, strong, None)
                    .map_err(|e| Refusal(Errno::EINVAL, format!("cannot reference node: {e}")))?;
                fp.binder_or_handle = rdata.desc as u64;
                fp.cookie = 0;
            }
            Ok(fp)
        })();
        self.dec_node_tmpref(node);
        result
    }

    /// `binder_translate_fd`: the sender's file, which came with its command as `SCM_RIGHTS`
    /// (so from its own fd table); the receiver gets its own descriptor with the read and
    /// reports it with `OP_FD_FIXUP`. Until then the slot holds -1.
    fn translate_fd(
        &mut self,
        tr: &mut Translating,
        obj: Object,
        offset: u64,
        files: &FileTable,
    ) -> Result<FlatBinderObject, Refusal> {
        let prep = &tr.prep;
        let mut fp = obj.flat;
        let fd = fp.handle() as i32;
        let accepts = match prep.in_reply_to {
            Some(irt) => self
                .txns
                .get(&irt)
                .is_some_and(|x| x.flags & TF_ACCEPT_FDS != 0),
            None => prep
                .target_node
                .and_then(|n| self.nodes.get(&n))
                .is_some_and(|n| n.accept_fds),
        };
        if !accepts {
            let what = if prep.in_reply_to.is_some() {
                "reply"
            } else {
                "transaction"
            };
            return Err(Refusal(
                Errno::EPERM,
                format!("{what} with fd {fd}, but target does not allow fds"),
            ));
        }
        if tr.fixups.len() >= MAX_FDS_PER_MESSAGE {
            return Err(Refusal(
                Errno::EMFILE,
                format!("more than {MAX_FDS_PER_MESSAGE} fds in one transaction"),
            ));
        }
        let sent = files.get(&fd).ok_or_else(|| {
            Refusal(
                Errno::EBADF,
                format!("transaction with fd {fd}, which did not come with the command"),
            )
        })?;
        if !self.charge_fds(tr.proc_id, tr.uid, Some(prep.target_proc), 1) {
            return Err(Refusal(
                Errno::EMFILE,
                "too many files in flight for the sender, the target or the driver".to_string(),
            ));
        }
        let file = match sent.try_clone() {
            Ok(f) => f,
            Err(e) => {
                self.uncharge_fds(tr.proc_id, tr.uid, Some(prep.target_proc), 1);
                return Err(Refusal(Errno::EMFILE, format!("cannot hold fd {fd}: {e}")));
            }
        };
        tr.fixups.push(FdFixup {
            file,
            offset: prep.buffer_offset + offset as usize + 8,
        });
        fp.binder_or_handle = u32::MAX as u64;
        Ok(fp)
    }

    /// Step 3c: queues a translated transaction (the success path of `binder_transaction`).
    pub fn txn_queue(&mut self, t: ThreadId, tr: Translating) {
        let Translating {
            prep,
            proc_id,
            fixups,
            ..
        } = tr;
        let req = prep.req;
        let oneway = !req.reply && req.tr.flags & TF_ONE_WAY != 0;
        let id = self.txn_record(t, proc_id, &prep, fixups);
        let result = if req.reply {
            let (Some(tt), Some(irt)) = (prep.target_thread, prep.in_reply_to) else {
                return;
            };
            self.queue_reply(t, proc_id, &prep, id, (tt, irt));
            Ok(())
        } else if !oneway {
            self.queue_call(t, &prep, id)
        } else {
            let tcomplete = if prep.oneway_spam_suspect {
                Work::OnewaySpamSuspect
            } else {
                Work::TransactionComplete
            };
            self.enqueue_thread_work(t, tcomplete);
            self.proc_transaction(id, prep.target_proc, None)
        };
        match result {
            Ok(()) => {
                if !req.reply {
                    self.stats.transactions += 1;
                    self.stats.oneway += oneway as u64;
                }
                if let Some(n) = prep.target_node {
                    self.dec_node_tmpref(n);
                }
            }
            Err(code) => self.txn_queue_failed(t, &prep, id, code),
        }
    }

    /// Records the transaction (with the files of its fd objects) and ties its buffer to it.
    fn txn_record(
        &mut self,
        t: ThreadId,
        proc_id: ProcId,
        prep: &Prepared,
        fixups: Vec<FdFixup>,
    ) -> TxnId {
        self.stats.fds_passed += fixups.len() as u64;
        let req = prep.req;
        let oneway = !req.reply && req.tr.flags & TF_ONE_WAY != 0;
        let (from_pid, euid) = self.procs.get(&proc_id).map_or((0, 0), |p| (p.pid, p.uid));
        let from_tid = self.threads.get(&t).map_or(0, |th| th.tid);
        let id = TxnId(prep.debug_id);
        self.stats.created(Obj::Transaction);
        self.stats.created(Obj::TransactionComplete);
        self.txns.insert(
            id,
            Transaction {
                debug_id: prep.debug_id,
                is_reply: req.reply,
                from: (!req.reply && !oneway).then_some(t),
                sender: proc_id,
                from_pid,
                from_tid,
                from_parent: None,
                to_proc: Some(prep.target_proc),
                to_thread: prep.target_thread,
                to_parent: None,
                need_reply: false,
                code: req.tr.code,
                flags: req.tr.flags,
                sender_euid: euid,
                buffer: Some(prep.buffer_offset),
                target_node: prep.target_node.filter(|_| !req.reply),
                fd_fixups: fixups,
            },
        );
        self.set_buffer_transaction(prep, Some(id));
        id
    }

    /// Ties the buffer of `prep` to its transaction, or unties it.
    fn set_buffer_transaction(&mut self, prep: &Prepared, id: Option<TxnId>) {
        if let Some(b) = self
            .procs
            .get_mut(&prep.target_proc)
            .and_then(|p| p.area.as_mut())
            .and_then(|a| a.alloc.buffer_mut(prep.buffer_offset))
        {
            b.transaction = id;
        }
    }

    /// Queues reply `id` on the caller's thread `tt` and pops the call `irt` it answers.
    fn queue_reply(
        &mut self,
        t: ThreadId,
        proc_id: ProcId,
        prep: &Prepared,
        id: TxnId,
        (tt, irt): (ThreadId, TxnId),
    ) {
        // A reply without objects needs no completion if the process opted out; one with
        // objects gets it as in the kernel: the replier keeps the objects' references until
        // it hears that the driver has taken its own.
        if prep.req.tr.offsets_size == 0
            && self
                .procs
                .get(&proc_id)
                .is_some_and(|p| p.no_reply_complete)
        {
            self.stats.deleted(Obj::TransactionComplete);
        } else {
            self.enqueue_thread_work(t, Work::TransactionComplete);
        }
        let parent = self.txns.get_mut(&irt).map(|x| {
            x.from = None;
            x.from_parent
        });
        if let Some(caller) = self.threads.get_mut(&tt) {
            caller.transaction_stack = parent.flatten();
        }
        self.enqueue_thread_work(tt, Work::Transaction(id));
        if let Some(p) = self.procs.get_mut(&prep.target_proc) {
            p.counts.outstanding_transactions += 1;
        }
        self.free_transaction(irt);
        self.stats.replies += 1;
    }

    /// Queues two-way call `id`, which goes on top of the sender's transaction stack.
    fn queue_call(&mut self, t: ThreadId, prep: &Prepared, id: TxnId) -> Result<(), u32> {
        self.enqueue_deferred_thread_work(t, Work::TransactionComplete);
        let th = self.threads.get_mut(&t).expect("sender thread exists");
        let parent = th.transaction_stack.replace(id);
        if let Some(x) = self.txns.get_mut(&id) {
            x.need_reply = true;
            x.from_parent = parent;
        }
        let r = self.proc_transaction(id, prep.target_proc, prep.target_thread);
        if r.is_err()
            && let Some(th) = self.threads.get_mut(&t)
        {
            th.transaction_stack = parent;
        }
        r
    }

    /// `err_dead_proc_or_thread`: the target died before transaction `id` could be queued.
    /// Forgets the transaction (it was never counted as outstanding) and undoes everything.
    fn txn_queue_failed(&mut self, t: ThreadId, prep: &Prepared, id: TxnId, code: u32) {
        if let Some(x) = self.txns.remove(&id) {
            self.stats.deleted(Obj::Transaction);
            self.uncharge_fds(x.sender, x.sender_euid, x.to_proc, x.fd_fixups.len());
        }
        self.set_buffer_transaction(prep, None);
        let count = (prep.req.tr.offsets_size / 8) as usize;
        let f = Failure {
            code,
            errno: None,
            why: "target died".into(),
            in_reply_to: None,
            target_node: prep.target_node,
            buffer: Some((prep.target_proc, prep.buffer_offset, count)),
            tcomplete_queued: true,
        };
        self.txn_fail(t, &prep.req, f);
    }

    /// `binder_proc_transaction`: hands a transaction to a thread of the target (the given
    /// one, else a waiting looper) or to the process queue; oneway transactions to a node that
    /// already has one in flight wait on the node.
    fn proc_transaction(
        &mut self,
        id: TxnId,
        proc_id: ProcId,
        thread: Option<ThreadId>,
    ) -> Result<(), u32> {
        let Some(tr) = self.txns.get(&id) else {
            return Err(BR_DEAD_REPLY);
        };
        let oneway = tr.flags & TF_ONE_WAY != 0;
        let node = tr.target_node;
        let mut pending_async = false;
        if oneway && let Some(n) = node.and_then(|n| self.nodes.get_mut(&n)) {
            pending_async = std::mem::replace(&mut n.has_async_transaction, true);
        }
        if self.proc_alive(proc_id).is_none()
            || thread.is_some_and(|th| !self.threads.contains_key(&th))
        {
            return Err(BR_DEAD_REPLY);
        }
        let thread = match thread {
            None if !pending_async => self.select_thread(proc_id),
            other => other,
        };
        if let Some(th) = thread {
            self.enqueue_thread_work(th, Work::Transaction(id));
        } else if !pending_async {
            self.enqueue_proc_work(proc_id, Work::Transaction(id));
        } else if let Some(n) = node.and_then(|n| self.nodes.get_mut(&n)) {
            n.async_todo.push_back(id);
        }
        if let Some(p) = self.procs.get_mut(&proc_id) {
            p.counts.outstanding_transactions += 1;
        }
        Ok(())
    }

    /// Undoes what a failed transaction holds: queued completion, translated objects, the
    /// buffer, node references.
    fn undo(&mut self, f: Failure) {
        match f.buffer.filter(|(p, _, _)| self.proc_alive(*p).is_some()) {
            Some((p, off, translated)) => {
                let mut job = self.failed_buf(p, off, translated);
                self.free_buf(&mut job, usize::MAX);
            }
            None => {
                if let Some(n) = f.target_node {
                    self.dec_node(n, true, false);
                }
            }
        }
        if let Some(n) = f.target_node {
            self.dec_node_tmpref(n);
        }
    }

    /// The error path of `binder_transaction`: undo, then tell the sender (and, for a failed
    /// reply, the caller waiting for it).
    fn txn_fail(&mut self, t: ThreadId, req: &TxnRequest, f: Failure) {
        if f.tcomplete_queued
            && let Some(th) = self.threads.get_mut(&t)
            && (State::remove_work(&mut th.todo, Work::TransactionComplete)
                || State::remove_work(&mut th.todo, Work::OnewaySpamSuspect))
        {
            self.stats.deleted(Obj::TransactionComplete);
        }
        let (code, in_reply_to) = (f.code, f.in_reply_to);
        // The extended error's errno is negative, as the kernel's.
        let param = f.errno.map_or(0, |e| -(e as i32));
        let (pid, tid) = self.threads.get(&t).map_or((0, 0), |th| {
            (self.procs.get(&th.proc).map_or(0, |p| p.pid), th.tid)
        });
        tracing::info!(
            "{pid}:{tid} {} failed {}/{param}, size {}-{}: {}",
            if req.reply { "reply" } else { "transaction" },
            command_name(code),
            req.tr.data_size,
            req.tr.offsets_size,
            f.why
        );
        self.undo(f);
        self.stats.failed += 1;
        if let Some(th) = self.threads.get_mut(&t) {
            th.extended_error.command = code;
            th.extended_error.param = param;
        }
        let Some(th) = self.threads.get_mut(&t) else {
            if let Some(irt) = in_reply_to {
                self.send_failed_reply(irt, code);
            }
            return;
        };
        if th.return_error != BR_OK {
            tracing::warn!(
                "return error {} already pending",
                command_name(th.return_error)
            );
        }
        match in_reply_to {
            Some(irt) => {
                th.return_error = BR_TRANSACTION_COMPLETE;
                self.enqueue_thread_work(t, Work::ReturnError);
                self.send_failed_reply(irt, code);
            }
            None => {
                th.return_error = code;
                self.enqueue_thread_work(t, Work::ReturnError);
            }
        }
    }
}
