//! Smoke test of binder-sys against the real kernel driver (`binder_linux`).
//!
//! Runs only when `BINDER_TEST_DRIVER=kernel` (set inside the VM by `scripts/kernel-vm/run`);
//! otherwise it says it is skipped and passes. It proves that our ioctl numbers, command words
//! and `#[repr(C)]` layouts are the kernel's, and that the harness gives a usable device:
//!
//! 1. Leases a device from `BINDER_TEST_DEVICES` by holding an exclusive `flock` on
//!    `/tmp/binder-test-devices/<name>.lock`, so parallel tests never share one.
//! 2. Forks a child that opens the device itself, checks `BINDER_VERSION`, maps its receive
//!    area, becomes the context manager and serves transactions.
//! 3. The parent opens the device, checks `BINDER_VERSION == 8`, checks that a writable mapping
//!    is refused, maps 1 MiB − 8 KiB read-only and does `BC_TRANSACTION`/`BR_REPLY` round trips
//!    to handle 0, verifying each reply payload read from its own mapping.
//! 4. Buffers are released with `BC_FREE_BUFFER` on both sides. The round trips move more than
//!    the whole mapping in each direction, so a missing or wrong free would run the driver out of
//!    buffer space (`BR_FAILED_REPLY`); with debugfs the parent also checks its own allocated
//!    buffers in `/sys/kernel/debug/binder/proc/<pid>` before and after the last free.

use binder_sys::*;
use std::ffi::{CStr, CString};
use std::fs::{self, File, OpenOptions};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Two-way request: the server replies with `b"PONG"`, the sender pid it saw, the request reversed.
const CODE_PING: u32 = 1;
/// One-way request that makes the server exit.
const CODE_STOP: u32 = 2;
/// Request sizes, one round trip each. The tail moves 12 × 128 KiB > 1 MiB each way.
const ROUND_SIZES: &[usize] = &[
    0, 1, 8, 100, 4096, 65536, 131072, 131072, 131072, 131072, 131072, 131072, 131072, 131072,
    131072, 131072, 131072, 131072,
];
const MAX_PAYLOAD: usize = 131072;
/// Generous: everything runs 10-15x slower under qemu TCG.
const DEADLINE: Duration = Duration::from_secs(120);

#[test]
fn transaction_round_trip_on_the_kernel_driver() {
    if std::env::var("BINDER_TEST_DRIVER").as_deref() != Ok("kernel") {
        println!(
            "kernel_smoke: skipped (BINDER_TEST_DRIVER is not \"kernel\"; run scripts/kernel-tests)"
        );
        return;
    }
    let lease = DeviceLease::acquire();
    println!("kernel_smoke: using {}", lease.device.display());
    let device =
        CString::new(lease.device.to_str().expect("device path is UTF-8")).expect("no NUL");

    // Everything the child touches is allocated before fork: it must not call malloc, since
    // another thread of the test harness may have held the allocator's lock at fork time.
    let mut server_commands: Vec<u8> = Vec::with_capacity(1024);
    let mut server_reply: Vec<u8> = Vec::with_capacity(MAX_PAYLOAD + 64);
    let (ready_read, ready_write) = pipe();

    // SAFETY: fork has no memory-safety preconditions. The child runs only `serve`, which uses
    // the buffers allocated above and raw syscalls, and leaves with _exit (no unwinding, no
    // destructors, no atexit handlers of the parent's runtime).
    let child = unsafe { libc::fork() };
    assert!(
        child >= 0,
        "fork failed: {}",
        std::io::Error::last_os_error()
    );
    if child == 0 {
        drop(ready_read);
        let code = match serve(
            &device,
            ready_write.as_raw_fd(),
            &mut server_commands,
            &mut server_reply,
        ) {
            Ok(()) => 0,
            Err(fail) => {
                fail.report("kernel_smoke server");
                1
            }
        };
        // SAFETY: _exit only ends the process; it is async-signal-safe.
        unsafe { libc::_exit(code) };
    }
    drop(ready_write);

    // If anything blocks (e.g. the server never replies), kill the server: the parent's pending
    // transaction then ends with BR_DEAD_REPLY and the test fails instead of hanging.
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(DEADLINE) == Err(mpsc::RecvTimeoutError::Timeout) {
            eprintln!("kernel_smoke: no progress within {DEADLINE:?}, killing the server");
            // SAFETY: kill has no memory-safety preconditions; `child` is our own child's pid.
            unsafe { libc::kill(child, libc::SIGKILL) };
        }
    });

    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| client(&device, ready_read)));
    let _ = done_tx.send(());
    watchdog.join().expect("watchdog thread");
    if result.is_err() {
        // SAFETY: as above; the server may still be running and must not outlive the test.
        unsafe { libc::kill(child, libc::SIGKILL) };
        let _ = wait_child(child, Duration::from_secs(10));
    }
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    let status = wait_child(child, Duration::from_secs(30)).expect("server did not exit");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "server failed (wait status {status:#x}); its stderr says why"
    );
    println!(
        "kernel_smoke: {} round trips and BC_FREE_BUFFER verified on the kernel driver",
        ROUND_SIZES.len()
    );
}

// ------------------------------------------------------------------------------------------
// Device leasing: the convention every kernel-driver test follows.

/// An exclusively held binder device: the lock is released when this is dropped.
struct DeviceLease {
    device: PathBuf,
    _lock: File,
}

impl DeviceLease {
    /// Picks a free device from `BINDER_TEST_DEVICES` (comma-separated paths; `/dev/binder1,...`
    /// in the VM), holding `flock(LOCK_EX)` on `/tmp/binder-test-devices/<name>.lock`. Waits
    /// while every device is taken.
    fn acquire() -> DeviceLease {
        let list = std::env::var("BINDER_TEST_DEVICES").unwrap_or_default();
        let mut devices: Vec<PathBuf> = list
            .split(',')
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect();
        if devices.is_empty() {
            devices.push(PathBuf::from("/dev/binder"));
        }
        let lock_dir = PathBuf::from("/tmp/binder-test-devices");
        fs::create_dir_all(&lock_dir).expect("create /tmp/binder-test-devices");
        // Shared by every test process, whoever runs it.
        let _ = fs::set_permissions(&lock_dir, fs::Permissions::from_mode(0o1777));
        let start = Instant::now();
        // Start at a different device per process, so parallel binaries rarely contend.
        let first = std::process::id() as usize % devices.len();
        loop {
            for i in 0..devices.len() {
                let device = &devices[(first + i) % devices.len()];
                let name = device
                    .file_name()
                    .expect("device path has a name")
                    .to_string_lossy();
                let lock = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .mode(0o666)
                    .open(lock_dir.join(format!("{name}.lock")))
                    .expect("open device lock file");
                // SAFETY: flock on a descriptor we own; no memory is involved.
                if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                    return DeviceLease {
                        device: device.clone(),
                        _lock: lock,
                    };
                }
            }
            assert!(
                start.elapsed() < DEADLINE,
                "no free binder device among {devices:?} within {DEADLINE:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

// ------------------------------------------------------------------------------------------
// The two sides.

fn client(device: &CStr, ready: OwnedFd) {
    match wait_ready(&ready) {
        Ok(()) => {}
        Err(what) => panic!("server not ready: {what} (its stderr says why)"),
    }
    let binder = Binder::open(device).unwrap_or_else(|f| panic!("{}", f.message()));
    assert_eq!(
        binder.version, BINDER_CURRENT_PROTOCOL_VERSION,
        "BINDER_VERSION"
    );
    assert_eq!(BINDER_CURRENT_PROTOCOL_VERSION, 8);

    let debugfs = PathBuf::from(format!(
        "/sys/kernel/debug/binder/proc/{}",
        std::process::id()
    ));
    let mut commands: Vec<u8> = Vec::with_capacity(1024);
    let mut read_buf = [0u8; 1024];
    let mut pending_free: Option<u64> = None;
    let my_pid = std::process::id() as i32;

    for (round, &size) in ROUND_SIZES.iter().enumerate() {
        let request: Vec<u8> = (0..size).map(|i| (i * 7 + round * 13) as u8).collect();
        commands.clear();
        // Like libbinder: the previous reply's buffer is freed in the same write as the next call.
        if let Some(buffer) = pending_free.take() {
            Bc::FreeBuffer(buffer).encode(&mut commands);
        }
        Bc::Transaction(TransactionData {
            target: 0, // handle 0: the context manager
            code: CODE_PING,
            flags: TF_ACCEPT_FDS,
            data_size: size as u64,
            data_buffer: request.as_ptr() as u64,
            ..Default::default()
        })
        .encode(&mut commands);

        let mut write: &[u8] = &commands;
        let reply = 'reply: loop {
            let n = binder
                .write_read(write, &mut read_buf)
                .unwrap_or_else(|f| panic!("{}", f.message()));
            write = &[];
            let mut r = Reader::new(&read_buf[..n]);
            while r.remaining() > 0 {
                let br = Br::decode(&mut r)
                    .unwrap_or_else(|e| panic!("round {round}: malformed read: {e}"));
                match br {
                    Br::Noop | Br::TransactionComplete => {}
                    Br::Reply(tr) => break 'reply tr,
                    Br::DeadReply | Br::FailedReply | Br::FrozenReply => {
                        panic!("round {round} ({size} bytes): {}", br.name())
                    }
                    other => panic!("round {round}: unexpected {other:?}"),
                }
            }
        };
        assert_eq!(
            reply.flags & TF_STATUS_CODE,
            0,
            "round {round}: reply is a status code"
        );
        assert_eq!(reply.offsets_size, 0, "round {round}: reply has objects");
        let data = binder.received(reply.data_buffer, reply.data_size);
        assert_eq!(data.len(), 8 + size, "round {round}: reply size");
        assert_eq!(&data[..4], b"PONG", "round {round}: reply magic");
        assert_eq!(
            i32::from_le_bytes(data[4..8].try_into().unwrap()),
            my_pid,
            "round {round}: sender_pid the server saw"
        );
        assert!(
            data[8..].iter().eq(request.iter().rev()),
            "round {round}: reply payload is not the request reversed"
        );
        pending_free = Some(reply.data_buffer);
    }

    // The kernel copies a transaction's data from the calling thread's own address space and
    // nowhere else: an address not mapped here fails with EFAULT, whatever other processes
    // have there (the userspace driver's equivalent: binder-driver/tests/security.rs).
    commands.clear();
    Bc::Transaction(TransactionData {
        target: 0,
        code: CODE_PING,
        data_size: 16,
        data_buffer: 8,
        ..Default::default()
    })
    .encode(&mut commands);
    binder.write_then_read_until(&commands, &mut read_buf, Br::FailedReply, "unreadable data");
    assert_eq!(
        binder.extended_error_param(),
        -libc::EFAULT,
        "the reason for data the caller cannot read"
    );

    let before = allocated_buffers(&debugfs);
    // Free the last reply and stop the server with a one-way call.
    let stop_payload = [0u8; 4];
    commands.clear();
    Bc::FreeBuffer(pending_free.take().expect("a reply to free")).encode(&mut commands);
    let after = {
        let n = binder
            .write_read(&commands, &mut [])
            .unwrap_or_else(|f| panic!("{}", f.message()));
        assert_eq!(n, 0);
        allocated_buffers(&debugfs)
    };
    match (before, after) {
        (Some(before), Some(after)) => {
            assert_eq!(
                (before, after),
                (1, 0),
                "allocated buffers in {} before/after BC_FREE_BUFFER",
                debugfs.display()
            );
            println!("kernel_smoke: debugfs shows the reply buffer released by BC_FREE_BUFFER");
        }
        _ => println!(
            "kernel_smoke: no binder debugfs; BC_FREE_BUFFER checked through buffer exhaustion only"
        ),
    }
    commands.clear();
    Bc::Transaction(TransactionData {
        target: 0,
        code: CODE_STOP,
        flags: TF_ONE_WAY,
        data_size: stop_payload.len() as u64,
        data_buffer: stop_payload.as_ptr() as u64,
        ..Default::default()
    })
    .encode(&mut commands);
    binder.write_then_read_until(
        &commands,
        &mut read_buf,
        Br::TransactionComplete,
        "stop call",
    );
}

/// The context manager, in the forked child. Allocation-free: it uses only the buffers passed
/// in (pushing within their capacity) and the stack.
fn serve(
    device: &CStr,
    ready: RawFd,
    commands: &mut Vec<u8>,
    reply: &mut Vec<u8>,
) -> Result<(), Fail> {
    let binder = Binder::open(device)?;
    if binder.version != BINDER_CURRENT_PROTOCOL_VERSION {
        return Err(Fail {
            step: "BINDER_VERSION is not 8",
            errno: 0,
        });
    }
    binder.ioctl_u32(BINDER_SET_MAX_THREADS, 0, "BINDER_SET_MAX_THREADS")?;
    // A previous test's context manager on this device is released asynchronously by the
    // driver after that process exits, so EBUSY can briefly persist.
    let start = Instant::now();
    loop {
        match binder.ioctl_u32(BINDER_SET_CONTEXT_MGR, 0, "BINDER_SET_CONTEXT_MGR") {
            Ok(()) => break,
            Err(f) if f.errno == libc::EBUSY && start.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(f) => return Err(f),
        }
    }
    // SAFETY: writes one byte from a live stack buffer to the pipe we were given.
    if unsafe { libc::write(ready, b"R".as_ptr().cast(), 1) } != 1 {
        return Err(Fail::errno("write to the ready pipe"));
    }

    commands.clear();
    Bc::EnterLooper.encode(commands);
    let mut read_buf = [0u8; 512];
    let parent = std::os::unix::process::parent_id() as i32;
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    loop {
        let n = binder.write_read(commands, &mut read_buf)?;
        commands.clear();
        let mut r = Reader::new(&read_buf[..n]);
        while r.remaining() > 0 {
            let br = Br::decode(&mut r).map_err(|_| Fail::new("malformed BR_ stream"))?;
            match br {
                Br::Noop | Br::TransactionComplete | Br::Release(_) | Br::DecRefs(_) => {}
                Br::IncRefs(node) => Bc::IncRefsDone(node).encode(commands),
                Br::Acquire(node) => Bc::AcquireDone(node).encode(commands),
                Br::Transaction(tr) => {
                    // The driver reports no sender pid for one-way calls (t->from is NULL).
                    let expected_pid = if tr.flags & TF_ONE_WAY != 0 {
                        0
                    } else {
                        parent
                    };
                    if tr.sender_pid != expected_pid || tr.sender_euid != euid {
                        return Err(Fail::new("BR_TRANSACTION: wrong sender_pid/sender_euid"));
                    }
                    if tr.target != 0 || tr.cookie != 0 {
                        return Err(Fail::new("BR_TRANSACTION: context manager target is not 0"));
                    }
                    Bc::FreeBuffer(tr.data_buffer).encode(commands);
                    match (tr.code, tr.flags & TF_ONE_WAY) {
                        (CODE_STOP, TF_ONE_WAY) => {
                            // Flush the free; nothing more to read.
                            binder.write_read(commands, &mut [])?;
                            return Ok(());
                        }
                        (CODE_PING, 0) => {
                            let data = binder.received_checked(tr.data_buffer, tr.data_size)?;
                            if data.len() > MAX_PAYLOAD {
                                return Err(Fail::new("request larger than MAX_PAYLOAD"));
                            }
                            reply.clear();
                            reply.extend_from_slice(b"PONG");
                            reply.extend_from_slice(&tr.sender_pid.to_le_bytes());
                            reply.extend(data.iter().rev());
                            // `reply` stays untouched until the next write_read has consumed this.
                            Bc::Reply(TransactionData {
                                data_size: reply.len() as u64,
                                data_buffer: reply.as_ptr() as u64,
                                ..Default::default()
                            })
                            .encode(commands);
                        }
                        _ => return Err(Fail::new("BR_TRANSACTION: unexpected code or flags")),
                    }
                }
                other => {
                    return Err(Fail {
                        step: other.name(),
                        errno: 0,
                    });
                }
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// A minimal binder connection: open, version, mapping, BINDER_WRITE_READ.

struct Binder {
    fd: OwnedFd,
    map: *const u8,
    map_len: usize,
    version: i32,
}

impl Binder {
    fn open(device: &CStr) -> Result<Binder, Fail> {
        // SAFETY: `device` is a valid NUL-terminated path for the duration of the call.
        let raw = unsafe { libc::open(device.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if raw < 0 {
            return Err(Fail::errno("open binder device"));
        }
        // SAFETY: `raw` is a freshly opened descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut version = BinderVersion::default();
        // SAFETY: BINDER_VERSION writes one `struct binder_version` (a repr(C) i32) to the
        // pointer, which points to a live, writable BinderVersion.
        if unsafe {
            libc::ioctl(
                fd.as_raw_fd(),
                BINDER_VERSION as _,
                &mut version as *mut BinderVersion,
            )
        } < 0
        {
            return Err(Fail::errno("BINDER_VERSION"));
        }
        // The driver must refuse a writable mapping: received buffers are read-only to the process.
        // SAFETY: a new mapping at an address of the kernel's choosing; nothing is aliased.
        let writable = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                BINDER_VM_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if writable != libc::MAP_FAILED {
            // SAFETY: unmapping the mapping just created, which nothing references.
            unsafe { libc::munmap(writable, BINDER_VM_SIZE) };
            return Err(Fail::new("the driver accepted a writable mapping"));
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EPERM) {
            return Err(Fail::errno("writable mmap failed, but not with EPERM"));
        }
        // SAFETY: as above; the kernel owns the pages and we only read them.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                BINDER_VM_SIZE,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_NORESERVE,
                fd.as_raw_fd(),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(Fail::errno("mmap of the binder receive area"));
        }
        Ok(Binder {
            fd,
            map: map.cast(),
            map_len: BINDER_VM_SIZE,
            version: version.protocol_version,
        })
    }

    /// One BINDER_WRITE_READ: the whole of `write` must be consumed; returns the bytes read.
    fn write_read(&self, write: &[u8], read: &mut [u8]) -> Result<usize, Fail> {
        let mut bwr = BinderWriteRead {
            write_size: write.len() as u64,
            write_buffer: write.as_ptr() as u64,
            read_size: read.len() as u64,
            read_buffer: read.as_mut_ptr() as u64,
            ..Default::default()
        };
        loop {
            // SAFETY: `bwr` is a live repr(C) binder_write_read; its write buffer is readable for
            // write_size bytes and its read buffer writable for read_size bytes during the call.
            let rc = unsafe {
                libc::ioctl(
                    self.fd.as_raw_fd(),
                    BINDER_WRITE_READ as _,
                    &mut bwr as *mut BinderWriteRead,
                )
            };
            if rc >= 0 {
                break;
            }
            if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                return Err(Fail::errno("BINDER_WRITE_READ"));
            }
        }
        if bwr.write_consumed != bwr.write_size {
            return Err(Fail::new("BINDER_WRITE_READ did not consume all commands"));
        }
        Ok(bwr.read_consumed as usize)
    }

    /// Writes `commands`, then reads until the return `want`, allowing only `BR_NOOP` before it.
    fn write_then_read_until(&self, commands: &[u8], read_buf: &mut [u8], want: Br, what: &str) {
        let mut write = commands;
        loop {
            let n = self
                .write_read(write, read_buf)
                .unwrap_or_else(|f| panic!("{}", f.message()));
            write = &[];
            let (brs, err) = Br::decode_all(&read_buf[..n]);
            for br in brs {
                match br {
                    Br::Noop => {}
                    br if br == want => return,
                    other => panic!("{what}: expected {}, got {other:?}", want.name()),
                }
            }
            if let Some(e) = err {
                panic!("{what}: malformed read: {e}");
            }
        }
    }

    /// `BINDER_GET_EXTENDED_ERROR`'s errno (`param`) for this thread's last transaction.
    fn extended_error_param(&self) -> i32 {
        let mut e = ExtendedError::default();
        // SAFETY: BINDER_GET_EXTENDED_ERROR writes one `binder_extended_error` to the pointer,
        // which points to a live `ExtendedError` (the same layout).
        let rc = unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                BINDER_GET_EXTENDED_ERROR as _,
                &mut e as *mut ExtendedError,
            )
        };
        assert!(rc >= 0, "BINDER_GET_EXTENDED_ERROR failed");
        e.param
    }

    fn ioctl_u32(&self, request: u32, value: u32, step: &'static str) -> Result<(), Fail> {
        let mut value = value;
        // SAFETY: both ioctls used here read one u32 from the pointer, which is live.
        if unsafe { libc::ioctl(self.fd.as_raw_fd(), request as _, &mut value as *mut u32) } < 0 {
            return Err(Fail::errno(step));
        }
        Ok(())
    }

    /// A received buffer, after checking that the driver's pointer lies inside our mapping.
    fn received_checked(&self, ptr: u64, len: u64) -> Result<&[u8], Fail> {
        let start = self.map as u64;
        let end = start + self.map_len as u64;
        if ptr < start || ptr.checked_add(len).is_none_or(|e| e > end) {
            return Err(Fail::new("received buffer outside the mapping"));
        }
        if len == 0 {
            return Ok(&[]);
        }
        // SAFETY: the range lies inside our live read-only mapping (checked above), and the
        // driver does not change a buffer it handed to us until we free it.
        Ok(unsafe { std::slice::from_raw_parts(ptr as *const u8, len as usize) })
    }

    fn received(&self, ptr: u64, len: u64) -> &[u8] {
        self.received_checked(ptr, len)
            .unwrap_or_else(|f| panic!("{}", f.message()))
    }
}

impl Drop for Binder {
    fn drop(&mut self) {
        // SAFETY: unmaps the mapping made in `open`; no slice into it outlives `self`.
        unsafe { libc::munmap(self.map as *mut libc::c_void, self.map_len) };
    }
}

/// A failed step, reportable without allocating (the forked child uses it).
#[derive(Debug, Clone, Copy)]
struct Fail {
    step: &'static str,
    errno: i32,
}

impl Fail {
    fn new(step: &'static str) -> Fail {
        Fail { step, errno: 0 }
    }
    fn errno(step: &'static str) -> Fail {
        Fail {
            step,
            errno: std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
        }
    }
    fn message(&self) -> String {
        if self.errno == 0 {
            format!("{} failed", self.step)
        } else {
            format!(
                "{} failed: {}",
                self.step,
                std::io::Error::from_raw_os_error(self.errno)
            )
        }
    }
    /// Writes "who: step failed (errno N)" to stderr with raw writes only.
    fn report(&self, who: &str) {
        let mut digits = [0u8; 12];
        let mut at = digits.len();
        let mut n = self.errno.unsigned_abs();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for part in [
            who.as_bytes(),
            b": ",
            self.step.as_bytes(),
            b" failed (errno ",
            &digits[at..],
            b")\n",
        ] {
            // SAFETY: writes a live byte slice to stderr.
            unsafe { libc::write(2, part.as_ptr().cast(), part.len()) };
        }
    }
}

// ------------------------------------------------------------------------------------------
// Process plumbing.

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 writes two descriptors into the live two-element array.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2");
    // SAFETY: both descriptors were just created and are owned by nothing else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Waits for the server's ready byte; EOF means it died before becoming context manager.
fn wait_ready(ready: &OwnedFd) -> Result<(), String> {
    let mut pfd = libc::pollfd {
        fd: ready.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: polls one live pollfd.
    let n = unsafe { libc::poll(&mut pfd, 1, DEADLINE.as_millis() as i32) };
    if n <= 0 {
        return Err(format!("no ready signal within {DEADLINE:?}"));
    }
    let mut byte = 0u8;
    // SAFETY: reads at most one byte into a live stack variable.
    match unsafe { libc::read(ready.as_raw_fd(), (&mut byte as *mut u8).cast(), 1) } {
        1 if byte == b'R' => Ok(()),
        _ => Err("it exited before becoming the context manager".into()),
    }
}

/// The number of allocated buffers debugfs lists for a process, if binder's debugfs is there.
fn allocated_buffers(proc_file: &PathBuf) -> Option<usize> {
    let text = fs::read_to_string(proc_file).ok()?;
    Some(text.lines().filter(|l| l.starts_with("  buffer ")).count())
}

fn wait_child(pid: libc::pid_t, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waits for our own child, writing its status into a live local.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return Some(status);
        }
        if r < 0 || start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
