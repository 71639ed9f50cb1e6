//! `IPCThreadState`: per thread, the command buffers and the loop that talks to the driver —
//! sending transactions and waiting for replies, serving incoming (and nested) transactions,
//! answering reference-count and death commands, and the thread pool.

use std::cell::RefCell;
use std::sync::atomic::Ordering;

use binder_sys::{
    BINDER_THREAD_EXIT, Bc, Br, ExtendedError, Reader, TF_ACCEPT_FDS, TF_ONE_WAY, TF_STATUS_CODE,
    TransactionData, TransactionDataSecctx, Wire,
};

use crate::binder::{SpIBinder, TransactionCode, TransactionFlags, local_nodes};
use crate::driver::ThreadLink;
use crate::parcel::Parcel;
use crate::process_state::{ProcessState, new_outgoing_parcel};
use crate::status::StatusCode;
use nix::errno::Errno;

thread_local! {
    /// Why the driver refused this thread's last transaction (`BINDER_GET_EXTENDED_ERROR`'s
    /// errno), for the message of the `FAILED_TRANSACTION` status.
    static LAST_FAILURE: std::cell::Cell<Option<i32>> = const { std::cell::Cell::new(None) };
}

/// Asks the driver why it answered `BR_FAILED_REPLY` (both drivers keep the reason per thread).
fn record_failure_reason() {
    let mut arg = ExtendedError::default();
    let errno = match ioctl(binder_sys::BINDER_GET_EXTENDED_ERROR, arg.bytes_mut()) {
        Ok(()) => arg.param,
        Err(_) => 0,
    };
    tracing::warn!(errno, "the binder driver refused a transaction");
    LAST_FAILURE.with(|f| f.set(Some(errno)));
}

/// The reason of this thread's last refused transaction, once.
pub(crate) fn take_failure_reason() -> Option<String> {
    let errno = LAST_FAILURE.with(|f| f.take())?;
    if errno == 0 {
        return Some("the binder driver refused the transaction".to_string());
    }
    Some(match Errno::from_raw(-errno) {
        Errno::ENOSPC => {
            "the binder driver refused the transaction: it does not fit in the receiver's buffer \
                         (too large, or the space for oneway calls is used up)"
                .to_string()
        }
        Errno::EINVAL => {
            "the binder driver refused the transaction: malformed data, offsets or objects"
                .to_string()
        }
        Errno::EPERM => {
            "the binder driver refused the transaction: not permitted (e.g. file descriptors to a \
                        receiver that does not accept them)"
                .to_string()
        }
        _ => format!(
            "the binder driver refused the transaction: {}",
            std::io::Error::from_raw_os_error(-errno)
        ),
    })
}

/// Size of the read buffer, as libbinder's initial `mIn` capacity.
const READ_SIZE: usize = 256;

struct ThreadState {
    link: Option<ThreadLink>,
    out: Vec<u8>,
    input: [u8; READ_SIZE],
    in_len: usize,
    in_pos: usize,
    is_looper: bool,
    calling_pid: i32,
    calling_uid: u32,
    /// Replies written into `out`: their memory must stay put until the driver has read it.
    pending: Vec<Parcel>,
    /// The files named by fd objects of the transactions in `out` (owned by their Parcels,
    /// which outlive the write): sent along for the userspace driver.
    out_fds: Vec<std::os::fd::RawFd>,
}

thread_local! {
    static STATE: RefCell<ThreadState> = RefCell::new(ThreadState {
        link: None,
        out: Vec::with_capacity(256),
        input: [0; READ_SIZE],
        in_len: 0,
        in_pos: 0,
        is_looper: false,
        calling_pid: std::process::id() as i32,
        calling_uid: nix::unistd::geteuid().as_raw(),
        pending: Vec::new(),
        out_fds: Vec::new(),
    });
}

/// Runs `f` on this thread's state. `f` must not call back into anything that uses the
/// thread state (no user code runs inside).
fn with<R>(f: impl FnOnce(&mut ThreadState) -> R) -> R {
    STATE.with(|s| f(&mut s.borrow_mut()))
}

impl Drop for ThreadState {
    fn drop(&mut self) {
        // The thread is exiting: hand back what it still holds and tell the kernel (the
        // userspace driver sees the thread's socket close).
        let Some(ps) = ProcessState::existing() else {
            return;
        };
        let Some(mut link) = self.link.take() else {
            return;
        };
        ps.take_deferred(&mut self.out);
        if !self.out.is_empty() {
            let _ = ps
                .driver
                .write_read(&mut link, &self.out, &mut [], &self.out_fds);
        }
        if ps.is_kernel_driver() {
            let _ = ps.driver.ioctl_u32(&mut link, BINDER_THREAD_EXIT, 0);
        }
    }
}

fn io_to_status(e: std::io::Error) -> StatusCode {
    match e.raw_os_error() {
        // The driver refused an ioctl: an answer, not a fault (e.g. EBUSY for a second
        // context manager). The caller decides how to report it.
        Some(errno) if !matches!(Errno::from_raw(errno), Errno::EBADF | Errno::ENODEV) => {
            tracing::debug!("binder driver: {e}");
            StatusCode::from_i32(-errno)
        }
        // The connection to the driver is gone.
        _ => {
            tracing::error!("binder driver: {e}");
            StatusCode::DeadObject
        }
    }
}

fn ensure_link(ps: &ProcessState, t: &mut ThreadState) -> Result<(), StatusCode> {
    if t.link.is_none() {
        t.link = Some(ps.driver.new_thread_link().map_err(io_to_status)?);
    }
    Ok(())
}

/// An ioctl on the calling thread's link; `arg` is its argument structure.
pub(crate) fn ioctl(cmd: u32, arg: &mut [u8]) -> Result<(), StatusCode> {
    let ps = ProcessState::get()?;
    with(|t| {
        ensure_link(ps, t)?;
        let link = t.link.as_mut().expect("link just ensured");
        ps.driver.ioctl(link, cmd, arg).map_err(io_to_status)
    })
}

/// An ioctl with an integer argument, on the calling thread's link.
pub(crate) fn ioctl_u32(cmd: u32, arg: u32) -> Result<u32, StatusCode> {
    let mut bytes = arg.to_le_bytes();
    ioctl(cmd, &mut bytes)?;
    Ok(u32::from_le_bytes(bytes))
}

/// Writes what is queued (the process's deferred commands first, then this thread's) and, if
/// `receive` and the read buffer is used up, blocks until the driver has something to read.
fn talk_with_driver(receive: bool) -> Result<(), StatusCode> {
    let ps = ProcessState::get()?;
    with(|t| {
        ensure_link(ps, t)?;
        ps.take_deferred(&mut t.out);
        let read_len = if receive && t.in_pos >= t.in_len {
            READ_SIZE
        } else {
            0
        };
        if t.out.is_empty() && read_len == 0 {
            return Ok(());
        }
        let ThreadState {
            link,
            out,
            input,
            out_fds,
            ..
        } = t;
        let link = link.as_mut().expect("link just ensured");
        let (written, read) = ps
            .driver
            .write_read(link, out, &mut input[..read_len], out_fds)
            .map_err(io_to_status)?;
        t.out.drain(..written.min(t.out.len()));
        if t.out.is_empty() {
            t.pending.clear();
            t.out_fds.clear();
        }
        if read_len > 0 {
            t.in_len = read;
            t.in_pos = 0;
        }
        Ok(())
    })
}

/// Sends queued commands now, without reading.
pub(crate) fn flush_commands() -> Result<(), StatusCode> {
    talk_with_driver(false)
}

/// Sends `commands` from this thread now (after what is already queued), so that they reach
/// the driver before anything this thread does next.
pub(crate) fn write_now(commands: &[Bc]) -> Result<(), StatusCode> {
    with(|t| commands.iter().for_each(|c| c.encode(&mut t.out)));
    talk_with_driver(false)
}

thread_local! {
    /// How deep this thread is in loops that talk to the driver again soon (waiting for a
    /// reply, serving the thread pool): commands queued there ride with that next write.
    static LOOP_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Marks the thread as inside a driver loop while it lives.
struct InLoop;

impl InLoop {
    fn enter() -> InLoop {
        LOOP_DEPTH.with(|d| d.set(d.get() + 1));
        InLoop
    }
}

impl Drop for InLoop {
    fn drop(&mut self) {
        LOOP_DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Flushes queued commands unless this thread is in a loop that writes to the driver soon
/// anyway (libbinder's `flushIfNeeded`).
pub(crate) fn flush_unless_in_loop() {
    let idle = LOOP_DEPTH.try_with(|d| d.get() == 0).unwrap_or(false);
    let free = STATE
        .try_with(|s| s.try_borrow_mut().is_ok())
        .unwrap_or(false);
    if idle
        && free
        && let Err(e) = flush_commands()
    {
        tracing::debug!("flushing a freed buffer: {e}");
    }
}

/// Decodes the next return command out of the read buffer (so that no borrow of the thread
/// state is held while it is executed). A malformed read (a truncated or unknown return) is
/// dropped whole: what follows it cannot be found.
fn next_command() -> Result<Option<Br>, StatusCode> {
    with(|t| {
        if t.in_pos >= t.in_len {
            return Ok(None);
        }
        let mut r = Reader::new(&t.input[t.in_pos..t.in_len]);
        match Br::decode(&mut r) {
            Ok(br) => {
                t.in_pos += r.position();
                Ok(Some(br))
            }
            Err(e) => {
                tracing::error!("malformed read from the binder driver: {e}");
                t.in_pos = t.in_len;
                Err(StatusCode::BadValue)
            }
        }
    })
}

/// Sends a transaction to `handle` and waits for its reply (`None` for oneway calls).
pub(crate) fn transact(
    handle: u32,
    code: TransactionCode,
    data: &Parcel,
    flags: TransactionFlags,
) -> Result<Option<Parcel>, StatusCode> {
    let _span = tracing::trace_span!("transact", handle, code, size = data.data_size()).entered();
    with(|t| {
        write_transaction_data(
            t,
            Bc::Transaction,
            handle,
            code,
            flags | TF_ACCEPT_FDS,
            data,
        )
    });
    // `data` stays borrowed until the loop returns, so its memory stays put until the driver
    // has copied it.
    wait_for_response(flags & TF_ONE_WAY == 0)
}

fn wait_for_response(expect_reply: bool) -> Result<Option<Parcel>, StatusCode> {
    let _in_loop = InLoop::enter();
    loop {
        talk_with_driver(true)?;
        let Some(cmd) = next_command()? else { continue };
        match cmd {
            Br::TransactionComplete => {
                if !expect_reply {
                    return Ok(None);
                }
            }
            Br::DeadReply => return Err(StatusCode::DeadObject),
            Br::FailedReply => {
                record_failure_reason();
                return Err(StatusCode::FailedTransaction);
            }
            Br::FrozenReply => return Err(StatusCode::FailedTransaction),
            Br::Reply(tr) => return read_reply(&tr).map(Some),
            other => execute_command(other)?,
        }
    }
}

fn read_reply(tr: &TransactionData) -> Result<Parcel, StatusCode> {
    let ps = ProcessState::get()?;
    let mut reply = ps.received_parcel(tr)?;
    if tr.flags & TF_STATUS_CODE != 0 {
        let status = reply
            .read_i32()
            .unwrap_or(StatusCode::UnknownError.to_i32());
        return match StatusCode::from_i32(status) {
            StatusCode::Ok => Ok(Parcel::new()),
            code => Err(code),
        };
    }
    Ok(reply)
}

fn execute_command(cmd: Br) -> Result<(), StatusCode> {
    let ps = ProcessState::get()?;
    match cmd {
        Br::Noop
        | Br::Ok
        | Br::OnewaySpamSuspect
        | Br::TransactionPendingFrozen
        | Br::TransactionComplete
        | Br::ClearDeathNotificationDone(_) => {}
        Br::Error(e) => {
            tracing::error!(error = e, "BR_ERROR from the binder driver");
            return Err(StatusCode::from_i32(e));
        }
        Br::DeadReply | Br::FailedReply | Br::FrozenReply => {
            tracing::warn!(
                ?cmd,
                "reply status outside a transaction (a reply we sent was not delivered)"
            );
        }
        Br::Reply(tr) => {
            tracing::warn!("unexpected BR_REPLY outside a transaction");
            drop(ps.received_parcel(&tr));
        }
        Br::Transaction(tr)
        | Br::TransactionSecCtx(TransactionDataSecctx {
            transaction_data: tr,
            ..
        }) => handle_transaction(ps, tr)?,
        Br::IncRefs(target) | Br::Acquire(target) | Br::Release(target) | Br::DecRefs(target) => {
            let code = cmd.code();
            let known = target.ptr == 0 || local_nodes().acquire_or_release(code, target.ptr);
            if !known {
                tracing::error!(
                    cmd = cmd.name(),
                    ptr = target.ptr,
                    "reference command for an unknown local object"
                );
            }
            let done = match cmd {
                Br::IncRefs(_) => Some(Bc::IncRefsDone(target)),
                Br::Acquire(_) => Some(Bc::AcquireDone(target)),
                _ => None,
            };
            if let Some(done) = done {
                with(|t| done.encode(&mut t.out));
            }
        }
        Br::DeadBinder(cookie) => {
            if let Some(proxy) = ps.death_target(cookie) {
                proxy.send_obituary();
            }
            with(|t| Bc::DeadBinderDone(cookie).encode(&mut t.out));
        }
        Br::SpawnLooper => spawn_pooled_thread(false)?,
        Br::Finished => return Err(StatusCode::TimedOut),
        Br::AcquireResult(_) | Br::AttemptAcquire(_) => {
            tracing::error!(
                cmd = cmd.name(),
                "unsupported command from the binder driver"
            );
            return Err(StatusCode::BadValue);
        }
    }
    Ok(())
}

thread_local! {
    /// How many two-way transactions this thread is serving now (nested ones count again).
    static SERVING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Marks the thread as serving a two-way transaction while it lives.
struct Serving;

impl Serving {
    fn enter() -> Serving {
        SERVING.with(|d| d.set(d.get() + 1));
        Serving
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        SERVING.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Whether this thread is serving a two-way transaction now, so that a call it makes is a
/// nested one (its reply is awaited by a caller whose callbacks must come back to this thread).
pub(crate) fn serving_two_way() -> bool {
    SERVING.try_with(|d| d.get() > 0).unwrap_or(false)
}

/// Serves one incoming transaction; the reply is queued and goes out with this thread's next
/// driver write (which also asks for the next work, so a reply costs no extra round trip).
fn handle_transaction(ps: &ProcessState, tr: TransactionData) -> Result<(), StatusCode> {
    let mut data = ps.received_parcel(&tr)?;
    let oneway = tr.flags & TF_ONE_WAY != 0;
    let target: Option<SpIBinder> = if tr.target == 0 {
        ps.context_object()
    } else {
        SpIBinder::from_local_node(tr.target, tr.cookie).ok()
    };
    let _span = tracing::trace_span!(
        "on_transact",
        code = tr.code,
        size = tr.data_size,
        pid = tr.sender_pid
    )
    .entered();
    let previous = with(|t| {
        let prev = (t.calling_pid, t.calling_uid);
        t.calling_pid = tr.sender_pid;
        t.calling_uid = tr.sender_euid;
        prev
    });
    let mut reply = new_outgoing_parcel();
    let _serving = (!oneway).then(Serving::enter);
    let result = match target.as_ref().and_then(|b| b.0.as_local()) {
        Some(local) => local.dispatch(tr.code, &mut data, &mut reply, tr.flags),
        None => {
            tracing::error!(
                target = tr.target,
                "transaction for an object that no longer exists"
            );
            Err(StatusCode::DeadObject)
        }
    };
    drop(_serving);
    with(|t| (t.calling_pid, t.calling_uid) = previous);
    drop(data);
    if oneway {
        if let Err(e) = result {
            tracing::debug!(code = tr.code, "oneway transaction failed: {e}");
        }
        return Ok(());
    }
    let reply = match result {
        Ok(()) => reply,
        Err(status) => {
            let mut p = Parcel::new();
            p.write_i32(status.to_i32())?;
            p
        }
    };
    let flags = if result.is_err() { TF_STATUS_CODE } else { 0 };
    with(|t| {
        // A reply names no target (libbinder writes handle -1).
        write_transaction_data(t, Bc::Reply, u32::MAX, 0, flags, &reply);
        t.pending.push(reply);
    });
    Ok(())
}

/// Queues `cmd` ([`Bc::Transaction`] or [`Bc::Reply`]) for `parcel`, as libbinder's
/// `writeTransactionData`: the driver reads the Parcel's bytes and offsets where they are.
fn write_transaction_data(
    t: &mut ThreadState,
    cmd: fn(TransactionData) -> Bc,
    handle: u32,
    code: u32,
    flags: u32,
    parcel: &Parcel,
) {
    let (buffer, size, offsets, offsets_size) = parcel.raw_parts();
    let tr = TransactionData {
        target: handle as u64,
        cookie: 0,
        code,
        flags,
        sender_pid: 0,
        sender_euid: 0,
        data_size: size,
        offsets_size,
        data_buffer: buffer,
        data_offsets: offsets,
    };
    cmd(tr).encode(&mut t.out);
    for fd in parcel.owned_fds() {
        if !t.out_fds.contains(&fd) {
            t.out_fds.push(fd);
        }
    }
}

/// Reads and executes one command, reading from the driver first if needed.
fn get_and_execute_command() -> Result<(), StatusCode> {
    talk_with_driver(true)?;
    match next_command()? {
        Some(cmd) => execute_command(cmd),
        None => Ok(()),
    }
}

/// The looper: serves transactions until the driver goes away (or, for a spawned thread,
/// until the driver says `BR_FINISHED`).
pub(crate) fn join_thread_pool(is_main: bool) {
    let _in_loop = InLoop::enter();
    with(|t| {
        let cmd = if is_main {
            Bc::EnterLooper
        } else {
            Bc::RegisterLooper
        };
        cmd.encode(&mut t.out);
        t.is_looper = true;
    });
    loop {
        match get_and_execute_command() {
            Ok(()) => {}
            Err(StatusCode::TimedOut) if !is_main => break,
            Err(StatusCode::DeadObject) | Err(StatusCode::NoInit) => break,
            Err(e) => tracing::debug!("looper: {e}"),
        }
    }
    with(|t| {
        Bc::ExitLooper.encode(&mut t.out);
        t.is_looper = false;
    });
    let _ = talk_with_driver(false);
}

/// Starts a pool thread (the first one on `start_thread_pool`, others on `BR_SPAWN_LOOPER`).
pub(crate) fn spawn_pooled_thread(is_main: bool) -> Result<(), StatusCode> {
    let ps = ProcessState::get()?;
    let n = ps.pool.spawned.fetch_add(1, Ordering::Relaxed) + 1;
    std::thread::Builder::new()
        .name(format!("binder:{}_{n:X}", std::process::id()))
        .spawn(move || join_thread_pool(is_main))
        .map(|_| ())
        .map_err(|_| StatusCode::NoMemory)
}

/// The pid of the process that sent the transaction this thread is serving (this process's
/// own pid outside a transaction; 0 for a oneway call, whose sender the driver does not name).
pub fn calling_pid() -> i32 {
    with(|t| t.calling_pid)
}

/// The effective uid of the process that sent the transaction this thread is serving.
pub fn calling_uid() -> u32 {
    with(|t| t.calling_uid)
}

/// Makes `caller` (pid, uid) this thread's calling identity and returns the previous one: for
/// the body of a served call that runs on another thread (an async oneway method).
pub(crate) fn swap_calling_identity(caller: (i32, u32)) -> (i32, u32) {
    with(|t| {
        let previous = (t.calling_pid, t.calling_uid);
        (t.calling_pid, t.calling_uid) = caller;
        previous
    })
}
