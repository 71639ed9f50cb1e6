//! The socket side of the protocol: `SOCK_SEQPACKET` connections, datagrams with file
//! descriptors (`SCM_RIGHTS`), and the request/reply exchanges of a process connection. The
//! runtime, the driver, the CLI and the tests all go through these functions.

use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{
    self, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType,
    UnixAddr,
};

use super::{DebugQuery, Endpoint, MAX_FDS_PER_MESSAGE, MAX_MESSAGE, ProcRequest, decode_reply};

/// A new close-on-exec `SOCK_SEQPACKET` Unix socket.
pub fn seqpacket() -> io::Result<OwnedFd> {
    Ok(socket::socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?)
}

impl Endpoint {
    /// The socket address of the endpoint.
    pub fn address(&self) -> io::Result<UnixAddr> {
        Ok(match self {
            Endpoint::Abstract(name) => UnixAddr::new_abstract(name.as_bytes())?,
            Endpoint::Path(path) => UnixAddr::new(path.as_path())?,
        })
    }
}

/// Connects to a driver's listening socket. Who listens there is not checked: a process that
/// will trust the peer with its memory checks its credentials (`SO_PEERCRED`) first.
pub fn connect(endpoint: &Endpoint) -> io::Result<OwnedFd> {
    let fd = seqpacket()?;
    socket::connect(fd.as_raw_fd(), &endpoint.address()?)?;
    Ok(fd)
}

/// Room for the control message of one datagram with the most files a message may carry.
pub fn cmsg_space() -> Vec<u8> {
    nix::cmsg_space!([RawFd; MAX_FDS_PER_MESSAGE])
}

/// Sends one datagram with `fds` attached as `SCM_RIGHTS` (`flags` are added to
/// `MSG_NOSIGNAL`: a peer that is gone is `EPIPE`, never a signal). Retries on `EINTR`; a
/// datagram sent short is an error.
pub fn send(fd: impl AsFd, msg: &[u8], fds: &[RawFd], flags: MsgFlags) -> io::Result<()> {
    let iov = [IoSlice::new(msg)];
    let cmsg = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage<'_>] = if fds.is_empty() { &[] } else { &cmsg };
    let fd = fd.as_fd().as_raw_fd();
    loop {
        match socket::sendmsg::<()>(fd, &iov, cmsgs, MsgFlags::MSG_NOSIGNAL | flags, None) {
            Ok(n) if n == msg.len() => return Ok(()),
            Ok(_) => return Err(io::Error::other("short send on a binder socket")),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// One received datagram.
#[derive(Debug)]
pub struct Received {
    /// Bytes received into the buffer.
    pub len: usize,
    /// The files it carried, now owned by this process.
    pub fds: Vec<OwnedFd>,
    /// The datagram or its files did not fit (`MSG_TRUNC`, `MSG_CTRUNC`).
    pub truncated: bool,
}

/// Receives one datagram into `buf` and its files (close-on-exec); `cmsg` is control-message
/// room (see [`cmsg_space`]), `flags` are added to `MSG_CMSG_CLOEXEC`. Retries on `EINTR`.
/// `Ok(None)` is the end of the connection (nothing and no files received).
pub fn recv(
    fd: impl AsFd,
    buf: &mut [u8],
    cmsg: &mut Vec<u8>,
    flags: MsgFlags,
) -> io::Result<Option<Received>> {
    let fd = fd.as_fd().as_raw_fd();
    loop {
        let mut iov = [IoSliceMut::new(buf)];
        let msg = match socket::recvmsg::<()>(
            fd,
            &mut iov,
            Some(&mut *cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC | flags,
        ) {
            Ok(msg) => msg,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        };
        let mut fds = Vec::new();
        for c in msg.cmsgs()? {
            if let ControlMessageOwned::ScmRights(raw) = c {
                // SAFETY: the kernel installed these descriptors in our table for this message;
                // nothing else knows them, so ownership is taken here.
                fds.extend(raw.into_iter().map(|r| unsafe { OwnedFd::from_raw_fd(r) }));
            }
        }
        let truncated = msg
            .flags
            .intersects(MsgFlags::MSG_TRUNC | MsgFlags::MSG_CTRUNC);
        let len = msg.bytes;
        if len == 0 && fds.is_empty() && !truncated {
            return Ok(None);
        }
        return Ok(Some(Received {
            len,
            fds,
            truncated,
        }));
    }
}

/// Receives one whole `OP_REPLY` of at most `capacity` bytes: `(ret, payload, files)`. A
/// driver that refuses a connection answers and closes it; if a request was still unread then,
/// the kernel reports `ECONNRESET` once before the answer, so that is read past once. The end of
/// the connection is `ConnectionAborted`.
pub fn recv_reply(fd: impl AsFd, capacity: usize) -> io::Result<(i32, Vec<u8>, Vec<OwnedFd>)> {
    let fd = fd.as_fd();
    let mut buf = vec![0u8; capacity];
    let mut cmsg = cmsg_space();
    let mut reset_seen = false;
    let got = loop {
        match recv(fd, &mut buf, &mut cmsg, MsgFlags::empty()) {
            Err(e)
                if e.raw_os_error() == Some(nix::errno::Errno::ECONNRESET as i32)
                    && !reset_seen =>
            {
                reset_seen = true
            }
            r => break r?,
        }
    };
    let Some(got) = got else {
        return Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "the binder driver closed the connection",
        ));
    };
    if got.truncated {
        return Err(io::Error::other("oversized message from the binder driver"));
    }
    let (ret, payload) = decode_reply(&buf[..got.len])
        .ok_or_else(|| io::Error::other("malformed reply from the binder driver"))?;
    Ok((ret, payload.to_vec(), got.fds))
}

/// Sends a request on a process connection (with `fds` attached) and receives its reply:
/// `(ret, payload, files)`.
pub fn request(
    fd: impl AsFd,
    req: &ProcRequest,
    fds: &[RawFd],
) -> io::Result<(i32, Vec<u8>, Vec<OwnedFd>)> {
    let mut msg = Vec::new();
    req.encode(&mut msg);
    send(fd.as_fd(), &msg, fds, MsgFlags::empty())?;
    recv_reply(fd, REPLY_CAPACITY)
}

/// Room for the reply to a process request (a few words).
const REPLY_CAPACITY: usize = 4096;

/// Runs an [`super::OP_DEBUG`] query on a fresh connection: the JSON text collected from its
/// parts, or the driver's error (`ret` non-zero, empty text).
pub fn debug_query(fd: impl AsFd, query: DebugQuery) -> io::Result<(i32, String)> {
    let fd = fd.as_fd();
    let mut msg = Vec::new();
    ProcRequest::Debug {
        query: query as u32,
    }
    .encode(&mut msg);
    send(fd, &msg, &[], MsgFlags::empty())?;
    let mut text = Vec::new();
    loop {
        let (ret, payload) = match recv_reply(fd, MAX_MESSAGE) {
            Ok((ret, payload, _)) => (ret, payload),
            Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => break,
            Err(e) => return Err(e),
        };
        if ret != 0 {
            return Ok((ret, String::new()));
        }
        if payload.is_empty() {
            break;
        }
        text.extend_from_slice(&payload);
    }
    String::from_utf8(text)
        .map(|t| (0, t))
        .map_err(|_| io::Error::other("the driver's answer is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagrams_carry_files_and_replies_and_end_of_file_is_told() {
        let (a, b) = socket::socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .unwrap();
        let file = std::fs::File::open("/dev/null").unwrap();
        send(&a, b"hi", &[file.as_raw_fd()], MsgFlags::empty()).unwrap();
        let mut buf = [0u8; 16];
        let mut cmsg = cmsg_space();
        let got = recv(&b, &mut buf, &mut cmsg, MsgFlags::empty())
            .unwrap()
            .unwrap();
        assert_eq!(
            (&buf[..got.len], got.fds.len(), got.truncated),
            (&b"hi"[..], 1, false)
        );
        send(&a, &[7u8; 32], &[], MsgFlags::empty()).unwrap();
        let got = recv(&b, &mut buf, &mut cmsg, MsgFlags::empty())
            .unwrap()
            .unwrap();
        assert!(
            got.truncated,
            "a datagram larger than the buffer is reported"
        );
        let mut out = Vec::new();
        super::super::encode_reply(-22, b"why", &mut out);
        send(&a, &out, &[], MsgFlags::empty()).unwrap();
        assert_eq!(recv_reply(&b, 64).unwrap().0, -22);
        assert!(matches!(
            recv(&b, &mut buf, &mut cmsg, MsgFlags::MSG_DONTWAIT),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock
        ));
        drop(a);
        assert!(
            recv(&b, &mut buf, &mut cmsg, MsgFlags::empty())
                .unwrap()
                .is_none()
        );
        assert_eq!(
            recv_reply(&b, 64).unwrap_err().kind(),
            io::ErrorKind::ConnectionAborted
        );
    }
}
