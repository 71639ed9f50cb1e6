//! The limits a userspace binder driver is judged against, written here from the facts of
//! `userspace-driver-costs.md`: the wake-up limit (a futex ping-pong between two processes),
//! the copy limit (memcpy of the payload) and the bare broker floor (client → broker → server
//! and back over `SOCK_SEQPACKET`, four sleeping hand-offs, the payload copied once by the
//! broker from the client's send arena into the server's receive area, no framework).

use std::fs::{File, OpenOptions};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use memmap2::{Mmap, MmapMut, MmapOptions};
use nix::sys::socket::{
    AddressFamily, MsgFlags, SockFlag, SockType, UnixAddr, accept, bind, connect, listen, recv,
    send, socket,
};
use rustix::thread::futex;

use crate::measure::{Link, Summary, answer};

/// A receive area or send arena: the size of the kernel driver's receive mapping.
const AREA: usize = 1024 * 1024 - 8192;

// ---- futex ping-pong --------------------------------------------------------------------------

/// States of the shared word: the client asks, the server answers, the client says goodbye.
const ASK: u32 = 1;
const ANSWER: u32 = 2;
const STOP: u32 = 3;

fn map_file(path: &Path, len: usize, create: bool) -> Result<MmapMut, String> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .open(path)
        .map_err(|e| format!("open {path:?}: {e}"))?;
    if create {
        file.set_len(len as u64)
            .map_err(|e| format!("size {path:?}: {e}"))?;
    }
    // SAFETY: a shared mapping of a tmpfs file this benchmark created; the processes that share
    // it only exchange plain bytes and atomics through it.
    unsafe { MmapOptions::new().len(len).map_mut(&file) }.map_err(|e| format!("mmap {path:?}: {e}"))
}

fn map_read_only(path: &Path, len: usize) -> Result<Mmap, String> {
    let file = File::open(path).map_err(|e| format!("open {path:?}: {e}"))?;
    // SAFETY: as in `map_file`, read-only.
    unsafe { MmapOptions::new().len(len).map(&file) }.map_err(|e| format!("mmap {path:?}: {e}"))
}

fn word(map: &MmapMut) -> &AtomicU32 {
    // SAFETY: the mapping is page-aligned, at least 4 bytes long, and lives as long as the
    // returned reference; other processes touch these 4 bytes only atomically.
    unsafe { &*map.as_ptr().cast::<AtomicU32>() }
}

fn wait_while(w: &AtomicU32, value: u32) {
    while w.load(Ordering::Acquire) == value {
        // A shared (not process-private) futex: the word is in a file mapping two processes use.
        let _ = futex::wait(w, futex::Flags::empty(), value, None);
    }
}

fn set_and_wake(w: &AtomicU32, value: u32) {
    w.store(value, Ordering::Release);
    let _ = futex::wake(w, futex::Flags::empty(), 1);
}

pub fn serve_futex(dir: &Path) -> Result<(), String> {
    let map = map_file(&dir.join("futex"), 4096, true)?;
    let w = word(&map);
    crate::ready(dir.display());
    loop {
        // Sleep until asked (or told to stop).
        while !matches!(w.load(Ordering::Acquire), ASK | STOP) {
            wait_while(w, w.load(Ordering::Acquire));
        }
        if w.load(Ordering::Acquire) == STOP {
            return Ok(());
        }
        set_and_wake(w, ANSWER);
    }
}

pub struct FutexLink(MmapMut);

impl FutexLink {
    pub fn connect(dir: &str) -> Result<FutexLink, String> {
        Ok(FutexLink(map_file(
            &Path::new(dir).join("futex"),
            4096,
            false,
        )?))
    }
}

impl Link for FutexLink {
    fn call(&mut self, payload: &[u8]) -> Result<u64, String> {
        if !payload.is_empty() {
            return Err("the futex ping-pong carries no payload".into());
        }
        let w = word(&self.0);
        set_and_wake(w, ASK);
        wait_while(w, ASK);
        Ok(answer(payload))
    }
}

impl Drop for FutexLink {
    fn drop(&mut self) {
        set_and_wake(word(&self.0), STOP);
    }
}

// ---- memcpy -----------------------------------------------------------------------------------

/// One copy of `size` bytes between two buffers of this process, `rounds` times.
pub fn memcpy(size: usize, warmup: usize, rounds: usize) -> Result<Summary, String> {
    let src = vec![7u8; size];
    let mut dst = vec![0u8; size];
    let mut ns = Vec::with_capacity(rounds);
    for i in 0..warmup + rounds {
        let t0 = Instant::now();
        dst.copy_from_slice(std::hint::black_box(&src));
        std::hint::black_box(&mut dst);
        if i >= warmup {
            ns.push(t0.elapsed().as_nanos() as u64);
        }
    }
    if dst != src {
        return Err("memcpy copied the wrong bytes".into());
    }
    Summary::of(ns).ok_or_else(|| "no rounds".into())
}

// ---- the broker floor -------------------------------------------------------------------------

/// A command word between the parties: where the data is in the sender's arena, its length,
/// and what it is.
#[derive(Clone, Copy, Debug)]
struct Cmd {
    offset: u64,
    len: u64,
    op: u32,
}

const OP_TRANSACTION: u32 = 1;
const OP_REPLY: u32 = 2;
const OP_STOP: u32 = 9;
const CMD_SIZE: usize = 20;

impl Cmd {
    fn send(self, sock: &impl AsFd) -> Result<(), String> {
        let mut b = [0u8; CMD_SIZE];
        b[..8].copy_from_slice(&self.offset.to_le_bytes());
        b[8..16].copy_from_slice(&self.len.to_le_bytes());
        b[16..].copy_from_slice(&self.op.to_le_bytes());
        send(sock.as_fd().as_raw_fd(), &b, MsgFlags::empty()).map_err(|e| format!("send: {e}"))?;
        Ok(())
    }

    /// The next command; `None` when the peer has gone.
    fn recv(sock: &impl AsFd) -> Result<Option<Cmd>, String> {
        let mut b = [0u8; CMD_SIZE];
        let n = recv(sock.as_fd().as_raw_fd(), &mut b, MsgFlags::empty())
            .map_err(|e| format!("recv: {e}"))?;
        if n == 0 {
            return Ok(None);
        }
        if n != CMD_SIZE {
            return Err(format!("a command of {n} bytes"));
        }
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        Ok(Some(Cmd {
            offset: u64_at(0),
            len: u64_at(8),
            op: u32::from_le_bytes(b[16..].try_into().expect("4 bytes")),
        }))
    }

    /// The byte range this command names, checked against an area's size.
    fn range(self) -> Result<std::ops::Range<usize>, String> {
        let start = usize::try_from(self.offset).map_err(|_| "offset out of range")?;
        let len = usize::try_from(self.len).map_err(|_| "length out of range")?;
        match start.checked_add(len) {
            Some(end) if end <= AREA => Ok(start..end),
            _ => Err(format!("{len} bytes at {start} are outside the area")),
        }
    }
}

fn seqpacket() -> Result<OwnedFd, String> {
    socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| format!("socket: {e}"))
}

fn listen_at(path: &Path) -> Result<OwnedFd, String> {
    let s = seqpacket()?;
    let addr = UnixAddr::new(path).map_err(|e| format!("{path:?}: {e}"))?;
    bind(s.as_raw_fd(), &addr).map_err(|e| format!("bind {path:?}: {e}"))?;
    listen(
        &s,
        nix::sys::socket::Backlog::new(4).expect("a small backlog"),
    )
    .map_err(|e| format!("listen: {e}"))?;
    Ok(s)
}

fn accept_one(listener: &OwnedFd) -> Result<OwnedFd, String> {
    let fd = accept(listener.as_raw_fd()).map_err(|e| format!("accept: {e}"))?;
    // SAFETY: `accept` returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn connect_to(path: &Path) -> Result<OwnedFd, String> {
    let s = seqpacket()?;
    let addr = UnixAddr::new(path).map_err(|e| format!("{path:?}: {e}"))?;
    connect(s.as_raw_fd(), &addr).map_err(|e| format!("connect {path:?}: {e}"))?;
    Ok(s)
}

/// The broker: creates the areas and arenas in `dir`, takes the server's connection, then the
/// client's, and moves commands between them, copying each payload once.
pub fn serve_broker(dir: &Path) -> Result<(), String> {
    let mut to_client = map_file(&dir.join("area-client"), AREA, true)?;
    let mut to_server = map_file(&dir.join("area-server"), AREA, true)?;
    drop(map_file(&dir.join("send-client"), AREA, true)?);
    drop(map_file(&dir.join("send-server"), AREA, true)?);
    let from_client = map_read_only(&dir.join("send-client"), AREA)?;
    let from_server = map_read_only(&dir.join("send-server"), AREA)?;
    let server_listener = listen_at(&dir.join("server.sock"))?;
    let client_listener = listen_at(&dir.join("client.sock"))?;
    crate::ready(dir.display());
    let server = accept_one(&server_listener)?;
    let client = accept_one(&client_listener)?;
    while let Some(m) = Cmd::recv(&client)? {
        if m.op == OP_STOP {
            return m.send(&server);
        }
        let r = m.range()?;
        to_server[..r.len()].copy_from_slice(&from_client[r.clone()]); // the one copy
        Cmd {
            offset: 0,
            len: r.len() as u64,
            op: OP_TRANSACTION,
        }
        .send(&server)?;
        let rep = Cmd::recv(&server)?.ok_or("the server went away")?;
        let r = rep.range()?;
        to_client[..r.len()].copy_from_slice(&from_server[r.clone()]);
        Cmd {
            offset: 0,
            len: r.len() as u64,
            op: OP_REPLY,
        }
        .send(&client)?;
    }
    Ok(())
}

/// The server behind the broker: reads each request in place in its read-only area and answers
/// from its send arena.
pub fn serve_broker_server(dir: &str) -> Result<(), String> {
    let dir = Path::new(dir);
    let area = map_read_only(&dir.join("area-server"), AREA)?;
    let mut arena = map_file(&dir.join("send-server"), AREA, false)?;
    let sock = connect_to(&dir.join("server.sock"))?;
    crate::ready(dir.display());
    while let Some(m) = Cmd::recv(&sock)? {
        if m.op == OP_STOP {
            break;
        }
        arena[..8].copy_from_slice(&answer(&area[m.range()?]).to_le_bytes());
        Cmd {
            offset: 0,
            len: 8,
            op: OP_REPLY,
        }
        .send(&sock)?;
    }
    Ok(())
}

pub struct BrokerLink {
    sock: OwnedFd,
    arena: MmapMut,
    area: Mmap,
}

impl BrokerLink {
    pub fn connect(dir: &str) -> Result<BrokerLink, String> {
        let dir = Path::new(dir);
        Ok(BrokerLink {
            arena: map_file(&dir.join("send-client"), AREA, false)?,
            area: map_read_only(&dir.join("area-client"), AREA)?,
            sock: connect_to(&dir.join("client.sock"))?,
        })
    }
}

impl Link for BrokerLink {
    fn call(&mut self, payload: &[u8]) -> Result<u64, String> {
        // Outside the measured loop only (the floor builds its requests in the arena).
        self.request_buffer(payload.len())
            .ok_or("request too large")?
            .copy_from_slice(payload);
        self.call_in_place(payload.len())
    }

    fn request_buffer(&mut self, size: usize) -> Option<&mut [u8]> {
        self.arena.get_mut(..size)
    }

    fn call_in_place(&mut self, size: usize) -> Result<u64, String> {
        Cmd {
            offset: 0,
            len: size as u64,
            op: OP_TRANSACTION,
        }
        .send(&self.sock)?;
        let rep = Cmd::recv(&self.sock)?.ok_or("the broker went away")?;
        let r = rep.range()?;
        let bytes: [u8; 8] = self.area[r]
            .try_into()
            .map_err(|_| "an answer that is not 8 bytes")?;
        Ok(u64::from_le_bytes(bytes))
    }
}

impl Drop for BrokerLink {
    fn drop(&mut self) {
        let _ = Cmd {
            offset: 0,
            len: 0,
            op: OP_STOP,
        }
        .send(&self.sock);
    }
}
