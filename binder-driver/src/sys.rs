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

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, SealFlag, fcntl};
use nix::sys::memfd::{MFdFlags, memfd_create};
use nix::sys::mman::{MapFlags, ProtFlags, mmap, munmap};
use nix::sys::socket::{
    self, AddressFamily, Backlog, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag,
    SockType, UnixAddr, sockopt,
};

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

    /// The one copy by `process_vm_readv`: `len` bytes at `remote_addr` in process `pid`
    /// straight into this mapping at `dst_offset`. A short read is an error (`EFAULT`), as a
    /// partial `copy_from_user` is in the kernel.
    pub fn read_from_process(
        &self,
        dst_offset: usize,
        pid: u32,
        remote_addr: u64,
        len: usize,
    ) -> io::Result<()> {
        if !self.writable || !self.range_ok(dst_offset, len) {
            return Err(Errno::EINVAL.into());
        }
        if len == 0 {
            return Ok(());
        }
        let local = libc::iovec {
            // SAFETY: in-range offset of the live mapping (checked above).
            iov_base: unsafe { self.ptr.as_ptr().add(dst_offset) }.cast::<c_void>(),
            iov_len: len,
        };
        let remote = libc::iovec {
            iov_base: remote_addr as usize as *mut c_void,
            iov_len: len,
        };
        // SAFETY: the local iovec covers writable memory of our own mapping (checked above);
        // the kernel validates the remote range against the other process's address space.
        let n = unsafe { libc::process_vm_readv(pid as libc::pid_t, &local, 1, &remote, 1, 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        if n as usize != len {
            return Err(Errno::EFAULT.into());
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
    nix::unistd::ftruncate(&fd, size as libc::off_t)?;
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

fn syscall_fd(ret: libc::c_long) -> io::Result<OwnedFd> {
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the syscall returned a new file descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as RawFd) })
}

/// `pidfd_open(pid, 0)`.
pub fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with integer arguments.
    syscall_fd(unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) })
}

/// `pidfd_getfd(pidfd, fd, 0)`: a duplicate of another process's file descriptor.
pub fn pidfd_getfd(pidfd: &OwnedFd, fd: i32) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with integer arguments; `pidfd` is a live descriptor.
    syscall_fd(unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) })
}

/// The identity of the process behind a connection.
pub struct PeerIdentity {
    pub pid: u32,
    pub uid: u32,
    pub gid: u32,
    /// A pidfd of the peer (`SO_PEERPIDFD`, else `pidfd_open`), for `pidfd_getfd`.
    pub pidfd: Option<OwnedFd>,
}

pub fn peer_identity(sock: &OwnedFd) -> io::Result<PeerIdentity> {
    let cred = socket::getsockopt(sock, sockopt::PeerCredentials)?;
    let pid = cred.pid() as u32;
    let pidfd = socket::getsockopt(sock, sockopt::PeerPidfd)
        .ok()
        .or_else(|| pidfd_open(pid).ok());
    Ok(PeerIdentity {
        pid,
        uid: cred.uid(),
        gid: cred.gid(),
        pidfd,
    })
}

/// Binds and listens on the abstract `SOCK_SEQPACKET` socket `name` (without the leading NUL).
pub fn bind_listener(name: &str) -> io::Result<OwnedFd> {
    let sock = socket::socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    let addr = UnixAddr::new_abstract(name.as_bytes())?;
    socket::bind(sock.as_raw_fd(), &addr)?;
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

pub fn is_seqpacket(fd: &OwnedFd) -> bool {
    socket::getsockopt(fd, sockopt::SockType).is_ok_and(|t| t == SockType::SeqPacket)
}

/// Wakes whoever blocks on `fd` (its driver thread and the process) with end of file.
pub fn shutdown(fd: &OwnedFd) {
    let _ = socket::shutdown(fd.as_raw_fd(), socket::Shutdown::Both);
}

/// One received datagram.
pub struct Datagram {
    pub len: usize,
    pub fds: Vec<OwnedFd>,
    /// The datagram or its file descriptors did not fit.
    pub truncated: bool,
}

/// A receive buffer for one connection: the datagram and room for its file descriptors.
pub struct RecvBuffer {
    pub data: Vec<u8>,
    cmsg: Vec<u8>,
}

impl RecvBuffer {
    pub fn new(size: usize) -> Self {
        RecvBuffer {
            data: vec![0u8; size],
            cmsg: nix::cmsg_space!([RawFd; 8]),
        }
    }
}

/// Receives one datagram with up to 8 file descriptors (more are discarded by the kernel and
/// reported as truncation). `Ok(None)` is end of file.
pub fn recv_datagram(sock: &OwnedFd, buf: &mut RecvBuffer) -> io::Result<Option<Datagram>> {
    loop {
        let mut iov = [io::IoSliceMut::new(&mut buf.data)];
        let res = socket::recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut buf.cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        );
        let msg = match res {
            Ok(msg) => msg,
            Err(Errno::EINTR) => continue,
            Err(Errno::ECONNRESET) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut fds = Vec::new();
        if let Ok(cmsgs) = msg.cmsgs() {
            for c in cmsgs {
                if let ControlMessageOwned::ScmRights(raw) = c {
                    // SAFETY: the kernel installed these descriptors in our table for this
                    // message; nothing else knows them, so we take ownership here.
                    fds.extend(
                        raw.into_iter()
                            .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
                    );
                }
            }
        }
        let truncated = msg
            .flags
            .intersects(MsgFlags::MSG_TRUNC | MsgFlags::MSG_CTRUNC);
        let len = msg.bytes;
        if len == 0 && fds.is_empty() && !truncated {
            return Ok(None);
        }
        return Ok(Some(Datagram {
            len,
            fds,
            truncated,
        }));
    }
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
    let cmsg = [ControlMessage::ScmRights(&raw)];
    let cmsgs: &[ControlMessage<'_>] = if raw.is_empty() { &[] } else { &cmsg };
    let iov = [io::IoSlice::new(bytes)];
    loop {
        let flags = if nonblocking {
            MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_DONTWAIT
        } else {
            MsgFlags::MSG_NOSIGNAL
        };
        match socket::sendmsg::<()>(sock.as_raw_fd(), &iov, cmsgs, flags, None) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}
