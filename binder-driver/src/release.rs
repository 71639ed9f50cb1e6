//! Taking things apart: freed buffers (`binder_free_buf`,
//! `binder_transaction_buffer_release`), failed replies (`binder_send_failed_reply`),
//! undelivered work (`binder_release_work`), thread exit (`binder_thread_release`) and process
//! death (`binder_deferred_release`, `binder_node_release`).

use std::sync::Arc;

use binder_sys::{
    BINDER_TYPE_BINDER, BINDER_TYPE_FD, BINDER_TYPE_HANDLE, BINDER_TYPE_WEAK_BINDER,
    BINDER_TYPE_WEAK_HANDLE, BR_DEAD_REPLY, BR_OK, TF_ONE_WAY, command_name,
};

use crate::model::{DeathId, DeathKind, NodeId, ProcId, State, ThreadId, TxnId, Work, WorkList};
use crate::objects::BufferView;
use crate::stats::Obj;

/// A buffer being freed (see [`State::free_buf`]).
#[derive(Debug)]
pub struct BufferFree {
    proc_id: ProcId,
    offset: usize,
    /// The next object to release, and the end of those to release.
    next: usize,
    end: usize,
    /// Whether the count the buffer holds on its target node was dropped.
    target_released: bool,
}

impl State {
    /// `binder_send_failed_reply`: tells the thread waiting on `t` (or, if it is gone, the
    /// first live caller further up the chain) that its call failed with `code`.
    pub fn send_failed_reply(&mut self, mut t: TxnId, code: u32) {
        loop {
            let Some(tr) = self.txns.get(&t) else { return };
            let from = tr.from.filter(|f| self.threads.contains_key(f));
            let next = tr.from_parent;
            if let Some(th_id) = from {
                let th = self.threads.get_mut(&th_id).expect("checked above");
                if th.transaction_stack == Some(t) {
                    th.transaction_stack = next;
                } else {
                    tracing::error!(
                        "failed reply for transaction {} which is not on top of its caller's stack",
                        t.0
                    );
                }
                if th.reply_error == BR_OK {
                    th.reply_error = code;
                    self.enqueue_thread_work(th_id, Work::ReplyError);
                } else {
                    tracing::warn!("unexpected reply error: {}", command_name(th.reply_error));
                }
                if let Some(tr) = self.txns.get_mut(&t) {
                    tr.from = None;
                }
                self.free_transaction(t);
                return;
            }
            tracing::debug!("send failed reply for transaction {}, target dead", t.0);
            self.free_transaction(t);
            match next {
                Some(n) => t = n,
                None => return,
            }
        }
    }

    /// `binder_cleanup_transaction`: an undelivered transaction is dropped; a caller waiting
    /// for it gets `code`.
    pub fn cleanup_transaction(&mut self, t: TxnId, code: u32) {
        let Some(tr) = self.txns.get(&t) else { return };
        if !tr.is_reply && tr.flags & TF_ONE_WAY == 0 {
            self.send_failed_reply(t, code);
        } else {
            self.free_transaction(t);
        }
    }

    /// `binder_release_work`.
    pub fn release_work(&mut self, list: impl IntoIterator<Item = Work>) {
        for w in list {
            match w {
                Work::Transaction(t) => self.cleanup_transaction(t, BR_DEAD_REPLY),
                Work::TransactionComplete | Work::OnewaySpamSuspect => {
                    self.stats.deleted(Obj::TransactionComplete)
                }
                Work::ReturnError | Work::ReplyError => {}
                Work::Node(n) => {
                    if let Some(node) = self.nodes.get_mut(&n) {
                        node.work_queued = None;
                    }
                }
                Work::Death(d) => self.release_death_work(d),
            }
        }
    }

    /// A death notification taken off a list of a dying thread or process: forgotten unless a
    /// ref still owns it.
    fn release_death_work(&mut self, d: DeathId) {
        let Some(death) = self.deaths.get_mut(&d) else {
            return;
        };
        death.queued = None;
        if death.kind != DeathKind::DeadBinder {
            self.free_death(d);
        }
    }

    /// How many objects the buffer at `buffer_off` of `proc_id`'s area holds.
    fn buffer_object_count(&self, proc_id: ProcId, buffer_off: usize) -> usize {
        self.procs
            .get(&proc_id)
            .and_then(|p| p.area.as_ref())
            .and_then(|a| a.alloc.buffer(buffer_off))
            .map_or(0, |b| b.offsets_size / 8)
    }

    /// `binder_transaction_buffer_release` for objects `from..to` of a buffer: drops what they
    /// hold (refs and node counts taken at translation).
    fn buffer_release_range(&mut self, proc_id: ProcId, buffer_off: usize, from: usize, to: usize) {
        let Some(area) = self.procs.get(&proc_id).and_then(|p| p.area.as_ref()) else {
            return;
        };
        let Some(b) = area.alloc.buffer(buffer_off) else {
            return;
        };
        let mapping = area.mapping.clone();
        let view = BufferView {
            mapping: &mapping,
            start: buffer_off,
            data_size: b.data_size,
            offsets_start: b.offsets_start(),
            offsets_size: b.offsets_size,
        };
        let debug_id = b.debug_id;
        for i in from..to.min(view.object_count()) {
            let Some(obj) = view.offset_at(i).and_then(|off| view.object_at(off)) else {
                tracing::error!("transaction release {debug_id}: bad object at index {i}");
                continue;
            };
            match obj.hdr_type {
                BINDER_TYPE_BINDER | BINDER_TYPE_WEAK_BINDER => {
                    let node = self
                        .procs
                        .get(&proc_id)
                        .and_then(|p| p.nodes.get(&obj.flat.binder_or_handle))
                        .copied();
                    match node {
                        Some(n) => self.dec_node(n, obj.hdr_type == BINDER_TYPE_BINDER, false),
                        None => tracing::error!(
                            "transaction release {debug_id}: bad node {:#x}",
                            obj.flat.binder_or_handle
                        ),
                    }
                }
                BINDER_TYPE_HANDLE | BINDER_TYPE_WEAK_HANDLE => {
                    let strong = obj.hdr_type == BINDER_TYPE_HANDLE;
                    if self
                        .update_ref_for_handle(proc_id, obj.flat.handle(), false, strong)
                        .is_err()
                    {
                        tracing::error!(
                            "transaction release {debug_id}: bad handle {}",
                            obj.flat.handle()
                        );
                    }
                }
                // Delivered files belong to the receiver now; undelivered ones are closed with
                // their transaction.
                BINDER_TYPE_FD => {}
                other => {
                    tracing::error!("transaction release {debug_id}: bad object type {other:#x}")
                }
            }
        }
    }

    /// `binder_free_buf`: the process is done with the buffer at `buffer_off`. Detaches its
    /// transaction and lets the node's next oneway transaction go; [`State::free_buf`] then
    /// releases its objects and frees it.
    pub fn free_buf_begin(&mut self, proc_id: ProcId, buffer_off: usize) -> BufferFree {
        let job = BufferFree {
            proc_id,
            offset: buffer_off,
            next: 0,
            end: self.buffer_object_count(proc_id, buffer_off),
            target_released: false,
        };
        let Some(area) = self.procs.get_mut(&proc_id).and_then(|p| p.area.as_mut()) else {
            return job;
        };
        let Some(b) = area.alloc.buffer_mut(buffer_off) else {
            return job;
        };
        let txn = b.transaction.take();
        let (is_async, target_node) = (b.async_transaction, b.target_node);
        if let Some(t) = txn.and_then(|t| self.txns.get_mut(&t)) {
            t.buffer = None;
        }
        if is_async && let Some(n) = target_node {
            // The next oneway transaction of this node may go now.
            let next = self.nodes.get_mut(&n).map(|node| {
                let next = node.async_todo.pop_front();
                if next.is_none() {
                    node.has_async_transaction = false;
                }
                next
            });
            if let Some(Some(next)) = next {
                self.enqueue_proc_work(proc_id, Work::Transaction(next));
                self.wakeup_proc(proc_id);
            }
        }
        job
    }

    /// The buffer of a transaction that failed after `translated` of its objects were
    /// translated: only those are released ([`State::free_buf`] frees it).
    pub fn failed_buf(&self, proc_id: ProcId, buffer_off: usize, translated: usize) -> BufferFree {
        BufferFree {
            proc_id,
            offset: buffer_off,
            next: 0,
            end: translated.min(self.buffer_object_count(proc_id, buffer_off)),
            target_released: false,
        }
    }

    /// The one way a buffer is freed: releases up to `budget` more of its objects (the target
    /// node's count with the first call) and, once all are released, returns the buffer to the
    /// allocator, zeroing it first for `TF_CLEAR_BUF`. `true` when the buffer is free; until
    /// then the caller may hand the lock over between calls (the buffer is marked as being
    /// freed meanwhile, so nobody frees it twice).
    pub fn free_buf(&mut self, job: &mut BufferFree, budget: usize) -> bool {
        let (proc_id, offset) = (job.proc_id, job.offset);
        if !std::mem::replace(&mut job.target_released, true)
            && let Some(n) = self
                .procs
                .get(&proc_id)
                .and_then(|p| p.area.as_ref())
                .and_then(|a| a.alloc.buffer(offset))
                .and_then(|b| b.target_node)
        {
            self.dec_node(n, true, false);
        }
        let to = job.next.saturating_add(budget).min(job.end);
        self.buffer_release_range(proc_id, offset, job.next, to);
        job.next = to;
        if job.next < job.end {
            return false;
        }
        if let Some(area) = self.procs.get_mut(&proc_id).and_then(|p| p.area.as_mut())
            && let Some(b) = area.alloc.free_buf(offset)
            && b.clear_on_free
        {
            area.mapping.zero(offset, b.size);
        }
        true
    }

    /// `binder_thread_release`: the thread exits (`BINDER_THREAD_EXIT`, its connection closed,
    /// or its process died). Transactions it was part of lose it; a caller waiting for its
    /// reply gets `BR_DEAD_REPLY`.
    pub fn thread_release(&mut self, t: ThreadId) {
        let Some(th) = self.threads.remove(&t) else {
            return;
        };
        self.stats.deleted(Obj::Thread);
        if let Some(p) = self.procs.get_mut(&th.proc) {
            p.threads.remove(&t);
            p.waiting_threads.retain(|x| *x != t);
        }
        let mut send_reply = None;
        let mut cur = th.transaction_stack;
        if let Some(top) = cur.and_then(|c| self.txns.get(&c))
            && top.to_thread == Some(t)
        {
            send_reply = cur;
        }
        while let Some(id) = cur {
            let Some(tr) = self.txns.get_mut(&id) else {
                break;
            };
            if tr.to_thread == Some(t) {
                let to_proc = tr.to_proc.take();
                tr.to_thread = None;
                let buffer = tr.buffer.take();
                cur = tr.to_parent;
                if let Some(p) = to_proc.and_then(|p| self.procs.get_mut(&p)) {
                    p.counts.outstanding_transactions =
                        p.counts.outstanding_transactions.saturating_sub(1);
                    if let Some(b) =
                        buffer.and_then(|off| p.area.as_mut().and_then(|a| a.alloc.buffer_mut(off)))
                        && b.transaction == Some(id)
                    {
                        b.transaction = None;
                    }
                }
            } else if tr.from == Some(t) {
                tr.from = None;
                cur = tr.from_parent;
            } else {
                tracing::error!(
                    "transaction {} on the stack of thread {} is not its own",
                    id.0,
                    th.tid
                );
                break;
            }
        }
        if let Some(t) = send_reply {
            self.send_failed_reply(t, BR_DEAD_REPLY);
        }
        self.release_work(th.todo);
    }

    /// `binder_node_release`: the owner died. The node dies with it unless refs remain; every
    /// ref holder that asked gets `BR_DEAD_BINDER`.
    fn node_release(&mut self, n: NodeId) {
        let Some(node) = self.nodes.get_mut(&n) else {
            return;
        };
        let async_todo = std::mem::take(&mut node.async_todo);
        self.release_work(async_todo.into_iter().map(Work::Transaction));
        self.dequeue_node_work(n);
        let Some(node) = self.nodes.get_mut(&n) else {
            return;
        };
        if node.refs.is_empty() && node.counts.tmp_refs == 0 {
            self.free_node(n);
            return;
        }
        node.proc = None;
        node.counts.local_strong_refs = 0;
        node.counts.local_weak_refs = 0;
        let holders: Vec<ProcId> = node.refs.iter().copied().collect();
        for holder in holders {
            let death = self
                .procs
                .get(&holder)
                .and_then(|p| p.refs_by_node.get(&n).and_then(|d| p.refs_by_desc.get(d)))
                .and_then(|r| r.death);
            let Some(d) = death else { continue };
            if self
                .deaths
                .get(&d)
                .is_some_and(|death| death.queued.is_some())
            {
                tracing::error!("death notification {} already queued", d.0);
                continue;
            }
            if let Some(death) = self.deaths.get_mut(&d) {
                death.kind = DeathKind::DeadBinder;
            }
            self.enqueue_death_work(d, WorkList::Proc(holder), true);
        }
    }

    /// `binder_deferred_release`, first part: the process died (its connection closed). It is
    /// dead from now on (nothing reaches it any more) and its threads are gone; its nodes and
    /// refs are released next, in batches with the lock handed over in between (see
    /// `Driver::proc_gone`), then the rest.
    pub fn proc_release_begin(&mut self, proc_id: ProcId) -> Option<Dying> {
        let p = self.procs.get_mut(&proc_id)?;
        if p.is_dead {
            return None;
        }
        p.is_dead = true;
        let threads: Vec<ThreadId> = p.threads.iter().copied().collect();
        let dying = Dying {
            chans: std::mem::take(&mut p.thread_chans),
            nodes: p.nodes.values().copied().collect(),
            descs: p.refs_by_desc.keys().copied().collect(),
        };
        if self
            .context_mgr_node
            .and_then(|n| self.nodes.get(&n))
            .is_some_and(|n| n.proc == Some(proc_id))
        {
            tracing::info!("context manager died");
            self.context_mgr_node = None;
        }
        for t in threads {
            self.thread_release(t);
        }
        Some(dying)
    }

    /// One node of a dying process (`binder_node_release`).
    pub fn proc_release_node(&mut self, proc_id: ProcId, n: NodeId) {
        if let Some(p) = self.procs.get_mut(&proc_id)
            && let Some(node) = self.nodes.get(&n)
        {
            p.nodes.remove(&node.ptr);
        }
        self.node_release(n);
    }

    /// The last part of a process's release: its queued work, then the process itself.
    pub fn proc_release_end(&mut self, proc_id: ProcId, dying: Dying) {
        if let Some(p) = self.procs.get_mut(&proc_id) {
            let todo = std::mem::take(&mut p.todo);
            let delivered = p.delivered_death.take_all();
            self.release_work(todo);
            self.release_work(delivered.into_iter().map(Work::Death));
        }
        if let Some(p) = self.procs.remove(&proc_id) {
            if let Some(area) = &p.area {
                self.uncharge_area(p.uid, area.alloc.size() as u64);
            }
            tracing::debug!(
                "process {} (pid {}) released, {} buffers were in use",
                p.debug_id,
                p.pid,
                p.area.as_ref().map_or(0, |a| a.alloc.buffers_in_use())
            );
            self.stats.deleted(Obj::Proc);
        }
        // The process's thread connections end with it: their driver threads see end of file.
        for c in dying.chans {
            c.shutdown();
        }
    }
}

/// What a dying process still holds, released a batch at a time.
pub struct Dying {
    chans: Vec<Arc<crate::chan::Chan>>,
    pub nodes: Vec<NodeId>,
    pub descs: Vec<u32>,
}
