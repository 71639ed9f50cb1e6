//! `driver_commands`: the userspace driver's command streams and ioctls, from fuzz input.
//!
//! One driver instance runs in the fuzzing process (`binder_driver::Server` on a thread), with
//! simulated processes (process connections of this process, each with its receive area mapped
//! read-only and a send arena):
//! - a **server**, the context manager, whose looper thread the harness drives like a minimal
//!   libbinder server: it takes references on the handles it receives, acknowledges reference
//!   and death work, and answers calls and frees buffers when the input says so (`Pump`) or at
//!   the end of the input; it has a second thread for calls the input makes from it;
//! - **clients** A (two threads) and B (one thread, a third party to A's objects), started
//!   when the input first uses them and killed at the end of each input (so their death, with
//!   whatever state the input left, is exercised too);
//! - a **probe** whose only thread asks `BINDER_VERSION` after every input: the driver must
//!   answer within [`HANG`] (the oracle for deadlocks and dead driver threads).
//!
//! Thread connections are socket or mailbox ones (chosen by the header byte and `NewThread`;
//! the server's second thread and the probe always use a mailbox), so every operation reaches
//! the driver through both transports.
//!
//! The input is a header byte, then a list of operations (see [`Op`]; [`Script`] encodes them
//! for the seed corpus). A raw command stream cannot know the harness's addresses, so `Transact`
//! builds transactions with real data and offsets arrays from fuzz bytes, and `Free` names
//! delivered buffers.
//!
//! Oracles besides "no panic anywhere, the driver's threads included" (libFuzzer's panic hook
//! aborts on a panic in any thread): every request that cannot block is answered within
//! [`HANG`]; the read bytes of a `BINDER_WRITE_READ` fit its `read_size` (but for the leading
//! `BR_NOOP`, written regardless, as the kernel does) and are whole `BR_*` items;
//! transactions are delivered inside the receiver's mapping with valid, translated objects; the
//! number of files received matches `nfds`; a dead process is released within [`HANG`]; the
//! driver keeps accepting processes; no file descriptors or threads leak over time.

use std::collections::VecDeque;
use std::ffi::c_void;
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use binder_sys::ud::{
    Endpoint, HELLO_FLAG_NO_REPLY_COMPLETE, HELLO_VERSION, OP_FD_FIXUP, OP_HELLO_PROC, OP_IOCTL,
    OP_IOCTL_DONE, OP_MMAP, OP_MMAP_ADDR, OP_NEW_THREAD, OP_NEW_THREAD_MAILBOX, OP_REGISTER_ARENA,
    OP_REPLY, mailbox, sock,
};
use binder_sys::*;
use nix::sys::socket::{self, AddressFamily, MsgFlags, SockFlag, SockType};

use crate::{Input, le32, le64};

/// A request that cannot block must be answered within this time, or the driver hangs.
pub const HANG: Duration = Duration::from_secs(10);
/// How long to wait for the answer of a read that may block before deeming it blocked.
const PARK_WAIT: Duration = Duration::from_micros(100);
/// How long a thread the input wants to use waits for the answer to its blocked read before
/// the harness gives it a new connection instead.
const READY_WAIT: Duration = Duration::from_micros(200);
/// The read size of the harness's own reads (room for three transactions).
const READ_SIZE: u64 = 256;
/// Operations per input, and bytes per operation.
const MAX_OPS: usize = 48;
const MAX_OP_LEN: usize = 4096;
/// Size of each process's send arena.
const ARENA_SIZE: usize = 64 * 1024;
/// Client receive-area sizes the header byte picks from.
const AREA_SIZES: [u64; 4] = [4096, 16 * 1024, 128 * 1024, BINDER_VM_SIZE as u64];
/// The handle an input writes in an fd object to mean "a real file" (the harness puts the
/// number of its /dev/null there).
pub const FD_PLACEHOLDER: u32 = 0xffff_ffff;

static TIDS: AtomicU32 = AtomicU32::new(1);

/// `BINDER_FUZZ_TRACE=1` prints every operation and answer (to reproduce and debug an input).
fn tracing() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("BINDER_FUZZ_TRACE").is_some_and(|v| v != "0"))
}

macro_rules! trace {
    ($($arg:tt)*) => {
        if tracing() {
            eprintln!($($arg)*);
        }
    };
}

// ---- sockets ---------------------------------------------------------------------------------

enum Recv {
    Msg(Vec<u8>, Vec<OwnedFd>, bool),
    Eof,
    Timeout,
}

/// Waits until `fd` is readable (or hung up) for at most `timeout`.
fn wait_readable(fd: &OwnedFd, timeout: Duration) -> bool {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    let deadline = Instant::now() + timeout;
    loop {
        // SAFETY: one valid pollfd, a valid timespec, no signal mask.
        let n = unsafe { libc::ppoll(&mut pfd, 1, &ts, std::ptr::null()) };
        if n > 0 {
            return true;
        }
        if n == 0 || Instant::now() >= deadline {
            return false;
        }
        // EINTR: try again (the timeout restarts, bounded by the deadline check).
    }
}

fn recv(sock: &OwnedFd, timeout: Duration) -> Recv {
    if !wait_readable(sock, timeout) {
        return Recv::Timeout;
    }
    let mut buf = vec![0u8; binder_sys::ud::MAX_MESSAGE];
    let mut cmsg = sock::cmsg_space();
    match sock::recv(sock, &mut buf, &mut cmsg, MsgFlags::MSG_DONTWAIT) {
        Ok(Some(got)) => {
            buf.truncate(got.len);
            Recv::Msg(buf, got.fds, got.truncated)
        }
        Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EAGAIN as i32) => Recv::Timeout,
        Ok(None) | Err(_) => Recv::Eof,
    }
}

/// Sends one datagram; false if the peer is gone.
fn send(sock: &OwnedFd, bytes: &[u8], fds: &[RawFd]) -> bool {
    sock::send(sock, bytes, fds, MsgFlags::MSG_DONTWAIT).is_ok()
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// One request on a process connection and its `OP_REPLY`: `(ret, payload, fds)`; `None` if
/// the connection is closed. A process connection always answers: a missing answer is a hang.
fn proc_request(sock: &OwnedFd, msg: &[u8], fds: &[RawFd]) -> Option<(i32, Vec<u8>, Vec<OwnedFd>)> {
    if !send(sock, msg, fds) {
        return None;
    }
    match recv(sock, HANG) {
        Recv::Msg(m, fds, _) => {
            assert_eq!(u32_at(&m, 0), Some(OP_REPLY), "a process request got {m:?}");
            let ret = u32_at(&m, 4).expect("OP_REPLY without ret") as i32;
            Some((ret, m[8..].to_vec(), fds))
        }
        Recv::Eof => None,
        Recv::Timeout => panic!("driver hang: a process request got no answer in {HANG:?}"),
    }
}

// ---- mappings --------------------------------------------------------------------------------

struct Mapping {
    ptr: NonNull<c_void>,
    len: usize,
}

// SAFETY: shared memory accessed by copies only.
unsafe impl Send for Mapping {}

impl Mapping {
    fn map(fd: impl AsFd, len: usize, writable: bool) -> Option<Mapping> {
        use nix::sys::mman::{MapFlags, ProtFlags, mmap};
        let prot = if writable {
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE
        } else {
            ProtFlags::PROT_READ
        };
        // SAFETY: a new shared mapping at an address the kernel picks.
        let ptr = unsafe {
            mmap(
                None,
                NonZeroUsize::new(len)?,
                prot,
                MapFlags::MAP_SHARED,
                fd,
                0,
            )
        }
        .ok()?;
        Some(Mapping { ptr, len })
    }

    fn addr(&self) -> u64 {
        self.ptr.as_ptr() as u64
    }

    fn contains(&self, addr: u64, len: u64) -> bool {
        addr >= self.addr() && len <= self.len as u64 && addr - self.addr() <= self.len as u64 - len
    }

    /// Copies `len` bytes at `addr`, which [`Mapping::contains`].
    fn read(&self, addr: u64, len: usize) -> Vec<u8> {
        assert!(self.contains(addr, len as u64));
        let mut out = vec![0u8; len];
        // SAFETY: in range of a live mapping.
        unsafe {
            std::ptr::copy_nonoverlapping(addr as *const u8, out.as_mut_ptr(), len);
        }
        out
    }

    fn write(&self, offset: usize, data: &[u8]) {
        assert!(offset + data.len() <= self.len);
        // SAFETY: in range of a live writable mapping.
        unsafe {
            std::ptr::copy_nonoverlapping(
                data.as_ptr(),
                (self.ptr.as_ptr() as *mut u8).add(offset),
                data.len(),
            )
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: our own mapping, nothing borrows it.
        let _ = unsafe { nix::sys::mman::munmap(self.ptr, self.len) };
    }
}

// ---- processes and threads -------------------------------------------------------------------

/// A simulated process: its process connection, receive area and send arena.
struct Proc {
    sock: OwnedFd,
    area: Mapping,
    arena: Option<Mapping>,
    /// Recent buffers delivered to the process (for fuzzed `BC_FREE_BUFFER`s).
    recent: VecDeque<u64>,
    dead: bool,
}

/// A thread connection, on its socket or through its mailbox. `parked` means a request is
/// outstanding (a read that blocked, or an answer that has not been collected yet).
struct Thread {
    sock: OwnedFd,
    /// The mailbox, and the answer sequence last seen.
    mailbox: Option<(mailbox::Mailbox, u32)>,
    parked: bool,
    /// The read size of the outstanding request, for the read-size oracle (`None`: unknown).
    parked_read: Option<u64>,
    dead: bool,
}

/// The thread-connection setup, `OP_NEW_THREAD`, in one place. `binder-sys/src/ud.rs`
/// documents that the driver creates the socketpair and answers `OP_REPLY {ret}` with the
/// process's end as `SCM_RIGHTS`; a driver of the previous protocol (the process creates the
/// pair and sends the driver's end with the request) refuses a request without a socket with
/// `-EINVAL`, in which case this falls back to that form.
fn new_thread_conn(proc_sock: &OwnedFd) -> Option<OwnedFd> {
    let tid = TIDS.fetch_add(1, Ordering::Relaxed);
    let mut msg = Vec::new();
    le32(&mut msg, OP_NEW_THREAD);
    le32(&mut msg, tid);
    let (ret, _, fds) = proc_request(proc_sock, &msg, &[])?;
    if ret == 0 {
        return fds.into_iter().next();
    }
    if ret != -libc::EINVAL {
        return None;
    }
    // The previous protocol.
    let (mine, theirs) = socket::socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .ok()?;
    let (ret, _, _) = proc_request(proc_sock, &msg, &[theirs.as_raw_fd()])?;
    (ret == 0).then_some(mine)
}

/// `OP_NEW_THREAD_MAILBOX`: the socket and the mapped mailbox.
fn new_mailbox_conn(proc_sock: &OwnedFd) -> Option<(OwnedFd, mailbox::Mailbox)> {
    let tid = TIDS.fetch_add(1, Ordering::Relaxed);
    let mut msg = Vec::new();
    le32(&mut msg, OP_NEW_THREAD_MAILBOX);
    le32(&mut msg, tid);
    let (ret, _, fds) = proc_request(proc_sock, &msg, &[])?;
    let mut fds = fds.into_iter();
    let (sock, file) = (fds.next()?, fds.next()?);
    let mailbox = mailbox::Mailbox::map(&file).expect("the driver's mailbox maps");
    (ret == 0).then_some((sock, mailbox))
}

impl Thread {
    fn new(p: &Proc, with_mailbox: bool) -> Option<Thread> {
        let (sock, mailbox) = if with_mailbox {
            let (sock, m) = new_mailbox_conn(&p.sock)?;
            let last = m.sequence(mailbox::Slot::Answer);
            (sock, Some((m, last)))
        } else {
            (new_thread_conn(&p.sock)?, None)
        };
        Some(Thread {
            sock,
            mailbox,
            parked: false,
            parked_read: None,
            dead: false,
        })
    }
}

impl Thread {
    /// Sends one request (the bytes of its datagram) with its files; false if the peer is gone.
    fn send(&self, msg: &[u8], fds: &[RawFd]) -> bool {
        let Some((m, _)) = &self.mailbox else {
            return send(&self.sock, msg, fds);
        };
        // A message over the slot's size is what a socket would refuse (EMSGSIZE).
        let slot = mailbox::Slot::Request;
        m.post_with_files(slot, &self.sock, msg, fds, MsgFlags::MSG_DONTWAIT)
            .is_ok()
            && !m.is_closed()
    }

    /// The next answer within `timeout`, with its files.
    fn recv(&mut self, timeout: Duration) -> Recv {
        let Some((m, last)) = &mut self.mailbox else {
            return recv(&self.sock, timeout);
        };
        let gate = mailbox::PollGate::new(0, Duration::ZERO);
        let closed = || m.is_closed();
        let mut poller = mailbox::Poller::new(&gate);
        match m.wait(
            mailbox::Slot::Answer,
            last,
            &mut poller,
            Some(timeout),
            &closed,
        ) {
            mailbox::Waited::Posted => {}
            mailbox::Waited::Stopped => return Recv::Eof,
            mailbox::Waited::TimedOut => return Recv::Timeout,
        }
        let mut msg = Vec::new();
        let flags = m
            .read(mailbox::Slot::Answer, &mut msg)
            .expect("the driver writes answers that fit their slot");
        if flags & mailbox::FLAG_FILES == 0 {
            return Recv::Msg(msg, Vec::new(), false);
        }
        let hang = || panic!("driver hang: an answer with files but no files datagram");
        if !wait_readable(&self.sock, HANG) {
            hang();
        }
        let mut cmsg = sock::cmsg_space();
        match mailbox::recv_files(&self.sock, &mut cmsg, MsgFlags::MSG_DONTWAIT) {
            Ok(Some((fds, trunc))) => Recv::Msg(msg, fds, trunc),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                panic!("the driver's files datagram is malformed: {e}")
            }
            Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EAGAIN as i32) => hang(),
            Ok(None) | Err(_) => Recv::Eof,
        }
    }
}

// ---- the harness -----------------------------------------------------------------------------

/// The threads an operation can address (bits 0-2 of its selector byte).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    /// Client A's two threads.
    A0,
    A1,
    /// The server's looper, and another server thread for the calls the server makes.
    Srv,
    Srv2,
    /// Client B's thread (a third party to A's objects).
    B0,
    /// The probe's thread (never fuzzed).
    Probe,
}

const CLIENT_A: usize = 0;
const CLIENT_B: usize = 1;
const SERVER: usize = 2;

impl Who {
    fn from_sel(sel: u8) -> Who {
        [
            Who::A0,
            Who::A1,
            Who::Srv,
            Who::Srv2,
            Who::B0,
            Who::A0,
            Who::A1,
            Who::Srv,
        ][usize::from(sel & 7)]
    }

    /// The index of the thread's process in `Harness::procs` (`None`: the probe).
    fn proc(self) -> Option<usize> {
        match self {
            Who::A0 | Who::A1 => Some(CLIENT_A),
            Who::B0 => Some(CLIENT_B),
            Who::Srv | Who::Srv2 => Some(SERVER),
            Who::Probe => None,
        }
    }

    fn index(self) -> usize {
        match self {
            Who::A0 => 0,
            Who::A1 => 1,
            Who::Srv => 2,
            Who::Srv2 => 3,
            Who::B0 => 4,
            Who::Probe => 5,
        }
    }

    fn is_server(self) -> bool {
        matches!(self, Who::Srv | Who::Srv2)
    }
}

/// What a thread's answer held, for the harness to react to.
#[derive(Default)]
struct Answer {
    /// `BR_TRANSACTION` / `BR_REPLY` items: (cmd, transaction).
    txns: Vec<(u32, TransactionData)>,
    /// `BC_*_DONE` acknowledgements of the reference and death work received.
    acks: Vec<u8>,
    /// Handles delivered in those transactions: (handle, strong).
    handles: Vec<(u32, bool)>,
}

/// How long to wait for an answer.
#[derive(Clone, Copy, PartialEq)]
enum Wait {
    /// The request cannot block: it must be answered.
    Must,
    /// A read that may block: `Some(read_size)` if the harness knows it (for the oracle).
    MayBlock(Option<u64>),
}

struct Harness {
    /// The abstract socket name of the instance (without the NUL).
    addr: Vec<u8>,
    /// `/proc/self/mem`, sent with every hello (the driver reads data outside the send arena
    /// through it), and /dev/null, the file sent in fd objects.
    mem: OwnedFd,
    devnull: OwnedFd,
    /// Client A, client B, the server (`None` until used / after death).
    procs: [Option<Proc>; 3],
    /// Threads by `Who::index` (the probe's last).
    threads: [Option<Thread>; 6],
    /// Which threads get a mailbox connection when they (re)connect, by `Who::index`.
    mailbox_threads: [bool; 6],
    _probe_proc: Proc,
    /// Whether the server is the context manager.
    srv_is_ctx_mgr: bool,
    /// Buffers the server received and has not freed, the two-way transactions its looper has
    /// not answered, the acknowledgements it owes, and the handles it took references on (as
    /// libbinder does for the handles it reads; bit 31: strong), released at the end of each
    /// input.
    srv_buffers: Vec<u64>,
    srv_unanswered: usize,
    srv_pending_acks: Vec<u8>,
    srv_handles: Vec<u32>,
    /// Header options of the current input for new client processes.
    client_area: u64,
    client_flags: u32,
    /// Whether waiting for the driver to finish a closed process is possible (see `kill`).
    teardown_sync: bool,
    runs: u64,
    baseline: (usize, usize),
}

fn count_dir(path: &str) -> usize {
    std::fs::read_dir(path).map_or(0, |d| d.count())
}

fn open_files_and_threads() -> (usize, usize) {
    (count_dir("/proc/self/fd"), count_dir("/proc/self/task"))
}

fn connect(addr: &[u8]) -> Option<OwnedFd> {
    let name = std::str::from_utf8(addr).ok()?;
    sock::connect(&Endpoint::Abstract(name.into())).ok()
}

/// A process: hello (with `/proc/self/mem`), `mmap` of `area` bytes, its address, and a send
/// arena. `None` if the driver refuses any step.
fn new_proc(addr: &[u8], mem: &OwnedFd, area: u64, flags: u32) -> Option<Proc> {
    let sock = connect(addr)?;
    let mut msg = Vec::new();
    le32(&mut msg, OP_HELLO_PROC);
    le32(&mut msg, HELLO_VERSION);
    le32(&mut msg, flags);
    le32(&mut msg, binder_sys::ud::UD_REVISION);
    let (ret, _, _) = proc_request(&sock, &msg, &[mem.as_raw_fd()])?;
    if ret != 0 {
        return None;
    }
    msg.clear();
    le32(&mut msg, OP_MMAP);
    le32(&mut msg, 0);
    le64(&mut msg, area);
    let (ret, payload, fds) = proc_request(&sock, &msg, &[])?;
    if ret != 0 {
        return None;
    }
    let granted = u64_at(&payload, 0)?;
    assert!(granted <= area, "granted {granted} > asked {area}");
    let area = Mapping::map(fds.first()?, granted as usize, false)?;
    msg.clear();
    le32(&mut msg, OP_MMAP_ADDR);
    le32(&mut msg, 0);
    le64(&mut msg, area.addr());
    let (ret, _, _) = proc_request(&sock, &msg, &[])?;
    if ret != 0 {
        return None;
    }
    let mut p = Proc {
        sock,
        area,
        arena: None,
        recent: VecDeque::new(),
        dead: false,
    };
    use nix::sys::memfd::{MFdFlags, memfd_create};
    let fd = memfd_create(
        c"fuzz-arena",
        MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
    )
    .ok()?;
    nix::unistd::ftruncate(&fd, ARENA_SIZE as i64).ok()?;
    let map = Mapping::map(&fd, ARENA_SIZE, true)?;
    msg.clear();
    le32(&mut msg, OP_REGISTER_ARENA);
    le32(&mut msg, 0);
    le64(&mut msg, map.addr());
    le64(&mut msg, ARENA_SIZE as u64);
    let (ret, _, _) = proc_request(&p.sock, &msg, &[fd.as_raw_fd()])?;
    if ret == 0 {
        p.arena = Some(map);
    }
    Some(p)
}

/// The `BR_*` (or `BC_*`) names of a command stream, for traces.
fn describe_br(read: &[u8]) -> String {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(cmd) = u32_at(read, pos) {
        out.push(command_name(cmd).to_string());
        pos += 4 + command_payload_size(cmd);
    }
    out.join(" ")
}

/// Encodes an `OP_IOCTL` `BINDER_WRITE_READ` with `cmds` inline and, when files are attached,
/// the table of their numbers after it.
fn write_read_msg(cmds: &[u8], read_size: u64, table: &[u32]) -> Vec<u8> {
    let bwr = BinderWriteRead {
        write_size: cmds.len() as u64,
        write_buffer: cmds.as_ptr() as u64,
        read_size,
        read_buffer: if read_size > 0 { 0x1000 } else { 0 },
        ..Default::default()
    };
    let numbers: Vec<i32> = table.iter().map(|n| *n as i32).collect();
    let mut msg = Vec::new();
    binder_sys::ud::encode_write_read(&bwr, cmds, &numbers, &mut msg);
    msg
}

impl Harness {
    fn start() -> Harness {
        let name = format!("fuzz-{}", std::process::id());
        let server = binder_driver::Server::bind(binder_driver::DriverConfig::new(name.clone()))
            .expect("bind the fuzzing driver instance");
        std::thread::Builder::new()
            .name("binderd-fuzz".into())
            .spawn(move || server.run().expect("the driver's accept loop failed"))
            .expect("start the driver");
        // The instance's abstract name: `binder-ud/<uid>/<name>` (per-user instances), or
        // `binder-ud/<name>` for a driver of the previous protocol.
        let uid = nix::unistd::getuid().as_raw();
        let addr = [
            format!("binder-ud/{uid}/{name}").into_bytes(),
            format!("binder-ud/{name}").into_bytes(),
        ]
        .into_iter()
        .find(|a| connect(a).is_some())
        .expect("connect to the fuzzing driver instance");
        let mem = std::fs::File::open("/proc/self/mem")
            .expect("open /proc/self/mem")
            .into();
        let devnull = std::fs::File::open("/dev/null")
            .expect("open /dev/null")
            .into();
        let probe_proc = new_proc(&addr, &mem, 4096, 0).expect("the probe process");
        // A mailbox thread, so that the driver's mailbox watcher exists before the baseline of
        // threads is taken.
        let probe = Thread::new(&probe_proc, true).expect("the probe thread");
        let mut h = Harness {
            addr,
            mem,
            devnull,
            procs: [None, None, None],
            threads: [None, None, None, None, None, Some(probe)],
            mailbox_threads: [false, true, false, true, false, true],
            _probe_proc: probe_proc,
            srv_is_ctx_mgr: false,
            srv_buffers: Vec::new(),
            srv_unanswered: 0,
            srv_pending_acks: Vec::new(),
            srv_handles: Vec::new(),
            client_area: AREA_SIZES[0],
            client_flags: 0,
            teardown_sync: true,
            runs: 0,
            baseline: (0, 0),
        };
        let (ret, _) = h.simple_ioctl(Who::Probe, BINDER_VERSION, &[0; 4]);
        assert_eq!(ret, 0);
        h.ensure_server();
        assert!(h.srv_is_ctx_mgr, "the server becomes the context manager");
        h.baseline = open_files_and_threads();
        h
    }

    // ---- processes and threads -----------------------------------------------------------

    fn thread(&mut self, who: Who) -> Option<&mut Thread> {
        self.threads[who.index()].as_mut()
    }

    fn proc_of(&self, who: Who) -> Option<&Proc> {
        match who.proc() {
            Some(i) => self.procs[i].as_ref(),
            None => Some(&self._probe_proc),
        }
    }

    fn proc_of_mut(&mut self, who: Who) -> Option<&mut Proc> {
        match who.proc() {
            Some(i) => self.procs[i].as_mut(),
            None => Some(&mut self._probe_proc),
        }
    }

    fn threads_of(i: usize) -> &'static [Who] {
        match i {
            CLIENT_A => &[Who::A0, Who::A1],
            CLIENT_B => &[Who::B0],
            _ => &[Who::Srv, Who::Srv2],
        }
    }

    /// The server process: started if it is not running.
    fn ensure_server_proc(&mut self) {
        if self.procs[SERVER].as_ref().is_some_and(|p| p.dead) {
            self.kill(SERVER);
        }
        if self.procs[SERVER].is_none() {
            let p = new_proc(&self.addr, &self.mem, 128 * 1024, 0)
                .expect("the driver refuses the server process");
            self.procs[SERVER] = Some(p);
            self.srv_is_ctx_mgr = false;
        }
    }

    /// The server process, context manager, with its looper: started if it is not running,
    /// made the context manager again if it is not.
    fn ensure_server(&mut self) {
        self.ensure_server_proc();
        if !self.srv_is_ctx_mgr {
            // A context manager whose node accepts fds, so that fd objects reach it. Refused
            // while another process (a client, by fuzz input) holds the role.
            let ctx = FlatBinderObject {
                hdr_type: BINDER_TYPE_BINDER,
                flags: FLAT_BINDER_FLAG_ACCEPTS_FDS | 0x7f,
                ..Default::default()
            };
            let (ret, _) = self.simple_ioctl(Who::Srv, BINDER_SET_CONTEXT_MGR_EXT, &ctx.to_bytes());
            self.srv_is_ctx_mgr = ret == 0;
        }
        if self.thread(Who::Srv).is_none() {
            self.replace_thread(Who::Srv);
        }
    }

    /// Starts a client process if it is not running (or died).
    fn ensure_client(&mut self, i: usize) -> bool {
        if self.procs[i].as_ref().is_some_and(|p| p.dead) {
            self.kill(i);
        }
        if self.procs[i].is_some() {
            return true;
        }
        for _ in 0..200 {
            if let Some(p) = new_proc(&self.addr, &self.mem, self.client_area, self.client_flags) {
                self.procs[i] = Some(p);
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the driver refuses new processes (a leak of connections or of a limit?)");
    }

    /// The process dies: its threads close, then its process connection; when possible, waits
    /// until the driver has released it (it closes its end of the connection after that).
    fn kill(&mut self, i: usize) {
        for who in Self::threads_of(i) {
            self.threads[who.index()] = None;
        }
        if i == SERVER {
            self.srv_is_ctx_mgr = false;
            self.srv_buffers.clear();
            self.srv_unanswered = 0;
            self.srv_pending_acks.clear();
            self.srv_handles.clear();
        }
        let Some(p) = self.procs[i].take() else {
            return;
        };
        if self.teardown_sync && !p.dead {
            let _ = socket::shutdown(p.sock.as_raw_fd(), socket::Shutdown::Write);
            let start = Instant::now();
            loop {
                match recv(&p.sock, Duration::from_millis(200)) {
                    Recv::Msg(..) => continue,
                    Recv::Eof => break,
                    Recv::Timeout => {
                        // This driver keeps the socket open: stop waiting for it.
                        self.teardown_sync = false;
                        break;
                    }
                }
            }
            assert!(start.elapsed() < HANG, "driver hang: releasing a process");
        }
    }

    /// Makes the thread able to take a request: starts its process if needed, collects an
    /// outstanding answer, or replaces a thread whose read blocks (or whose connection closed)
    /// by a fresh connection.
    fn ready(&mut self, who: Who) -> bool {
        match who.proc() {
            Some(SERVER) => self.ensure_server_proc(),
            Some(i) => {
                self.ensure_client(i);
            }
            None => {}
        }
        // An answer may be on its way (sent by another driver thread just now).
        self.collect(who, READY_WAIT);
        let usable = self.thread(who).is_some_and(|t| !t.parked && !t.dead);
        if !usable {
            self.replace_thread(who);
        }
        self.thread(who).is_some_and(|t| !t.parked && !t.dead)
    }

    /// Collects the answer a parked thread got, if any within `wait`.
    fn collect(&mut self, who: Who, wait: Duration) {
        let Some(t) = self.thread(who) else { return };
        if !t.parked || t.dead {
            return;
        }
        let read = t.parked_read;
        match t.recv(wait) {
            Recv::Msg(m, fds, trunc) => {
                t.parked = false;
                let a = self.handle_answer(who, &m, fds, trunc, read);
                self.after_answer(who, a);
            }
            Recv::Eof => t.dead = true,
            Recv::Timeout => {}
        }
    }

    /// A new connection for the thread (the old one closes: the driver's thread exit).
    fn replace_thread(&mut self, who: Who) {
        let fresh = match self.proc_of(who) {
            Some(p) if !p.dead => Thread::new(p, self.mailbox_threads[who.index()]),
            _ => None,
        };
        let got = fresh.is_some();
        self.threads[who.index()] = fresh;
        if who == Who::Srv {
            // Calls held by the old looper died with it.
            self.srv_unanswered = 0;
            if got {
                self.srv_enter_looper();
            }
        }
        if !got && let Some(p) = self.proc_of_mut(who) {
            p.dead = true;
        }
    }

    fn srv_enter_looper(&mut self) {
        let mut cmds = Vec::new();
        le32(&mut cmds, BC_ENTER_LOOPER);
        let msg = write_read_msg(&cmds, 0, &[]);
        if let Some(a) = self.request(Who::Srv, &msg, &[], Wait::Must) {
            self.after_answer(Who::Srv, a);
        }
    }

    // ---- requests ------------------------------------------------------------------------

    /// Sends a request on a ready thread and checks its answer (or marks the thread parked).
    fn request(&mut self, who: Who, msg: &[u8], fds: &[RawFd], wait: Wait) -> Option<Answer> {
        if tracing() && u32_at(msg, 4) == Some(BINDER_WRITE_READ) && msg.len() >= 56 {
            let size = u64_at(msg, 8).unwrap_or(0) as usize;
            let cmds = msg.get(56..56 + size).unwrap_or_default();
            let read = u64_at(msg, 32).unwrap_or(0);
            trace!("  {who:?} -> {} / read {read}", describe_br(cmds));
        }
        let t = self.thread(who)?;
        if !t.send(msg, fds) {
            t.dead = true;
            return None;
        }
        let (timeout, read) = match wait {
            Wait::Must => (HANG, Some(0)),
            Wait::MayBlock(r) => (PARK_WAIT, r),
        };
        match t.recv(timeout) {
            Recv::Msg(m, fds, trunc) => Some(self.handle_answer(who, &m, fds, trunc, read)),
            Recv::Eof => {
                t.dead = true;
                None
            }
            Recv::Timeout if wait == Wait::Must => panic!(
                "driver hang: a request that cannot block got no answer in {HANG:?}: {msg:02x?}"
            ),
            Recv::Timeout => {
                t.parked = true;
                t.parked_read = read;
                None
            }
        }
    }

    /// `BINDER_WRITE_READ` with `cmds` inline (and `files` attached, with `table`), on a thread
    /// made ready; the harness reacts to the answer.
    fn write_read(
        &mut self,
        who: Who,
        cmds: &[u8],
        read_size: u64,
        files: &[RawFd],
        table: &[u32],
    ) {
        if !self.ready(who) {
            return;
        }
        let msg = write_read_msg(cmds, read_size, table);
        let wait = if read_size > 0 {
            Wait::MayBlock(Some(read_size))
        } else {
            Wait::Must
        };
        if let Some(a) = self.request(who, &msg, files, wait) {
            self.after_answer(who, a);
        }
    }

    /// An ioctl that cannot block: `(ret, arg)`; `(-1, [])` if the thread is gone.
    fn simple_ioctl(&mut self, who: Who, cmd: u32, arg: &[u8]) -> (i32, Vec<u8>) {
        if !self.ready(who) {
            return (-1, Vec::new());
        }
        let mut msg = Vec::new();
        le32(&mut msg, OP_IOCTL);
        le32(&mut msg, cmd);
        msg.extend_from_slice(arg);
        let t = self.thread(who).expect("ready thread");
        if !t.send(&msg, &[]) {
            t.dead = true;
            return (-1, Vec::new());
        }
        match t.recv(HANG) {
            Recv::Msg(m, fds, _) => {
                assert!(fds.is_empty(), "files with the answer to ioctl {cmd:#x}");
                assert_eq!(
                    u32_at(&m, 0),
                    Some(OP_IOCTL_DONE),
                    "ioctl {cmd:#x} answered {m:?}"
                );
                let ret = u32_at(&m, 4).unwrap_or(0) as i32;
                let arg_len = u32_at(&m, 12).unwrap_or(0) as usize;
                (ret, m.get(16..16 + arg_len).unwrap_or_default().to_vec())
            }
            Recv::Eof => {
                t.dead = true;
                (-1, Vec::new())
            }
            Recv::Timeout => panic!("driver hang: ioctl {cmd:#x} unanswered for {HANG:?}"),
        }
    }

    /// A datagram as given; whether it may block is decided the way the driver decides it.
    fn raw_thread_msg(&mut self, who: Who, msg: &[u8]) {
        // An empty datagram reads as end of file: that is `NewThread`.
        if msg.is_empty() || !self.ready(who) {
            return;
        }
        let blocks = u32_at(msg, 0) == Some(OP_IOCTL)
            && u32_at(msg, 4) == Some(BINDER_WRITE_READ)
            && u64_at(msg, 8 + 24).is_some_and(|read_size| read_size > 0);
        if blocks {
            if let Some(a) = self.request(who, msg, &[], Wait::MayBlock(None)) {
                self.after_answer(who, a);
            }
            return;
        }
        // The read-size oracle does not apply to arbitrary arguments.
        let t = self.thread(who).expect("ready");
        if !t.send(msg, &[]) {
            t.dead = true;
            return;
        }
        match t.recv(HANG) {
            Recv::Msg(m, fds, trunc) => {
                let a = self.handle_answer(who, &m, fds, trunc, None);
                self.after_answer(who, a);
            }
            Recv::Eof => t.dead = true,
            Recv::Timeout => panic!(
                "driver hang: a thread request that cannot block got no answer in {HANG:?}: {msg:02x?}"
            ),
        }
    }

    // ---- answers -------------------------------------------------------------------------

    /// Checks an answer on a thread connection, gives files back with `OP_FD_FIXUP`, and
    /// returns the work found in it.
    fn handle_answer(
        &mut self,
        who: Who,
        m: &[u8],
        fds: Vec<OwnedFd>,
        truncated: bool,
        read_size: Option<u64>,
    ) -> Answer {
        let mut answer = Answer::default();
        match u32_at(m, 0) {
            Some(OP_IOCTL_DONE) => {}
            Some(OP_REPLY) => return answer,
            other => panic!("unknown answer {other:?} on a thread connection: {m:?}"),
        }
        let ret = u32_at(m, 4).expect("ret") as i32;
        let nfds = u32_at(m, 8).expect("nfds") as usize;
        let arg_len = u32_at(m, 12).expect("arg_len") as usize;
        assert!(
            (-4095..=0).contains(&ret),
            "ioctl returned {ret}, not 0 or -errno"
        );
        let arg = m
            .get(16..16 + arg_len)
            .unwrap_or_else(|| panic!("arg_len {arg_len} past the answer ({} bytes)", m.len()));
        let read = &m[16 + arg_len..];
        if !truncated {
            assert_eq!(
                fds.len(),
                nfds,
                "nfds {nfds} but {} files arrived",
                fds.len()
            );
        }
        if let Some(size) = read_size {
            // The harness's own requests start reading at read_consumed 0.
            assert!(
                read.len() as u64 <= size.max(4),
                "{} read bytes for a read_size of {size}",
                read.len()
            );
            if arg_len == WRITE_READ_SIZE {
                let consumed = u64_at(arg, 32).unwrap_or(0);
                assert_eq!(
                    consumed,
                    read.len() as u64,
                    "read_consumed differs from the bytes"
                );
            }
        }
        trace!(
            "  {who:?} <- ret {ret} nfds {nfds} read {}",
            describe_br(read)
        );
        let (brs, err) = Br::decode_all(read);
        if let Some(e) = err {
            panic!("a malformed BR_ stream after {brs:?}: {e} in {read:?}");
        }
        for br in brs {
            match br {
                Br::Transaction(td) | Br::Reply(td) => {
                    if td.flags & TF_STATUS_CODE == 0 || td.data_size > 0 {
                        let handles = self.check_delivered(who, &td);
                        answer.handles.extend(handles);
                    }
                    answer.txns.push((br.code(), td));
                }
                Br::IncRefs(node) => Bc::IncRefsDone(node).encode(&mut answer.acks),
                Br::Acquire(node) => Bc::AcquireDone(node).encode(&mut answer.acks),
                Br::DeadBinder(cookie) => Bc::DeadBinderDone(cookie).encode(&mut answer.acks),
                _ => {}
            }
        }
        if nfds > 0 {
            // Only the driver writes the buffer: tell it the numbers the files got (-1 for a
            // file that did not arrive, in a truncated message).
            let mut msg = Vec::new();
            le32(&mut msg, OP_FD_FIXUP);
            le32(&mut msg, nfds as u32);
            for i in 0..nfds {
                le32(&mut msg, fds.get(i).map_or(-1, |f| f.as_raw_fd()) as u32);
            }
            if let Some(t) = self.thread(who) {
                if t.send(&msg, &[]) {
                    match t.recv(HANG) {
                        Recv::Msg(r, _, _) => {
                            assert_eq!(u32_at(&r, 0), Some(OP_REPLY), "fixup answered {r:?}")
                        }
                        Recv::Eof => t.dead = true,
                        Recv::Timeout => panic!("driver hang: OP_FD_FIXUP unanswered"),
                    }
                } else {
                    t.dead = true;
                }
            }
        }
        answer
    }

    /// A delivered transaction lies in the receiver's mapping, and its objects are valid.
    /// Returns the handles it carries.
    fn check_delivered(&mut self, who: Who, td: &TransactionData) -> Vec<(u32, bool)> {
        let mut handles = Vec::new();
        let Some(p) = self.proc_of_mut(who) else {
            return handles;
        };
        let (base, len) = (p.area.addr(), p.area.len);
        assert!(
            p.area.contains(td.data_buffer, td.data_size),
            "data {:#x}+{} outside the area {base:#x}+{len}",
            td.data_buffer,
            td.data_size
        );
        assert!(
            p.area.contains(td.data_offsets, td.offsets_size),
            "offsets {:#x}+{} outside the area {base:#x}+{len}",
            td.data_offsets,
            td.offsets_size
        );
        let data = p.area.read(td.data_buffer, td.data_size as usize);
        let offsets = p.area.read(td.data_offsets, td.offsets_size as usize);
        let mut min = 0u64;
        for o in offsets.chunks_exact(8) {
            let off = u64::from_le_bytes(o.try_into().expect("8 bytes"));
            assert!(
                off % 4 == 0 && off >= min && off + FLAT_BINDER_OBJECT_SIZE as u64 <= td.data_size,
                "delivered object offset {off} (data {} bytes, previous end {min})",
                td.data_size
            );
            let obj = FlatBinderObject::read(&data[off as usize..]).expect("object");
            assert!(
                matches!(
                    obj.hdr_type,
                    BINDER_TYPE_BINDER
                        | BINDER_TYPE_WEAK_BINDER
                        | BINDER_TYPE_HANDLE
                        | BINDER_TYPE_WEAK_HANDLE
                        | BINDER_TYPE_FD
                ),
                "delivered object of type {:#x}",
                obj.hdr_type
            );
            if matches!(obj.hdr_type, BINDER_TYPE_HANDLE | BINDER_TYPE_WEAK_HANDLE) {
                handles.push((obj.handle(), obj.hdr_type == BINDER_TYPE_HANDLE));
            }
            min = off + FLAT_BINDER_OBJECT_SIZE as u64;
        }
        p.recent.push_back(td.data_buffer);
        if p.recent.len() > 8 {
            p.recent.pop_front();
        }
        handles
    }

    /// What the harness does with the work a thread received: the server takes references on
    /// the handles it got (before their buffer goes), keeps its buffers for the next `Pump`,
    /// counts the calls to answer, and owes acknowledgements; a client acknowledges at once
    /// (its buffers are the input's to free).
    fn after_answer(&mut self, who: Who, a: Answer) {
        if who.is_server() {
            for &(h, strong) in &a.handles {
                le32(&mut self.srv_pending_acks, BC_INCREFS);
                le32(&mut self.srv_pending_acks, h);
                self.srv_handles.push(h);
                if strong {
                    le32(&mut self.srv_pending_acks, BC_ACQUIRE);
                    le32(&mut self.srv_pending_acks, h);
                    self.srv_handles.push(h | 1 << 31);
                }
            }
            for (cmd, td) in &a.txns {
                if td.data_buffer != 0 {
                    self.srv_buffers.push(td.data_buffer);
                }
                if *cmd == BR_TRANSACTION && td.flags & TF_ONE_WAY == 0 && who == Who::Srv {
                    self.srv_unanswered += 1;
                }
            }
            self.srv_pending_acks.extend_from_slice(&a.acks);
        } else if who != Who::Probe && !a.acks.is_empty() {
            self.write_read(who, &a.acks, 0, &[], &[]);
        }
    }

    // ---- the server ----------------------------------------------------------------------

    /// Collects what the server's threads received; sends the acknowledgements it owes; with
    /// `all`, answers every call it holds and frees every buffer; and leaves the looper waiting
    /// in a read, unless a call waits for its answer (a server thread answers before it reads
    /// again).
    fn pump(&mut self, all: bool) {
        if self.procs[SERVER].is_none() {
            return;
        }
        self.collect(Who::Srv2, Duration::ZERO);
        for _ in 0..16 {
            self.collect(Who::Srv, Duration::ZERO);
            if self.thread(Who::Srv).is_none_or(|t| t.dead) {
                self.ensure_server();
                if self.thread(Who::Srv).is_none_or(|t| t.dead) {
                    self.replace_thread(Who::Srv);
                }
                if self.thread(Who::Srv).is_none() {
                    return;
                }
                continue;
            }
            let acks = std::mem::take(&mut self.srv_pending_acks);
            let mut frees = Vec::new();
            if all {
                for b in self.srv_buffers.drain(..) {
                    le32(&mut frees, BC_FREE_BUFFER);
                    le64(&mut frees, b);
                }
            }
            let replies = if all { self.srv_unanswered } else { 0 };
            if self.thread(Who::Srv).is_some_and(|t| t.parked) {
                if replies > 0 {
                    // The input sent the looper back to reading while it held a call: a fresh
                    // looper (the call dies with the old one).
                    self.srv_pending_acks = [acks, frees].concat();
                    self.replace_thread(Who::Srv);
                    continue;
                }
                if acks.is_empty() && frees.is_empty() {
                    return;
                }
                // The looper waits in its read: the server's other thread sends the rest.
                self.write_read(Who::Srv2, &[acks, frees].concat(), 0, &[], &[]);
                continue;
            }
            let mut cmds = acks;
            for _ in 0..replies {
                le32(&mut cmds, BC_REPLY);
                TransactionData::default().encode(&mut cmds);
            }
            self.srv_unanswered -= replies;
            cmds.extend_from_slice(&frees);
            let read_size = if self.srv_unanswered > 0 {
                0
            } else {
                READ_SIZE
            };
            if cmds.is_empty() && read_size == 0 {
                return;
            }
            let msg = write_read_msg(&cmds, read_size, &[]);
            let wait = if read_size > 0 {
                Wait::MayBlock(Some(read_size))
            } else {
                Wait::Must
            };
            match self.request(Who::Srv, &msg, &[], wait) {
                Some(a) => self.after_answer(Who::Srv, a),
                // Waiting in its read, nothing more to do.
                None if cmds.is_empty() && self.thread(Who::Srv).is_some_and(|t| t.parked) => {
                    return;
                }
                None => {}
            }
        }
    }

    // ---- operations ----------------------------------------------------------------------

    fn op(&mut self, op: Op, payload: &[u8]) {
        let mut input = Input::new(payload);
        match op {
            Op::Write => {
                let sel = input.u8();
                let read = match (sel & 0x80 != 0, sel & 0x40 != 0) {
                    (false, _) => 0,
                    (true, false) => READ_SIZE,
                    (true, true) => u64::from((sel >> 3) & 7) * 8,
                };
                self.write_read(Who::from_sel(sel), input.rest(), read, &[], &[]);
            }
            Op::Transact => self.transact(&mut input),
            Op::Read => {
                let who = Who::from_sel(input.u8());
                let size = u64::from(input.u16());
                self.write_read(who, &[], size, &[], &[]);
            }
            Op::Free => {
                let who = Who::from_sel(input.u8());
                let which = usize::from(input.u8());
                let delta = i64::from(input.u8() as i8);
                if !self.ready(who) {
                    return;
                }
                let Some(p) = self.proc_of(who) else { return };
                let base = p
                    .recent
                    .get(which % p.recent.len().max(1))
                    .copied()
                    .unwrap_or(p.area.addr());
                let mut cmds = Vec::new();
                le32(&mut cmds, BC_FREE_BUFFER);
                le64(&mut cmds, base.wrapping_add_signed(delta));
                self.write_read(who, &cmds, 0, &[], &[]);
            }
            Op::Ioctl => {
                let who = Who::from_sel(input.u8());
                let sel = usize::from(input.u8()) % (IOCTLS.len() + 1);
                let cmd = IOCTLS.get(sel).copied().unwrap_or_else(|| input.u32());
                let mut msg = Vec::new();
                le32(&mut msg, OP_IOCTL);
                le32(&mut msg, cmd);
                msg.extend_from_slice(input.rest());
                self.raw_thread_msg(who, &msg);
            }
            Op::ThreadMsg => {
                let who = Who::from_sel(input.u8());
                self.raw_thread_msg(who, input.rest());
            }
            Op::ProcMsg => {
                let sel = input.u8();
                self.proc_msg(usize::from(sel & 3) % 3, (sel >> 2) % 5, input.rest());
            }
            Op::Pump => self.pump(true),
            Op::NewThread => {
                let sel = input.u8();
                let who = Who::from_sel(sel);
                if who.proc() != Some(SERVER) {
                    self.mailbox_threads[who.index()] = sel & 8 != 0;
                }
                if self.ready(who) {
                    self.replace_thread(who);
                }
            }
            Op::RestartClient => {
                let i = if input.u8() & 1 == 0 {
                    CLIENT_A
                } else {
                    CLIENT_B
                };
                self.kill(i);
                self.ensure_client(i);
            }
            Op::RestartServer => {
                self.kill(SERVER);
                self.ensure_server();
            }
        }
    }

    /// A raw request on a process connection (client A, client B or the server), with a file
    /// (`attach`: nothing, /dev/null, a socket, a memfd, `/proc/self/mem`).
    fn proc_msg(&mut self, i: usize, attach: u8, msg: &[u8]) {
        if msg.is_empty() {
            return;
        }
        match i {
            SERVER => self.ensure_server(),
            _ => {
                self.ensure_client(i);
            }
        }
        let extra: Option<OwnedFd> = match attach {
            1 => self.devnull.try_clone().ok(),
            2 => socket::socketpair(
                AddressFamily::Unix,
                SockType::SeqPacket,
                None,
                SockFlag::SOCK_CLOEXEC,
            )
            .ok()
            .map(|(a, _b)| a),
            3 => {
                use nix::sys::memfd::{MFdFlags, memfd_create};
                memfd_create(
                    c"fuzz-memfd",
                    MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
                )
                .ok()
                .inspect(|fd| {
                    let _ = nix::unistd::ftruncate(fd, 8192);
                })
            }
            4 => self.mem.try_clone().ok(),
            _ => None,
        };
        let Some(p) = self.procs[i].as_mut() else {
            return;
        };
        let fds: Vec<RawFd> = extra.iter().map(|f| f.as_raw_fd()).collect();
        // Whatever comes back (a thread connection, an area) is closed at once.
        if proc_request(&p.sock, msg, &fds).is_none() {
            p.dead = true;
        }
    }

    fn transact(&mut self, input: &mut Input<'_>) {
        let sel = input.u8();
        let who = Who::from_sel(sel);
        let cmd = TXN_CMDS[usize::from((sel >> 3) & 3)];
        let heap = sel & 0x20 != 0;
        let attach = sel & 0x40 != 0;
        let read = if sel & 0x80 != 0 { READ_SIZE } else { 0 };
        let target = input.u32();
        let code = input.u32();
        let flags = input.u32();
        // Files attached with the stream, and the table of their numbers (maybe a lie).
        let (files, table) = if attach {
            let f = input.u8();
            let n = usize::from(f & 3).max(1);
            let mut table = vec![self.devnull.as_raw_fd() as u32; n];
            if f & 4 != 0 {
                table[0] = input.u32();
            }
            (vec![self.devnull.as_raw_fd(); n], table)
        } else {
            (Vec::new(), Vec::new())
        };
        let n = usize::from(input.u8() % 16);
        let offsets: Vec<u64> = (0..n).map(|_| u64::from(input.u32())).collect();
        let sg = cmd == BC_TRANSACTION_SG || cmd == BC_REPLY_SG;
        let extra = if sg { input.u64() } else { 0 };
        let mut data = input.rest().to_vec();
        data.truncate(ARENA_SIZE / 2);
        // Fd objects that ask for it name our /dev/null.
        let devnull = self.devnull.as_raw_fd() as u32;
        for &off in &offsets {
            let off = off as usize;
            if off
                .checked_add(FLAT_BINDER_OBJECT_SIZE)
                .is_some_and(|end| end <= data.len())
                && u32_at(&data, off) == Some(BINDER_TYPE_FD)
                && u32_at(&data, off + 8) == Some(FD_PLACEHOLDER)
            {
                data[off + 8..off + 12].copy_from_slice(&devnull.to_le_bytes());
            }
        }
        let offsets_bytes: Vec<u8> = offsets.iter().flat_map(|o| o.to_le_bytes()).collect();
        if !self.ready(who) {
            return;
        }
        let Some(p) = self.proc_of(who) else { return };
        // Where the driver copies from: the send arena (memcpy) or the heap (the memory file).
        let (data_ptr, offsets_ptr) = match (&p.arena, heap) {
            (Some(arena), false) => {
                let off_at = data.len().next_multiple_of(8);
                arena.write(0, &data);
                arena.write(off_at, &offsets_bytes);
                (arena.addr(), arena.addr() + off_at as u64)
            }
            _ => (data.as_ptr() as u64, offsets_bytes.as_ptr() as u64),
        };
        let td = TransactionData {
            target: u64::from(target),
            cookie: 0,
            code,
            flags,
            sender_pid: 0,
            sender_euid: 0,
            data_size: data.len() as u64,
            offsets_size: offsets_bytes.len() as u64,
            data_buffer: data_ptr,
            data_offsets: offsets_ptr,
        };
        let mut cmds = Vec::new();
        le32(&mut cmds, cmd);
        td.encode(&mut cmds);
        if sg {
            le64(&mut cmds, extra);
        }
        if who == Who::Srv && (cmd == BC_REPLY || cmd == BC_REPLY_SG) {
            self.srv_unanswered = self.srv_unanswered.saturating_sub(1);
        }
        self.write_read(who, &cmds, read, &files, &table);
        // `data` and `offsets_bytes` live until the driver answered (it copies before that).
        drop((data, offsets_bytes));
    }

    // ---- one input -----------------------------------------------------------------------

    fn run(&mut self, data: &[u8]) {
        let mut input = Input::new(data);
        let header = input.u8();
        self.client_area = AREA_SIZES[usize::from(header & 3)];
        self.client_flags = if header & 4 != 0 {
            HELLO_FLAG_NO_REPLY_COMPLETE
        } else {
            0
        };
        // Which client threads talk through mailboxes; the server's looper uses its socket and
        // its second thread a mailbox, always.
        self.mailbox_threads = [
            header & 0x20 != 0,
            header & 0x08 != 0,
            false,
            true,
            header & 0x10 != 0,
            true,
        ];
        self.ensure_server();
        let mut ops = 0;
        while !input.is_empty() && ops < MAX_OPS {
            let kind = OPS[usize::from(input.u8()) % OPS.len()];
            let len = usize::from(input.u16()).min(MAX_OP_LEN);
            let payload = input.bytes(len);
            trace!("{kind:?} {payload:02x?}");
            self.op(kind, payload);
            // A real server takes what it was sent and acknowledges reference work at once.
            self.pump(false);
            ops += 1;
        }
        // The server answers and frees everything, the clients die, and the server lets go of
        // the handles it took.
        self.pump(true);
        self.kill(CLIENT_A);
        self.kill(CLIENT_B);
        self.pump(true);
        for h in std::mem::take(&mut self.srv_handles) {
            let strong = h & 1 << 31 != 0;
            le32(
                &mut self.srv_pending_acks,
                if strong { BC_RELEASE } else { BC_DECREFS },
            );
            le32(&mut self.srv_pending_acks, h & !(1 << 31));
        }
        self.pump(true);
        // The oracle: the driver still answers.
        let (ret, arg) = self.simple_ioctl(Who::Probe, BINDER_VERSION, &[0; 4]);
        assert_eq!(ret, 0, "BINDER_VERSION failed after the input");
        assert_eq!(
            arg,
            BINDER_CURRENT_PROTOCOL_VERSION.to_le_bytes(),
            "BINDER_VERSION"
        );
        self.runs += 1;
        if self.runs.is_multiple_of(1000) {
            let (files, threads) = open_files_and_threads();
            let (files0, threads0) = self.baseline;
            assert!(
                files < files0 + 2000,
                "file descriptors leak: {files} open, {files0} at the start"
            );
            assert!(
                threads < threads0 + 1000,
                "threads leak: {threads} running, {threads0} at the start"
            );
        }
    }
}

/// The ioctls a fuzzed `Ioctl` operation picks from (past the end: a raw number follows).
const IOCTLS: [u32; 12] = [
    BINDER_WRITE_READ,
    BINDER_SET_IDLE_TIMEOUT,
    BINDER_SET_MAX_THREADS,
    BINDER_SET_IDLE_PRIORITY,
    BINDER_SET_CONTEXT_MGR,
    BINDER_THREAD_EXIT,
    BINDER_VERSION,
    BINDER_GET_NODE_DEBUG_INFO,
    BINDER_GET_NODE_INFO_FOR_REF,
    BINDER_SET_CONTEXT_MGR_EXT,
    BINDER_ENABLE_ONEWAY_SPAM_DETECTION,
    BINDER_GET_EXTENDED_ERROR,
];

/// Transaction commands of a `Transact` operation.
const TXN_CMDS: [u32; 4] = [BC_TRANSACTION, BC_REPLY, BC_TRANSACTION_SG, BC_REPLY_SG];

/// The operations of an input, `{kind: u8, len: u16, payload[len]}` (`kind % 11`). The
/// numbering is part of the input format: append only. `sel` is a selector byte whose bits 0-2
/// pick the thread: 0, 1 client A's, 2 the server's looper, 3 the server's other thread, 4
/// client B's (5-7: as 0-2). A process is started when one of its threads is first used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Op {
    /// `{sel, cmds...}`: `BINDER_WRITE_READ` of the raw command stream; `sel & 0x80`: with a
    /// read of 256 bytes, or with `sel & 0x40` of `((sel >> 3) & 7) * 8` bytes.
    Write = 0,
    /// `{sel, target: u32, code: u32, flags: u32, [files: u8, [number: u32]], n: u8,
    /// offsets: n × u32, [extra: u64 if _SG], data...}`: a transaction command with real data
    /// and offsets arrays. `(sel >> 3) & 3` picks `BC_TRANSACTION`, `BC_REPLY`, `..._SG`;
    /// `sel & 0x20`: data on the heap instead of the send arena; `sel & 0x40`: `files & 3`
    /// (at least 1) copies of /dev/null attached, fd objects whose handle is
    /// [`FD_PLACEHOLDER`] name it, and with `files & 4` the table gives `number` for the
    /// first; `sel & 0x80`: with a read.
    Transact = 1,
    /// `{sel, size: u16}`: a read of `size` bytes.
    Read = 2,
    /// `{sel, which: u8, delta: i8}`: `BC_FREE_BUFFER` of a recently delivered buffer of the
    /// thread's process, moved by `delta`.
    Free = 3,
    /// `{sel, cmd: u8, [raw cmd: u32 if cmd % 13 == 12], arg...}`: any ioctl, argument as is.
    Ioctl = 4,
    /// `{sel, bytes...}`: a raw datagram on a thread connection.
    ThreadMsg = 5,
    /// `{sel, bytes...}`: a raw datagram on a process connection (`(sel & 3) % 3`: client A,
    /// client B, the server) with `(sel >> 2) % 5`: nothing, /dev/null, a socket, a memfd,
    /// `/proc/self/mem` attached.
    ProcMsg = 6,
    /// `{}`: the server answers every call it holds and frees its buffers.
    Pump = 7,
    /// `{sel}`: the thread gets a new connection (the old one closes); a client thread's is a
    /// mailbox connection if `sel & 8`.
    NewThread = 8,
    /// `{which}`: client A (`which & 1 == 0`) or B dies and starts again.
    RestartClient = 9,
    /// `{}`: the server (the context manager) dies and starts again.
    RestartServer = 10,
}

const OPS: [Op; 11] = [
    Op::Write,
    Op::Transact,
    Op::Read,
    Op::Free,
    Op::Ioctl,
    Op::ThreadMsg,
    Op::ProcMsg,
    Op::Pump,
    Op::NewThread,
    Op::RestartClient,
    Op::RestartServer,
];

fn harness() -> &'static Mutex<Harness> {
    static H: OnceLock<Mutex<Harness>> = OnceLock::new();
    H.get_or_init(|| Mutex::new(Harness::start()))
}

/// The driver's counters (`OP_DEBUG` `Stats`, JSON): which commands and returns the inputs
/// reached, for judging a corpus (`run_one` prints them with `BINDER_FUZZ_STATS=1`).
pub fn stats_json() -> String {
    let h = harness().lock().unwrap_or_else(|e| e.into_inner());
    let sock = connect(&h.addr).expect("connect to the driver");
    let mut msg = Vec::new();
    le32(&mut msg, binder_sys::ud::OP_DEBUG);
    le32(&mut msg, binder_sys::ud::DebugQuery::Stats as u32);
    assert!(send(&sock, &msg, &[]));
    let mut text = Vec::new();
    loop {
        match recv(&sock, HANG) {
            Recv::Msg(m, _, _) if m.len() > 8 => text.extend_from_slice(&m[8..]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// Runs one input against the shared driver instance.
pub fn run(data: &[u8]) {
    let mut h = harness().lock().unwrap_or_else(|e| e.into_inner());
    h.run(data);
}

// ---- seed encoding ---------------------------------------------------------------------------

/// Thread numbers of [`Script`] operations.
pub mod thread {
    pub const A0: u8 = 0;
    pub const A1: u8 = 1;
    pub const SRV: u8 = 2;
    pub const SRV2: u8 = 3;
    pub const B0: u8 = 4;
}

/// A transaction for [`Script::transact`].
#[derive(Clone, Default)]
pub struct Txn<'a> {
    pub thread: u8,
    /// 0 `BC_TRANSACTION`, 1 `BC_REPLY`, 2 and 3 their `_SG` forms.
    pub kind: u8,
    pub heap: bool,
    /// Copies of /dev/null attached (0 to 3).
    pub files: u8,
    pub read: bool,
    pub target: u32,
    pub code: u32,
    pub flags: u32,
    pub offsets: &'a [u32],
    pub data: &'a [u8],
}

/// Builds inputs for the seed corpus.
pub struct Script(pub Vec<u8>);

impl Script {
    /// `header`: bits 0-1 pick the clients' area size (4 KiB, 16 KiB, 128 KiB, 1 MiB - 8 KiB),
    /// bit 2 asks for `HELLO_FLAG_NO_REPLY_COMPLETE`, bits 3, 4 and 5 give client A's second
    /// thread, client B's thread and client A's first thread a mailbox connection
    /// (`OP_NEW_THREAD_MAILBOX`) instead of a socket one.
    pub fn new(header: u8) -> Script {
        Script(vec![header])
    }

    pub fn op(mut self, op: Op, payload: &[u8]) -> Script {
        assert!(payload.len() <= MAX_OP_LEN);
        self.0.push(op as u8);
        self.0
            .extend_from_slice(&(payload.len() as u16).to_le_bytes());
        self.0.extend_from_slice(payload);
        self
    }

    /// A raw command stream on `thread`, with a 256-byte read if `read`.
    pub fn write(self, thread: u8, read: bool, cmds: &[u8]) -> Script {
        let mut p = vec![thread | if read { 0x80 } else { 0 }];
        p.extend_from_slice(cmds);
        self.op(Op::Write, &p)
    }

    pub fn transact(self, t: Txn<'_>) -> Script {
        let sel = t.thread
            | (t.kind << 3)
            | if t.heap { 0x20 } else { 0 }
            | if t.files > 0 { 0x40 } else { 0 }
            | if t.read { 0x80 } else { 0 };
        let mut p = vec![sel];
        le32(&mut p, t.target);
        le32(&mut p, t.code);
        le32(&mut p, t.flags);
        if t.files > 0 {
            p.push(t.files & 3);
        }
        p.push(t.offsets.len() as u8);
        for o in t.offsets {
            le32(&mut p, *o);
        }
        if t.kind >= 2 {
            le64(&mut p, 0);
        }
        p.extend_from_slice(t.data);
        self.op(Op::Transact, &p)
    }

    pub fn read(self, thread: u8, size: u16) -> Script {
        let mut p = vec![thread];
        p.extend_from_slice(&size.to_le_bytes());
        self.op(Op::Read, &p)
    }

    pub fn free(self, thread: u8, which: u8, delta: i8) -> Script {
        self.op(Op::Free, &[thread, which, delta as u8])
    }

    pub fn ioctl(self, thread: u8, cmd: u32, arg: &[u8]) -> Script {
        let mut p = vec![thread];
        match IOCTLS.iter().position(|&c| c == cmd) {
            Some(i) => p.push(i as u8),
            None => {
                p.push(IOCTLS.len() as u8);
                le32(&mut p, cmd);
            }
        }
        p.extend_from_slice(arg);
        self.op(Op::Ioctl, &p)
    }

    pub fn thread_msg(self, thread: u8, msg: &[u8]) -> Script {
        let mut p = vec![thread];
        p.extend_from_slice(msg);
        self.op(Op::ThreadMsg, &p)
    }

    /// `process`: 0 client A, 1 client B, 2 the server; `attach`: 0 nothing, 1 /dev/null,
    /// 2 a socket, 3 a memfd, 4 `/proc/self/mem`.
    pub fn proc_msg(self, process: u8, attach: u8, msg: &[u8]) -> Script {
        let mut p = vec![process | (attach << 2)];
        p.extend_from_slice(msg);
        self.op(Op::ProcMsg, &p)
    }

    pub fn pump(self) -> Script {
        self.op(Op::Pump, &[])
    }

    pub fn new_thread(self, thread: u8) -> Script {
        self.op(Op::NewThread, &[thread])
    }

    /// `which`: 0 client A, 1 client B.
    pub fn restart_client(self, which: u8) -> Script {
        self.op(Op::RestartClient, &[which])
    }

    pub fn restart_server(self) -> Script {
        self.op(Op::RestartServer, &[])
    }
}

/// A `BC_*` command stream builder for seeds.
#[derive(Default)]
pub struct Cmds(pub Vec<u8>);

impl Cmds {
    pub fn new() -> Cmds {
        Cmds(Vec::new())
    }
    pub fn u32(mut self, v: u32) -> Cmds {
        le32(&mut self.0, v);
        self
    }
    pub fn u64(mut self, v: u64) -> Cmds {
        le64(&mut self.0, v);
        self
    }
    pub fn cmd_handle(self, cmd: u32, handle: u32) -> Cmds {
        self.u32(cmd).u32(handle)
    }
    pub fn ptr_cookie(self, cmd: u32, ptr: u64, cookie: u64) -> Cmds {
        self.u32(cmd).u64(ptr).u64(cookie)
    }
    pub fn death(self, cmd: u32, handle: u32, cookie: u64) -> Cmds {
        self.u32(cmd).u32(handle).u64(cookie)
    }
    /// A transaction whose pointers do not point anywhere useful (a raw stream cannot know
    /// the harness's addresses): exercises the copy's failure paths.
    pub fn bogus_transaction(
        self,
        cmd: u32,
        target: u32,
        data_size: u64,
        offsets_size: u64,
    ) -> Cmds {
        let td = TransactionData {
            target: u64::from(target),
            data_size,
            offsets_size,
            data_buffer: 0x10,
            data_offsets: 0x20,
            ..Default::default()
        };
        let mut s = self.u32(cmd);
        td.encode(&mut s.0);
        s
    }
}

/// A flat binder object's bytes.
pub fn flat(hdr_type: u32, flags: u32, binder_or_handle: u64, cookie: u64) -> [u8; 24] {
    FlatBinderObject {
        hdr_type,
        flags,
        binder_or_handle,
        cookie,
    }
    .to_bytes()
}
