//! The entry points of the driver threads: ioctls and the `BC_*` command loop of a thread
//! connection (`binder_ioctl`, `binder_thread_write`), and the requests of a process
//! connection (`mmap`, threads, arena, death).
//!
//! Every entry point takes the state lock, does its work, retries the blocked reads its work
//! has woken, and returns the datagrams to send; [`Driver::unlock`] is the only way out, so no
//! wake-up is ever forgotten and nothing is sent while the lock is held.

use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Mutex, MutexGuard};
use std::time::Duration;

use binder_sys::ud::mailbox::{Mailbox, PollGate};
use binder_sys::ud::{
    MAX_AREA_SIZE, MAX_ARENA_SIZE, decode_fd_table, encode_ioctl_done, encode_reply,
};
use binder_sys::{
    BC_ACQUIRE_RESULT, BC_ATTEMPT_ACQUIRE, BINDER_CURRENT_PROTOCOL_VERSION,
    BINDER_ENABLE_ONEWAY_SPAM_DETECTION, BINDER_GET_EXTENDED_ERROR, BINDER_GET_NODE_DEBUG_INFO,
    BINDER_GET_NODE_INFO_FOR_REF, BINDER_SET_CONTEXT_MGR, BINDER_SET_CONTEXT_MGR_EXT,
    BINDER_SET_MAX_THREADS, BINDER_THREAD_EXIT, BINDER_VERSION, BINDER_WRITE_READ, BR_OK, Bc,
    BinderWriteRead, DecodeError, ExtendedError, FlatBinderObject, HandleCookie, NodeDebugInfo,
    NodeInfoForRef, PtrCookie, Reader, WRITE_READ_SIZE, Wire, command_name,
};

use crate::alloc::BinderAlloc;
use crate::chan::{Chan, Watcher};
use crate::model::{
    Area, Arena, DeathId, DeathKind, LOOPER_ENTERED, LOOPER_EXITED, LOOPER_INVALID,
    LOOPER_REGISTERED, Outgoing, Proc, ProcId, State, ThreadId, WorkList,
};
use crate::refs::RefError;
use crate::sys;
use crate::transaction::{FileTable, TxnFailed, TxnRequest};
use crate::{Access, Limits};
use nix::errno::Errno;

type Guard<'a> = MutexGuard<'a, State>;

/// Objects of one transaction translated per hold of the state lock.
const OBJECTS_PER_LOCK: usize = 256;

/// One driver instance.
pub struct Driver {
    state: Mutex<State>,
    /// Ends of file of mailbox thread connections.
    pub watcher: Watcher,
    /// Who of the driver threads may poll their mailbox before sleeping.
    pub poll_gate: PollGate,
    /// Test hook: a pause inside the unlocked copy, to let tests kill processes mid-copy.
    copy_delay_us: AtomicU64,
    /// Times the state lock was taken, and found held by another thread.
    lock_acquisitions: AtomicU64,
    lock_contended: AtomicU64,
}

/// A thread connection, owned by the driver thread that serves it.
pub struct ThreadConn {
    pub proc: ProcId,
    /// The user of the process (the connection is counted against it).
    pub uid: u32,
    pub tid: u32,
    pub chan: Arc<Chan>,
    /// The `binder_thread` of this connection; a new one is made after `BINDER_THREAD_EXIT`.
    pub thread: Option<ThreadId>,
}

/// What a thread connection does after a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Continue,
    /// The thread or its process is gone: stop serving the connection.
    Close,
}

/// Sends answers produced under the lock. A thread connection never has more than one answer
/// outstanding, so a full queue means a peer that does not read its answers: it is dropped
/// rather than allowed to stall a driver thread serving others; an answer that cannot be sent
/// for another reason (a peer gone, files refused) ends the connection too, so that no thread
/// waits forever for an answer that will not come.
pub fn send_all(out: Vec<Outgoing>) {
    for o in out {
        match o.chan.send(&o.bytes, &o.fds) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(Errno::EAGAIN as i32) => {
                tracing::warn!("a thread connection does not read its answers; dropping it");
                o.chan.shutdown();
            }
            // A closed peer, or an answer that cannot go (e.g. its files refused): the thread
            // would wait for it forever, so its connection ends.
            Err(e) => {
                tracing::debug!("an answer could not be sent ({e}); ending the connection");
                o.chan.shutdown();
            }
        }
    }
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

impl Driver {
    pub fn new(instance: &str, owner: u32, access: Access, limits: Limits) -> Self {
        Driver {
            state: Mutex::new(State::new(instance, owner, access, limits)),
            watcher: Watcher::default(),
            // Half the usable cores for the driver's pollers, the rest for the processes'.
            poll_gate: PollGate::for_this_process(2),
            copy_delay_us: AtomicU64::new(0),
            lock_acquisitions: AtomicU64::new(0),
            lock_contended: AtomicU64::new(0),
        }
    }

    pub fn set_copy_delay(&self, delay: Duration) {
        self.copy_delay_us
            .store(delay.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn lock(&self) -> Guard<'_> {
        // (parking_lot's lock is not poisoned: a panic in another driver thread does not take
        // the whole driver down with it.)
        self.lock_acquisitions.fetch_add(1, Ordering::Relaxed);
        self.state.try_lock().unwrap_or_else(|| {
            self.lock_contended.fetch_add(1, Ordering::Relaxed);
            self.state.lock()
        })
    }

    /// The counters, with what the driver holds now and how its lock was taken.
    pub fn stats(&self) -> binder_sys::ud::state::DriverStats {
        let mut s = self.lock().stats_snapshot();
        s.lock_acquisitions = self.lock_acquisitions.load(Ordering::Relaxed);
        s.lock_contended = self.lock_contended.load(Ordering::Relaxed);
        s
    }

    /// Finishes the woken reads and releases the lock; the caller sends the result.
    pub fn unlock(&self, mut st: Guard<'_>) -> Vec<Outgoing> {
        st.process_wakeups();
        let out = std::mem::take(&mut st.outgoing);
        drop(st);
        out
    }

    /// `binder_transaction` around the unlocked copy; objects are translated in batches with
    /// the lock released in between, so that no transaction holds up other processes for long.
    fn transaction<'a>(
        &'a self,
        mut st: Guard<'a>,
        t: ThreadId,
        req: TxnRequest,
        files: &FileTable,
    ) -> Guard<'a> {
        let Ok(prep) = st.txn_prepare(t, &req) else {
            return st;
        };
        let delay = self.copy_delay_us.load(Ordering::Relaxed);
        let (mut st, copied) = if delay == 0 && prep.copy.small_from_arena() {
            // A short memcpy: cheaper with the lock held than letting it go and queueing again.
            let copied = prep.copy.run();
            (st, copied)
        } else {
            // Wake-ups queued so far are finished and sent now, so that nobody waits on our
            // copy.
            self.release(st);
            let copied = prep.copy.run();
            if delay > 0 {
                std::thread::sleep(Duration::from_micros(delay));
            }
            (self.lock(), copied)
        };
        let Some(mut tr) = st.txn_copied(t, prep, copied) else {
            return st;
        };
        loop {
            match st.txn_translate(t, &mut tr, files, OBJECTS_PER_LOCK) {
                Err(TxnFailed) => return st,
                Ok(true) => {
                    st.txn_queue(t, tr);
                    return st;
                }
                Ok(false) => {
                    st = self.handoff(st);
                    if !st.txn_ends_alive(t, &mut tr) {
                        return st;
                    }
                }
            }
        }
    }

    /// Finishes the wake-ups queued so far, sends what they produced and releases the lock.
    fn release(&self, st: Guard<'_>) {
        send_all(self.unlock(st));
    }

    /// In the middle of a long command: finishes the wake-ups, hands the lock to whoever waits
    /// for it (a fair unlock), sends, and queues for the lock again.
    fn handoff<'a>(&'a self, mut st: Guard<'a>) -> Guard<'a> {
        st.process_wakeups();
        let out = std::mem::take(&mut st.outgoing);
        MutexGuard::unlock_fair(st);
        send_all(out);
        self.lock()
    }

    /// `BC_FREE_BUFFER`: the buffer's objects are released in batches, the lock handed over in
    /// between (the buffer is marked as being freed meanwhile, so nobody frees it twice).
    fn free_buffer<'a>(&'a self, mut st: Guard<'a>, proc_id: ProcId, ptr: u64) -> Guard<'a> {
        let Some(off) = st.free_buffer_prepare(proc_id, ptr) else {
            return st;
        };
        let mut job = st.free_buf_begin(proc_id, off);
        while !st.free_buf(&mut job, OBJECTS_PER_LOCK) {
            st = self.handoff(st);
        }
        st
    }

    /// `binder_thread_write`: runs the command stream from `*consumed`; stops at the first
    /// error (an errno for the ioctl) or when an error return is pending for the thread.
    fn thread_write<'a>(
        &'a self,
        mut st: Guard<'a>,
        t: ThreadId,
        cmds: &[u8],
        files: &FileTable,
        consumed: &mut u64,
    ) -> (Guard<'a>, Result<(), Errno>) {
        let mut pos = *consumed as usize;
        while pos < cmds.len() {
            let Some(th) = st.threads.get(&t) else {
                return (st, Err(Errno::ESRCH));
            };
            if th.return_error != BR_OK {
                break;
            }
            let proc_id = th.proc;
            let mut r = Reader::new(&cmds[pos..]);
            if let Some(cmd) = u32::read(r.rest()) {
                st.stats.bc(cmd);
            }
            let bc = match Bc::decode(&mut r) {
                Ok(bc) => bc,
                Err(e) => return (st, Err(command_error(e))),
            };
            let txn = |tr, reply, extra_buffers_size| TxnRequest {
                tr,
                reply,
                extra_buffers_size,
            };
            match bc {
                Bc::Transaction(tr) => st = self.transaction(st, t, txn(tr, false, 0), files),
                Bc::Reply(tr) => st = self.transaction(st, t, txn(tr, true, 0), files),
                Bc::TransactionSg(sg) | Bc::ReplySg(sg) => {
                    let reply = matches!(bc, Bc::ReplySg(_));
                    let req = txn(sg.transaction_data, reply, sg.buffers_size);
                    st = self.transaction(st, t, req, files);
                }
                Bc::FreeBuffer(ptr) => st = self.free_buffer(st, proc_id, ptr),
                _ => {
                    if let Err(e) = st.simple_command(t, proc_id, bc) {
                        return (st, Err(e));
                    }
                }
            }
            pos += r.position();
            *consumed = pos as u64;
        }
        (st, Ok(()))
    }

    /// Starts a request on a thread connection: the thread (created if needed), or `None` if
    /// the connection must end. A request while a read is blocked breaks the protocol (the
    /// kernel's thread cannot issue an ioctl while in one): the thread is dropped.
    fn begin<'a>(&'a self, st: &mut Guard<'a>, conn: &mut ThreadConn) -> Option<ThreadId> {
        st.proc_alive(conn.proc)?;
        let t = match conn.thread.filter(|t| st.threads.contains_key(t)) {
            Some(t) => t,
            None => {
                let t = st.new_thread(conn.proc, conn.tid, conn.chan.clone())?;
                conn.thread = Some(t);
                t
            }
        };
        if st.threads[&t].pending_read.is_some() {
            tracing::warn!(
                "thread {} sent a request while its read was pending; dropping it",
                conn.tid
            );
            st.thread_release(t);
            conn.chan.shutdown();
            return None;
        }
        Some(t)
    }

    fn reply_ioctl(st: &mut State, chan: &Arc<Chan>, ret: i32, arg: &[u8]) {
        let mut bytes = Vec::new();
        encode_ioctl_done(ret, 0, arg, &[], &mut bytes);
        st.outgoing.push(Outgoing {
            chan: chan.clone(),
            bytes,
            fds: Vec::new(),
        });
    }

    /// An `OP_IOCTL` request; `files` came with it as `SCM_RIGHTS`.
    pub fn ioctl(
        &self,
        conn: &mut ThreadConn,
        cmd: u32,
        arg: &[u8],
        files: Vec<OwnedFd>,
    ) -> (Vec<Outgoing>, Next) {
        let mut st = self.lock();
        let Some(t) = self.begin(&mut st, conn) else {
            return (self.unlock(st), Next::Close);
        };
        if let Some(th) = st.threads.get_mut(&t) {
            th.pending_fixup = None;
        }
        let proc_id = conn.proc;
        let sock = conn.chan.clone();
        let result = match cmd {
            BINDER_WRITE_READ => {
                st = self.write_read(st, t, &sock, arg, files);
                return (self.unlock(st), Next::Continue);
            }
            BINDER_THREAD_EXIT => {
                st.thread_release(t);
                conn.thread = None;
                Self::reply_ioctl(&mut st, &sock, 0, &[]);
                return (self.unlock(st), Next::Continue);
            }
            _ => st.simple_ioctl(t, proc_id, cmd, arg),
        };
        let (ret, out) = match result {
            Ok(out) => (0, out),
            Err(e) => (crate::ret(Err(e)), Vec::new()),
        };
        if ret != 0 {
            tracing::debug!(
                "{}:{} ioctl {cmd:#x} returned {ret}",
                st.procs.get(&proc_id).map_or(0, |p| p.pid),
                conn.tid
            );
        }
        if let Some(th) = st.threads.get_mut(&t) {
            th.wake.looper_need_return = false;
        }
        Self::reply_ioctl(&mut st, &sock, ret, &out);
        (self.unlock(st), Next::Continue)
    }

    /// Answers a `BINDER_WRITE_READ` that reads nothing (an error, or `read_size` 0).
    fn reply_write_read(
        st: &mut State,
        t: ThreadId,
        sock: &Arc<Chan>,
        ret: i32,
        bwr: &BinderWriteRead,
    ) {
        let mut out = Vec::with_capacity(WRITE_READ_SIZE);
        bwr.encode(&mut out);
        if let Some(th) = st.threads.get_mut(&t) {
            th.wake.looper_need_return = false;
        }
        Self::reply_ioctl(st, sock, ret, &out);
    }

    /// `binder_ioctl_write_read`.
    fn write_read<'a>(
        &'a self,
        mut st: Guard<'a>,
        t: ThreadId,
        sock: &Arc<Chan>,
        arg: &[u8],
        files: Vec<OwnedFd>,
    ) -> Guard<'a> {
        let Some(mut bwr) = BinderWriteRead::read(arg) else {
            Self::reply_ioctl(&mut st, sock, crate::ret(Err(Errno::EFAULT)), &[]);
            return st;
        };
        let reply = |st: &mut State, ret: i32, bwr: &BinderWriteRead| {
            Self::reply_write_read(st, t, sock, ret, bwr)
        };
        let inline = &arg[WRITE_READ_SIZE..];
        let Some((cmds, trailer)) = usize::try_from(bwr.write_size)
            .ok()
            .filter(|n| *n <= inline.len())
            .map(|n| inline.split_at(n))
        else {
            bwr.read_consumed = 0;
            reply(&mut st, crate::ret(Err(Errno::EFAULT)), &bwr);
            return st;
        };
        // The files of the stream's fd objects, by the sender's numbers. They count as in
        // flight while the command runs (its copy may take long).
        let held = files.len();
        let (proc_id, uid) = st
            .threads
            .get(&t)
            .and_then(|th| st.procs.get(&th.proc).map(|p| (th.proc, p.uid)))
            .unwrap_or((ProcId(0), 0));
        if held > 0 && !st.charge_fds(proc_id, uid, None, held) {
            tracing::warn!(
                uid,
                "refusing a write with {held} files: too many files in flight"
            );
            bwr.read_consumed = 0;
            reply(&mut st, crate::ret(Err(Errno::EMFILE)), &bwr);
            return st;
        }
        let mut st = self.write_read_holding(st, t, sock, &mut bwr, cmds, trailer, files);
        st.uncharge_fds(proc_id, uid, None, held);
        st
    }

    /// The rest of `binder_ioctl_write_read`, with the command's files charged.
    #[allow(clippy::too_many_arguments)]
    fn write_read_holding<'a>(
        &'a self,
        mut st: Guard<'a>,
        t: ThreadId,
        sock: &Arc<Chan>,
        bwr: &mut BinderWriteRead,
        cmds: &[u8],
        trailer: &[u8],
        files: Vec<OwnedFd>,
    ) -> Guard<'a> {
        let reply = |st: &mut State, ret: i32, bwr: &BinderWriteRead| {
            Self::reply_write_read(st, t, sock, ret, bwr)
        };
        let files: FileTable = match decode_fd_table(trailer) {
            Some(numbers) if numbers.len() == files.len() => {
                numbers.into_iter().zip(files).collect()
            }
            _ => {
                bwr.read_consumed = 0;
                reply(&mut st, crate::ret(Err(Errno::EINVAL)), bwr);
                return st;
            }
        };
        if bwr.write_size > 0 {
            let result = {
                let (guard, r) = self.thread_write(st, t, cmds, &files, &mut bwr.write_consumed);
                st = guard;
                r
            };
            if let Err(e) = result {
                bwr.read_consumed = 0;
                reply(&mut st, crate::ret(Err(e)), bwr);
                return st;
            }
        }
        if !st.threads.contains_key(&t) {
            // The process died while this thread's command ran: its connection is closing.
            return st;
        }
        if bwr.read_size > 0 {
            match st.thread_read(t, bwr.read_size, bwr.read_consumed, None) {
                Some(result) => st.finish_read(t, *bwr, result),
                None => st.start_waiting(t, *bwr),
            }
        } else {
            reply(&mut st, 0, bwr);
        }
        st
    }

    /// An `OP_FD_FIXUP` request.
    pub fn fd_fixup(&self, conn: &mut ThreadConn, fds: &[i32]) -> (Vec<Outgoing>, Next) {
        let mut st = self.lock();
        let Some(t) = self.begin(&mut st, conn) else {
            return (self.unlock(st), Next::Close);
        };
        let ret = st.apply_fd_fixup(t, conn.proc, fds);
        let mut bytes = Vec::new();
        encode_reply(crate::ret(ret), &[], &mut bytes);
        st.outgoing.push(Outgoing {
            chan: conn.chan.clone(),
            bytes,
            fds: Vec::new(),
        });
        (self.unlock(st), Next::Continue)
    }

    /// A request on a thread connection that is not one: answered with `errno`.
    pub fn bad_request(
        &self,
        conn: &mut ThreadConn,
        is_ioctl: bool,
        errno: Errno,
    ) -> (Vec<Outgoing>, Next) {
        let mut st = self.lock();
        if self.begin(&mut st, conn).is_none() {
            return (self.unlock(st), Next::Close);
        }
        let mut bytes = Vec::new();
        if is_ioctl {
            encode_ioctl_done(crate::ret(Err(errno)), 0, &[], &[], &mut bytes);
        } else {
            encode_reply(crate::ret(Err(errno)), &[], &mut bytes);
        }
        st.outgoing.push(Outgoing {
            chan: conn.chan.clone(),
            bytes,
            fds: Vec::new(),
        });
        (self.unlock(st), Next::Continue)
    }

    /// End of file on a thread connection: the thread exits.
    pub fn thread_eof(&self, conn: &mut ThreadConn) -> Vec<Outgoing> {
        let mut st = self.lock();
        if let Some(t) = conn.thread.take() {
            st.thread_release(t);
        }
        if let Some(p) = st.procs.get_mut(&conn.proc) {
            p.thread_chans.retain(|c| !Arc::ptr_eq(c, &conn.chan));
        }
        st.connection_closed(conn.uid, false);
        self.unlock(st)
    }

    // ---- process connection ------------------------------------------------------------

    /// `mmap` of the binder fd: the sealed receive area.
    pub fn mmap(&self, p: ProcId, size: u64) -> Result<(OwnedFd, u64), Errno> {
        if size == 0 {
            return Err(Errno::EINVAL);
        }
        if self.lock().procs.get(&p).is_none_or(|p| p.area.is_some()) {
            return Err(Errno::EBUSY);
        }
        let granted = size.min(MAX_AREA_SIZE as u64) as usize;
        let uid = {
            let mut st = self.lock();
            let uid = st.procs.get(&p).map(|p| p.uid).ok_or(Errno::ESRCH)?;
            if !st.charge_area(uid, granted as u64) {
                tracing::warn!(
                    uid,
                    "refusing a receive area: the user's processes hold their limit"
                );
                return Err(Errno::ENOMEM);
            }
            uid
        };
        let created = sys::create_area(granted).map_err(|e| {
            tracing::error!("cannot create a {granted} byte receive area: {e}");
            e.raw_os_error().map_or(Errno::ENOMEM, Errno::from_raw)
        });
        let mut st = self.lock();
        let (fd, mapping) = match created {
            Ok(c) => c,
            Err(e) => {
                st.uncharge_area(uid, granted as u64);
                return Err(e);
            }
        };
        let Some(proc) = st
            .procs
            .get_mut(&p)
            .filter(|p| p.area.is_none() && !p.is_dead)
        else {
            st.uncharge_area(uid, granted as u64);
            return Err(Errno::EBUSY);
        };
        proc.area = Some(Area {
            mapping: Arc::new(mapping),
            alloc: BinderAlloc::new(granted),
            user_addr: None,
        });
        Ok((fd, granted as u64))
    }

    /// `OP_MMAP_ADDR`: where the process mapped its receive area (the buffer addresses it
    /// reads are relative to it).
    pub fn mmap_addr(&self, p: ProcId, addr: u64) -> Result<(), Errno> {
        let mut st = self.lock();
        let Some(area) = st.procs.get_mut(&p).and_then(|p| p.area.as_mut()) else {
            return Err(Errno::EINVAL);
        };
        if area.user_addr.is_some() {
            return Err(Errno::EBUSY);
        }
        if addr.checked_add(area.alloc.size() as u64).is_none() {
            return Err(Errno::EINVAL);
        }
        area.user_addr = Some(addr);
        Ok(())
    }

    /// `OP_REGISTER_ARENA`: the process's send arena, mapped read-only by the driver.
    pub fn register_arena(
        &self,
        p: ProcId,
        addr: u64,
        size: u64,
        fd: Option<OwnedFd>,
    ) -> Result<(), Errno> {
        let fd = fd.ok_or(Errno::EINVAL)?;
        if size == 0 || size > MAX_ARENA_SIZE || addr.checked_add(size).is_none() {
            return Err(Errno::EINVAL);
        }
        let mapping = match sys::map_arena(&fd, size as usize) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("refusing send arena of {size} bytes: {e}");
                return Err(Errno::EINVAL);
            }
        };
        let mut st = self.lock();
        let Some(proc) = st.procs.get_mut(&p) else {
            return Err(Errno::ESRCH);
        };
        proc.arena = Some(Arc::new(Arena {
            mapping,
            addr,
            size,
        }));
        Ok(())
    }

    /// `OP_NEW_THREAD` and `OP_NEW_THREAD_MAILBOX`: a new thread connection, created here so
    /// that it can only lead to the driver. Returns the driver's end (the caller serves it) and
    /// the files for the process: its end of the socket, and the mailbox if it asked for one.
    pub fn new_thread(
        &self,
        p: ProcId,
        tid: u32,
        mailbox: bool,
    ) -> Result<(ThreadConn, Vec<OwnedFd>), Errno> {
        let errno = |e: std::io::Error| {
            tracing::warn!("cannot create a thread connection: {e}");
            e.raw_os_error().map_or(Errno::EMFILE, Errno::from_raw)
        };
        let (ours, theirs) = sys::seqpacket_pair().map_err(errno)?;
        let mut files = vec![theirs];
        let chan = if mailbox {
            let (fd, mailbox) = Mailbox::create().map_err(errno)?;
            files.push(fd);
            Arc::new(Chan::with_mailbox(ours, mailbox))
        } else {
            Arc::new(Chan::socket(ours))
        };
        let mut st = self.lock();
        let (uid, threads) = st
            .proc_alive(p)
            .map(|p| (p.uid, p.thread_chans.len()))
            .ok_or(Errno::ESRCH)?;
        if threads >= st.limits.max_threads_per_proc || !st.admit_connection(uid, false) {
            tracing::warn!(uid, threads, "refusing a thread connection: limit reached");
            return Err(Errno::EAGAIN);
        }
        let Some(thread) = st.new_thread(p, tid, chan.clone()) else {
            st.connection_closed(uid, false);
            return Err(Errno::ESRCH);
        };
        Ok((
            ThreadConn {
                proc: p,
                uid,
                tid,
                chan,
                thread: Some(thread),
            },
            files,
        ))
    }

    /// A thread connection that was admitted but could not be served.
    pub fn thread_not_served(&self, conn: ThreadConn) {
        let mut conn = conn;
        send_all(self.thread_eof(&mut conn));
    }

    /// The state dump (the kernel's debugfs `state`): everything, or only `user`'s processes
    /// with what other users must not see removed. Built a piece at a time (a process, or a
    /// batch of its nodes or refs), the lock handed over in between, so that no dump holds
    /// others up; as debugfs, it is not one atomic snapshot.
    pub fn dump(&self, user: Option<u32>) -> binder_sys::ud::state::DriverState {
        let keep = |p: &Proc| user.is_none_or(|u| p.uid == u);
        let mut st = self.lock();
        let (mut state, procs) = st.dump_header(user.is_none(), keep);
        for id in procs {
            st = self.handoff(st);
            let Some(mut ps) = st.proc_alive(id).map(|p| st.proc_state_shallow(p)) else {
                continue;
            };
            let mut after = None;
            while let Some(part) = st.dump_nodes_part(id, after, OBJECTS_PER_LOCK * 4) {
                let Some((last, _)) = part.last() else { break };
                after = Some(*last);
                ps.nodes.extend(part.into_iter().map(|(_, n)| n));
                st = self.handoff(st);
            }
            let mut after = None;
            while let Some(part) = st.dump_refs_part(id, after, OBJECTS_PER_LOCK * 4) {
                let Some(last) = part.last() else { break };
                after = Some(last.desc);
                ps.refs.extend(part);
                st = self.handoff(st);
            }
            state.processes.push(ps);
        }
        state.transactions = st.dump_transactions(user.is_none(), keep);
        self.release(st);
        if let Some(uid) = user {
            crate::dump::redact_for_user(&mut state, uid);
        }
        state
    }

    /// End of file on a process connection: the process died. Its nodes and refs are
    /// released in batches, the lock handed over in between.
    pub fn proc_gone(&self, p: ProcId) -> Vec<Outgoing> {
        let mut st = self.lock();
        let Some(dying) = st.proc_release_begin(p) else {
            return self.unlock(st);
        };
        for (i, n) in dying.nodes.iter().enumerate() {
            if i % OBJECTS_PER_LOCK == OBJECTS_PER_LOCK - 1 {
                st = self.handoff(st);
            }
            st.proc_release_node(p, *n);
        }
        for (i, desc) in dying.descs.iter().enumerate() {
            if i % OBJECTS_PER_LOCK == OBJECTS_PER_LOCK - 1 {
                st = self.handoff(st);
            }
            st.cleanup_ref(p, *desc);
        }
        st.proc_release_end(p, dying);
        self.unlock(st)
    }
}

/// The errno of a command stream that cannot be decoded: `EINVAL` for a command the driver
/// does not know or support (as the kernel, whatever follows it), `EFAULT` for one cut short.
fn command_error(e: DecodeError) -> Errno {
    match e {
        DecodeError::Unknown(cmd)
        | DecodeError::Truncated {
            cmd: Some(cmd @ (BC_ATTEMPT_ACQUIRE | BC_ACQUIRE_RESULT)),
            ..
        } => {
            tracing::info!("unknown command {cmd:#x} ({})", command_name(cmd));
            Errno::EINVAL
        }
        DecodeError::Truncated { .. } => Errno::EFAULT,
    }
}

impl State {
    /// The ioctls that answer at once: their output, or the errno.
    fn simple_ioctl(
        &mut self,
        t: ThreadId,
        proc_id: ProcId,
        cmd: u32,
        arg: &[u8],
    ) -> Result<Vec<u8>, Errno> {
        match cmd {
            BINDER_SET_MAX_THREADS => {
                let n = le_u32(arg, 0).ok_or(Errno::EINVAL)?;
                if let Some(p) = self.procs.get_mut(&proc_id) {
                    p.counts.max_threads = n;
                }
            }
            BINDER_SET_CONTEXT_MGR => self.set_context_mgr(proc_id, None)?,
            BINDER_SET_CONTEXT_MGR_EXT => {
                let fbo = FlatBinderObject::read(arg).ok_or(Errno::EINVAL)?;
                self.set_context_mgr(proc_id, Some(fbo))?;
            }
            BINDER_VERSION => return Ok(BINDER_CURRENT_PROTOCOL_VERSION.to_le_bytes().to_vec()),
            BINDER_GET_NODE_DEBUG_INFO => {
                let ptr = le_u64(arg, 0).ok_or(Errno::EFAULT)?;
                return Ok(self.node_debug_info(proc_id, ptr));
            }
            BINDER_GET_NODE_INFO_FOR_REF => {
                let info = NodeInfoForRef::read(arg).ok_or(Errno::EFAULT)?;
                return self.node_info_for_ref(proc_id, info);
            }
            BINDER_GET_EXTENDED_ERROR => {
                let th = self.threads.get_mut(&t).expect("thread of this request");
                let e = std::mem::replace(&mut th.extended_error, ExtendedError::ok(0));
                return Ok(e.bytes().to_vec());
            }
            BINDER_ENABLE_ONEWAY_SPAM_DETECTION => {
                let v = le_u32(arg, 0).ok_or(Errno::EFAULT)?;
                if let Some(p) = self.procs.get_mut(&proc_id) {
                    p.oneway_spam_detection = v != 0;
                }
            }
            _ => return Err(Errno::EINVAL),
        }
        Ok(Vec::new())
    }

    /// The `BC_*` commands other than transactions.
    fn simple_command(&mut self, t: ThreadId, proc_id: ProcId, bc: Bc) -> Result<(), Errno> {
        let name = bc.name();
        match bc {
            Bc::IncRefs(target)
            | Bc::Acquire(target)
            | Bc::Release(target)
            | Bc::DecRefs(target) => {
                let strong = matches!(bc, Bc::Acquire(_) | Bc::Release(_));
                let increment = matches!(bc, Bc::IncRefs(_) | Bc::Acquire(_));
                self.ref_command(proc_id, name, target, strong, increment)?;
            }
            Bc::IncRefsDone(PtrCookie { ptr, cookie })
            | Bc::AcquireDone(PtrCookie { ptr, cookie }) => {
                let strong = matches!(bc, Bc::AcquireDone(_));
                self.ref_done(proc_id, name, PtrCookie { ptr, cookie }, strong)?;
            }
            Bc::FreeBuffer(ptr) => {
                // (`Driver::thread_write` frees buffers itself, in batches.)
                if let Some(off) = self.free_buffer_prepare(proc_id, ptr) {
                    let mut job = self.free_buf_begin(proc_id, off);
                    self.free_buf(&mut job, usize::MAX);
                }
            }
            Bc::RegisterLooper => {
                self.register_looper(t, proc_id)?;
            }
            Bc::EnterLooper => {
                if let Some(th) = self.threads.get_mut(&t) {
                    if th.looper & LOOPER_REGISTERED != 0 {
                        tracing::info!("BC_ENTER_LOOPER called after BC_REGISTER_LOOPER");
                        th.looper |= LOOPER_INVALID;
                    }
                    th.looper |= LOOPER_ENTERED;
                }
            }
            Bc::ExitLooper => {
                if let Some(th) = self.threads.get_mut(&t) {
                    th.looper |= LOOPER_EXITED;
                }
            }
            Bc::RequestDeathNotification(HandleCookie { handle, cookie }) => {
                self.request_death(proc_id, handle, cookie)?;
            }
            Bc::ClearDeathNotification(HandleCookie { handle, cookie }) => {
                self.clear_death(t, proc_id, handle, cookie);
            }
            Bc::DeadBinderDone(cookie) => self.dead_binder_done(t, proc_id, cookie),
            Bc::Transaction(_)
            | Bc::Reply(_)
            | Bc::TransactionSg(_)
            | Bc::ReplySg(_)
            | Bc::AcquireResult(_)
            | Bc::AttemptAcquire(_) => {
                tracing::info!("unknown command {:#x} ({name})", bc.code());
                return Err(Errno::EINVAL);
            }
        }
        Ok(())
    }

    /// `BC_INCREFS`..`BC_DECREFS` on `target` (handle 0: the context manager's node, which
    /// gets a ref if the process has none yet).
    fn ref_command(
        &mut self,
        proc_id: ProcId,
        name: &str,
        target: u32,
        strong: bool,
        increment: bool,
    ) -> Result<(), Errno> {
        let mut res = Err(RefError::NoRef);
        if increment
            && target == 0
            && let Some(ctx) = self.context_mgr_node
        {
            if self.nodes.get(&ctx).and_then(|n| n.proc) == Some(proc_id) {
                tracing::info!("context manager tried to acquire desc 0");
                return Err(Errno::EINVAL);
            }
            res = self.inc_ref_for_node(proc_id, ctx, strong, None);
        }
        if res.is_err() {
            res = self.update_ref_for_handle(proc_id, target, increment, strong);
        }
        match res {
            Ok(r) if r.desc != target => {
                tracing::info!(
                    "tried to acquire reference to desc {target}, got {} instead",
                    r.desc
                )
            }
            Ok(r) => tracing::trace!(
                "{name} ref {} desc {} s {} w {}",
                r.debug_id,
                r.desc,
                r.counts.strong,
                r.counts.weak
            ),
            Err(e) => tracing::info!("{name} on invalid ref {target}: {e}"),
        }
        Ok(())
    }

    /// `BC_INCREFS_DONE`/`BC_ACQUIRE_DONE`: the owner took the reference the driver asked
    /// for.
    fn ref_done(
        &mut self,
        proc_id: ProcId,
        name: &str,
        PtrCookie { ptr, cookie }: PtrCookie,
        strong: bool,
    ) -> Result<(), Errno> {
        let Some(n) = self
            .procs
            .get(&proc_id)
            .and_then(|p| p.nodes.get(&ptr))
            .copied()
        else {
            tracing::info!("{name} u{ptr:016x} no match");
            return Ok(());
        };
        let node = self.nodes.get_mut(&n).ok_or(Errno::EINVAL)?;
        if node.cookie != cookie {
            tracing::info!(
                "{name} u{ptr:016x} cookie mismatch {cookie:#x} != {:#x}",
                node.cookie
            );
            return Ok(());
        }
        let pending = if strong {
            &mut node.counts.pending_strong_ref
        } else {
            &mut node.counts.pending_weak_ref
        };
        if !std::mem::replace(pending, false) {
            tracing::info!("{name} node {} has no pending request", node.debug_id);
            return Ok(());
        }
        self.dec_node(n, strong, false);
        Ok(())
    }

    /// `BC_REGISTER_LOOPER`: a thread the driver asked for joins the pool.
    fn register_looper(&mut self, t: ThreadId, proc_id: ProcId) -> Result<(), Errno> {
        let looper = self.threads.get(&t).map_or(0, |th| th.looper);
        let p = self.procs.get_mut(&proc_id).ok_or(Errno::ESRCH)?;
        let mut invalid = false;
        if looper & LOOPER_ENTERED != 0 {
            tracing::info!("BC_REGISTER_LOOPER called after BC_ENTER_LOOPER");
            invalid = true;
        } else if p.counts.requested_threads == 0 {
            tracing::info!("BC_REGISTER_LOOPER called without request");
            invalid = true;
        } else {
            p.counts.requested_threads -= 1;
            p.counts.requested_threads_started += 1;
        }
        if let Some(th) = self.threads.get_mut(&t) {
            th.looper |= LOOPER_REGISTERED | if invalid { LOOPER_INVALID } else { 0 };
        }
        Ok(())
    }

    /// The checks of `BC_FREE_BUFFER`: the offset of the buffer at `ptr` of the process's
    /// area, now being freed, if the process may free it.
    fn free_buffer_prepare(&mut self, proc_id: ProcId, ptr: u64) -> Option<usize> {
        let offset = self
            .procs
            .get(&proc_id)
            .and_then(|p| p.area.as_ref())
            .and_then(|a| ptr.checked_sub(a.user_addr?))
            .and_then(|o| usize::try_from(o).ok());
        let prepared = match offset {
            Some(off) => self
                .procs
                .get_mut(&proc_id)
                .and_then(|p| p.area.as_mut())
                .map_or(Err(crate::alloc::FreeError::NoMatch), |a| {
                    a.alloc.prepare_to_free(off)
                }),
            None => Err(crate::alloc::FreeError::NoMatch),
        };
        match (prepared, offset) {
            (Ok(()), Some(off)) => return Some(off),
            (Err(crate::alloc::FreeError::NotReturned), _) => tracing::info!(
                "BC_FREE_BUFFER u{ptr:016x} matched unreturned or currently freeing buffer"
            ),
            _ => tracing::info!("BC_FREE_BUFFER u{ptr:016x} no match"),
        }
        None
    }

    /// `ENOMEM` when the process holds as many death notifications as allowed (the kernel's
    /// answer when it cannot allocate one).
    fn request_death(&mut self, proc_id: ProcId, handle: u32, cookie: u64) -> Result<(), Errno> {
        let Some(r) = self.get_ref(proc_id, handle, false) else {
            tracing::info!("BC_REQUEST_DEATH_NOTIFICATION invalid ref {handle}");
            return Ok(());
        };
        if r.death.is_some() {
            tracing::info!("BC_REQUEST_DEATH_NOTIFICATION death notification already set");
            return Ok(());
        }
        let node = r.node;
        let Some(d) = self.new_death(proc_id, cookie) else {
            return Err(Errno::ENOMEM);
        };
        if let Some(r) = self
            .procs
            .get_mut(&proc_id)
            .and_then(|p| p.refs_by_desc.get_mut(&handle))
        {
            r.death = Some(d);
        }
        if self.nodes.get(&node).is_some_and(|n| n.proc.is_none()) {
            self.enqueue_death_work(d, WorkList::Proc(proc_id), true);
        }
        Ok(())
    }

    fn queue_clear_done(&mut self, t: ThreadId, proc_id: ProcId, d: DeathId) {
        if let Some(death) = self.deaths.get_mut(&d) {
            death.kind = DeathKind::ClearNotification;
        }
        let looper = self.threads.get(&t).map_or(0, |th| th.looper);
        if looper & (LOOPER_REGISTERED | LOOPER_ENTERED) != 0 {
            self.enqueue_death_work(d, WorkList::Thread(t), true);
        } else {
            self.enqueue_death_work(d, WorkList::Proc(proc_id), true);
        }
    }

    fn clear_death(&mut self, t: ThreadId, proc_id: ProcId, handle: u32, cookie: u64) {
        let Some(r) = self.get_ref(proc_id, handle, false) else {
            tracing::info!("BC_CLEAR_DEATH_NOTIFICATION invalid ref {handle}");
            return;
        };
        let Some(d) = r.death else {
            tracing::info!("BC_CLEAR_DEATH_NOTIFICATION death notification not active");
            return;
        };
        let Some(death) = self.deaths.get_mut(&d) else {
            return;
        };
        if death.cookie != cookie {
            tracing::info!(
                "BC_CLEAR_DEATH_NOTIFICATION death notification cookie mismatch {:#x} != {cookie:#x}",
                death.cookie
            );
            return;
        }
        let queued = death.queued.is_some();
        if queued {
            death.kind = DeathKind::DeadBinderAndClear;
        }
        if let Some(r) = self
            .procs
            .get_mut(&proc_id)
            .and_then(|p| p.refs_by_desc.get_mut(&handle))
        {
            r.death = None;
        }
        if !queued {
            self.queue_clear_done(t, proc_id, d);
        }
    }

    fn dead_binder_done(&mut self, t: ThreadId, proc_id: ProcId, cookie: u64) {
        let found = self
            .procs
            .get(&proc_id)
            .and_then(|p| p.delivered_death.find(cookie));
        let Some(d) = found else {
            tracing::info!("BC_DEAD_BINDER_DONE {cookie:#x} not found");
            return;
        };
        self.dequeue_death_work(d);
        if self
            .deaths
            .get(&d)
            .is_some_and(|x| x.kind == DeathKind::DeadBinderAndClear)
        {
            self.queue_clear_done(t, proc_id, d);
        }
    }

    /// `binder_ioctl_set_ctx_mgr`.
    fn set_context_mgr(
        &mut self,
        proc_id: ProcId,
        fbo: Option<FlatBinderObject>,
    ) -> Result<(), Errno> {
        if self.context_mgr_node.is_some() {
            tracing::info!("BINDER_SET_CONTEXT_MGR already set");
            return Err(Errno::EBUSY);
        }
        let Some(uid) = self.procs.get(&proc_id).map(|p| p.uid) else {
            return Err(Errno::ESRCH);
        };
        if !self.is_admin(uid) && self.access.context_manager_uid != Some(uid) {
            tracing::info!("BINDER_SET_CONTEXT_MGR by uid {uid}, who may not");
            return Err(Errno::EPERM);
        }
        match self.context_mgr_uid {
            Some(owner) if owner != uid => {
                tracing::info!("BINDER_SET_CONTEXT_MGR bad uid {uid} != {owner}");
                return Err(Errno::EPERM);
            }
            _ => self.context_mgr_uid = Some(uid),
        }
        let fbo = fbo.unwrap_or_default();
        let Some(n) = self.get_or_new_node(proc_id, fbo.binder_or_handle, fbo.cookie, fbo.flags)
        else {
            return Err(Errno::ENOMEM);
        };
        if let Some(node) = self.nodes.get_mut(&n) {
            node.counts.local_weak_refs += 1;
            node.counts.local_strong_refs += 1;
            node.counts.has_strong_ref = true;
            node.counts.has_weak_ref = true;
        }
        self.context_mgr_node = Some(n);
        Ok(())
    }

    /// `binder_ioctl_get_node_debug_info`: the first node after `ptr`.
    fn node_debug_info(&self, proc_id: ProcId, ptr: u64) -> Vec<u8> {
        let mut out = NodeDebugInfo::default();
        let node = self
            .procs
            .get(&proc_id)
            .and_then(|p| {
                p.nodes
                    .range(ptr.saturating_add(1)..)
                    .next()
                    .filter(|_| ptr != u64::MAX)
            })
            .and_then(|(_, n)| self.nodes.get(n));
        if let Some(n) = node {
            out = NodeDebugInfo {
                ptr: n.ptr,
                cookie: n.cookie,
                has_strong_ref: n.counts.has_strong_ref.into(),
                has_weak_ref: n.counts.has_weak_ref.into(),
            };
        }
        out.bytes().to_vec()
    }

    /// `binder_ioctl_get_node_info_for_ref` (context manager only).
    fn node_info_for_ref(&self, proc_id: ProcId, info: NodeInfoForRef) -> Result<Vec<u8>, Errno> {
        let handle = info.handle;
        if info
            != (NodeInfoForRef {
                handle,
                ..Default::default()
            })
        {
            tracing::info!("BINDER_GET_NODE_INFO_FOR_REF: only handle may be non-zero");
            return Err(Errno::EINVAL);
        }
        if self
            .context_mgr_node
            .and_then(|n| self.nodes.get(&n))
            .and_then(|n| n.proc)
            != Some(proc_id)
        {
            return Err(Errno::EPERM);
        }
        let n = self
            .node_from_ref(proc_id, handle, true)
            .and_then(|n| self.nodes.get(&n))
            .ok_or(Errno::EINVAL)?;
        let out = NodeInfoForRef {
            handle,
            strong_count: n.counts.local_strong_refs + n.counts.internal_strong_refs,
            weak_count: n.counts.local_weak_refs,
            ..Default::default()
        };
        Ok(out.bytes().to_vec())
    }

    /// `OP_FD_FIXUP`: writes the receiver's fd numbers into the slots of the buffer.
    fn apply_fd_fixup(&mut self, t: ThreadId, proc_id: ProcId, fds: &[i32]) -> Result<(), Errno> {
        let Some(pending) = self
            .threads
            .get_mut(&t)
            .and_then(|th| th.pending_fixup.take())
        else {
            return Err(Errno::EINVAL);
        };
        if fds.len() != pending.slots.len() {
            tracing::info!(
                "OP_FD_FIXUP with {} fds for {} slots",
                fds.len(),
                pending.slots.len()
            );
            return Err(Errno::EINVAL);
        }
        let Some(area) = self.procs.get(&proc_id).and_then(|p| p.area.as_ref()) else {
            return Err(Errno::ESTALE);
        };
        let Some(b) = area
            .alloc
            .buffer(pending.buffer_offset)
            .filter(|b| b.debug_id == pending.buffer_debug_id)
        else {
            return Err(Errno::ESTALE);
        };
        let end = pending.buffer_offset + b.data_size;
        for (slot, fd) in pending.slots.iter().zip(fds) {
            if slot + 4 > end || !area.mapping.write(*slot, &fd.to_le_bytes()) {
                return Err(Errno::EINVAL);
            }
        }
        Ok(())
    }
}
