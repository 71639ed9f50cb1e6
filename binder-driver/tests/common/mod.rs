//! A raw client of the userspace driver protocol for tests: process and thread connections,
//! ioctls, command builders and a `BR_*` decoder. Several "processes" of a test are several
//! process connections of the test process.
#![allow(dead_code)]

use std::ffi::c_void;
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use binder_driver::{DriverConfig, Server};
use binder_sys::ud::state::{DriverState, DriverStats};
use binder_sys::ud::*;
use binder_sys::*;
use nix::sys::socket::{self, MsgFlags, sockopt};
use nix::sys::time::TimeVal;

pub const RECV_TIMEOUT: Duration = Duration::from_secs(20);

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A driver instance served by a thread of the test process.
pub struct Instance {
    pub name: String,
}

impl Instance {
    pub fn start(tag: &str) -> Instance {
        Instance::start_with(tag, |_| {})
    }

    /// Starts an instance after `setup` configured the server.
    pub fn start_with(tag: &str, setup: impl FnOnce(&Server)) -> Instance {
        Instance::start_configured(tag, |_| {}, setup)
    }

    /// Starts an instance whose configuration `configure` changed (limits, access).
    pub fn start_with_config(tag: &str, configure: impl FnOnce(&mut DriverConfig)) -> Instance {
        Instance::start_configured(tag, configure, |_| {})
    }

    fn start_configured(
        tag: &str,
        configure: impl FnOnce(&mut DriverConfig),
        setup: impl FnOnce(&Server),
    ) -> Instance {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn".into()),
            )
            .try_init();
        let name = format!(
            "t-{tag}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut config = DriverConfig::new(name.clone());
        configure(&mut config);
        let name = config.instance.clone();
        let server = Server::bind(config).expect("bind test instance");
        setup(&server);
        std::thread::spawn(move || server.run());
        Instance { name }
    }

    fn debug(&self, query: DebugQuery) -> String {
        let (ret, text) = debug_query_on(&connect(&self.name), query);
        assert_eq!(ret, 0);
        text
    }

    pub fn state(&self) -> DriverState {
        serde_json::from_str(&self.debug(DebugQuery::State)).expect("state JSON")
    }

    pub fn stats(&self) -> DriverStats {
        serde_json::from_str(&self.debug(DebugQuery::Stats)).expect("stats JSON")
    }

    /// Waits until `cond` holds for the driver's state (work done by other driver threads).
    pub fn wait_state(&self, what: &str, cond: impl Fn(&DriverState) -> bool) -> DriverState {
        for _ in 0..1000 {
            let st = self.state();
            if cond(&st) {
                return st;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("timed out waiting for: {what}\nstate: {:#?}", self.state());
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Ok(sock) = try_connect(&self.name) {
            let mut out = Vec::new();
            ProcRequest::Debug {
                query: DebugQuery::Shutdown as u32,
            }
            .encode(&mut out);
            let _ = sock::send(&sock, &out, &[], MsgFlags::empty());
        }
    }
}

pub fn try_connect(name: &str) -> std::io::Result<OwnedFd> {
    let sock = sock::connect(&Endpoint::of(name, nix::unistd::geteuid().as_raw()))?;
    set_timeout(&sock);
    Ok(sock)
}

pub fn connect(name: &str) -> OwnedFd {
    try_connect(name).expect("connect to the driver")
}

pub fn set_timeout(sock: &OwnedFd) {
    let tv = TimeVal::new(RECV_TIMEOUT.as_secs() as i64, 0);
    socket::setsockopt(sock, sockopt::ReceiveTimeout, &tv).unwrap();
}

pub fn send(sock: &OwnedFd, bytes: &[u8], fds: &[RawFd]) {
    sock::send(sock, bytes, fds, MsgFlags::empty()).expect("send");
}

/// Receives one datagram; panics on timeout. An empty vector is end of file.
pub fn recv(sock: &OwnedFd) -> (Vec<u8>, Vec<OwnedFd>) {
    try_recv(sock).expect("recv (timed out?)")
}

pub fn try_recv(sock: &OwnedFd) -> std::io::Result<(Vec<u8>, Vec<OwnedFd>)> {
    let mut buf = vec![0u8; MAX_MESSAGE];
    let mut cmsg = sock::cmsg_space();
    Ok(
        match sock::recv(sock, &mut buf, &mut cmsg, MsgFlags::empty())? {
            Some(got) => {
                buf.truncate(got.len);
                (buf, got.fds)
            }
            None => (Vec::new(), Vec::new()),
        },
    )
}

/// True if a datagram arrives within `timeout`.
pub fn readable_within(sock: &OwnedFd, timeout: Duration) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut fds = [PollFd::new(sock.as_fd(), PollFlags::POLLIN)];
    poll(
        &mut fds,
        PollTimeout::try_from(timeout.as_millis() as i32).unwrap(),
    )
    .unwrap()
        > 0
}

/// A read-only mapping of a receive area (or a writable one of an arena).
pub struct Mapping {
    pub ptr: NonNull<c_void>,
    pub len: usize,
}

// SAFETY: plain shared memory, read by copy only.
unsafe impl Send for Mapping {}
// SAFETY: as above; no method hands out references into the mapping.
unsafe impl Sync for Mapping {}

impl Mapping {
    pub fn map(fd: &OwnedFd, len: usize, writable: bool) -> nix::Result<Mapping> {
        use nix::sys::mman::{MapFlags, ProtFlags, mmap};
        let prot = if writable {
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE
        } else {
            ProtFlags::PROT_READ
        };
        // SAFETY: a new shared mapping chosen by the kernel.
        let ptr = unsafe {
            mmap(
                None,
                NonZeroUsize::new(len).unwrap(),
                prot,
                MapFlags::MAP_SHARED,
                fd,
                0,
            )
        }?;
        Ok(Mapping { ptr, len })
    }

    pub fn addr(&self) -> u64 {
        self.ptr.as_ptr() as u64
    }

    pub fn read(&self, offset: usize, len: usize) -> Vec<u8> {
        assert!(offset + len <= self.len, "read outside the mapping");
        let mut out = vec![0u8; len];
        // SAFETY: in-range copy out of a live mapping.
        unsafe {
            std::ptr::copy_nonoverlapping(
                (self.ptr.as_ptr() as *const u8).add(offset),
                out.as_mut_ptr(),
                len,
            )
        };
        out
    }

    pub fn write(&self, offset: usize, data: &[u8]) {
        assert!(offset + data.len() <= self.len);
        // SAFETY: in-range copy into a live writable mapping.
        unsafe {
            std::ptr::copy_nonoverlapping(
                data.as_ptr(),
                (self.ptr.as_ptr() as *mut u8).add(offset),
                data.len(),
            )
        };
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping; nothing borrows it.
        let _ = unsafe { nix::sys::mman::munmap(self.ptr, self.len) };
    }
}

/// A simulated process: its process connection and receive area.
pub struct Proc {
    pub sock: OwnedFd,
    pub area: Mapping,
    pub arena: Option<Mapping>,
}

pub const AREA_SIZE: u64 = BINDER_VM_SIZE as u64;

impl Proc {
    pub fn connect(inst: &Instance) -> Proc {
        Proc::connect_with_area(inst, AREA_SIZE)
    }

    pub fn connect_with_area(inst: &Instance, size: u64) -> Proc {
        Proc::connect_with(inst, size, 0)
    }

    /// A process that sends `HELLO_FLAG_*` options with its hello (and, as binder-rt does, its
    /// `/proc/self/mem`).
    pub fn connect_with(inst: &Instance, size: u64, flags: u32) -> Proc {
        Proc::connect_full(inst, size, flags, Some(&own_memory_file()))
    }

    /// A process that gives the driver `mem` (or no memory file) with its hello.
    pub fn connect_full(inst: &Instance, size: u64, flags: u32, mem: Option<&OwnedFd>) -> Proc {
        let sock = connect(&inst.name);
        let mem: Vec<RawFd> = mem.iter().map(|m| m.as_raw_fd()).collect();
        let (ret, payload) = hello(&sock, flags, &mem);
        assert_eq!(ret, 0);
        assert_eq!(payload, std::process::id().to_le_bytes());
        let (ret, payload, fds) = request(&sock, ProcRequest::Mmap { size }, &[]);
        assert_eq!(ret, 0);
        let granted = u64::from_le_bytes(payload[..8].try_into().unwrap());
        assert_eq!(granted, size.min(MAX_AREA_SIZE as u64));
        let area = Mapping::map(&fds[0], granted as usize, false).expect("map the area read-only");
        let (ret, _, _) = request(&sock, ProcRequest::MmapAddr { addr: area.addr() }, &[]);
        assert_eq!(ret, 0);
        Proc {
            sock,
            area,
            arena: None,
        }
    }

    pub fn new_thread(&mut self) -> Thread {
        self.try_new_thread().expect("a new thread connection")
    }

    /// `OP_NEW_THREAD`: the driver's answer, or its errno.
    pub fn try_new_thread(&mut self) -> Result<Thread, i32> {
        let tid = 1000 + COUNTER.fetch_add(1, Ordering::Relaxed);
        let (ret, _, mut fds) = request(&self.sock, ProcRequest::NewThread { tid }, &[]);
        if ret != 0 {
            return Err(ret);
        }
        assert_eq!(fds.len(), 1, "the driver hands over the thread connection");
        let sock = fds.pop().unwrap();
        set_timeout(&sock);
        Ok(Thread::on_socket(sock, tid))
    }

    /// A thread connection whose requests and answers go through a mailbox
    /// (`OP_NEW_THREAD_MAILBOX`), as binder-rt's threads.
    pub fn new_mailbox_thread(&mut self) -> Thread {
        self.try_new_mailbox_thread()
            .expect("a new mailbox thread connection")
    }

    /// `OP_NEW_THREAD_MAILBOX`: the driver's answer, or its errno.
    pub fn try_new_mailbox_thread(&mut self) -> Result<Thread, i32> {
        let tid = 1000 + COUNTER.fetch_add(1, Ordering::Relaxed);
        let (ret, _, fds) = request(&self.sock, ProcRequest::NewThreadMailbox { tid }, &[]);
        if ret != 0 {
            return Err(ret);
        }
        assert_eq!(
            fds.len(),
            2,
            "the driver hands over the socket and the mailbox"
        );
        let mut fds = fds.into_iter();
        let sock = fds.next().unwrap();
        let file = fds.next().unwrap();
        let mailbox = mailbox::Mailbox::map(&file).expect("map the mailbox");
        set_timeout(&sock);
        Ok(Thread {
            sock,
            tid,
            mailbox: Some(mailbox),
            mailbox_file: Some(file),
            last_answer: AtomicU32::new(0),
        })
    }

    /// A send arena of `size` bytes, registered with the driver.
    pub fn register_arena(&mut self, size: usize) {
        self.register_arena_part(size, size);
    }

    /// Maps `size` bytes but registers only the first `registered` of them.
    pub fn register_arena_part(&mut self, size: usize, registered: usize) {
        use nix::sys::memfd::{MFdFlags, memfd_create};
        let fd = memfd_create(
            c"test-arena",
            MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
        )
        .unwrap();
        nix::unistd::ftruncate(&fd, size as i64).unwrap();
        let map = Mapping::map(&fd, size, true).unwrap();
        let (ret, _, _) = request(
            &self.sock,
            ProcRequest::RegisterArena {
                addr: map.addr(),
                size: registered as u64,
            },
            &[fd.as_raw_fd()],
        );
        assert_eq!(ret, 0);
        self.arena = Some(map);
    }

    /// Writes `data` into the arena at `offset`; returns its address.
    pub fn arena_put(&self, offset: usize, data: &[u8]) -> u64 {
        let arena = self.arena.as_ref().expect("arena registered");
        arena.write(offset, data);
        arena.addr() + offset as u64
    }

    /// Reads `len` bytes at address `addr` of the receive area.
    pub fn read_area(&self, addr: u64, len: usize) -> Vec<u8> {
        assert!(addr >= self.area.addr(), "address {addr:#x} below the area");
        self.area.read((addr - self.area.addr()) as usize, len)
    }

    pub fn in_area(&self, addr: u64, len: u64) -> bool {
        addr >= self.area.addr() && addr + len <= self.area.addr() + self.area.len as u64
    }
}

/// This process's `/proc/self/mem`, opened by itself (what binder-rt sends with its hello).
pub fn own_memory_file() -> OwnedFd {
    nix::fcntl::open(
        "/proc/self/mem",
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .expect("open /proc/self/mem")
}

/// The hello of a process connection (this protocol's version and revision, `flags`, `fds`
/// attached: its memory file if any); the driver's `(ret, payload)`.
pub fn hello(sock: &OwnedFd, flags: u32, fds: &[RawFd]) -> (i32, Vec<u8>) {
    let (ret, payload, _) = request(
        sock,
        ProcRequest::Hello {
            version: HELLO_VERSION,
            flags,
            revision: UD_REVISION,
        },
        fds,
    );
    (ret, payload)
}

/// A debug query on a fresh connection `sock`: its answer collected from its parts, or the
/// driver's error (`ret`, empty text).
pub fn debug_query_on(sock: &OwnedFd, query: DebugQuery) -> (i32, String) {
    sock::debug_query(sock, query).expect("debug query")
}

/// One request on a process connection and its `OP_REPLY`.
pub fn request(sock: &OwnedFd, req: ProcRequest, fds: &[RawFd]) -> (i32, Vec<u8>, Vec<OwnedFd>) {
    sock::request(sock, &req, fds).expect("OP_REPLY")
}

/// The answer to an ioctl.
#[derive(Debug)]
pub struct IoctlReply {
    pub ret: i32,
    pub arg: Vec<u8>,
    pub read: Vec<u8>,
    pub fds: Vec<OwnedFd>,
    pub nfds: u32,
}

impl IoctlReply {
    pub fn br(&self) -> Vec<Br> {
        parse_br(&self.read)
    }

    pub fn bwr(&self) -> BinderWriteRead {
        BinderWriteRead::read(&self.arg).expect("binder_write_read")
    }
}

/// A simulated thread: its thread connection, on its socket or through its mailbox.
pub struct Thread {
    pub sock: OwnedFd,
    pub tid: u32,
    pub mailbox: Option<mailbox::Mailbox>,
    /// The mailbox's memfd, for tests that write over it.
    pub mailbox_file: Option<OwnedFd>,
    last_answer: AtomicU32,
}

pub const READ_SIZE: u64 = 256;

impl Thread {
    /// A thread connection on its socket.
    pub fn on_socket(sock: OwnedFd, tid: u32) -> Thread {
        Thread {
            sock,
            tid,
            mailbox: None,
            mailbox_file: None,
            last_answer: AtomicU32::new(0),
        }
    }

    /// Sends one request (the bytes of its datagram) with its files.
    pub fn post(&self, bytes: &[u8], fds: &[RawFd]) {
        let Some(m) = &self.mailbox else {
            return send(&self.sock, bytes, fds);
        };
        m.post_with_files(
            mailbox::Slot::Request,
            &self.sock,
            bytes,
            fds,
            MsgFlags::empty(),
        )
        .expect("post");
    }

    /// Takes one answer (the bytes of its datagram) with its files; panics on timeout. An
    /// empty vector is the end of the connection.
    pub fn take(&self) -> (Vec<u8>, Vec<OwnedFd>) {
        let Some(m) = &self.mailbox else {
            return recv(&self.sock);
        };
        let gate = mailbox::PollGate::new(0, Duration::ZERO);
        let mut last = self.last_answer.load(Ordering::Relaxed);
        let waited = m.wait(
            mailbox::Slot::Answer,
            &mut last,
            &mut mailbox::Poller::new(&gate),
            Some(RECV_TIMEOUT),
            &|| m.is_closed(),
        );
        self.last_answer.store(last, Ordering::Relaxed);
        match waited {
            mailbox::Waited::Posted => {}
            mailbox::Waited::Stopped => return (Vec::new(), Vec::new()),
            mailbox::Waited::TimedOut => panic!("no answer in the mailbox (timed out)"),
        }
        let mut msg = Vec::new();
        let flags = m
            .read(mailbox::Slot::Answer, &mut msg)
            .expect("a valid answer");
        let fds = if flags & mailbox::FLAG_FILES != 0 {
            let mut cmsg = sock::cmsg_space();
            let (fds, _) = mailbox::recv_files(&self.sock, &mut cmsg, MsgFlags::empty())
                .expect("the files datagram (timed out?)")
                .expect("the files before the end of file");
            fds
        } else {
            Vec::new()
        };
        (msg, fds)
    }

    /// Whether an answer arrives within `timeout` (without taking it).
    pub fn answer_within(&self, timeout: Duration) -> bool {
        let Some(m) = &self.mailbox else {
            return readable_within(&self.sock, timeout);
        };
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if m.posted_since(
                mailbox::Slot::Answer,
                self.last_answer.load(Ordering::Relaxed),
            ) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        false
    }

    pub fn send_write_read(&self, write: &[u8], read_size: u64) {
        self.send_write_read_fds(write, read_size, &[]);
    }

    /// A write-read that carries `fds` (as `SCM_RIGHTS`, with their numbers), as a process
    /// sends the files of its fd objects.
    pub fn send_write_read_fds(&self, write: &[u8], read_size: u64, fds: &[RawFd]) {
        let bwr = BinderWriteRead {
            write_size: write.len() as u64,
            write_buffer: write.as_ptr() as u64,
            read_size,
            read_buffer: 0x1000,
            ..Default::default()
        };
        let mut out = Vec::new();
        encode_write_read(&bwr, write, fds, &mut out);
        self.post(&out, fds);
    }

    pub fn recv_ioctl(&self) -> IoctlReply {
        let (msg, fds) = self.take();
        let done = decode_ioctl_done(&msg).unwrap_or_else(|| panic!("not OP_IOCTL_DONE: {msg:?}"));
        IoctlReply {
            ret: done.ret,
            arg: done.arg.to_vec(),
            read: done.read.to_vec(),
            nfds: done.nfds,
            fds,
        }
    }

    /// A write-read ioctl, blocking until the driver answers.
    pub fn write_read(&self, write: &[u8], read_size: u64) -> IoctlReply {
        self.send_write_read(write, read_size);
        self.recv_ioctl()
    }

    /// Commands only (read_size 0): returns at once.
    pub fn write(&self, write: &[u8]) -> IoctlReply {
        let r = self.write_read(write, 0);
        assert_eq!(r.ret, 0, "write failed");
        r
    }

    /// Sends commands ending in a `BC_REPLY` and takes the reply's `BR_TRANSACTION_COMPLETE`.
    pub fn reply(&self, cmds: &Cmds) {
        self.reply_fds(cmds, &[]);
    }

    /// [`Thread::reply`] with the files of the reply's fd objects.
    pub fn reply_fds(&self, cmds: &Cmds, fds: &[RawFd]) {
        self.send_write_read_fds(&cmds.0, READ_SIZE, fds);
        let r = self.recv_ioctl();
        assert_eq!(r.ret, 0);
        assert_eq!(r.br(), [Br::Noop, Br::TransactionComplete]);
    }

    /// Starts a read and returns without waiting for it.
    pub fn start_read(&self) {
        self.send_write_read(&[], READ_SIZE);
    }

    /// Reads until something other than a lone BR_NOOP arrives.
    pub fn read(&self) -> Vec<Br> {
        loop {
            let r = self.write_read(&[], READ_SIZE);
            assert_eq!(r.ret, 0);
            let brs = r.br();
            if brs != [Br::Noop] {
                return brs;
            }
        }
    }

    pub fn ioctl(&self, cmd: u32, arg: &[u8]) -> IoctlReply {
        let mut out = Vec::new();
        encode_ioctl(cmd, arg, &mut out);
        self.post(&out, &[]);
        self.recv_ioctl()
    }

    pub fn fd_fixup(&self, fds: &[i32]) -> i32 {
        let mut out = Vec::new();
        encode_fd_fixup(fds, &mut out);
        self.post(&out, &[]);
        let (msg, _) = self.take();
        decode_reply(&msg).expect("OP_REPLY").0
    }

    /// `BC_ENTER_LOOPER` (write only).
    pub fn enter_looper(&self) {
        self.write(&Cmds::new().enter_looper().0);
    }

    pub fn set_context_manager(&self) {
        let r = self.ioctl(BINDER_SET_CONTEXT_MGR, &0i32.to_le_bytes());
        assert_eq!(r.ret, 0);
    }
}

/// A `BC_*` command stream.
#[derive(Default, Clone)]
pub struct Cmds(pub Vec<u8>);

impl Cmds {
    pub fn new() -> Self {
        Cmds(Vec::new())
    }
    /// Appends one command.
    pub fn bc(mut self, bc: Bc) -> Self {
        bc.encode(&mut self.0);
        self
    }
    /// `BC_TRANSACTION` to `handle` with `data` and `offsets` (by address in our memory).
    pub fn transaction(
        self,
        handle: u32,
        code: u32,
        flags: u32,
        data: &[u8],
        offsets: &[u64],
    ) -> Self {
        self.bc(Bc::Transaction(TransactionData {
            target: handle as u64,
            code,
            ..payload(flags, data, offsets)
        }))
    }
    pub fn transaction_raw(self, td: TransactionData) -> Self {
        self.bc(Bc::Transaction(td))
    }
    pub fn reply(self, flags: u32, data: &[u8], offsets: &[u64]) -> Self {
        self.bc(Bc::Reply(payload(flags, data, offsets)))
    }
    pub fn reply_raw(self, td: TransactionData) -> Self {
        self.bc(Bc::Reply(td))
    }
    pub fn free_buffer(self, addr: u64) -> Self {
        self.bc(Bc::FreeBuffer(addr))
    }
    pub fn increfs(self, h: u32) -> Self {
        self.bc(Bc::IncRefs(h))
    }
    pub fn acquire(self, h: u32) -> Self {
        self.bc(Bc::Acquire(h))
    }
    pub fn release(self, h: u32) -> Self {
        self.bc(Bc::Release(h))
    }
    pub fn decrefs(self, h: u32) -> Self {
        self.bc(Bc::DecRefs(h))
    }
    pub fn increfs_done(self, ptr: u64, cookie: u64) -> Self {
        self.bc(Bc::IncRefsDone(ptr_cookie(ptr, cookie)))
    }
    pub fn acquire_done(self, ptr: u64, cookie: u64) -> Self {
        self.bc(Bc::AcquireDone(ptr_cookie(ptr, cookie)))
    }
    pub fn enter_looper(self) -> Self {
        self.bc(Bc::EnterLooper)
    }
    pub fn register_looper(self) -> Self {
        self.bc(Bc::RegisterLooper)
    }
    pub fn request_death(self, handle: u32, cookie: u64) -> Self {
        self.bc(Bc::RequestDeathNotification(HandleCookie {
            handle,
            cookie,
        }))
    }
    pub fn clear_death(self, handle: u32, cookie: u64) -> Self {
        self.bc(Bc::ClearDeathNotification(HandleCookie { handle, cookie }))
    }
    pub fn dead_binder_done(self, cookie: u64) -> Self {
        self.bc(Bc::DeadBinderDone(cookie))
    }
    pub fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }
}

/// Transaction data with `flags` whose contents are `data` and `offsets` (by address in our
/// memory).
fn payload(flags: u32, data: &[u8], offsets: &[u64]) -> TransactionData {
    TransactionData {
        flags,
        data_size: data.len() as u64,
        offsets_size: size_of_val(offsets) as u64,
        data_buffer: data.as_ptr() as u64,
        data_offsets: offsets.as_ptr() as u64,
        ..Default::default()
    }
}

/// A node of a `BR_INCREFS`/`BR_ACQUIRE`/... return.
pub fn ptr_cookie(ptr: u64, cookie: u64) -> PtrCookie {
    PtrCookie { ptr, cookie }
}

/// The returns of a read; a malformed read fails the test.
pub fn parse_br(bytes: &[u8]) -> Vec<Br> {
    match Br::decode_all(bytes) {
        (brs, None) => brs,
        (brs, Some(e)) => panic!("malformed read after {brs:?}: {e}"),
    }
}

/// The transaction of a read (`BR_TRANSACTION` or `BR_REPLY`).
pub fn txn_of(brs: &[Br]) -> TransactionData {
    brs.iter()
        .find_map(|b| match b {
            Br::Transaction(t) | Br::Reply(t) => Some(*t),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no transaction in {brs:?}"))
}

/// A `flat_binder_object` as bytes.
pub fn flat(hdr_type: u32, binder_or_handle: u64, cookie: u64) -> [u8; 24] {
    FlatBinderObject {
        hdr_type,
        flags: FLAT_BINDER_FLAG_ACCEPTS_FDS | 0x13,
        binder_or_handle,
        cookie,
    }
    .to_bytes()
}

/// A context manager process with one looper thread waiting for work, and a client process.
pub struct Pair {
    pub server: Proc,
    pub server_thread: Thread,
    pub client: Proc,
    pub client_thread: Thread,
}

pub fn pair(inst: &Instance) -> Pair {
    pair_with(inst, 0)
}

/// A pair whose server sends `server_flags` with its hello.
pub fn pair_with(inst: &Instance, server_flags: u32) -> Pair {
    pair_of(inst, server_flags, Proc::new_thread)
}

/// A pair whose server sends `server_flags` with its hello and whose threads are made by
/// `new_thread` (e.g. [`Proc::new_mailbox_thread`]).
pub fn pair_of(inst: &Instance, server_flags: u32, new_thread: fn(&mut Proc) -> Thread) -> Pair {
    let mut server = Proc::connect_with(inst, AREA_SIZE, server_flags);
    let server_thread = new_thread(&mut server);
    server_thread.set_context_manager();
    server_thread.enter_looper();
    let mut client = Proc::connect(inst);
    let client_thread = new_thread(&mut client);
    // A thread's first ioctl returns at once (the kernel's `looper_need_return`); get it over.
    assert_eq!(client_thread.ioctl(BINDER_VERSION, &[0; 4]).ret, 0);
    Pair {
        server,
        server_thread,
        client,
        client_thread,
    }
}

pub fn errno(e: i32) -> i32 {
    -e
}
