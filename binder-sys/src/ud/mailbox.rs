//! Thread mailboxes: a thread connection's requests and answers through shared memory, with
//! futex wake-ups and bounded, adaptive polling (see [`crate::ud::OP_NEW_THREAD_MAILBOX`]).
//!
//! A mailbox is a memfd of [`MAILBOX_SIZE`] bytes created and sealed by the driver (its size can
//! never change) and mapped read-write by the driver and by one thread of one process. It holds
//! one slot per direction, because a thread connection never has more than one request and one
//! answer outstanding: the **request** slot (the thread writes an `OP_IOCTL` or `OP_FD_FIXUP`
//! message, the driver reads it) and the **answer** slot (the driver writes the `OP_IOCTL_DONE`
//! or `OP_REPLY`, the thread reads it). The bytes are exactly those of the datagrams of a
//! socket thread connection; files still travel on the connection's socket (an [`OP_FILES`]
//! datagram with `SCM_RIGHTS`, sent before the message that names them is posted).
//!
//! Layout (little-endian `u32` words, each on its own cache line):
//!
//! | offset | word | written by |
//! |---|---|---|
//! | 0 | request sequence: 2 added after each request is written; bit 0 a poke | the thread |
//! | 64 | the driver sleeps on the request sequence (1) or not (0) | the driver |
//! | 128 | answer sequence: 2 added after each answer is written; bit 0 a poke | the driver |
//! | 192 | the thread sleeps on the answer sequence (1) or not (0) | the thread |
//! | 256 | request length, then flags ([`FLAG_FILES`]) | the thread |
//! | 320 | answer length, then flags | the driver |
//! | 384 | closed: the driver ended the connection (1) | the driver |
//! | 4096 | request bytes, up to [`MAX_MESSAGE`] | the thread |
//! | 4096 + [`MAX_MESSAGE`] | answer bytes, up to [`MAX_MESSAGE`] | the driver |
//!
//! Posting writes the bytes, then the length, then adds 2 to the sequence (sequentially
//! consistent) and makes a `FUTEX_WAKE` only if the other side said it sleeps. Waiting polls the
//! sequence for a short adaptive window ([`Poller`]), then says it sleeps, checks the sequence
//! again and sleeps in `FUTEX_WAIT` on it (the two checks and the two stores form Dekker's
//! pattern, so no wake-up is lost). A message is posted when the sequence without its lowest bit
//! moved; the lowest bit is a **poke**: toggled (so that the value always changes, and a sleeper
//! about to sleep cannot miss it) to wake a waiter whose stop condition became true, without
//! posting anything.
//!
//! The process can write every byte of the mapping at any time, so the driver treats it as
//! untrusted input: it reads a request's length once, refuses one above [`MAX_MESSAGE`], copies
//! the bytes once into its own memory and decodes only that copy; it never forms a Rust
//! reference to the data, and its own liveness never depends on a word the process can write
//! (its "closed" flag is its own; the process's "sleeping" word only decides whether the driver
//! makes a wake-up the process would otherwise miss). A process that scribbles over its mailbox
//! gets malformed answers or requests refused, as if it had sent malformed datagrams. A
//! driver thread sleeping on a mailbox also wakes once a second to look at its own state, since
//! a process could undo the wake-up meant to stop it.
//!
//! Known limit: the seals keep the file's size, not its pages; a process can punch holes in its
//! mailbox (`fallocate`), and the driver's next access then allocates a fresh page, which only
//! fails (SIGBUS) where memory is exhausted under strict overcommit or a memory cgroup limit.

use std::io;
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, SealFlag, fcntl};
use nix::sys::memfd::{MFdFlags, memfd_create};
use nix::sys::mman::{MapFlags, MmapAdvise, ProtFlags, madvise, mmap, munmap};
use nix::sys::socket::MsgFlags;
use rustix::thread::futex;

use super::{MAX_MESSAGE, sock};

/// Size of the header (the words above), before the two slots.
const HEADER: usize = 4096;
/// Size of a mailbox memfd.
pub const MAILBOX_SIZE: usize = HEADER + 2 * MAX_MESSAGE;
/// Flag of a posted message: files for it were sent on the socket as an [`OP_FILES`] datagram.
pub const FLAG_FILES: u32 = 1;
/// The datagram that carries the files of a mailbox message on the thread connection's socket:
/// `{u32 op, u32 n}` with `n` files as `SCM_RIGHTS`, sent before the message is posted.
pub const OP_FILES: u32 = 18;

/// The bytes of an [`OP_FILES`] datagram announcing `n` files.
pub fn files_head(n: usize) -> [u8; 8] {
    let mut head = [0u8; 8];
    head[..4].copy_from_slice(&OP_FILES.to_le_bytes());
    head[4..].copy_from_slice(&(n as u32).to_le_bytes());
    head
}

/// Receives the [`OP_FILES`] datagram of a message posted with [`FLAG_FILES`] from `sock`
/// (`flags` are the `recvmsg` flags, e.g. `MSG_DONTWAIT`): its files, and whether the datagram
/// or its files did not all fit (then the count is not checked). `Ok(None)` at end of file;
/// `InvalidData` for another datagram, or a count that differs from the files that came.
pub fn recv_files(
    sock: impl AsFd,
    cmsg: &mut Vec<u8>,
    flags: MsgFlags,
) -> io::Result<Option<(Vec<OwnedFd>, bool)>> {
    let mut head = [0u8; 8];
    let Some(got) = sock::recv(sock, &mut head, cmsg, flags)? else {
        return Ok(None);
    };
    let fields = |at: usize| u32::from_le_bytes(head[at..at + 4].try_into().expect("4 bytes"));
    let counted = got.truncated || fields(4) as usize == got.fds.len();
    if got.len != head.len() || fields(0) != OP_FILES || !counted {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not the files datagram of a mailbox message",
        ));
    }
    Ok(Some((got.fds, got.truncated)))
}
const REQ_SEQ: usize = 0;
const REQ_SLEEPING: usize = 64;
const ANS_SEQ: usize = 128;
const ANS_SLEEPING: usize = 192;
const REQ_LEN: usize = 256;
const ANS_LEN: usize = 320;
const CLOSED: usize = 384;

/// One direction of a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Thread to driver.
    Request,
    /// Driver to thread.
    Answer,
}

impl Slot {
    /// (sequence word, sleeping word, length word, data offset)
    fn words(self) -> (usize, usize, usize, usize) {
        match self {
            Slot::Request => (REQ_SEQ, REQ_SLEEPING, REQ_LEN, HEADER),
            Slot::Answer => (ANS_SEQ, ANS_SLEEPING, ANS_LEN, HEADER + MAX_MESSAGE),
        }
    }
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waited {
    /// A message was posted in the slot (its sequence moved).
    Posted,
    /// `stop` said so (the waiter's own end of the connection).
    Stopped,
    /// The timeout passed with nothing posted.
    TimedOut,
}

/// Why a posted message cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    /// The length word is above [`MAX_MESSAGE`].
    #[error("mailbox message of {0} bytes, above the limit")]
    TooLong(u32),
}

/// A mapped mailbox.
#[derive(Debug)]
pub struct Mailbox {
    ptr: NonNull<u8>,
}

// SAFETY: the mapping is plain shared memory owned by this value until it is dropped; it is
// accessed only through atomics and raw copies, which tolerate concurrent writers in this and
// other processes, so no aliasing reference to it exists.
unsafe impl Send for Mailbox {}
// SAFETY: see `Send`; no method hands out a reference into the data slots.
unsafe impl Sync for Mailbox {}

impl Mailbox {
    /// Creates a mailbox (the driver's side): a memfd sealed against any change of size, mapped
    /// read-write. The returned fd goes to the process, which maps it with [`Mailbox::map`].
    pub fn create() -> io::Result<(OwnedFd, Mailbox)> {
        let fd = memfd_create(
            c"binder-mailbox",
            MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
        )?;
        nix::unistd::ftruncate(&fd, MAILBOX_SIZE as i64)?;
        // The process can never shrink the file under the driver's mapping (a read past the
        // end would be SIGBUS in the driver), nor change the seals.
        fcntl(
            &fd,
            FcntlArg::F_ADD_SEALS(
                SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_SEAL,
            ),
        )?;
        let mailbox = Mailbox::map(&fd)?;
        Ok((fd, mailbox))
    }

    /// Maps a mailbox read-write (the process's side), after checking its size and that it can
    /// never shrink under the mapping.
    pub fn map(fd: &OwnedFd) -> io::Result<Mailbox> {
        // Seals first: once sealed, the size read next cannot shrink any more.
        let seals = SealFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GET_SEALS)?);
        if !seals.contains(SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_SEAL) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "binder mailbox not sealed against shrinking",
            ));
        }
        let stat = nix::sys::stat::fstat(fd)?;
        if (stat.st_size as u64) < MAILBOX_SIZE as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "binder mailbox smaller than the protocol's size",
            ));
        }
        let len = NonZeroUsize::new(MAILBOX_SIZE).ok_or(Errno::EINVAL)?;
        // SAFETY: a fresh shared mapping chosen by the kernel (no address hint), so it cannot
        // alias any Rust object; the file covers `MAILBOX_SIZE` bytes (checked above; the
        // driver's files are sealed against shrinking), so no access faults.
        let ptr = unsafe {
            mmap(
                None,
                len,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
                fd.as_fd(),
                0,
            )
        }?;
        let mailbox = Mailbox { ptr: ptr.cast() };
        // A forked child does not get the mapping (as the kernel's binder mapping is not
        // copied): the thread it belongs to is not the child's, and neither is the connection.
        // SAFETY: advice on the whole of the mapping just made; it changes no contents.
        unsafe { madvise(ptr, MAILBOX_SIZE, MmapAdvise::MADV_DONTFORK) }?;
        Ok(mailbox)
    }

    fn word(&self, offset: usize) -> &AtomicU32 {
        debug_assert!(offset.is_multiple_of(4) && offset + 4 <= HEADER);
        // SAFETY: `offset` is one of the header's word offsets: inside the mapping, 4-byte
        // aligned (the mapping is page-aligned); the mapping lives as long as `self`, and the
        // word is only ever accessed atomically (by both sides).
        unsafe { AtomicU32::from_ptr(self.ptr.as_ptr().add(offset).cast()) }
    }

    /// Writes `bytes` (at most [`MAX_MESSAGE`]) into `slot` and wakes its reader if it sleeps.
    pub fn post(&self, slot: Slot, bytes: &[u8], flags: u32) -> io::Result<()> {
        if bytes.len() > MAX_MESSAGE {
            return Err(io::Error::from(Errno::EMSGSIZE));
        }
        let (seq, sleeping, len, data) = slot.words();
        // SAFETY: `data .. data + bytes.len()` lies inside the mapping (the slot holds
        // MAX_MESSAGE bytes); raw copy into shared memory, no reference formed.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr.as_ptr().add(data), bytes.len())
        };
        self.word(len).store(bytes.len() as u32, Ordering::Relaxed);
        self.word(len + 4).store(flags, Ordering::Relaxed);
        self.word(seq).fetch_add(SEQ_STEP, Ordering::SeqCst);
        if self.word(sleeping).load(Ordering::SeqCst) != 0 {
            let _ = futex::wake(self.word(seq), futex::Flags::empty(), 1);
        }
        Ok(())
    }

    /// Posts `bytes` in `slot` with its files: those go first on `sock` (the connection's
    /// socket) as an [`OP_FILES`] datagram sent with `send_flags`, and the message says so
    /// ([`FLAG_FILES`]).
    pub fn post_with_files(
        &self,
        slot: Slot,
        sock: impl AsFd,
        bytes: &[u8],
        fds: &[RawFd],
        send_flags: MsgFlags,
    ) -> io::Result<()> {
        if fds.is_empty() {
            return self.post(slot, bytes, 0);
        }
        sock::send(sock, &files_head(fds.len()), fds, send_flags)?;
        self.post(slot, bytes, FLAG_FILES)
    }

    /// The sequence of `slot` now (what a reader starts from).
    pub fn sequence(&self, slot: Slot) -> u32 {
        self.word(slot.words().0).load(Ordering::Acquire)
    }

    /// Whether a message was posted in `slot` since the sequence was `last`.
    pub fn posted_since(&self, slot: Slot, last: u32) -> bool {
        posted(self.sequence(slot), last)
    }

    /// Waits until the sequence of `slot` differs from `*last` (and records it), `stop` returns
    /// true, or `timeout` passes (about: a wake-up that posts nothing starts it again; it is
    /// meant for liveness checks, and costs no clock reads). Polls first for the window `poller` allows. A message posted
    /// before the stop is still returned first (as a datagram queued before a socket's end of
    /// file is read before it).
    pub fn wait(
        &self,
        slot: Slot,
        last: &mut u32,
        poller: &mut Poller<'_>,
        timeout: Option<Duration>,
        stop: &dyn Fn() -> bool,
    ) -> Waited {
        let (seq, sleeping, _, _) = slot.words();
        let seq = self.word(seq);
        let moved = |last: &mut u32| {
            let s = seq.load(Ordering::SeqCst);
            posted(s, *last).then(|| *last = s).is_some()
        };
        if moved(last) {
            return Waited::Posted;
        }
        if stop() {
            return Waited::Stopped;
        }
        if poller.poll(|| posted(seq.load(Ordering::Acquire), *last)) && moved(last) {
            return Waited::Posted;
        }
        let ts = timeout.map(|t| rustix::time::Timespec {
            tv_sec: t.as_secs() as i64,
            tv_nsec: t.subsec_nanos() as i64,
        });
        loop {
            self.word(sleeping).store(1, Ordering::SeqCst);
            let seen = seq.load(Ordering::SeqCst);
            if posted(seen, *last) {
                self.word(sleeping).store(0, Ordering::Relaxed);
                *last = seen;
                return Waited::Posted;
            }
            if stop() {
                self.word(sleeping).store(0, Ordering::Relaxed);
                return Waited::Stopped;
            }
            // EAGAIN (the sequence moved or was poked before we slept), EINTR: look again. A
            // value that changes without a post (a poke, or a process writing its own request
            // sequence) makes the next wait compare against the new value: no spin.
            let slept = futex::wait(seq, futex::Flags::empty(), seen, ts.as_ref());
            self.word(sleeping).store(0, Ordering::Relaxed);
            if moved(last) {
                return Waited::Posted;
            }
            if stop() {
                return Waited::Stopped;
            }
            if slept.is_err_and(|e| e == rustix::io::Errno::TIMEDOUT) {
                return Waited::TimedOut;
            }
        }
    }

    /// Copies the message posted in `slot` into `out` (cleared first); returns its flags. The
    /// length is read once and bounded before anything is copied, the bytes are copied once.
    pub fn read(&self, slot: Slot, out: &mut Vec<u8>) -> Result<u32, SlotError> {
        let (_, _, len, data) = slot.words();
        let n = self.word(len).load(Ordering::Acquire);
        let flags = self.word(len + 4).load(Ordering::Relaxed);
        if n as usize > MAX_MESSAGE {
            return Err(SlotError::TooLong(n));
        }
        out.clear();
        out.reserve(n as usize);
        // SAFETY: `data .. data + n` lies inside the mapping (n ≤ MAX_MESSAGE, the slot's size)
        // and `out` has room for `n` bytes; raw copy from shared memory, no reference formed
        // to it, and the copy is initialized whatever the other side writes meanwhile.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.ptr.as_ptr().add(data),
                out.as_mut_ptr(),
                n as usize,
            );
            out.set_len(n as usize);
        }
        Ok(flags)
    }

    /// Marks the mailbox closed (the driver ended the connection) and wakes both sides.
    pub fn close(&self) {
        self.word(CLOSED).store(1, Ordering::SeqCst);
        self.wake_all(Slot::Answer);
    }

    /// Whether the driver marked the mailbox closed.
    pub fn is_closed(&self) -> bool {
        self.word(CLOSED).load(Ordering::SeqCst) != 0
    }

    /// Pokes the sequence of `slot` (toggles its lowest bit: nothing is posted) and wakes
    /// whoever sleeps on it, whatever its sleeping word says: a waiter whose `stop` condition
    /// became true sees it.
    pub fn wake_all(&self, slot: Slot) {
        let seq = self.word(slot.words().0);
        seq.fetch_xor(POKE, Ordering::SeqCst);
        let _ = futex::wake(seq, futex::Flags::empty(), u32::MAX);
    }
}

/// What a post adds to a sequence.
const SEQ_STEP: u32 = 2;
/// The bit a poke toggles.
const POKE: u32 = 1;

/// Whether sequence `now` shows a post since `last` (pokes aside).
fn posted(now: u32, last: u32) -> bool {
    now & !POKE != last & !POKE
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `map` with this address and length and is not used
        // after this (the value is being dropped and never handed out references).
        let _ = unsafe { munmap(self.ptr.cast(), MAILBOX_SIZE) };
    }
}

/// Who may poll, and for how long: polling pays only where every polling thread has a core of
/// its own, so a gate admits at most `max_pollers` at a time (none with fewer than four usable
/// cores) for at most `window_max` each, and, when it decides by itself (no window set), only
/// while the machine has an idle core: fewer runnable tasks than usable cores, as the kernel
/// counts them for all processes (`/proc/loadavg`, sampled at most every
/// [`LOAD_SAMPLE_PERIOD`]), so that the pollers of many processes never outnumber the cores.
#[derive(Debug)]
pub struct PollGate {
    active: AtomicUsize,
    max_pollers: usize,
    window_max: Duration,
    /// `Some(cpus)`: poll only while fewer than `cpus` tasks are runnable.
    idle_cores_of: Option<usize>,
    load: LoadSample,
}

/// How often a gate reads the number of runnable tasks.
pub const LOAD_SAMPLE_PERIOD: Duration = Duration::from_millis(10);

/// The number of runnable tasks, as last sampled.
#[derive(Debug, Default)]
struct LoadSample {
    /// Microseconds since `epoch` at the last sample, plus one (0: never sampled).
    at_us: std::sync::atomic::AtomicU64,
    running: AtomicUsize,
    epoch: std::sync::OnceLock<Instant>,
}

impl LoadSample {
    fn running(&self) -> usize {
        let now = self.epoch.get_or_init(Instant::now).elapsed().as_micros() as u64 + 1;
        let at = self.at_us.load(Ordering::Relaxed);
        let period = LOAD_SAMPLE_PERIOD.as_micros() as u64;
        if (at == 0 || now.saturating_sub(at) >= period)
            && self
                .at_us
                .compare_exchange(at, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            let running = std::fs::read_to_string("/proc/loadavg")
                .ok()
                .and_then(|text| runnable_tasks(&text))
                .unwrap_or(usize::MAX);
            self.running.store(running, Ordering::Relaxed);
        }
        self.running.load(Ordering::Relaxed)
    }
}

/// The runnable tasks of a `/proc/loadavg` text (its fourth field, `running/total`).
fn runnable_tasks(loadavg: &str) -> Option<usize> {
    loadavg
        .split_whitespace()
        .nth(3)?
        .split('/')
        .next()?
        .parse()
        .ok()
}

/// Environment variable that sets the polling window in microseconds (0: never poll), for
/// measurements; by default the window is [`DEFAULT_POLL_WINDOW`] where at least four cores are
/// usable and polling is off otherwise.
pub const POLL_ENV: &str = "BINDER_POLL_US";
/// The longest a waiter polls before it sleeps, by default.
pub const DEFAULT_POLL_WINDOW: Duration = Duration::from_micros(50);

impl PollGate {
    /// A gate for `share` of the usable cores (the driver takes half, each process a quarter):
    /// off below four cores, or when [`POLL_ENV`] is 0.
    pub fn for_this_process(share: usize) -> PollGate {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let env = std::env::var(POLL_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok());
        match env {
            Some(0) => PollGate::new(0, Duration::ZERO),
            Some(us) => PollGate::new((cpus / share.max(1)).max(1), Duration::from_micros(us)),
            None if cpus >= 4 => PollGate {
                idle_cores_of: Some(cpus),
                ..PollGate::new((cpus / share.max(1)).max(1), DEFAULT_POLL_WINDOW)
            },
            None => PollGate::new(0, Duration::ZERO),
        }
    }

    /// A gate for `share` of the usable cores with a chosen window (zero: never poll),
    /// whatever the number of cores.
    pub fn with_window(share: usize, window_max: Duration) -> PollGate {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        PollGate::new((cpus / share.max(1)).max(1), window_max)
    }

    /// A gate admitting `max_pollers` at a time for `window_max` each.
    pub fn new(max_pollers: usize, window_max: Duration) -> PollGate {
        PollGate {
            active: AtomicUsize::new(0),
            max_pollers,
            window_max,
            idle_cores_of: None,
            load: LoadSample::default(),
        }
    }

    /// Whether this gate ever lets anyone poll.
    pub fn enabled(&self) -> bool {
        self.max_pollers > 0 && !self.window_max.is_zero()
    }

    fn enter(&self) -> bool {
        if self
            .idle_cores_of
            .is_some_and(|cpus| self.load.running() >= cpus)
        {
            return false;
        }
        self.active
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| {
                (n < self.max_pollers).then_some(n + 1)
            })
            .is_ok()
    }

    fn leave(&self) {
        self.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The polling window of one waiter, adapted to what polling achieved: it doubles (up to the
/// gate's maximum) when the message came while polling and halves when it did not, down to
/// zero; at zero the waiter sleeps at once, and tries a short window again every
/// [`Poller::PROBE_EVERY`] sleeps, so an idle waiter costs nothing and a busy one learns again.
#[derive(Debug)]
pub struct Poller<'g> {
    gate: &'g PollGate,
    window: Duration,
    sleeps_since_probe: u32,
}

impl<'g> Poller<'g> {
    /// At a zero window, one wait in this many polls again.
    pub const PROBE_EVERY: u32 = 16;
    const MIN_WINDOW: Duration = Duration::from_micros(1);

    /// A poller of `gate`, starting at its largest window.
    pub fn new(gate: &'g PollGate) -> Poller<'g> {
        Poller {
            gate,
            window: gate.window_max,
            sleeps_since_probe: 0,
        }
    }

    /// The current window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Polls `ready` for the current window if the gate admits this thread; returns whether it
    /// became true, and adapts the window.
    pub fn poll(&mut self, ready: impl Fn() -> bool) -> bool {
        if !self.gate.enabled() {
            return false;
        }
        let window = if self.window.is_zero() {
            self.sleeps_since_probe += 1;
            if self.sleeps_since_probe < Self::PROBE_EVERY {
                return false;
            }
            self.sleeps_since_probe = 0;
            self.gate.window_max / 4
        } else {
            self.window
        };
        if !self.gate.enter() {
            return false;
        }
        let start = Instant::now();
        let mut got = false;
        'poll: loop {
            for _ in 0..64 {
                if ready() {
                    got = true;
                    break 'poll;
                }
                std::hint::spin_loop();
            }
            if start.elapsed() >= window {
                break;
            }
        }
        self.gate.leave();
        self.window = if got {
            (window * 2).clamp(Self::MIN_WINDOW, self.gate.window_max)
        } else if window / 2 < Self::MIN_WINDOW {
            Duration::ZERO
        } else {
            window / 2
        };
        got
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_forked_child_does_not_inherit_the_mapping() {
        let (_fd, mailbox) = Mailbox::create().unwrap();
        let start = format!("{:x}-", mailbox.ptr.as_ptr() as usize);
        let mapped = |pid: i32| {
            std::fs::read_to_string(format!("/proc/{pid}/maps"))
                .unwrap()
                .lines()
                .any(|l| l.starts_with(&start))
        };
        assert!(mapped(std::process::id() as i32));
        // SAFETY: the child only sleeps until it is killed: no allocation, no lock.
        let child = unsafe { libc::fork() };
        assert!(child >= 0, "fork failed");
        if child == 0 {
            loop {
                // SAFETY: pause is async-signal-safe.
                unsafe { libc::pause() };
            }
        }
        let in_child = mapped(child);
        // SAFETY: signalling and reaping our own child.
        unsafe {
            libc::kill(child, libc::SIGKILL);
            libc::waitpid(child, std::ptr::null_mut(), 0);
        }
        assert!(!in_child, "the forked child has the mailbox mapped");
    }

    #[test]
    fn a_posted_message_is_read_back_whole() {
        let (fd, driver) = Mailbox::create().unwrap();
        let thread = Mailbox::map(&fd).unwrap();
        let gate = PollGate::new(0, Duration::ZERO);
        let mut last = driver.sequence(Slot::Request);
        thread.post(Slot::Request, b"hello", FLAG_FILES).unwrap();
        let mut p = Poller::new(&gate);
        let w = driver.wait(Slot::Request, &mut last, &mut p, None, &|| false);
        assert_eq!(w, Waited::Posted);
        let mut out = Vec::new();
        assert_eq!(driver.read(Slot::Request, &mut out), Ok(FLAG_FILES));
        assert_eq!(out, b"hello");
        // Nothing new: a timed wait times out.
        let w = driver.wait(
            Slot::Request,
            &mut last,
            &mut p,
            Some(Duration::from_millis(5)),
            &|| false,
        );
        assert_eq!(w, Waited::TimedOut);
    }

    #[test]
    fn a_sleeping_reader_is_woken_and_a_closed_one_stopped() {
        let (fd, driver) = Mailbox::create().unwrap();
        let thread = Arc::new(Mailbox::map(&fd).unwrap());
        let gate = PollGate::new(0, Duration::ZERO);
        let reader = {
            let thread = thread.clone();
            std::thread::spawn(move || {
                let gate = PollGate::new(0, Duration::ZERO);
                let mut p = Poller::new(&gate);
                let mut last = 0;
                let mut got = Vec::new();
                for _ in 0..1000 {
                    let w = thread.wait(Slot::Answer, &mut last, &mut p, None, &|| {
                        thread.is_closed()
                    });
                    if w == Waited::Stopped {
                        break;
                    }
                    let mut out = Vec::new();
                    thread.read(Slot::Answer, &mut out).unwrap();
                    got.push(out);
                    thread.post(Slot::Request, b"ack", 0).unwrap();
                }
                got
            })
        };
        let mut p = Poller::new(&gate);
        let mut last = 0;
        for i in 0u32..100 {
            driver.post(Slot::Answer, &i.to_le_bytes(), 0).unwrap();
            assert_eq!(
                driver.wait(Slot::Request, &mut last, &mut p, None, &|| false),
                Waited::Posted
            );
        }
        driver.close();
        let got = reader.join().unwrap();
        assert_eq!(got.len(), 100);
        assert!(
            got.iter()
                .enumerate()
                .all(|(i, m)| m[..] == (i as u32).to_le_bytes())
        );
    }

    #[test]
    fn a_poke_is_not_a_message_and_a_message_comes_before_the_stop() {
        let (fd, driver) = Mailbox::create().unwrap();
        let thread = Mailbox::map(&fd).unwrap();
        let gate = PollGate::new(0, Duration::ZERO);
        let mut p = Poller::new(&gate);
        let mut last = thread.sequence(Slot::Answer);
        // A poke wakes but posts nothing: the wait goes on to its timeout.
        driver.wake_all(Slot::Answer);
        let short = Some(Duration::from_millis(5));
        assert_eq!(
            thread.wait(Slot::Answer, &mut last, &mut p, short, &|| false),
            Waited::TimedOut
        );
        // An answer, then the close: the answer is read first, then the stop.
        driver.post(Slot::Answer, b"last words", 0).unwrap();
        driver.close();
        let closed = || thread.is_closed();
        assert_eq!(
            thread.wait(Slot::Answer, &mut last, &mut p, None, &closed),
            Waited::Posted
        );
        let mut out = Vec::new();
        thread.read(Slot::Answer, &mut out).unwrap();
        assert_eq!(out, b"last words");
        assert_eq!(
            thread.wait(Slot::Answer, &mut last, &mut p, None, &closed),
            Waited::Stopped
        );
    }

    #[test]
    fn an_oversized_length_is_refused_before_any_copy() {
        let (fd, driver) = Mailbox::create().unwrap();
        let thread = Mailbox::map(&fd).unwrap();
        thread.word(REQ_LEN).store(u32::MAX, Ordering::SeqCst);
        let mut out = Vec::new();
        assert_eq!(
            driver.read(Slot::Request, &mut out),
            Err(SlotError::TooLong(u32::MAX))
        );
        assert!(out.capacity() < MAX_MESSAGE);
    }

    #[test]
    fn the_file_cannot_be_shrunk_by_the_process() {
        let (fd, _driver) = Mailbox::create().unwrap();
        assert!(nix::unistd::ftruncate(&fd, 0).is_err());
        assert!(nix::unistd::ftruncate(&fd, 2 * MAILBOX_SIZE as i64).is_err());
    }

    #[test]
    fn runnable_tasks_are_read_from_loadavg() {
        assert_eq!(runnable_tasks("1.33 3.17 2.62 1/77 23058\n"), Some(1));
        assert_eq!(runnable_tasks("0.00 0.01 0.05 17/1024 99"), Some(17));
        assert_eq!(runnable_tasks("garbage"), None);
        // This machine's own file parses (the test itself is running).
        let text = std::fs::read_to_string("/proc/loadavg").unwrap();
        assert!(runnable_tasks(&text).unwrap() >= 1);
        // A gate that decides by itself stays shut while every core is busy.
        let busy = PollGate {
            idle_cores_of: Some(1),
            ..PollGate::new(1, Duration::from_micros(20))
        };
        assert!(
            !Poller::new(&busy).poll(|| true),
            "this test runs: no core is idle"
        );
    }

    #[test]
    fn the_window_adapts_to_zero_and_probes_again() {
        let gate = PollGate::new(1, Duration::from_micros(20));
        let mut p = Poller::new(&gate);
        // Failed polls halve the window down to zero (20, 10, 5, 2.5, 1.25 µs, then 0).
        for _ in 0..5 {
            assert!(p.window() > Duration::ZERO);
            assert!(!p.poll(|| false));
        }
        assert_eq!(p.window(), Duration::ZERO);
        // At zero: no polling until the probe, which succeeds and opens the window again.
        for _ in 0..Poller::PROBE_EVERY - 1 {
            assert!(!p.poll(|| true));
        }
        assert!(p.poll(|| true));
        assert!(p.window() > Duration::ZERO);
        // A gate that admits nobody never polls.
        let closed = PollGate::new(0, Duration::from_micros(20));
        assert!(!Poller::new(&closed).poll(|| true));
    }
}
