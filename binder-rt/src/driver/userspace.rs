//! The process side of the userspace driver (`binderd`): the kernel driver's interface carried
//! over Unix sockets (protocol: `binder_sys::ud`, design: `docs/userspace-driver.md`).
//!
//! If no driver listens under the instance name, the first process starts one: an installed
//! `binderd` (beside the program or on `PATH`), else, with the `embedded-driver` feature, its
//! own binary re-executed with `BINDER_RT_SPAWN_DRIVER` set; a constructor in this crate catches
//! that before `main` and runs the driver instead of the program.

use std::io;
use std::num::NonZeroUsize;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use std::sync::OnceLock;

use binder_sys::ud::mailbox::{self, FLAG_FILES, Mailbox, PollGate, Poller, Slot, Waited};
use binder_sys::ud::{self, MAX_MESSAGE, sock};
use binder_sys::{BINDER_CURRENT_PROTOCOL_VERSION, BinderWriteRead, Reader, Wire};
use nix::errno::Errno;
use nix::sys::mman::{self, MapFlags, ProtFlags};
use nix::sys::socket::MsgFlags;

use super::Mapping;

/// Environment variable that turns a re-executed binary into the driver for that instance.
pub const SPAWN_ENV: &str = "BINDER_RT_SPAWN_DRIVER";
/// How long an auto-started driver stays up with no process connected.
pub const AUTO_DRIVER_IDLE_EXIT: Duration = Duration::from_secs(3);
/// How long a process waits for a driver it started to listen.
const START_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) struct UserspaceDriver {
    proc_sock: OwnedFd,
}

/// One thread's connection to the driver, with its reusable message buffers.
pub(crate) struct UdThread {
    sock: OwnedFd,
    /// The thread's mailbox, where requests and answers go (`None`: on the socket).
    mailbox: Option<ThreadMailbox>,
    send_buf: Vec<u8>,
    recv_buf: Vec<u8>,
    cmsg_buf: Vec<u8>,
}

/// A thread's mailbox and where its reader stands.
struct ThreadMailbox {
    mailbox: Mailbox,
    last_answer: u32,
    poller: Poller<'static>,
}

/// Environment variable: `0` makes new thread connections carry requests on their socket
/// instead of a mailbox (for comparisons).
pub const MAILBOX_ENV: &str = "BINDER_UD_MAILBOX";
/// How long a thread sleeps on its mailbox before it checks that the driver is still there.
const LIVENESS_CHECK: Duration = Duration::from_secs(1);

/// The polling allowance of this process's threads: a quarter of the usable cores (none with
/// fewer than four), shared by all of them (mailbox waits and idle async call threads).
pub(crate) fn poll_gate() -> &'static PollGate {
    static GATE: OnceLock<PollGate> = OnceLock::new();
    GATE.get_or_init(|| PollGate::for_this_process(4))
}

/// The uid this process runs as (the owner of its default driver instances).
fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Connects to the instance's listening socket and checks who listens there before anything
/// is sent: this process's own user, root, or, for a filesystem socket, the owner of the socket
/// file (an administrator's service user). Anyone can create an abstract socket of any name,
/// so a driver of another user is never trusted with this process's memory or traffic.
pub(crate) fn connect(instance: &str) -> io::Result<OwnedFd> {
    let endpoint = ud::Endpoint::of(instance, euid());
    let fd = sock::connect(&endpoint)?;
    let listener = nix::sys::socket::getsockopt(&fd, nix::sys::socket::sockopt::PeerCredentials)?;
    let me = euid();
    let file_owner = match &endpoint {
        ud::Endpoint::Path(path) => {
            use std::os::unix::fs::MetadataExt;
            std::fs::symlink_metadata(path).ok().map(|m| m.uid())
        }
        ud::Endpoint::Abstract(_) => None,
    };
    let trusted = listener.uid() == me || listener.uid() == 0 || file_owner == Some(listener.uid());
    if !trusted {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "the userspace binder driver at {endpoint} is run by uid {} (pid {}), not by this \
                 user (uid {me}) or root: refusing to use it. Another user may have taken the \
                 name; stop that process, or choose another instance with \
                 BINDER_DEVICE=userspace:NAME",
                listener.uid(),
                listener.pid()
            ),
        ));
    }
    Ok(fd)
}

fn check(ret: i32, what: &str) -> io::Result<()> {
    if ret < 0 {
        let e = io::Error::from_raw_os_error(-ret);
        let why = match Errno::from_raw(-ret) {
            Errno::EACCES => " (this user may not use the instance: it belongs to another user \
                             and is not shared)"
                .to_string(),
            Errno::EAGAIN => " (a limit of the driver is reached)".to_string(),
            _ => String::new(),
        };
        return Err(io::Error::new(
            e.kind(),
            format!("binder driver refused {what}: {e}{why}"),
        ));
    }
    Ok(())
}

/// Names the driver a program starts when it finds none: a `binderd` path, or `embedded` for
/// the driver built into this program (the `embedded-driver` feature). Unset: an installed
/// `binderd` if there is one, else the embedded driver.
pub const BINDERD_ENV: &str = "BINDERD";

/// An installed `binderd`: the one [`BINDERD_ENV`] names, else beside this program's
/// executable, else on `PATH`.
fn installed_binderd() -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    match std::env::var_os(BINDERD_ENV) {
        Some(v) if v == "embedded" => return None,
        Some(v) if !v.is_empty() => return Some(v.into()),
        _ => {}
    }
    let executable = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("binderd")));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("binderd"));
    beside.into_iter().chain(on_path).find(|p| executable(p))
}

/// Starts a driver (with its service manager) for `instance`: an installed `binderd` if there
/// is one, else this binary re-executed (see [`SPAWN_ENV`]) when binder-rt has its
/// `embedded-driver` feature.
fn spawn_driver(instance: &str) -> io::Result<()> {
    use std::os::unix::process::CommandExt;
    let mut cmd = match installed_binderd() {
        Some(binderd) => {
            tracing::debug!(binderd = %binderd.display(), "starting the installed binderd");
            let mut cmd = std::process::Command::new(binderd);
            cmd.args(["--instance", instance, "--idle-exit-secs"])
                .arg(AUTO_DRIVER_IDLE_EXIT.as_secs().to_string())
                .env("RUST_LOG", "warn");
            cmd
        }
        None if cfg!(feature = "embedded-driver") => {
            let mut cmd = std::process::Command::new(std::env::current_exe()?);
            cmd.env(SPAWN_ENV, instance).env_remove("RUST_LOG");
            cmd
        }
        None => {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "no userspace binder driver is running for instance {instance:?}, and this \
                     program cannot start one: install binderd (from the binder-cli package) \
                     on PATH or beside the program, start one (binderd --instance {instance}), \
                     or enable binder-rt's \"embedded-driver\" feature"
                ),
            ));
        }
    };
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .process_group(0);
    match std::env::var_os("BINDER_DRIVER_LOG") {
        Some(path) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            cmd.stderr(f);
        }
        None => {
            cmd.stderr(std::process::Stdio::null());
        }
    }
    let mut child = cmd.spawn()?;
    // Reap it whenever it exits, so it never lingers as a zombie of ours.
    std::thread::Builder::new()
        .name("binderd-reaper".into())
        .spawn(move || {
            let _ = child.wait();
        })?;
    Ok(())
}

/// The body of a re-executed binary that became a driver instance: the driver, and beside it
/// the service manager as its context manager. Returns the exit code: 0 when the driver exits
/// idle or another process won the race to start it.
#[cfg(feature = "embedded-driver")]
pub(crate) fn run_spawned_driver(instance: &str) -> i32 {
    let config = binder_driver::DriverConfig {
        idle_exit: Some(AUTO_DRIVER_IDLE_EXIT),
        ..binder_driver::DriverConfig::new(instance)
    };
    match super::serve_instance(config, true) {
        Ok(()) | Err(binder_driver::DriverError::AlreadyRunning) => 0,
        Err(e) => {
            eprintln!("binderd: {e}");
            1
        }
    }
}

/// Connects to `instance`, starting the driver if nobody listens yet (per-user instances
/// only: a filesystem socket belongs to a driver its administrator runs).
fn connect_or_start(instance: &str) -> io::Result<OwnedFd> {
    if instance.starts_with('/') {
        return connect(instance).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("no userspace binder driver listens at {instance}: {e}"),
            )
        });
    }
    match connect(instance) {
        Ok(fd) => return Ok(fd),
        Err(e)
            if matches!(
                e.raw_os_error().map(Errno::from_raw),
                Some(Errno::ECONNREFUSED | Errno::ENOENT)
            ) => {}
        Err(e) => return Err(e),
    }
    tracing::debug!(instance, "no userspace binder driver running; starting one");
    spawn_driver(instance)?;
    let deadline = Instant::now() + START_TIMEOUT;
    let mut delay = Duration::from_millis(1);
    loop {
        match connect(instance) {
            Ok(fd) => return Ok(fd),
            Err(e) if Instant::now() >= deadline => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("userspace binder driver {instance:?} did not start: {e}"),
                ));
            }
            Err(_) => {
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_millis(50));
            }
        }
    }
}

impl UserspaceDriver {
    pub fn open(
        instance: &str,
        vm_size: usize,
        start: bool,
    ) -> io::Result<(UserspaceDriver, Mapping)> {
        let proc_sock = if start {
            connect_or_start(instance)?
        } else {
            connect(instance)?
        };
        let hello = ud::ProcRequest::Hello {
            version: BINDER_CURRENT_PROTOCOL_VERSION as u32,
            // This runtime never waits for the completion of its replies (a reply goes out
            // with the read for the next work), so it asks the driver not to wake it for them.
            flags: ud::HELLO_FLAG_NO_REPLY_COMPLETE,
            revision: ud::UD_REVISION,
        };
        // Parcels are built in the send arena, which the driver copies from; for data
        // elsewhere (a full arena, a Parcel of the caller's) the driver reads our memory
        // through this file, which the kernel ties to our address space as it is now. No
        // ptrace permission is given to anyone.
        let mem = nix::fcntl::open(
            "/proc/self/mem",
            nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        );
        if let Err(e) = &mem {
            tracing::debug!("no /proc/self/mem ({e}): only Parcels in the send arena can be sent");
        }
        let mem_fds: Vec<RawFd> = mem.iter().map(|f| f.as_raw_fd()).collect();
        let (ret, payload, _) = sock::request(&proc_sock, &hello, &mem_fds)?;
        drop(mem);
        if ret == -(Errno::EPROTO as i32) {
            let theirs = Reader::new(&payload)
                .u32()
                .map_or("an older revision".to_string(), |r| format!("revision {r}"));
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "the userspace binder driver of instance {instance:?} speaks {theirs} of the \
                     protocol, this program revision {}: stop that driver (it exits when idle) \
                     or install a binderd built with this binder-rt",
                    ud::UD_REVISION
                ),
            ));
        }
        check(ret, "the connection")?;

        let mmap = ud::ProcRequest::Mmap {
            size: vm_size as u64,
        };
        let (ret, payload, mut fds) = sock::request(&proc_sock, &mmap, &[])?;
        check(ret, "mmap")?;
        let granted = Reader::new(&payload)
            .u64()
            .ok_or_else(|| io::Error::other("malformed mmap reply"))?
            as usize;
        let area = fds
            .pop()
            .ok_or_else(|| io::Error::other("binder driver sent no receive area"))?;
        let len =
            NonZeroUsize::new(granted).ok_or_else(|| io::Error::other("empty receive area"))?;
        // SAFETY: maps the driver's sealed memfd read-only and shared, so the driver's writes are
        // visible; the mapping is never unmapped (received buffers borrow it for the process's
        // life).
        let base = unsafe {
            mman::mmap(
                None,
                len,
                ProtFlags::PROT_READ,
                MapFlags::MAP_SHARED,
                &area,
                0,
            )
        }?;
        // As the kernel's binder mapping: not copied into a forked child (which may not use
        // binder, and must not read the parent's received buffers).
        // SAFETY: advice on the whole of the mapping just made; it changes no contents.
        unsafe { mman::madvise(base, granted, mman::MmapAdvise::MADV_DONTFORK) }?;
        let base = base.as_ptr();
        let addr = ud::ProcRequest::MmapAddr { addr: base as u64 };
        let (ret, _, _) = sock::request(&proc_sock, &addr, &[])?;
        check(ret, "the mapping address")?;
        Ok((
            UserspaceDriver { proc_sock },
            Mapping {
                base: base as usize,
                size: granted,
            },
        ))
    }

    /// Lets the driver map our send arena, so it copies Parcels built there with `memcpy`.
    pub(crate) fn register_arena(&self, arena: &crate::arena::SendArena) -> io::Result<()> {
        let m = ud::ProcRequest::RegisterArena {
            addr: arena.base() as u64,
            size: arena.size() as u64,
        };
        let (ret, _, _) = sock::request(&self.proc_sock, &m, &[arena.fd().as_raw_fd()])?;
        check(ret, "the send arena")
    }

    /// A new thread connection (the driver's `binder_thread` for the calling thread); the
    /// driver creates it and hands over our end.
    pub fn new_thread(&self) -> io::Result<UdThread> {
        let tid = nix::unistd::gettid().as_raw() as u32;
        let use_mailbox = std::env::var_os(MAILBOX_ENV).is_none_or(|v| v != "0");
        let m = if use_mailbox {
            ud::ProcRequest::NewThreadMailbox { tid }
        } else {
            ud::ProcRequest::NewThread { tid }
        };
        let (ret, _, fds) = sock::request(&self.proc_sock, &m, &[])?;
        check(ret, "a new thread")?;
        let mut fds = fds.into_iter();
        let sock = fds
            .next()
            .ok_or_else(|| io::Error::other("binder driver sent no thread connection"))?;
        let mailbox = match (use_mailbox, fds.next()) {
            (true, Some(fd)) => {
                let mailbox = Mailbox::map(&fd)?;
                Some(ThreadMailbox {
                    last_answer: mailbox.sequence(Slot::Answer),
                    mailbox,
                    poller: Poller::new(poll_gate()),
                })
            }
            (true, None) => return Err(io::Error::other("binder driver sent no mailbox")),
            (false, _) => None,
        };
        Ok(UdThread {
            sock,
            mailbox,
            send_buf: Vec::with_capacity(1024),
            recv_buf: Vec::new(),
            cmsg_buf: sock::cmsg_space(),
        })
    }
}

impl UdThread {
    /// One ioctl round trip; returns (ret, arg bytes, read bytes) borrowed from `recv_buf`, and
    /// the fds that came with it.
    fn ioctl_raw(
        &mut self,
        send_fds: &[RawFd],
        received_fds: &mut Vec<OwnedFd>,
        read_capacity: usize,
    ) -> io::Result<(i32, usize, usize, usize)> {
        let n = self.exchange(send_fds, received_fds, read_capacity)?;
        let done = ud::decode_ioctl_done(&self.recv_buf[..n])
            .ok_or_else(|| io::Error::other("malformed ioctl reply"))?;
        let arg_start = done.arg.as_ptr() as usize - self.recv_buf.as_ptr() as usize;
        let read_start = arg_start + done.arg.len();
        if done.nfds as usize != received_fds.len() {
            return Err(io::Error::other("binder driver sent a wrong number of fds"));
        }
        Ok((done.ret, arg_start, read_start, n))
    }

    /// Sends the request in `send_buf` with `send_fds` and receives the answer into `recv_buf`
    /// (its length is returned) with its files, through the mailbox or the socket.
    fn exchange(
        &mut self,
        send_fds: &[RawFd],
        received_fds: &mut Vec<OwnedFd>,
        read_capacity: usize,
    ) -> io::Result<usize> {
        let Some(mb) = &mut self.mailbox else {
            sock::send(&self.sock, &self.send_buf, send_fds, MsgFlags::empty())?;
            let need = 16 + binder_sys::WRITE_READ_SIZE + read_capacity;
            if self.recv_buf.len() < need {
                self.recv_buf.resize(need, 0);
            }
            let got = sock::recv(
                &self.sock,
                &mut self.recv_buf,
                &mut self.cmsg_buf,
                MsgFlags::empty(),
            )?
            .ok_or_else(gone)?;
            received_fds.extend(got.fds);
            if got.truncated {
                return Err(io::Error::other("oversized message from binder driver"));
            }
            return Ok(got.len);
        };
        mb.mailbox.post_with_files(
            Slot::Request,
            &self.sock,
            &self.send_buf,
            send_fds,
            MsgFlags::empty(),
        )?;
        loop {
            let closed = || mb.mailbox.is_closed();
            let timeout = Some(LIVENESS_CHECK);
            match mb.mailbox.wait(
                Slot::Answer,
                &mut mb.last_answer,
                &mut mb.poller,
                timeout,
                &closed,
            ) {
                Waited::Posted => break,
                Waited::Stopped => return Err(gone()),
                Waited::TimedOut if driver_gone(&self.sock) => return Err(gone()),
                Waited::TimedOut => {}
            }
        }
        let flags = mb
            .mailbox
            .read(Slot::Answer, &mut self.recv_buf)
            .map_err(io::Error::other)?;
        if flags & FLAG_FILES != 0 {
            match mailbox::recv_files(&self.sock, &mut self.cmsg_buf, MsgFlags::empty())? {
                Some((fds, false)) => received_fds.extend(fds),
                Some((_, true)) => {
                    return Err(io::Error::other("files from binder driver cut short"));
                }
                None => return Err(gone()),
            }
        }
        Ok(self.recv_buf.len())
    }

    /// `BINDER_WRITE_READ`; `fds` are the files of the fd objects of the transactions in
    /// `write` (sent with it as `SCM_RIGHTS`, with their numbers).
    pub fn write_read(
        &mut self,
        write: &[u8],
        read: &mut [u8],
        fds: &[RawFd],
    ) -> io::Result<(usize, usize)> {
        if fds.len() > ud::MAX_FDS_PER_MESSAGE {
            return Err(io::Error::from(Errno::EMFILE));
        }
        let chunk = write.len().min(MAX_MESSAGE - 64 - 4 * (1 + fds.len()));
        let bwr = BinderWriteRead {
            write_size: chunk as u64,
            write_consumed: 0,
            write_buffer: write.as_ptr() as u64,
            read_size: read.len() as u64,
            read_consumed: 0,
            read_buffer: read.as_mut_ptr() as u64,
        };
        ud::encode_write_read(&bwr, &write[..chunk], fds, &mut self.send_buf);
        let mut fds_in = Vec::new();
        let (ret, arg_start, read_start, n) = self.ioctl_raw(fds, &mut fds_in, read.len())?;
        if ret < 0 {
            return Err(io::Error::from_raw_os_error(-ret));
        }
        let out = BinderWriteRead::read(&self.recv_buf[arg_start..read_start])
            .ok_or_else(|| io::Error::other("malformed write_read reply"))?;
        let read_len = n - read_start;
        if read_len != out.read_consumed as usize || read_len > read.len() {
            return Err(io::Error::other(
                "binder driver returned an inconsistent read",
            ));
        }
        read[..read_len].copy_from_slice(&self.recv_buf[read_start..n]);
        if !fds_in.is_empty() {
            self.fix_up_fds(fds_in)?;
        }
        Ok((out.write_consumed as usize, read_len))
    }

    /// The transaction just read carries fds: they arrived as `SCM_RIGHTS`; tell the driver
    /// their numbers so it writes them into the buffer's fd slots (only it can write there).
    /// From then on they belong to the received Parcel, which closes them when dropped.
    fn fix_up_fds(&mut self, fds: Vec<OwnedFd>) -> io::Result<()> {
        let numbers: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
        ud::encode_fd_fixup(&numbers, &mut self.send_buf);
        let mut none = Vec::new();
        let n = self.exchange(&[], &mut none, 64)?;
        let (ret, _) = ud::decode_reply(&self.recv_buf[..n])
            .ok_or_else(|| io::Error::other("malformed fd fixup reply"))?;
        check(ret, "the fd fixup")?;
        // Ownership moves to the Parcel that reads the buffer (it finds them by number).
        for f in fds {
            std::mem::forget(f);
        }
        Ok(())
    }

    /// An ioctl other than `BINDER_WRITE_READ`: the argument structure travels inline and
    /// comes back as the driver wrote it.
    pub fn ioctl(&mut self, cmd: u32, arg: &mut [u8]) -> io::Result<()> {
        ud::encode_ioctl(cmd, arg, &mut self.send_buf);
        let mut fds = Vec::new();
        let (ret, arg_start, read_start, _) = self.ioctl_raw(&[], &mut fds, 0)?;
        if ret < 0 {
            return Err(io::Error::from_raw_os_error(-ret));
        }
        let out = &self.recv_buf[arg_start..read_start];
        if out.len() == arg.len() {
            arg.copy_from_slice(out);
        }
        Ok(())
    }
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "binder driver went away")
}

/// Whether the driver's end of a thread connection is closed (the driver exited or dropped it).
fn driver_gone(sock: &OwnedFd) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    // POLLHUP and POLLERR are always reported: the driver's end is closed or shut down.
    let mut fds = [PollFd::new(sock.as_fd(), PollFlags::empty())];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
        && fds[0]
            .revents()
            .is_some_and(|r| r.intersects(PollFlags::POLLHUP | PollFlags::POLLERR))
}

/// Runs a one-shot debug query against an instance and returns the driver's JSON answer.
#[cfg(feature = "introspect")]
pub fn debug_query(instance: &str, query: ud::DebugQuery) -> io::Result<String> {
    let (ret, text) = sock::debug_query(connect(instance)?, query)?;
    check(ret, "the debug query")?;
    Ok(text)
}
