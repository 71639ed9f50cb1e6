//! Sockets and driver threads: the listener, process connections, thread connections and
//! debug connections. One driver thread per connection, blocked in `recvmsg`.

use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use binder_sys::ud::state::DriverState;
use binder_sys::ud::{
    DebugQuery, HELLO_FLAG_NO_REPLY_COMPLETE, HELLO_VERSION, MAX_MESSAGE, OP_IOCTL, ProcRequest,
    ThreadRequest, encode_reply, socket_name,
};

use crate::driver::{Driver, Next, ThreadConn, send_all};
use crate::model::ProcId;
use crate::sys;
use crate::{DriverConfig, DriverError};

/// How long a new connection may take to say what it is.
const FIRST_MESSAGE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the accept loop checks its exit conditions.
const TICK: Duration = Duration::from_millis(100);
const DRIVER_THREAD_STACK: usize = 512 * 1024;

/// A bound driver instance, ready to serve.
pub struct Server {
    listener: OwnedFd,
    driver: Arc<Driver>,
    idle_exit: Option<Duration>,
    idle_ignores_own_process: bool,
    instance: String,
}

impl Server {
    /// Binds `\0binder-ud/<instance>`. Fails fast with `AlreadyRunning` if another driver
    /// has the name.
    pub fn bind(config: DriverConfig) -> Result<Server, DriverError> {
        let name = socket_name(&config.instance);
        if config.instance.is_empty() || name.len() > 100 || name.contains('\0') {
            return Err(DriverError::InvalidInstance(config.instance));
        }
        let listener = sys::bind_listener(&name).map_err(|e| match e.raw_os_error() {
            Some(libc::EADDRINUSE) => DriverError::AlreadyRunning,
            _ => DriverError::Io {
                context: "binding the driver socket",
                source: e,
            },
        })?;
        let driver = Arc::new(Driver::new(&config.instance));
        driver.lock().idle_since = Some(Instant::now());
        Ok(Server {
            listener,
            driver,
            idle_exit: config.idle_exit,
            idle_ignores_own_process: config.idle_ignores_own_process,
            instance: config.instance,
        })
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
        tracing::info!(instance = %self.instance, pid = std::process::id(), "binder driver listening");
        loop {
            let readable =
                sys::wait_readable(&self.listener, TICK).map_err(|e| DriverError::Io {
                    context: "waiting for connections",
                    source: e,
                })?;
            if readable {
                match sys::accept(&self.listener) {
                    Ok(sock) => self.spawn_connection(sock),
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
                tracing::info!(instance = %self.instance, "binder driver exiting: no process connected");
                return Ok(());
            }
        }
    }

    fn spawn_connection(&self, sock: OwnedFd) {
        self.driver.lock().live_connections += 1;
        let driver = self.driver.clone();
        let ignore_own = self.idle_ignores_own_process;
        let spawned = std::thread::Builder::new()
            .name("binderd-conn".into())
            .stack_size(DRIVER_THREAD_STACK)
            .spawn(move || {
                let counted = serve_connection(&driver, sock, ignore_own);
                if counted {
                    connection_ended(&driver);
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start a driver thread: {e}");
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

fn reply(sock: &OwnedFd, ret: i32, payload: &[u8], fds: &[OwnedFd]) {
    let mut out = Vec::new();
    encode_reply(ret, payload, &mut out);
    if let Err(e) = sys::send_datagram(sock, &out, fds, false) {
        tracing::debug!("reply to a closed connection: {e}");
    }
}

/// Serves one accepted connection. Returns whether it still counts as a live connection
/// (debug connections stop counting as soon as they identify themselves, and so do the
/// driver's own process's when `ignore_own`).
fn serve_connection(driver: &Arc<Driver>, sock: OwnedFd, ignore_own: bool) -> bool {
    if !sys::wait_readable(&sock, FIRST_MESSAGE_TIMEOUT).unwrap_or(false) {
        return true;
    }
    let mut buf = sys::RecvBuffer::new(MAX_MESSAGE);
    let first = match sys::recv_datagram(&sock, &mut buf) {
        Ok(Some(d)) if !d.truncated => d,
        _ => return true,
    };
    match ProcRequest::decode(&buf.data[..first.len]) {
        Some(ProcRequest::Hello { version, flags }) if version == HELLO_VERSION => {
            let id = match sys::peer_identity(&sock) {
                Ok(peer) => {
                    let mut st = driver.lock();
                    let id = st.new_proc(peer.pid, peer.uid, peer.gid, peer.pidfd);
                    if let Some(p) = st.procs.get_mut(&id) {
                        p.no_reply_complete = flags & HELLO_FLAG_NO_REPLY_COMPLETE != 0;
                    }
                    tracing::debug!(pid = peer.pid, uid = peer.uid, "process connected");
                    id
                }
                Err(e) => {
                    tracing::warn!("cannot read the peer's credentials: {e}");
                    reply(&sock, -libc::EPROTO, &[], &[]);
                    return true;
                }
            };
            let own = ignore_own
                && driver
                    .lock()
                    .procs
                    .get(&id)
                    .is_some_and(|p| p.pid == std::process::id());
            if own {
                connection_ended(driver);
            }
            reply(&sock, 0, &std::process::id().to_le_bytes(), &[]);
            serve_process(driver, id, &sock, &mut buf);
            !own
        }
        Some(ProcRequest::Debug { query }) => {
            connection_ended(driver);
            serve_debug(driver, &sock, query);
            false
        }
        Some(ProcRequest::Hello { version, .. }) => {
            tracing::info!("process speaks protocol version {version}, not {HELLO_VERSION}");
            reply(&sock, -libc::EPROTO, &[], &[]);
            true
        }
        _ => {
            reply(&sock, -libc::EPROTO, &[], &[]);
            true
        }
    }
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
            reply(sock, -libc::EMSGSIZE, &[], &[]);
            continue;
        }
        let mut fds = msg.fds.into_iter();
        match ProcRequest::decode(&buf.data[..msg.len]) {
            Some(ProcRequest::Mmap { size }) => match driver.mmap(id, size) {
                Ok((fd, granted)) => reply(sock, 0, &granted.to_le_bytes(), &[fd]),
                Err(e) => reply(sock, e, &[], &[]),
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
            Some(ProcRequest::NewThread { tid }) => match driver.new_thread(id, tid, fds.next()) {
                Ok(conn) => {
                    let d = driver.clone();
                    let spawned = std::thread::Builder::new()
                        .name(format!("binderd-t{tid}"))
                        .stack_size(DRIVER_THREAD_STACK)
                        .spawn(move || serve_thread(&d, conn));
                    match spawned {
                        Ok(_) => reply(sock, 0, &[], &[]),
                        Err(e) => {
                            tracing::error!("cannot start a driver thread: {e}");
                            reply(sock, -libc::EAGAIN, &[], &[]);
                        }
                    }
                }
                Err(e) => reply(sock, e, &[], &[]),
            },
            _ => reply(sock, -libc::EINVAL, &[], &[]),
        }
    }
    send_all(driver.proc_gone(id));
}

/// A thread connection: ioctls until end of file (the thread's exit).
fn serve_thread(driver: &Arc<Driver>, mut conn: ThreadConn) {
    let mut buf = sys::RecvBuffer::new(MAX_MESSAGE);
    loop {
        let msg = match sys::recv_datagram(&conn.sock, &mut buf) {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(e) => {
                tracing::debug!("thread connection error: {e}");
                break;
            }
        };
        let bytes = &buf.data[..msg.len];
        let (out, next) = if msg.truncated {
            let is_ioctl = bytes.get(..4) == Some(&OP_IOCTL.to_le_bytes()[..]);
            driver.bad_request(&mut conn, is_ioctl, libc::EMSGSIZE)
        } else {
            match ThreadRequest::decode(bytes) {
                Some(ThreadRequest::Ioctl { cmd, arg }) => driver.ioctl(&mut conn, cmd, arg),
                Some(ThreadRequest::FdFixup { fds }) => driver.fd_fixup(&mut conn, &fds),
                None => {
                    let is_ioctl = bytes.get(..4) == Some(&OP_IOCTL.to_le_bytes()[..]);
                    driver.bad_request(&mut conn, is_ioctl, libc::EINVAL)
                }
            }
        };
        send_all(out);
        if next == Next::Close {
            break;
        }
    }
    send_all(driver.thread_eof(&mut conn));
    sys::shutdown(&conn.sock);
}

/// A debug connection: one query, answered in parts that end with an empty one.
fn serve_debug(driver: &Driver, sock: &OwnedFd, query: u32) {
    let text = match DebugQuery::from_u32(query) {
        Some(DebugQuery::State) => {
            let state: DriverState = driver.lock().dump();
            serde_json::to_string(&state)
        }
        Some(DebugQuery::Stats) => serde_json::to_string(&driver.lock().stats.snapshot()),
        Some(DebugQuery::Shutdown) => {
            tracing::info!("shutdown requested");
            driver.lock().shutdown_requested = true;
            Ok(String::new())
        }
        None => {
            reply(sock, -libc::EINVAL, &[], &[]);
            return;
        }
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            tracing::error!("cannot serialize the state: {e}");
            reply(sock, -libc::EIO, &[], &[]);
            return;
        }
    };
    for part in text.as_bytes().chunks(MAX_MESSAGE - 8) {
        reply(sock, 0, part, &[]);
    }
    reply(sock, 0, &[], &[]);
}
