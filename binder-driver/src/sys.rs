//! The syscall and mapping boundary. Every `unsafe` block of the driver is in this file.
//!
//! Shared mappings are memory other processes can read (receive areas) or write (send
//! arenas) at any time, so the driver never forms a Rust reference to them: every access is a
//! bounds-checked raw copy.

use std::ffi::c_void;
use std::io;
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::time::Duration;

use binder_sys::ud;
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, SealFlag, fcntl};
use nix::libc;
use nix::sys::memfd::{MFdFlags, memfd_create};
use nix::sys::mman::{MapFlags, ProtFlags, mmap, munmap};
use nix::sys::socket::{self, AddressFamily, Backlog, MsgFlags, SockFlag, SockType, sockopt};

/// A shared mapping of a memfd: a receive area (writable by the driver) or a send arena
/// (read-only).
#[derive(Debug)]
pub struct SharedMapping {
    ptr: NonNull<u8>,
    len: usize,
    writable: bool,
}

// SAFETY: the mapping is plain shared memory owned by this value until it is dropped; every
// access goes through raw copies that tolerate concurrent writers, so sharing the handle
// between threads cannot create aliasing references.
unsafe impl Send for SharedMapping {}
// SAFETY: see `Send`; no method hands out references into the mapping.
unsafe impl Sync for SharedMapping {}

impl SharedMapping {
    fn map(fd: BorrowedFd<'_>, len: usize, writable: bool) -> io::Result<Self> {
        let length = NonZeroUsize::new(len).ok_or(io::Error::from(Errno::EINVAL))?;
        let prot = if writable {
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE
        } else {
            ProtFlags::PROT_READ
        };
        // SAFETY: a fresh mapping chosen by the kernel (no address hint), so it cannot alias
        // any existing Rust object; the fd is a memfd whose size was checked by the caller to
        // cover `len` bytes and which is sealed against shrinking, so no access faults.
        let ptr = unsafe { mmap(None, length, prot, MapFlags::MAP_SHARED, fd, 0) }?;
        Ok(SharedMapping {
            ptr: ptr.cast(),
            len,
            writable,
        })
    }

    fn range_ok(&self, offset: usize, len: usize) -> bool {
        offset.checked_add(len).is_some_and(|end| end <= self.len)
    }

    /// Copies `out.len()` bytes at `offset` out of the mapping. `false` if out of range.
    pub fn read(&self, offset: usize, out: &mut [u8]) -> bool {
        if !self.range_ok(offset, out.len()) {
            return false;
        }
        // SAFETY: the source range is inside the live mapping (checked above) and `out` is a
        // distinct local buffer; a byte copy is valid whatever the bytes are.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.ptr.as_ptr().add(offset),
                out.as_mut_ptr(),
                out.len(),
            )
        };
        true
    }

    /// Writes `data` at `offset`. `false` if out of range or the mapping is read-only.
    pub fn write(&self, offset: usize, data: &[u8]) -> bool {
        if !self.writable || !self.range_ok(offset, data.len()) {
            return false;
        }
        // SAFETY: the destination range is inside the live, writable mapping (checked above);
        // `data` is ordinary memory outside the mapping.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.as_ptr().add(offset), data.len())
        };
        true
    }

    /// Zeroes `len` bytes at `offset` (a `TF_CLEAR_BUF` buffer being freed).
    pub fn zero(&self, offset: usize, len: usize) -> bool {
        if !self.writable || !self.range_ok(offset, len) {
            return false;
        }
        // SAFETY: the range is inside the live, writable mapping (checked above).
        unsafe { std::ptr::write_bytes(self.ptr.as_ptr().add(offset), 0, len) };
        true
    }

    /// The one copy from a send arena: `len` bytes at `src_offset` of `src` straight into this
    /// mapping at `dst_offset`.
    pub fn copy_from(
        &self,
        dst_offset: usize,
        src: &SharedMapping,
        src_offset: usize,
        len: usize,
    ) -> bool {
        if !self.writable || !self.range_ok(dst_offset, len) || !src.range_ok(src_offset, len) {
            return false;
        }
        // SAFETY: both ranges are inside live mappings (checked above) and the destination is
        // writable. `copy` (memmove) is used because nothing stops a process from registering
        // memory that is also mapped here; the sender may change the source while we copy,
        // which only changes the bytes copied.
        unsafe {
            std::ptr::copy(
                src.ptr.as_ptr().add(src_offset),
                self.ptr.as_ptr().add(dst_offset),
                len,
            )
        };
        true
    }

    /// The one copy from outside the send arena: `len` bytes at address `remote_addr` of the
    /// process whose memory file `mem` is (`/proc/self/mem`, opened by that process itself),
    /// straight into this mapping at `dst_offset`. The file reaches only the address space it
    /// was opened on: once that process exits or execs, reads return nothing. A short read is
    /// an error (`EFAULT`), as a partial `copy_from_user` is in the kernel.
    pub fn read_from_memory_file(
        &self,
        dst_offset: usize,
        mem: &OwnedFd,
        remote_addr: u64,
        len: usize,
    ) -> io::Result<()> {
        if !self.writable || !self.range_ok(dst_offset, len) {
            return Err(Errno::EINVAL.into());
        }
        let mut done = 0usize;
        while done < len {
            let pos = remote_addr
                .checked_add(done as u64)
                .and_then(|a| libc::off_t::try_from(a).ok())
                .ok_or(Errno::EFAULT)?;
            // SAFETY: the destination range [dst_offset + done, dst_offset + len) is inside the
            // live, writable mapping (checked above); the kernel writes at most `len - done`
            // bytes there and validates the source range against the other address space.
            // (Raw libc: nix's and rustix's `pread` take a slice, and the driver never forms a
            // Rust reference into a shared mapping.)
            let n = unsafe {
                libc::pread(
                    mem.as_raw_fd(),
                    self.ptr.as_ptr().add(dst_offset + done).cast::<c_void>(),
                    len - done,
                    pos,
                )
            };
            match n {
                n if n > 0 => done += n as usize,
                0 => return Err(Errno::EFAULT.into()),
                _ => match Errno::last() {
                    Errno::EINTR => continue,
                    Errno::EIO => return Err(Errno::EFAULT.into()),
                    e => return Err(e.into()),
                },
            }
        }
        Ok(())
    }
}

impl Drop for SharedMapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` describe the mapping created in `map`, which nothing else
        // unmaps; no reference into it exists (all access is by copy).
        if let Err(e) = unsafe { munmap(self.ptr.cast(), self.len) } {
            tracing::error!("munmap of a {} byte mapping failed: {e}", self.len);
        }
    }
}

/// Creates a receive area: a sealed memfd of `size` bytes, mapped read-write by the driver.
/// The returned fd is what the process maps read-only.
pub fn create_area(size: usize) -> io::Result<(OwnedFd, SharedMapping)> {
    let fd = memfd_create(
        c"binder-area",
        MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
    )?;
    let size_arg = libc::off_t::try_from(size).map_err(|_| Errno::EINVAL)?;
    nix::unistd::ftruncate(&fd, size_arg)?;
    let mapping = SharedMapping::map(fd.as_fd(), size, true)?;
    // The driver's writable mapping exists before F_SEAL_FUTURE_WRITE, so it stays writable;
    // every later mapping (the process's) can only be read-only, and the size is fixed.
    fcntl(
        &fd,
        FcntlArg::F_ADD_SEALS(
            SealFlag::F_SEAL_SHRINK
                | SealFlag::F_SEAL_GROW
                | SealFlag::F_SEAL_FUTURE_WRITE
                | SealFlag::F_SEAL_SEAL,
        ),
    )?;
    Ok((fd, mapping))
}

/// Maps a process's send arena read-only after making sure it can never shrink under the
/// mapping (which would turn reads into SIGBUS): the driver adds `F_SEAL_SHRINK` itself.
pub fn map_arena(fd: &OwnedFd, size: usize) -> io::Result<SharedMapping> {
    // Fails with EPERM when F_SEAL_SEAL is set or sealing was not allowed; the check below
    // then decides.
    let _ = fcntl(fd, FcntlArg::F_ADD_SEALS(SealFlag::F_SEAL_SHRINK));
    let seals = SealFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GET_SEALS)?);
    if !seals.contains(SealFlag::F_SEAL_SHRINK) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the arena memfd cannot be sealed against shrinking (create it with MFD_ALLOW_SEALING)",
        ));
    }
    let stat = nix::sys::stat::fstat(fd)?;
    if (stat.st_size as u64) < size as u64 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the arena memfd is smaller than the registered size",
        ));
    }
    SharedMapping::map(fd.as_fd(), size, false)
}

/// Whether `fd` is a file of procfs.
pub fn is_procfs(fd: &OwnedFd) -> bool {
    nix::sys::statfs::fstatfs(fd)
        .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::PROC_SUPER_MAGIC)
}

/// Whether `fd` is the memory file of process `pid` itself (`/proc/<pid>/mem`, as the process
/// opens it through `/proc/self/mem`), as the driver's `/proc` shows it. Only such a file is
/// read: the driver reads with its own privileges, and other procfs files (another process's
/// `stat`, say) show the reader's view, not the opener's.
pub fn is_memory_file_of(fd: &OwnedFd, pid: u32) -> bool {
    let (Ok(file), Ok(path)) = (
        nix::sys::stat::fstat(fd),
        nix::sys::stat::stat(format!("/proc/{pid}/mem").as_str()),
    ) else {
        return false;
    };
    file.st_dev == path.st_dev && file.st_ino == path.st_ino
}

/// Raises this process's soft limit on open files to the hard limit; returns the limit in
/// force.
pub fn raise_open_file_limit() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) => {
            if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
                hard
            } else {
                soft
            }
        }
        Err(_) => 1024,
    }
}

/// The credentials the kernel recorded for the other end of a connection (`SO_PEERCRED`: for
/// an accepted connection, those of the process that called `connect`).
#[derive(Debug, Clone, Copy)]
pub struct PeerCred {
    pub pid: u32,
    pub uid: u32,
    pub gid: u32,
}

pub fn peer_cred(sock: &OwnedFd) -> io::Result<PeerCred> {
    let cred = socket::getsockopt(sock, sockopt::PeerCredentials)?;
    Ok(PeerCred {
        pid: cred.pid() as u32,
        uid: cred.uid(),
        gid: cred.gid(),
    })
}

/// This process's effective uid.
pub fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// A connected `SOCK_SEQPACKET` pair: a thread connection (the driver keeps one end).
pub fn seqpacket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(socket::socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?)
}

/// Binds and listens on `endpoint`. A filesystem socket left behind by a driver that is gone
/// (nobody accepts on it) is replaced; one that answers is `EADDRINUSE`. `mode` and `group`
/// are applied to a filesystem socket.
pub fn bind_listener(
    endpoint: &binder_sys::ud::Endpoint,
    mode: Option<u32>,
    group: Option<u32>,
) -> io::Result<OwnedFd> {
    use binder_sys::ud::Endpoint;
    let sock = ud::sock::seqpacket()?;
    let addr = endpoint.address()?;
    match endpoint {
        Endpoint::Abstract(_) => socket::bind(sock.as_raw_fd(), &addr)?,
        Endpoint::Path(path) => {
            match socket::bind(sock.as_raw_fd(), &addr) {
                Ok(()) => {}
                Err(Errno::EADDRINUSE) => {
                    let probe = ud::sock::seqpacket()?;
                    // Only a socket nobody answers on is replaced, never another kind of file.
                    use std::os::unix::fs::FileTypeExt;
                    let is_socket =
                        std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket());
                    if !is_socket || socket::connect(probe.as_raw_fd(), &addr).is_ok() {
                        return Err(Errno::EADDRINUSE.into());
                    }
                    std::fs::remove_file(path)?;
                    socket::bind(sock.as_raw_fd(), &addr)?;
                }
                Err(e) => return Err(e.into()),
            }
            if let Some(gid) = group {
                nix::unistd::chown(path.as_path(), None, Some(nix::unistd::Gid::from_raw(gid)))?;
            }
            if let Some(mode) = mode {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
            }
        }
    }
    socket::listen(&sock, Backlog::new(128).unwrap_or(Backlog::MAXCONN))?;
    Ok(sock)
}

pub fn accept(listener: &OwnedFd) -> io::Result<OwnedFd> {
    loop {
        match socket::accept4(listener.as_raw_fd(), SockFlag::SOCK_CLOEXEC) {
            // SAFETY: accept4 returned a new descriptor that nothing else owns.
            Ok(fd) => return Ok(unsafe { OwnedFd::from_raw_fd(fd) }),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Waits until `fd` is readable or `timeout` passes; `Ok(false)` on timeout.
pub fn wait_readable(fd: &OwnedFd, timeout: Duration) -> io::Result<bool> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    match poll(
        &mut fds,
        PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
    ) {
        Ok(n) => Ok(n > 0),
        Err(Errno::EINTR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Bounds how long a blocking send on `sock` may wait for the peer to read.
pub fn set_send_timeout(sock: &OwnedFd, timeout: Duration) {
    use nix::sys::time::{TimeVal, TimeValLike};
    // (Capped well inside what a timeval holds: `microseconds` panics beyond it.)
    let tv = TimeVal::microseconds(timeout.as_micros().min(i64::MAX as u128 / 2) as i64);
    let _ = socket::setsockopt(sock, sockopt::SendTimeout, &tv);
}

/// Wakes whoever blocks on `fd` (its driver thread and the process) with end of file.
pub fn shutdown(fd: &OwnedFd) {
    let _ = socket::shutdown(fd.as_raw_fd(), socket::Shutdown::Both);
}

/// One received datagram.
pub use binder_sys::ud::sock::Received as Datagram;

/// A receive buffer for one connection: the datagram and room for its file descriptors.
pub struct RecvBuffer {
    pub data: Vec<u8>,
    cmsg: Vec<u8>,
}

impl RecvBuffer {
    pub fn new(size: usize) -> Self {
        RecvBuffer {
            data: vec![0u8; size],
            cmsg: ud::sock::cmsg_space(),
        }
    }
}

/// Receives one datagram with up to `MAX_FDS_PER_MESSAGE` file descriptors (more are discarded
/// by the kernel and reported as truncation). `Ok(None)` is end of file.
pub fn recv_datagram(sock: &OwnedFd, buf: &mut RecvBuffer) -> io::Result<Option<Datagram>> {
    match ud::sock::recv(sock, &mut buf.data, &mut buf.cmsg, MsgFlags::empty()) {
        Err(e) if e.raw_os_error() == Some(Errno::ECONNRESET as i32) => Ok(None),
        r => r,
    }
}

/// Whether a datagram (or the end of file) is waiting to be read on `sock`.
pub fn has_datagram(sock: &OwnedFd) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut fds = [PollFd::new(sock.as_fd(), PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
}

/// Sends one datagram with `fds` attached. Never raises SIGPIPE. With `nonblocking`, a peer
/// whose queue is full gets `EAGAIN` instead of stalling the sending driver thread.
pub fn send_datagram(
    sock: &OwnedFd,
    bytes: &[u8],
    fds: &[OwnedFd],
    nonblocking: bool,
) -> io::Result<()> {
    let raw: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
    let flags = if nonblocking {
        MsgFlags::MSG_DONTWAIT
    } else {
        MsgFlags::empty()
    };
    ud::sock::send(sock, bytes, &raw, flags)
}
