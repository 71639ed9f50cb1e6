//! Sockets and driver threads: the listener, process connections, thread connections and
//! debug connections. One driver thread per connection, blocked in `recvmsg`.

use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use binder_sys::ud::state::DriverState;
use binder_sys::ud::{
    DebugQuery, Endpoint, HELLO_FLAG_NO_REPLY_COMPLETE, HELLO_VERSION, MAX_MESSAGE, OP_IOCTL,
    OP_IOCTL_DONE, OP_REPLY, ProcRequest, ThreadRequest, UD_REVISION, encode_reply,
};

use nix::errno::Errno;

use crate::driver::{Driver, Next, ThreadConn, send_all};
use crate::model::ProcId;
use crate::sys::{self, PeerCred};
use crate::{DriverConfig, DriverError};
use binder_sys::ud::mailbox::{self, FLAG_FILES, PollGate, Poller, Slot, SlotError, Waited};
use nix::sys::socket::MsgFlags;

/// How often a driver thread sleeping on its mailbox looks at its connection's state itself.
const MAILBOX_TICK: Duration = Duration::from_secs(1);
/// How long a new connection may take to say what it is.
const FIRST_MESSAGE_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the accept loop checks its exit conditions.
const TICK: Duration = Duration::from_millis(100);
const DRIVER_THREAD_STACK: usize = 256 * 1024;
/// How long a debug reader may keep the driver waiting for it to read a part of the state.
const DEBUG_SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound driver instance, ready to serve.
pub struct Server {
    listener: OwnedFd,
    driver: Arc<Driver>,
    idle_exit: Option<Duration>,
    idle_ignores_own_process: bool,
    endpoint: Endpoint,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("endpoint", &self.endpoint)
            .field("idle_exit", &self.idle_exit)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds the instance's socket ([`Endpoint::of`] the instance name and the user running
    /// the driver). Fails fast with `AlreadyRunning` if another driver has it.
    pub fn bind(config: DriverConfig) -> Result<Server, DriverError> {
        let owner = sys::euid();
        let endpoint = Endpoint::of(&config.instance, owner);
        let name_len = match &endpoint {
            Endpoint::Abstract(name) => name.len(),
            Endpoint::Path(path) => path.as_os_str().len(),
        };
        if config.instance.is_empty() || name_len > 100 || config.instance.contains('\0') {
            return Err(DriverError::InvalidInstance(config.instance));
        }
        if config.access.shared && !matches!(endpoint, Endpoint::Path(_)) {
            return Err(DriverError::InvalidConfig(
                "a shared instance needs a filesystem socket (an absolute path as its name), \
                 whose permissions say who may connect",
            ));
        }
        if matches!(endpoint, Endpoint::Abstract(_))
            && (config.socket_mode.is_some() || config.socket_group.is_some())
        {
            return Err(DriverError::InvalidConfig(
                "socket mode and group apply to filesystem sockets only",
            ));
        }
        let listener = sys::bind_listener(&endpoint, config.socket_mode, config.socket_group)
            .map_err(|e| match e.raw_os_error().map(Errno::from_raw) {
                Some(Errno::EADDRINUSE) => DriverError::AlreadyRunning,
                _ => DriverError::Io {
                    context: "binding the driver socket",
                    source: e,
                },
            })?;
        let mut limits = config.limits;
        if config.access.shared {
            limits.max_connections_per_uid = limits
                .max_connections_per_uid
                .min((limits.max_connections / 4).max(1));
        }
        let mut driver = Driver::new(&config.instance, owner, config.access, limits);
        if let Some(window) = config.poll_window {
            driver.poll_gate = PollGate::with_window(2, window);
        }
        let driver = Arc::new(driver);
        driver.lock().idle_since = Some(Instant::now());
        Ok(Server {
            listener,
            driver,
            idle_exit: config.idle_exit,
            idle_ignores_own_process: config.idle_ignores_own_process,
            endpoint,
        })
    }

    /// Where the instance listens.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Test hook: every payload copy pauses this long with the state unlocked, so that tests
    /// can make processes die in the middle of a transaction.
    #[doc(hidden)]
    pub fn set_test_copy_delay(&self, delay: Duration) {
        self.driver.set_copy_delay(delay);
    }

    /// Serves until shutdown was requested (or the idle timeout passed) with no process
    /// connected.
    pub fn run(self) -> Result<(), DriverError> {
        tracing::info!(endpoint = %self.endpoint, pid = std::process::id(), "binder driver listening");
        let result = self.serve();
        if let Endpoint::Path(path) = &self.endpoint {
            let _ = std::fs::remove_file(path);
        }
        result
    }

    fn serve(&self) -> Result<(), DriverError> {
        loop {
            let readable =
                sys::wait_readable(&self.listener, TICK).map_err(|e| DriverError::Io {
                    context: "waiting for connections",
                    source: e,
                })?;
            if readable {
                match sys::accept(&self.listener) {
                    Ok(sock) => self.admit(sock),
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        std::thread::sleep(TICK);
                    }
                }
            }
            let st = self.driver.lock();
            let idle = st.live_connections == 0;
            let idle_for = st.idle_since.map_or(Duration::ZERO, |t| t.elapsed());
            if idle
                && (st.shutdown_requested || self.idle_exit.is_some_and(|limit| idle_for >= limit))
            {
                tracing::info!(endpoint = %self.endpoint, "binder driver exiting: no process connected");
                return Ok(());
            }
        }
    }

    /// Decides on a new connection by the credentials the kernel recorded for it, before any
    /// thread is spent on it: users other than the owner and root are refused unless the
    /// instance is shared, and every user's connections are bounded.
    fn admit(&self, sock: OwnedFd) {
        let cred = match sys::peer_cred(&sock) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("cannot read a connection's credentials: {e}");
                return;
            }
        };
        let mut st = self.driver.lock();
        if !st.access.shared && !st.is_admin(cred.uid) {
            drop(st);
            tracing::info!(
                uid = cred.uid,
                pid = cred.pid,
                "refusing a connection: the instance is not shared"
            );
            reply(&sock, Err(Errno::EACCES), &[], &[]);
            return;
        }
        if !st.admit_connection(cred.uid, true) {
            drop(st);
            tracing::warn!(uid = cred.uid, "refusing a connection: limit reached");
            reply(&sock, Err(Errno::EAGAIN), &[], &[]);
            return;
        }
        st.live_connections += 1;
        drop(st);
        let driver = self.driver.clone();
        let ignore_own = self.idle_ignores_own_process;
        let spawned = std::thread::Builder::new()
            .name("binderd-conn".into())
            .stack_size(DRIVER_THREAD_STACK)
            .spawn(move || serve_connection(&driver, sock, cred, ignore_own));
        if let Err(e) = spawned {
            tracing::error!("cannot start a driver thread: {e}");
            let mut st = self.driver.lock();
            st.connection_closed(cred.uid, true);
            drop(st);
            connection_ended(&self.driver);
        }
    }
}

fn connection_ended(driver: &Driver) {
    let mut st = driver.lock();
    st.live_connections = st.live_connections.saturating_sub(1);
    if st.live_connections == 0 {
        st.idle_since = Some(Instant::now());
    }
}

/// Answers a request on a process or new connection: success with `payload` and `fds`, or the
/// errno.
fn reply(sock: &OwnedFd, ret: Result<(), Errno>, payload: &[u8], fds: &[OwnedFd]) {
    let mut out = Vec::new();
    encode_reply(crate::ret(ret), payload, &mut out);
    if let Err(e) = sys::send_datagram(sock, &out, fds, true) {
        tracing::debug!("reply to a closed connection: {e}");
    }
}

/// Serves one admitted connection until it closes, then gives back what it was counted for.
fn serve_connection(driver: &Arc<Driver>, sock: OwnedFd, cred: PeerCred, ignore_own: bool) {
    let (still_live, identified) = serve_first(driver, &sock, cred, ignore_own);
    driver.lock().connection_closed(cred.uid, !identified);
    if still_live {
        connection_ended(driver);
    }
}

/// Reads the first message and serves what it makes of the connection. Returns whether the
/// connection still counts as live (debug connections stop counting as soon as they identify
/// themselves, and so do the driver's own process's when `ignore_own`), and whether it
/// identified itself.
fn serve_first(
    driver: &Arc<Driver>,
    sock: &OwnedFd,
    cred: PeerCred,
    ignore_own: bool,
) -> (bool, bool) {
    if !sys::wait_readable(sock, FIRST_MESSAGE_TIMEOUT).unwrap_or(false) {
        return (true, false);
    }
    let mut buf = sys::RecvBuffer::new(MAX_MESSAGE);
    let first = match sys::recv_datagram(sock, &mut buf) {
        Ok(Some(d)) if !d.truncated => d,
        _ => return (true, false),
    };
    match ProcRequest::decode(&buf.data[..first.len]) {
        Some(ProcRequest::Hello {
            version,
            flags,
            revision,
        }) if version == HELLO_VERSION && revision == UD_REVISION => {
            let own = ignore_own && cred.pid == std::process::id();
            let served = serve_hello(driver, sock, cred, own, flags, first.fds, &mut buf);
            // The driver's own process stopped counting once served; a refused one never did.
            (!(served && own), true)
        }
        Some(ProcRequest::Debug { query }) => {
            driver.lock().connection_identified(cred.uid);
            connection_ended(driver);
            serve_debug(driver, sock, query, cred.uid);
            (false, true)
        }
        Some(ProcRequest::Hello {
            version, revision, ..
        }) => {
            tracing::info!(
                "process speaks protocol version {version} revision {revision}, not \
                 {HELLO_VERSION} revision {UD_REVISION}"
            );
            reply(sock, Err(Errno::EPROTO), &UD_REVISION.to_le_bytes(), &[]);
            (true, false)
        }
        _ => {
            reply(sock, Err(Errno::EPROTO), &[], &[]);
            (true, false)
        }
    }
}

/// A process's hello: checks its memory file, records the process and serves its connection
/// until the process dies. `own`: the driver's own process, which stops counting as live
/// here. `false` when the hello is refused.
fn serve_hello(
    driver: &Arc<Driver>,
    sock: &OwnedFd,
    cred: PeerCred,
    own: bool,
    flags: u32,
    fds: Vec<OwnedFd>,
    buf: &mut sys::RecvBuffer,
) -> bool {
    driver.lock().connection_identified(cred.uid);
    let mut fds = fds.into_iter();
    let mut mem = fds.next();
    if fds.next().is_some() || mem.as_ref().is_some_and(|m| !sys::is_procfs(m)) {
        tracing::info!(
            pid = cred.pid,
            "refusing a hello: its file is not on procfs"
        );
        reply(sock, Err(Errno::EINVAL), &[], &[]);
        return false;
    }
    if mem
        .as_ref()
        .is_some_and(|m| !sys::is_memory_file_of(m, cred.pid))
    {
        // Another procfs file, or the process's own seen through another procfs (a
        // process in another pid namespace): never read. The process can still send
        // what it builds in its send arena.
        tracing::warn!(
            pid = cred.pid,
            "the memory file of a hello is not /proc/{}/mem here: not used",
            cred.pid
        );
        mem = None;
    }
    let id = {
        let mut st = driver.lock();
        let id = st.new_proc(cred.pid, cred.uid, cred.gid, mem);
        if let Some(p) = st.procs.get_mut(&id) {
            p.no_reply_complete = flags & HELLO_FLAG_NO_REPLY_COMPLETE != 0;
        }
        id
    };
    tracing::debug!(pid = cred.pid, uid = cred.uid, "process connected");
    if own {
        connection_ended(driver);
    }
    reply(sock, Ok(()), &std::process::id().to_le_bytes(), &[]);
    serve_process(driver, id, sock, buf);
    true
}

/// A process connection: `mmap`, arena, threads; end of file is the process's death.
fn serve_process(driver: &Arc<Driver>, id: ProcId, sock: &OwnedFd, buf: &mut sys::RecvBuffer) {
    loop {
        let msg = match sys::recv_datagram(sock, buf) {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(e) => {
                tracing::debug!("process connection error: {e}");
                break;
            }
        };
        if msg.truncated {
            reply(sock, Err(Errno::EMSGSIZE), &[], &[]);
            continue;
        }
        let mut fds = msg.fds.into_iter();
        match ProcRequest::decode(&buf.data[..msg.len]) {
            Some(ProcRequest::Mmap { size }) => match driver.mmap(id, size) {
                Ok((fd, granted)) => reply(sock, Ok(()), &granted.to_le_bytes(), &[fd]),
                Err(e) => reply(sock, Err(e), &[], &[]),
            },
            Some(ProcRequest::MmapAddr { addr }) => {
                reply(sock, driver.mmap_addr(id, addr), &[], &[])
            }
            Some(ProcRequest::RegisterArena { addr, size }) => reply(
                sock,
                driver.register_arena(id, addr, size, fds.next()),
                &[],
                &[],
            ),
            Some(
                req @ (ProcRequest::NewThread { tid } | ProcRequest::NewThreadMailbox { tid }),
            ) => match driver.new_thread(
                id,
                tid,
                matches!(req, ProcRequest::NewThreadMailbox { .. }),
            ) {
                Ok((conn, theirs)) => {
                    // The connection goes to the new thread through a slot, so that it can be
                    // taken back and closed properly if no thread can be started.
                    let slot = Arc::new(Mutex::new(Some(conn)));
                    let (d, taken) = (driver.clone(), slot.clone());
                    let spawned = std::thread::Builder::new()
                        .name(format!("binderd-t{tid}"))
                        .stack_size(DRIVER_THREAD_STACK)
                        .spawn(move || {
                            let conn = taken.lock().unwrap_or_else(|e| e.into_inner()).take();
                            if let Some(conn) = conn {
                                serve_thread(&d, conn);
                            }
                        });
                    match spawned {
                        Ok(_) => reply(sock, Ok(()), &[], &theirs),
                        Err(e) => {
                            tracing::error!("cannot start a driver thread: {e}");
                            let conn = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
                            if let Some(conn) = conn {
                                driver.thread_not_served(conn);
                            }
                            reply(sock, Err(Errno::EAGAIN), &[], &[]);
                        }
                    }
                }
                Err(e) => reply(sock, Err(e), &[], &[]),
            },
            // A reply where a request belongs (the driver never sends requests): the peer is
            // not a process; never answer it.
            None if is_reply_op(&buf.data[..msg.len]) => break,
            _ => reply(sock, Err(Errno::EINVAL), &[], &[]),
        }
    }
    send_all(driver.proc_gone(id));
}

/// Whether a datagram starts with one of the driver's own reply opcodes.
fn is_reply_op(bytes: &[u8]) -> bool {
    bytes
        .get(..4)
        .is_some_and(|op| op == OP_REPLY.to_le_bytes() || op == OP_IOCTL_DONE.to_le_bytes())
}

/// A thread connection: ioctls until end of file (the thread's exit).
fn serve_thread(driver: &Arc<Driver>, mut conn: ThreadConn) {
    if conn.chan.mailbox.is_some() {
        serve_mailbox(driver, &mut conn);
    } else {
        serve_socket(driver, &mut conn);
    }
    send_all(driver.thread_eof(&mut conn));
    conn.chan.shutdown();
}

/// The requests of a socket thread connection, one datagram each.
fn serve_socket(driver: &Arc<Driver>, conn: &mut ThreadConn) {
    let mut buf = sys::RecvBuffer::new(MAX_MESSAGE);
    loop {
        let msg = match sys::recv_datagram(&conn.chan.sock, &mut buf) {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(e) => {
                tracing::debug!("thread connection error: {e}");
                break;
            }
        };
        let bytes = &buf.data[..msg.len];
        let error = msg.truncated.then_some(Errno::EMSGSIZE);
        if serve_request(driver, conn, bytes, msg.fds, error) == Next::Close {
            break;
        }
    }
}

/// The requests of a mailbox thread connection: each is copied out of the mailbox once and
/// served as the same datagram on a socket would be; its files come from the socket.
fn serve_mailbox(driver: &Arc<Driver>, conn: &mut ThreadConn) {
    let chan = conn.chan.clone();
    let Some(mailbox) = &chan.mailbox else {
        return;
    };
    let key = match driver.watcher.add(&chan) {
        Ok(key) => key,
        Err(e) => {
            tracing::error!("cannot watch a thread connection: {e}");
            return;
        }
    };
    let mut poller = Poller::new(&driver.poll_gate);
    // A fresh mailbox: its first request may have been posted before this thread started.
    let mut last = 0;
    let mut bytes = Vec::with_capacity(4096);
    let mut cmsg = binder_sys::ud::sock::cmsg_space();
    // A datagram was queued on the socket at the last timeout with no request since.
    let mut unclaimed = false;
    loop {
        let stop = || chan.is_closed();
        // Bounded: the request sequence is the process's to write, so a stop's wake-up could be
        // undone before this thread sleeps; its own flag is looked at again at least this often.
        match mailbox.wait(
            Slot::Request,
            &mut last,
            &mut poller,
            Some(MAILBOX_TICK),
            &stop,
        ) {
            Waited::Posted => unclaimed = false,
            Waited::TimedOut => {
                // Files sent for a request that never came (its own sockets among them, they
                // would keep its end of file from ever arriving): after two quiet ticks, a
                // protocol violation.
                if sys::has_datagram(&chan.sock) {
                    if unclaimed {
                        tracing::info!("a thread sent files no request claims; closing it");
                        break;
                    }
                    unclaimed = true;
                }
                continue;
            }
            Waited::Stopped => break,
        }
        let (fds, error) = match mailbox.read(Slot::Request, &mut bytes) {
            Ok(flags) if flags & FLAG_FILES != 0 => match take_files(&chan.sock, &mut cmsg) {
                Some(fds) => (fds, None),
                None => (Vec::new(), Some(Errno::EINVAL)),
            },
            Ok(_) => (Vec::new(), None),
            Err(SlotError::TooLong(_)) => {
                bytes.clear();
                (Vec::new(), Some(Errno::EMSGSIZE))
            }
        };
        if serve_request(driver, conn, &bytes, fds, error) == Next::Close {
            break;
        }
    }
    driver.watcher.remove(key, &chan);
}

/// The files of a mailbox request: the `OP_FILES` datagram the thread sent before posting it,
/// already queued. `None` if there is none, or it is malformed or cut short (the request is then
/// refused).
fn take_files(sock: &OwnedFd, cmsg: &mut Vec<u8>) -> Option<Vec<OwnedFd>> {
    match mailbox::recv_files(sock, cmsg, MsgFlags::MSG_DONTWAIT) {
        Ok(Some((fds, false))) => Some(fds),
        _ => None,
    }
}

/// One request of a thread connection (the bytes of its datagram, its files, or the error that
/// refuses it whatever it says); whether the connection goes on.
fn serve_request(
    driver: &Arc<Driver>,
    conn: &mut ThreadConn,
    bytes: &[u8],
    fds: Vec<OwnedFd>,
    error: Option<Errno>,
) -> Next {
    if is_reply_op(bytes) {
        tracing::info!("a thread connection sent a reply as a request; closing it");
        return Next::Close;
    }
    let is_ioctl = bytes.get(..4) == Some(&OP_IOCTL.to_le_bytes()[..]);
    let (out, next) = match (error, ThreadRequest::decode(bytes)) {
        (Some(errno), _) => driver.bad_request(conn, is_ioctl, errno),
        (None, Some(ThreadRequest::Ioctl { cmd, arg })) => driver.ioctl(conn, cmd, arg, fds),
        (None, Some(ThreadRequest::FdFixup { fds })) => driver.fd_fixup(conn, &fds),
        (None, None) => driver.bad_request(conn, is_ioctl, Errno::EINVAL),
    };
    send_all(out);
    next
}

/// A debug connection: one query, answered in parts that end with an empty one. The state
/// is whole for the instance's administrators and reduced to the asking user's own processes
/// for anyone else; counters and shutdown are for administrators only.
fn serve_debug(driver: &Driver, sock: &OwnedFd, query: u32, uid: u32) {
    sys::set_send_timeout(sock, DEBUG_SEND_TIMEOUT);
    let admin = driver.lock().is_admin(uid);
    let text = match DebugQuery::from_u32(query) {
        Some(DebugQuery::State) if admin => serde_json::to_string(&driver.dump(None)),
        Some(DebugQuery::State) => {
            // Other users: one query at a time each, over their own processes only.
            let busy = {
                let mut st = driver.lock();
                let usage = st.usage.entry(uid).or_default();
                std::mem::replace(&mut usage.debugging, true)
            };
            if busy {
                reply(sock, Err(Errno::EAGAIN), &[], &[]);
                return;
            }
            let state: DriverState = driver.dump(Some(uid));
            if let Some(u) = driver.lock().usage.get_mut(&uid) {
                u.debugging = false;
            }
            serde_json::to_string(&state)
        }
        Some(DebugQuery::Stats | DebugQuery::Shutdown) if !admin => {
            tracing::info!(
                uid,
                "refusing a debug query {query} of a user who does not administer the instance"
            );
            reply(sock, Err(Errno::EACCES), &[], &[]);
            return;
        }
        Some(DebugQuery::Stats) => serde_json::to_string(&driver.stats()),
        Some(DebugQuery::Shutdown) => {
            tracing::info!("shutdown requested");
            driver.lock().shutdown_requested = true;
            Ok(String::new())
        }
        None => {
            reply(sock, Err(Errno::EINVAL), &[], &[]);
            return;
        }
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            tracing::error!("cannot serialize the state: {e}");
            reply(sock, Err(Errno::EIO), &[], &[]);
            return;
        }
    };
    for part in text.as_bytes().chunks(MAX_MESSAGE - 8) {
        if let Err(e) = send_part(sock, part) {
            tracing::debug!("debug reader went away: {e}");
            return;
        }
    }
    let _ = send_part(sock, &[]);
}

/// One part of a debug answer; blocking (bounded by the send timeout) so that a large dump
/// reaches a slow reader, never stalling forever on one that does not read.
fn send_part(sock: &OwnedFd, part: &[u8]) -> std::io::Result<()> {
    let mut out = Vec::new();
    encode_reply(0, part, &mut out);
    sys::send_datagram(sock, &out, &[], false)
}
