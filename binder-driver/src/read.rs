//! The read half of `BINDER_WRITE_READ` (`binder_thread_read`), and the wake-ups that finish a
//! blocked read from whichever driver thread produced the work.
//!
//! A thread blocked in a read has a [`PendingRead`]. Whenever the kernel would wake it, the
//! thread id goes on `State::wakeups`; before the lock is released, [`State::process_wakeups`]
//! retries those reads and turns each completed one into an `OP_IOCTL_DONE` datagram, which
//! the current driver thread sends after unlocking. No other driver thread is involved.

use std::os::fd::OwnedFd;

use binder_sys::ud::{MAX_MESSAGE, encode_ioctl_done};
use binder_sys::{
    BR_FAILED_REPLY, BR_OK, BR_REPLY, BR_SPAWN_LOOPER, BR_TRANSACTION, BinderWriteRead, Br,
    PtrCookie, Reader, TF_ONE_WAY, TRANSACTION_DATA_SECCTX_SIZE, TransactionData, WRITE_READ_SIZE,
    Wire,
};

use crate::model::{
    DeathKind, LOOPER_ENTERED, LOOPER_REGISTERED, LOOPER_WAITING, NodeId, Outgoing, PendingFixup,
    PendingRead, ProcId, State, ThreadId, TxnId, Work, WorkList,
};
use crate::stats::Obj;

/// Room for one command word and a `binder_transaction_data_secctx`, the kernel's test
/// before taking an item off a list.
const ROOM_FOR_TRANSACTION: usize = 4 + TRANSACTION_DATA_SECCTX_SIZE;
/// Header of `OP_IOCTL_DONE` plus the 48-byte argument.
const IOCTL_DONE_OVERHEAD: usize = 16 + WRITE_READ_SIZE;

/// A completed read.
pub struct ReadResult {
    pub bytes: Vec<u8>,
    pub fds: Vec<OwnedFd>,
}

impl State {
    fn put_br(&mut self, buf: &mut Vec<u8>, br: Br) {
        br.encode(buf);
        self.stats.br(br.code());
    }

    /// Writes a pending error return (a `BR_*` without payload) unless it is `BR_OK`.
    fn put_error_br(&mut self, buf: &mut Vec<u8>, cmd: u32) {
        match Br::decode(&mut Reader::new(&cmd.to_ne_bytes())) {
            Ok(Br::Ok) => {}
            Ok(br) => self.put_br(buf, br),
            Err(e) => tracing::error!("pending error return: {e}"),
        }
    }

    /// `binder_thread_read` without blocking: `None` means the thread would sleep. A thread
    /// woken from its sleep passes the `wait_for_proc_work` it went to sleep with; a new read
    /// decides it now.
    pub fn thread_read(
        &mut self,
        t: ThreadId,
        read_size: u64,
        read_consumed: u64,
        woken: Option<bool>,
    ) -> Option<ReadResult> {
        let proc_id = self.threads.get(&t)?.proc;
        let capacity = (read_size.saturating_sub(read_consumed) as usize)
            .min(MAX_MESSAGE - IOCTL_DONE_OVERHEAD);
        let mut buf = Vec::with_capacity(capacity.min(512));
        let mut fds = Vec::new();
        if read_consumed == 0 {
            Br::Noop.encode(&mut buf);
        }
        let wait_for_proc_work = woken.unwrap_or_else(|| self.available_for_proc_work(t));
        if !self.has_work(t, wait_for_proc_work) {
            return None;
        }
        loop {
            let th = self.threads.get(&t)?;
            let from_proc = if !th.todo.is_empty() {
                false
            } else if wait_for_proc_work
                && self.procs.get(&proc_id).is_some_and(|p| !p.todo.is_empty())
            {
                true
            } else {
                // Nothing but BR_NOOP: the kernel goes back to sleep.
                if read_consumed + buf.len() as u64 == 4 && !th.wake.looper_need_return {
                    return None;
                }
                break;
            };
            if capacity.saturating_sub(buf.len()) < ROOM_FOR_TRANSACTION {
                break;
            }
            let w = if from_proc {
                self.procs.get_mut(&proc_id)?.todo.pop_front()?
            } else {
                self.threads.get_mut(&t)?.todo.pop_front()?
            };
            let th = self.threads.get_mut(&t)?;
            if th.todo.is_empty() {
                th.wake.process_todo = false;
            }
            if !self.deliver_work(t, proc_id, w, &mut buf, &mut fds)? {
                break;
            }
        }
        // The pool has no waiting thread and may grow: ask for one more looper.
        let looper = self.threads.get(&t)?.looper;
        let p = self.procs.get_mut(&proc_id)?;
        if p.counts.requested_threads == 0
            && p.waiting_threads.is_empty()
            && p.counts.requested_threads_started < p.counts.max_threads
            && looper & (LOOPER_REGISTERED | LOOPER_ENTERED) != 0
        {
            p.counts.requested_threads += 1;
            if read_consumed == 0 {
                buf[..4].copy_from_slice(&BR_SPAWN_LOOPER.to_le_bytes());
                self.stats.br(BR_SPAWN_LOOPER);
            }
        }
        Some(ReadResult { bytes: buf, fds })
    }

    /// Writes the return of one work item taken off a todo list: `Some(false)` when the read
    /// stops here (a transaction or a death notification was delivered), `None` when the
    /// thread is gone.
    fn deliver_work(
        &mut self,
        t: ThreadId,
        proc_id: ProcId,
        w: Work,
        buf: &mut Vec<u8>,
        fds: &mut Vec<OwnedFd>,
    ) -> Option<bool> {
        match w {
            Work::Transaction(txn) => {
                if self.deliver_transaction(t, txn, buf, fds) {
                    return Some(false);
                }
            }
            Work::ReturnError | Work::ReplyError => {
                let th = self.threads.get_mut(&t)?;
                let slot = if w == Work::ReturnError {
                    &mut th.return_error
                } else {
                    &mut th.reply_error
                };
                let cmd = std::mem::replace(slot, BR_OK);
                self.put_error_br(buf, cmd);
            }
            Work::TransactionComplete | Work::OnewaySpamSuspect => {
                self.stats.deleted(Obj::TransactionComplete);
                let warn = w == Work::OnewaySpamSuspect
                    && self
                        .procs
                        .get(&proc_id)
                        .is_some_and(|p| p.oneway_spam_detection);
                self.put_br(
                    buf,
                    if warn {
                        Br::OnewaySpamSuspect
                    } else {
                        Br::TransactionComplete
                    },
                );
            }
            Work::Node(n) => self.deliver_node_work(n, buf),
            Work::Death(d) => {
                let Some(death) = self.deaths.get_mut(&d) else {
                    return Some(true);
                };
                death.queued = None;
                let cookie = death.cookie;
                if death.kind == DeathKind::ClearNotification {
                    self.free_death(d);
                    self.put_br(buf, Br::ClearDeathNotificationDone(cookie));
                } else {
                    self.enqueue_death_work(d, WorkList::Delivered(proc_id), false);
                    self.put_br(buf, Br::DeadBinder(cookie));
                    // Death notifications can cause transactions: stop here.
                    return Some(false);
                }
            }
        }
        Some(true)
    }

    /// `BINDER_WORK_NODE`: tells the owner about reference changes.
    fn deliver_node_work(&mut self, n: NodeId, buf: &mut Vec<u8>) {
        let Some(node) = self.nodes.get_mut(&n) else {
            return;
        };
        node.work_queued = None;
        let strong = node.counts.internal_strong_refs > 0 || node.counts.local_strong_refs > 0;
        let weak = !node.refs.is_empty()
            || node.counts.local_weak_refs > 0
            || node.counts.tmp_refs > 0
            || strong;
        let (had_strong, had_weak) = (node.counts.has_strong_ref, node.counts.has_weak_ref);
        let (ptr, cookie) = (node.ptr, node.cookie);
        if weak && !had_weak {
            node.counts.has_weak_ref = true;
            node.counts.pending_weak_ref = true;
            node.counts.local_weak_refs += 1;
        }
        if strong && !had_strong {
            node.counts.has_strong_ref = true;
            node.counts.pending_strong_ref = true;
            node.counts.local_strong_refs += 1;
        }
        if !strong && had_strong {
            node.counts.has_strong_ref = false;
        }
        if !weak && had_weak {
            node.counts.has_weak_ref = false;
        }
        if !weak && !strong {
            self.free_node(n);
        }
        let node = PtrCookie { ptr, cookie };
        if weak && !had_weak {
            self.put_br(buf, Br::IncRefs(node));
        }
        if strong && !had_strong {
            self.put_br(buf, Br::Acquire(node));
        }
        if !strong && had_strong {
            self.put_br(buf, Br::Release(node));
        }
        if !weak && had_weak {
            self.put_br(buf, Br::DecRefs(node));
        }
    }

    /// `BINDER_WORK_TRANSACTION`: writes `BR_TRANSACTION`/`BR_REPLY`. Returns false if the
    /// transaction vanished (nothing written).
    fn deliver_transaction(
        &mut self,
        t: ThreadId,
        txn: TxnId,
        buf: &mut Vec<u8>,
        fds: &mut Vec<OwnedFd>,
    ) -> bool {
        let Some(tr) = self.txns.get(&txn) else {
            return false;
        };
        let (flags, code, euid, from, target_node) =
            (tr.flags, tr.code, tr.sender_euid, tr.from, tr.target_node);
        let oneway = flags & TF_ONE_WAY != 0;
        let Some(proc_id) = self.threads.get(&t).map(|th| th.proc) else {
            return false;
        };
        let Some(buffer_off) = self.delivery_buffer(txn, proc_id) else {
            return false;
        };
        let Some(area) = self.procs.get_mut(&proc_id).and_then(|p| p.area.as_mut()) else {
            return false;
        };
        let base = area.user_addr.unwrap_or(0);
        let Some(b) = area.alloc.buffer_mut(buffer_off) else {
            return false;
        };
        b.allow_user_free = true;
        let (data_size, offsets_size, buffer_debug_id) = (b.data_size, b.offsets_size, b.debug_id);
        let offsets_ptr = base + buffer_off as u64 + b.offsets_start() as u64;
        let (cmd, target_ptr, cookie) = match target_node.and_then(|n| self.nodes.get(&n)) {
            Some(node) => (BR_TRANSACTION, node.ptr, node.cookie),
            None if target_node.is_some() => (BR_TRANSACTION, 0, 0),
            None => (BR_REPLY, 0, 0),
        };
        let sender_pid = from
            .and_then(|f| self.threads.get(&f))
            .and_then(|th| self.procs.get(&th.proc))
            .map_or(0, |p| p.pid as i32);
        let td = TransactionData {
            target: target_ptr,
            cookie,
            code,
            flags,
            sender_pid,
            sender_euid: euid,
            data_size: data_size as u64,
            offsets_size: offsets_size as u64,
            data_buffer: base + buffer_off as u64,
            data_offsets: offsets_ptr,
        };
        let pending_fixup = self.take_fd_fixups(txn, proc_id, (buffer_off, buffer_debug_id), fds);
        self.put_br(
            buf,
            if cmd == BR_TRANSACTION {
                Br::Transaction(td)
            } else {
                Br::Reply(td)
            },
        );
        let Some(th) = self.threads.get_mut(&t) else {
            return true;
        };
        th.pending_fixup = pending_fixup;
        if cmd == BR_TRANSACTION && !oneway {
            let parent = th.transaction_stack.replace(txn);
            if let Some(tr) = self.txns.get_mut(&txn) {
                tr.to_parent = parent;
                tr.to_thread = Some(t);
            }
        } else {
            self.free_transaction(txn);
        }
        true
    }

    /// `binder_apply_fd_fixups`: the files of transaction `txn` travel with this read (into
    /// `fds`); the process reports the numbers it got with `OP_FD_FIXUP` and the driver writes
    /// them into the slots of the buffer `(offset, debug id)`.
    fn take_fd_fixups(
        &mut self,
        txn: TxnId,
        proc_id: ProcId,
        (buffer_off, buffer_debug_id): (usize, u64),
        fds: &mut Vec<OwnedFd>,
    ) -> Option<PendingFixup> {
        let (fixups, sender) = self
            .txns
            .get_mut(&txn)
            .map(|tr| {
                (
                    std::mem::take(&mut tr.fd_fixups),
                    Some((tr.sender, tr.sender_euid)),
                )
            })
            .unwrap_or_default();
        if let Some((sender, uid)) = sender {
            self.uncharge_fds(sender, uid, Some(proc_id), fixups.len());
        }
        let pending_fixup = (!fixups.is_empty()).then(|| PendingFixup {
            buffer_offset: buffer_off,
            buffer_debug_id,
            slots: fixups.iter().map(|f| f.offset).collect(),
        });
        fds.extend(fixups.into_iter().map(|f| f.file));
        pending_fixup
    }

    /// The buffer of transaction `txn` in `proc_id`'s area, which the transaction must own.
    fn delivery_buffer(&mut self, txn: TxnId, proc_id: ProcId) -> Option<usize> {
        let tr = self.txns.get(&txn)?;
        let buffer = tr.buffer.filter(|off| {
            self.procs
                .get(&proc_id)
                .and_then(|p| p.area.as_ref())
                .and_then(|a| a.alloc.buffer(*off))
                .is_some_and(|b| b.transaction == Some(txn))
        });
        if buffer.is_none() {
            // Cannot happen (a queued transaction owns its buffer); never strand the caller.
            tracing::error!("transaction {} has no buffer at delivery", tr.debug_id);
            self.cleanup_transaction(txn, BR_FAILED_REPLY);
        }
        buffer
    }

    /// Retries the blocked reads of every woken thread (and of threads woken in turn) and
    /// queues the answers on `self.outgoing`.
    pub fn process_wakeups(&mut self) {
        while let Some(t) = self.wakeups.pop() {
            self.retry_read(t);
        }
    }

    /// Tries to complete the blocked read of `t`.
    pub fn retry_read(&mut self, t: ThreadId) {
        let Some(th) = self.threads.get_mut(&t) else {
            return;
        };
        let Some(pending) = th.pending_read else {
            return;
        };
        let proc_id = th.proc;
        if let Some(p) = self.procs.get_mut(&proc_id) {
            p.waiting_threads.retain(|x| *x != t);
        }
        let bwr = pending.bwr;
        match self.thread_read(
            t,
            bwr.read_size,
            bwr.read_consumed,
            Some(pending.wait_for_proc_work),
        ) {
            Some(result) => {
                if let Some(th) = self.threads.get_mut(&t) {
                    th.pending_read = None;
                    th.looper &= !LOOPER_WAITING;
                }
                self.finish_read(t, bwr, result);
            }
            None => self.start_waiting(t, bwr),
        }
    }

    /// The thread sleeps: remember the read and, if it may take process work, offer it.
    pub fn start_waiting(&mut self, t: ThreadId, bwr: BinderWriteRead) {
        let for_proc_work = self.available_for_proc_work(t);
        let Some(th) = self.threads.get_mut(&t) else {
            return;
        };
        th.pending_read = Some(PendingRead {
            bwr,
            wait_for_proc_work: for_proc_work,
        });
        th.looper |= LOOPER_WAITING;
        let proc_id = th.proc;
        if for_proc_work
            && let Some(p) = self.procs.get_mut(&proc_id)
            && !p.waiting_threads.contains(&t)
        {
            p.waiting_threads.push_front(t);
        }
    }

    /// Ends a `BINDER_WRITE_READ` whose read produced `result`: the reply datagram, and the
    /// end-of-ioctl work of the kernel (`looper_need_return` cleared, other threads woken for
    /// remaining process work).
    pub fn finish_read(&mut self, t: ThreadId, mut bwr: BinderWriteRead, result: ReadResult) {
        bwr.read_consumed += result.bytes.len() as u64;
        let Some(th) = self.threads.get_mut(&t) else {
            return;
        };
        th.wake.looper_need_return = false;
        let chan = th.chan.clone();
        let proc_id = th.proc;
        if self.procs.get(&proc_id).is_some_and(|p| !p.todo.is_empty()) {
            self.wakeup_proc(proc_id);
        }
        let mut arg = Vec::with_capacity(WRITE_READ_SIZE);
        bwr.encode(&mut arg);
        let mut bytes = Vec::new();
        encode_ioctl_done(0, result.fds.len() as u32, &arg, &result.bytes, &mut bytes);
        self.outgoing.push(Outgoing {
            chan,
            bytes,
            fds: result.fds,
        });
    }
}
