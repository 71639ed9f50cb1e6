//! The wire protocol between a process and the userspace binder driver (`binderd`).
//!
//! The userspace driver gives each process the kernel driver's interface: the same ioctls, the
//! same `BC_*`/`BR_*` command streams, pointers in the caller's address space, received buffers
//! at addresses inside the caller's own read-only mapping. Only the transport differs: instead
//! of a character device, a process talks to the driver over Unix `SOCK_SEQPACKET` sockets.
//! See `docs/userspace-driver.md` for the whole design; this module is its byte-level contract.
//!
//! Sockets:
//! - The driver listens on a Unix socket ([`Endpoint`]): by default the abstract socket
//!   `\0binder-ud/<uid>/<instance>` of the user who runs it, which only that user and root may
//!   use; or a filesystem socket whose permissions its administrator sets (a shared instance).
//!   Before a process sends anything it checks who listens (`SO_PEERCRED`): itself, root, or for
//!   a filesystem socket the owner of the socket file.
//! - A **process connection** is accepted from that socket. Its first message is
//!   [`OP_HELLO_PROC`] (it then stands for the process's open binder fd; its end of file is the
//!   process's exit) or [`OP_DEBUG`] (a one-shot state query, see [`DebugQuery`]). The driver
//!   knows the process by the credentials the kernel recorded when it connected, never by a
//!   number it sends.
//! - A **thread connection** is one end of a socketpair the driver creates and hands to the
//!   process in answer to [`OP_NEW_THREAD`] on its process connection. Each OS thread that
//!   issues ioctls uses its own thread connection, which is how the driver tells threads apart
//!   (the kernel uses `current`). A thread connection made with [`OP_NEW_THREAD_MAILBOX`]
//!   carries its requests and answers through a shared-memory [`mailbox`] instead, with the same
//!   bytes and rules; its socket carries only files.
//!
//! Every message is one datagram: a little-endian `u32` opcode followed by that opcode's fields.
//! Every request gets exactly one reply on the same socket, in order. Requests on a thread
//! connection are ioctls; the reply to a `BINDER_WRITE_READ` with a non-zero `read_size` comes
//! when the driver has something to read, exactly as the ioctl blocks in the kernel.

use crate::{BinderWriteRead, Reader, Wire};

pub mod mailbox;
pub mod sock;
pub mod state;

/// Upper bound of one datagram in either direction. Command streams longer than this are sent
/// in parts (the driver reports how much it consumed, as the kernel does with
/// `write_consumed`). Split them between commands: a command cut short at the end of a part
/// fails the ioctl with `-EFAULT`, as a short `copy_from_user` does in the kernel.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Maximum number of file descriptors carried by one reply (one transaction's fds).
pub const MAX_FDS_PER_MESSAGE: usize = 253;
/// Largest receive area the driver grants (as the kernel: `min(vma size, 4 MiB)`).
pub const MAX_AREA_SIZE: usize = 4 * 1024 * 1024;

/// Where a driver instance listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// An abstract Unix socket name (without the leading NUL): `binder-ud/<uid>/<instance>`.
    /// Abstract sockets have no permissions, so the driver checks every peer's uid and every
    /// process checks the driver's.
    Abstract(String),
    /// A filesystem socket: its mode and group say who may connect.
    Path(std::path::PathBuf),
}

impl Endpoint {
    /// The endpoint of `instance` for the user `uid`: an instance name that is an absolute path
    /// is a filesystem socket; any other name is the per-user abstract socket
    /// `binder-ud/<uid>/<instance>`.
    pub fn of(instance: &str, uid: u32) -> Endpoint {
        if instance.starts_with('/') {
            Endpoint::Path(instance.into())
        } else {
            Endpoint::Abstract(format!("binder-ud/{uid}/{instance}"))
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Abstract(name) => write!(f, "@{name}"),
            Endpoint::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

// ---- process connection, process -> driver ------------------------------------------------

/// First message of a process connection: `{u32 op, u32 protocol_version, u32 flags, u32
/// revision}` where `protocol_version` is [`HELLO_VERSION`], `flags` holds `HELLO_FLAG_*`
/// options that depart from the kernel's behaviour on the process's request, and `revision` is
/// [`UD_REVISION`], the revision of this socket protocol (a process and a driver built from
/// different revisions refuse each other with a clear error instead of misunderstanding).
///
/// It may carry one fd as `SCM_RIGHTS`: the process's own `/proc/self/mem`, opened read-only by
/// the process itself. The driver copies transaction data that lies outside the send arena
/// with `pread` on that file; the kernel bound it to the process's address space when the
/// process opened it, so it reaches that memory and nothing else (not a process that later got
/// the same pid, not the image of a later `exec`). Without it, only data in the send arena can
/// be sent. A file that is not on procfs is refused with `-EINVAL`; a procfs file that is not
/// the connecting process's `/proc/<pid>/mem` as the driver's `/proc` shows it (another file,
/// or a process in another pid namespace) is not used: only the arena is then.
///
/// Reply: [`OP_REPLY`] `{ret, u32 driver_pid}` with `ret` 0; `-EPROTO` with `{u32 revision}`
/// (the driver's [`UD_REVISION`]) on a version or revision mismatch; `-EACCES` when the process's user may not use this instance;
/// `-EAGAIN` when a limit on processes is reached. On an error the driver closes the connection.
pub const OP_HELLO_PROC: u32 = 1;
/// [`OP_HELLO_PROC`] flag: no `BR_TRANSACTION_COMPLETE` for the process's own `BC_REPLY`s that
/// carry no objects (a reply with objects still gets it: the replier holds the objects'
/// references until it knows the driver has taken its own).
///
/// The kernel queues one, and a thread that sends a reply together with a read for its next
/// work is woken at once for it: cheap in the kernel, but two extra wake-ups per call through
/// a userspace driver (the replier's, then its driver thread's for the next read). A runtime
/// that does not wait for that completion (binder-rt; libbinder does wait) asks to go without
/// it. Failures of a reply are still reported (`BR_DEAD_REPLY`, `BR_FAILED_REPLY`).
pub const HELLO_FLAG_NO_REPLY_COMPLETE: u32 = 1;
/// The version [`OP_HELLO_PROC`] carries: the binder protocol version of the 64-bit interface.
pub const HELLO_VERSION: u32 = crate::BINDER_CURRENT_PROTOCOL_VERSION as u32;
/// The revision of this socket protocol, carried by [`OP_HELLO_PROC`]. 2: thread connections
/// made by the driver, files with their commands, the memory file (revision 1 had no number).
/// 3: thread mailboxes ([`OP_NEW_THREAD_MAILBOX`]).
pub const UD_REVISION: u32 = 3;
/// `mmap` of the binder fd: `{u32 op, u32 pad, u64 size}`.
/// Reply: [`OP_REPLY`] `{ret, u64 granted_size}` with the area's memfd as `SCM_RIGHTS`. The
/// memfd is sealed against shrink, grow and new writable mappings, so the process can only map
/// it read-only; it must then report the address with [`OP_MMAP_ADDR`]. A second `OP_MMAP`
/// gets `-EBUSY`, a size of 0 `-EINVAL`. Until the address is known, transactions to the
/// process fail with `BR_DEAD_REPLY`, as they do in the kernel before `mmap`.
pub const OP_MMAP: u32 = 2;
/// `{u32 op, u32 pad, u64 addr}`: where the process mapped its receive area. Received buffers
/// are reported at addresses inside `[addr, addr + size)`. Reply: [`OP_REPLY`]; `-EINVAL`
/// before `OP_MMAP`, `-EBUSY` if the address was already reported.
pub const OP_MMAP_ADDR: u32 = 3;
/// `{u32 op, u32 pad, u64 addr, u64 size}` with a memfd as `SCM_RIGHTS`: the process's send
/// arena, mapped by the process at `addr`. The driver maps it read-only and copies transaction
/// data found inside it with `memcpy` instead of reading the process's memory file. Reply:
/// [`OP_REPLY`].
///
/// The memfd must have been created with `MFD_ALLOW_SEALING` (or already carry
/// `F_SEAL_SHRINK`) and be at least `size` bytes long: the driver adds `F_SEAL_SHRINK` itself so
/// that the process can never truncate the file under the driver's mapping; otherwise the reply
/// is `-EINVAL`. `size` is at most [`MAX_ARENA_SIZE`]. Registering again replaces the arena.
pub const OP_REGISTER_ARENA: u32 = 4;
/// Largest send arena the driver maps.
pub const MAX_ARENA_SIZE: u64 = 1 << 30;
/// `{u32 op, u32 tid}`: a new thread connection for thread `tid` (a number for dumps and logs;
/// the driver trusts nothing about it). The driver creates a `SOCK_SEQPACKET` socketpair and
/// answers [`OP_REPLY`] `{ret}` with the process's end as `SCM_RIGHTS`: that socket is the
/// thread connection (created by the driver, so it can only lead to the driver). `-EAGAIN` when
/// the process, its user or the instance has as many thread connections as allowed. After
/// `BINDER_THREAD_EXIT` the connection stays usable (and counted): its next ioctl starts a new
/// `binder_thread`, as the kernel's next ioctl from the same task does.
pub const OP_NEW_THREAD: u32 = 5;
/// `{u32 op, u32 tid}`: a new thread connection, as [`OP_NEW_THREAD`], whose requests and
/// answers travel through a shared-memory mailbox ([`mailbox`]) instead of the socket. The
/// reply carries two files: the socket, then the mailbox memfd (sealed against any change of
/// size), which the thread maps read-write with [`mailbox::Mailbox::map`].
///
/// On such a connection the thread posts each request (the bytes of an [`OP_IOCTL`] or
/// [`OP_FD_FIXUP`] datagram) in the mailbox's request slot and finds the answer (the bytes of
/// the [`OP_IOCTL_DONE`] or [`OP_REPLY`] datagram) in its answer slot; the rules are those of
/// the socket connection (one request at a time, the same replies). Files go on the socket as
/// an [`mailbox::OP_FILES`] datagram sent just before the message that names them is posted
/// with [`mailbox::FLAG_FILES`]: the files of a `BINDER_WRITE_READ` from the thread, the files
/// of a delivered transaction from the driver. The socket carries nothing else; its end of file
/// is the thread's exit, as on a socket connection, and the driver marks the mailbox closed when
/// it ends the connection.
pub const OP_NEW_THREAD_MAILBOX: u32 = 6;

// ---- thread connection, process -> driver --------------------------------------------------

/// An ioctl: `{u32 op, u32 cmd, arg...}`. `arg` is the ioctl's argument structure as the
/// kernel would read it (`binder_write_read`, `u32`, `i32`, `flat_binder_object`, ...).
/// For `BINDER_WRITE_READ`, the `write_size` bytes at `write_buffer` (the command stream)
/// follow the 48-byte structure inline; pointers inside commands stay pointers into the
/// caller's memory and the driver reads their targets itself.
///
/// The files of the `BINDER_TYPE_FD` objects of the stream's transactions travel with the
/// `BINDER_WRITE_READ` as `SCM_RIGHTS` (so the kernel takes them from the sender's own fd
/// table, as the binder driver's `fget` does), followed after the inline command stream by
/// `{u32 n, i32 fd[n]}`: the sender's number of each attached file, in order. An fd object
/// whose number is not in that table fails with `BR_FAILED_REPLY` (`-EBADF`); attached files
/// no object names are closed. At most [`MAX_FDS_PER_MESSAGE`] files per message.
///
/// Reply: [`OP_IOCTL_DONE`] `{u32 op, i32 ret, u32 nfds, u32 arg_len, arg..., read bytes...}`:
/// `ret` is 0 or `-errno`; `arg` is the argument structure as the kernel would write it back;
/// for `BINDER_WRITE_READ` the `read_consumed` bytes to store at `read_buffer` follow. When the
/// read holds a transaction carrying file descriptors, `nfds` of them arrive as `SCM_RIGHTS` in
/// the order of the fd slots in the buffer, and the process must answer with [`OP_FD_FIXUP`]
/// before it looks at the buffer: only the driver can write the receive area.
///
/// The read bytes are exactly what the kernel would have stored from
/// `read_buffer + read_consumed(in)` to `read_buffer + read_consumed(out)` (libbinder always
/// passes `read_consumed` 0). They never exceed what fits in one datagram, whatever
/// `read_size` says. The driver writes `BR_SPAWN_LOOPER` over the leading `BR_NOOP` only when
/// the read started at `read_consumed` 0.
///
/// One request at a time: while a read is blocked, the thread must wait for that reply (and
/// retry its `recvmsg` on `EINTR`, never resend). A thread that sends another request while its
/// read is pending is dropped (as if it had closed its connection).
pub const OP_IOCTL: u32 = 16;
/// `{u32 op, u32 n, i32 fd[n]}`: the fd numbers the process received, in order, to be written
/// into the fd slots of the transaction just delivered. Reply: [`OP_REPLY`].
///
/// `n` must equal the `nfds` of that [`OP_IOCTL_DONE`]; an fd that did not arrive (e.g.
/// `MSG_CTRUNC`) is sent as -1. `-EINVAL` when nothing awaits a fixup or `n` differs, `-ESTALE`
/// when the buffer was already freed. Until the fixup, the fd slots hold -1. Any other request
/// on the thread connection drops a pending fixup (the slots keep -1).
pub const OP_FD_FIXUP: u32 = 17;

// ---- driver -> process ---------------------------------------------------------------------

/// Generic reply: `{u32 op, i32 ret, payload...}`; `ret` is 0 or `-errno`.
pub const OP_REPLY: u32 = 0x100;
/// Reply to [`OP_IOCTL`], layout described there.
pub const OP_IOCTL_DONE: u32 = 0x101;

// ---- debug connection -----------------------------------------------------------------------

/// First and only request of a debug connection: `{u32 op, u32 query}` where query is a
/// [`DebugQuery`]. Reply: [`OP_REPLY`] `{ret, utf-8 JSON text}`; JSON documents larger than
/// one datagram are sent as consecutive `OP_REPLY` parts, the last one empty. The driver
/// always ends with an empty part, so a reader collects parts until it gets an empty one
/// (or one with `ret != 0`). `State` is a `state::DriverState`, `Stats` a
/// `state::DriverStats` (feature `serde`); `Shutdown` answers with one empty part.
pub const OP_DEBUG: u32 = 32;

/// What an [`OP_DEBUG`] connection asks for. Who may ask what is decided by the credentials
/// of the connection: the instance's owner (the user running the driver) and root are its
/// administrators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum DebugQuery {
    /// Processes, threads, nodes, refs, buffers, transactions in flight (the kernel's
    /// debugfs `state`). Administrators see everything; any other user sees only its own
    /// processes, without node addresses (`ptr`, `cookie`: heap addresses of a process) and
    /// without the pids of other users' processes.
    State = 1,
    /// Counters (the kernel's debugfs `stats`) plus bytes copied. Administrators only
    /// (`-EACCES` for others).
    Stats = 2,
    /// Ask the driver to exit once no process is connected (used by tests to clean up).
    /// Administrators only (`-EACCES` for others).
    Shutdown = 3,
}

impl DebugQuery {
    /// The query numbered `v`, if there is one.
    pub fn from_u32(v: u32) -> Option<Self> {
        match v {
            1 => Some(DebugQuery::State),
            2 => Some(DebugQuery::Stats),
            3 => Some(DebugQuery::Shutdown),
            _ => None,
        }
    }
}

/// A request on a process connection, as the driver decodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcRequest {
    /// [`OP_HELLO_PROC`].
    Hello {
        /// [`HELLO_VERSION`].
        version: u32,
        /// `HELLO_FLAG_*`.
        flags: u32,
        /// [`UD_REVISION`].
        revision: u32,
    },
    /// [`OP_MMAP`].
    Mmap {
        /// Size of the receive area asked for.
        size: u64,
    },
    /// [`OP_MMAP_ADDR`].
    MmapAddr {
        /// Where the process mapped its receive area.
        addr: u64,
    },
    /// [`OP_REGISTER_ARENA`].
    RegisterArena {
        /// Where the process mapped its send arena.
        addr: u64,
        /// The arena's size.
        size: u64,
    },
    /// [`OP_NEW_THREAD`].
    NewThread {
        /// The thread's id, for dumps and logs.
        tid: u32,
    },
    /// [`OP_NEW_THREAD_MAILBOX`].
    NewThreadMailbox {
        /// The thread's id, for dumps and logs.
        tid: u32,
    },
    /// [`OP_DEBUG`].
    Debug {
        /// A [`DebugQuery`] number.
        query: u32,
    },
}

impl ProcRequest {
    /// Decodes one datagram; `None` if the opcode is unknown or the message too short.
    pub fn decode(msg: &[u8]) -> Option<Self> {
        let mut r = Reader::new(msg);
        Some(match r.u32()? {
            OP_HELLO_PROC => ProcRequest::Hello {
                version: r.u32()?,
                // Absent in older processes' hellos (which then have revision 0, refused); a
                // partial word is malformed.
                flags: if r.remaining() == 0 { 0 } else { r.u32()? },
                revision: if r.remaining() == 0 { 0 } else { r.u32()? },
            },
            OP_MMAP => {
                r.u32()?;
                ProcRequest::Mmap { size: r.u64()? }
            }
            OP_MMAP_ADDR => {
                r.u32()?;
                ProcRequest::MmapAddr { addr: r.u64()? }
            }
            OP_REGISTER_ARENA => {
                r.u32()?;
                ProcRequest::RegisterArena {
                    addr: r.u64()?,
                    size: r.u64()?,
                }
            }
            OP_NEW_THREAD => ProcRequest::NewThread { tid: r.u32()? },
            OP_NEW_THREAD_MAILBOX => ProcRequest::NewThreadMailbox { tid: r.u32()? },
            OP_DEBUG => ProcRequest::Debug { query: r.u32()? },
            _ => return None,
        })
    }

    /// Encodes the request (file descriptors travel separately as `SCM_RIGHTS`).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.clear();
        let mut u32s = |vals: &[u32]| {
            vals.iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes()))
        };
        match *self {
            ProcRequest::Hello {
                version,
                flags,
                revision,
            } => u32s(&[OP_HELLO_PROC, version, flags, revision]),
            ProcRequest::NewThread { tid } => u32s(&[OP_NEW_THREAD, tid]),
            ProcRequest::NewThreadMailbox { tid } => u32s(&[OP_NEW_THREAD_MAILBOX, tid]),
            ProcRequest::Debug { query } => u32s(&[OP_DEBUG, query]),
            ProcRequest::Mmap { size } => {
                u32s(&[OP_MMAP, 0]);
                out.extend_from_slice(&size.to_le_bytes());
            }
            ProcRequest::MmapAddr { addr } => {
                u32s(&[OP_MMAP_ADDR, 0]);
                out.extend_from_slice(&addr.to_le_bytes());
            }
            ProcRequest::RegisterArena { addr, size } => {
                u32s(&[OP_REGISTER_ARENA, 0]);
                out.extend_from_slice(&addr.to_le_bytes());
                out.extend_from_slice(&size.to_le_bytes());
            }
        }
    }
}

/// A request on a thread connection, as the driver decodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreadRequest<'a> {
    /// [`OP_IOCTL`]: `cmd` and the bytes after it (argument structure, then inline write
    /// data).
    Ioctl {
        /// The ioctl number.
        cmd: u32,
        /// The argument structure and what follows it.
        arg: &'a [u8],
    },
    /// [`OP_FD_FIXUP`].
    FdFixup {
        /// The numbers of the files received, in order.
        fds: Vec<i32>,
    },
}

impl<'a> ThreadRequest<'a> {
    /// Decodes one datagram; `None` if the opcode is unknown or the message malformed. The fd
    /// list is bounded by the datagram size.
    pub fn decode(msg: &'a [u8]) -> Option<Self> {
        let mut r = Reader::new(msg);
        match r.u32()? {
            OP_IOCTL => {
                let cmd = r.u32()?;
                Some(ThreadRequest::Ioctl {
                    cmd,
                    arg: &msg[r.position()..],
                })
            }
            OP_FD_FIXUP => {
                let n = r.u32()? as usize;
                if n > r.remaining() / 4 {
                    return None;
                }
                let fds = (0..n).map(|_| r.i32()).collect::<Option<Vec<_>>>()?;
                Some(ThreadRequest::FdFixup { fds })
            }
            _ => None,
        }
    }
}

/// Encodes an [`OP_IOCTL`] message for an ioctl other than `BINDER_WRITE_READ`.
pub fn encode_ioctl(cmd: u32, arg: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&OP_IOCTL.to_le_bytes());
    out.extend_from_slice(&cmd.to_le_bytes());
    out.extend_from_slice(arg);
}

/// Encodes an [`OP_FD_FIXUP`] message.
pub fn encode_fd_fixup(fds: &[i32], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&OP_FD_FIXUP.to_le_bytes());
    out.extend_from_slice(&(fds.len() as u32).to_le_bytes());
    for fd in fds {
        out.extend_from_slice(&fd.to_le_bytes());
    }
}

/// Encodes an `OP_IOCTL` message for `BINDER_WRITE_READ` carrying `write` inline, then, if
/// `fds` is not empty, the table of the sender's numbers of the files attached as
/// `SCM_RIGHTS` (in the same order).
pub fn encode_write_read(bwr: &BinderWriteRead, write: &[u8], fds: &[i32], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&OP_IOCTL.to_le_bytes());
    out.extend_from_slice(&crate::BINDER_WRITE_READ.to_le_bytes());
    bwr.encode(out);
    out.extend_from_slice(write);
    if !fds.is_empty() {
        out.extend_from_slice(&(fds.len() as u32).to_le_bytes());
        for fd in fds {
            out.extend_from_slice(&fd.to_le_bytes());
        }
    }
}

/// Decodes the fd table that follows the inline command stream of a `BINDER_WRITE_READ`
/// (`trailer` is what follows the `write_size` command bytes). An empty trailer is an empty
/// table; `None` if it is malformed. The count is checked against the bytes present before
/// anything is allocated.
pub fn decode_fd_table(trailer: &[u8]) -> Option<Vec<i32>> {
    if trailer.is_empty() {
        return Some(Vec::new());
    }
    let mut r = Reader::new(trailer);
    let n = r.u32()? as usize;
    if r.remaining() != n.checked_mul(4)? || n > MAX_FDS_PER_MESSAGE {
        return None;
    }
    (0..n).map(|_| r.i32()).collect()
}

/// The decoded header of an [`OP_IOCTL_DONE`] reply; `arg` and `read` borrow the datagram.
#[derive(Debug)]
pub struct IoctlDone<'a> {
    /// 0 or `-errno`.
    pub ret: i32,
    /// Files that came with the reply (an [`OP_FD_FIXUP`] is due).
    pub nfds: u32,
    /// The ioctl's argument structure as the driver wrote it back.
    pub arg: &'a [u8],
    /// For `BINDER_WRITE_READ`: the bytes read.
    pub read: &'a [u8],
}

/// Encodes an [`OP_IOCTL_DONE`] reply.
pub fn encode_ioctl_done(ret: i32, nfds: u32, arg: &[u8], read: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&OP_IOCTL_DONE.to_le_bytes());
    out.extend_from_slice(&ret.to_le_bytes());
    out.extend_from_slice(&nfds.to_le_bytes());
    out.extend_from_slice(&(arg.len() as u32).to_le_bytes());
    out.extend_from_slice(arg);
    out.extend_from_slice(read);
}

/// Decodes an [`OP_IOCTL_DONE`] reply; `None` if it is malformed.
pub fn decode_ioctl_done(msg: &[u8]) -> Option<IoctlDone<'_>> {
    let mut r = Reader::new(msg);
    if r.u32()? != OP_IOCTL_DONE {
        return None;
    }
    let ret = r.i32()?;
    let nfds = r.u32()?;
    let arg_len = r.u32()? as usize;
    let arg = r.take(arg_len)?;
    let read = &msg[r.position()..];
    Some(IoctlDone {
        ret,
        nfds,
        arg,
        read,
    })
}

/// Encodes a generic [`OP_REPLY`].
pub fn encode_reply(ret: i32, payload: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&OP_REPLY.to_le_bytes());
    out.extend_from_slice(&ret.to_le_bytes());
    out.extend_from_slice(payload);
}

/// Decodes a generic [`OP_REPLY`] into `(ret, payload)`.
pub fn decode_reply(msg: &[u8]) -> Option<(i32, &[u8])> {
    let mut r = Reader::new(msg);
    if r.u32()? != OP_REPLY {
        return None;
    }
    let ret = r.i32()?;
    Some((ret, &msg[r.position()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_done_round_trips() {
        let mut out = Vec::new();
        encode_ioctl_done(-22, 2, &[1, 2, 3], &[9, 9], &mut out);
        let d = decode_ioctl_done(&out).unwrap();
        assert_eq!(
            (d.ret, d.nfds, d.arg, d.read),
            (-22, 2, &[1u8, 2, 3][..], &[9u8, 9][..])
        );
        assert!(decode_ioctl_done(&out[..10]).is_none());
    }

    #[test]
    fn proc_requests_round_trip() {
        let reqs = [
            ProcRequest::Hello {
                version: HELLO_VERSION,
                flags: HELLO_FLAG_NO_REPLY_COMPLETE,
                revision: UD_REVISION,
            },
            ProcRequest::Mmap { size: 1 << 20 },
            ProcRequest::MmapAddr {
                addr: 0x7f00_0000_0000,
            },
            ProcRequest::RegisterArena {
                addr: 0x1000,
                size: 0x2000,
            },
            ProcRequest::NewThread { tid: 77 },
            ProcRequest::Debug {
                query: DebugQuery::Stats as u32,
            },
        ];
        let mut out = Vec::new();
        for req in reqs {
            req.encode(&mut out);
            assert_eq!(ProcRequest::decode(&out), Some(req));
            assert_eq!(ProcRequest::decode(&out[..out.len() - 1]), None);
        }
        assert_eq!(ProcRequest::decode(&[9, 9, 9, 9, 0, 0, 0, 0]), None);
    }

    #[test]
    fn thread_requests_decode_and_reject_lies() {
        let mut out = Vec::new();
        encode_fd_fixup(&[3, -1, 9], &mut out);
        assert_eq!(
            ThreadRequest::decode(&out),
            Some(ThreadRequest::FdFixup {
                fds: vec![3, -1, 9]
            })
        );
        // A count larger than the datagram is rejected without allocating for it.
        out[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(ThreadRequest::decode(&out), None);
        encode_ioctl(crate::BINDER_VERSION, &[0; 4], &mut out);
        assert_eq!(
            ThreadRequest::decode(&out),
            Some(ThreadRequest::Ioctl {
                cmd: crate::BINDER_VERSION,
                arg: &[0u8; 4][..]
            })
        );
    }

    #[test]
    fn write_read_message_carries_commands_inline() {
        let bwr = BinderWriteRead {
            write_size: 4,
            read_size: 256,
            ..Default::default()
        };
        let mut out = Vec::new();
        encode_write_read(&bwr, &[1, 2, 3, 4], &[], &mut out);
        let mut r = Reader::new(&out);
        assert_eq!(r.u32(), Some(OP_IOCTL));
        assert_eq!(r.u32(), Some(crate::BINDER_WRITE_READ));
        assert_eq!(BinderWriteRead::decode(&mut r), Some(bwr));
        assert_eq!(r.take(4), Some(&[1u8, 2, 3, 4][..]));
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn write_read_carries_the_numbers_of_its_files() {
        let bwr = BinderWriteRead {
            write_size: 4,
            ..Default::default()
        };
        let mut out = Vec::new();
        encode_write_read(&bwr, &[1, 2, 3, 4], &[7, 3], &mut out);
        let trailer = &out[8 + crate::WRITE_READ_SIZE + 4..];
        assert_eq!(decode_fd_table(trailer), Some(vec![7, 3]));
        assert_eq!(decode_fd_table(&[]), Some(vec![]));
        // A count that the bytes do not back, or one past the limit, is refused.
        assert_eq!(decode_fd_table(&trailer[..trailer.len() - 1]), None);
        let mut lie = trailer.to_vec();
        lie[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode_fd_table(&lie), None);
        assert_eq!(
            Endpoint::of("default", 1000),
            Endpoint::Abstract("binder-ud/1000/default".into())
        );
        assert_eq!(
            Endpoint::of("/run/binder/sock", 0),
            Endpoint::Path("/run/binder/sock".into())
        );
    }
}
