//! What a user would write without a framework: a Unix-socket ping-pong and a pipe ping-pong,
//! each carrying the payload (two copies: into the kernel and out of it).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;

use crate::measure::{Link, answer};

/// A request: its length (u32, little endian), then its bytes; the answer: a u64.
fn serve_stream(mut rx: impl Read, mut tx: impl Write) -> Result<(), String> {
    let mut buf = Vec::new();
    loop {
        let mut len = [0u8; 4];
        match rx.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(format!("read: {e}")),
        }
        let len = u32::from_le_bytes(len) as usize;
        // The requests come from our own client; still, never size a buffer by more than the
        // largest payload the benchmark sends.
        if len > crate::MAX_PAYLOAD {
            return Err(format!(
                "request of {len} B is over the benchmark's maximum"
            ));
        }
        buf.resize(len, 0);
        rx.read_exact(&mut buf).map_err(|e| format!("read: {e}"))?;
        tx.write_all(&answer(&buf).to_le_bytes())
            .map_err(|e| format!("write: {e}"))?;
    }
}

fn call_stream(rx: &mut impl Read, tx: &mut impl Write, payload: &[u8]) -> Result<u64, String> {
    // One write for the header and the payload, as a careful user would do it (writev).
    let len = (payload.len() as u32).to_le_bytes();
    let mut iov = [std::io::IoSlice::new(&len), std::io::IoSlice::new(payload)];
    let mut slices = &mut iov[..];
    while !slices.is_empty() {
        let n = tx
            .write_vectored(slices)
            .map_err(|e| format!("write: {e}"))?;
        if n == 0 {
            return Err("write: peer closed".into());
        }
        std::io::IoSlice::advance_slices(&mut slices, n);
    }
    let mut out = [0u8; 8];
    rx.read_exact(&mut out).map_err(|e| format!("read: {e}"))?;
    Ok(u64::from_le_bytes(out))
}

/// The Unix-socket server: one thread per client.
pub fn serve_unix(path: &Path) -> Result<(), String> {
    let listener = UnixListener::bind(path).map_err(|e| format!("bind {path:?}: {e}"))?;
    crate::ready(path.display());
    for conn in listener.incoming() {
        let conn = conn.map_err(|e| format!("accept: {e}"))?;
        std::thread::spawn(move || {
            let served = conn
                .try_clone()
                .map_err(|e| format!("clone: {e}"))
                .and_then(|rx| serve_stream(rx, conn));
            if let Err(e) = served {
                eprintln!("unix-socket server: {e}");
            }
        });
    }
    Ok(())
}

pub struct UnixLink(UnixStream);

impl UnixLink {
    pub fn connect(path: &str) -> Result<UnixLink, String> {
        UnixStream::connect(path)
            .map(UnixLink)
            .map_err(|e| format!("connect {path}: {e}"))
    }
}

impl Link for UnixLink {
    fn call(&mut self, payload: &[u8]) -> Result<u64, String> {
        let mut rx = &self.0;
        let mut tx = &self.0;
        call_stream(&mut rx, &mut tx, payload)
    }
}

/// The pipe server: two FIFOs in `dir` (requests, answers), one client.
pub fn serve_pipe(dir: &Path) -> Result<(), String> {
    let (req, rep) = (dir.join("req"), dir.join("rep"));
    for p in [&req, &rep] {
        nix::unistd::mkfifo(p, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .map_err(|e| format!("mkfifo {p:?}: {e}"))?;
    }
    crate::ready(dir.display());
    // Opening a FIFO waits for the other end: the client opens them in the same order.
    let rx = File::open(&req).map_err(|e| format!("open {req:?}: {e}"))?;
    let tx = OpenOptions::new()
        .write(true)
        .open(&rep)
        .map_err(|e| format!("open {rep:?}: {e}"))?;
    serve_stream(rx, tx)
}

pub struct PipeLink {
    tx: File,
    rx: File,
}

impl PipeLink {
    pub fn connect(dir: &str) -> Result<PipeLink, String> {
        let dir = Path::new(dir);
        let tx = OpenOptions::new()
            .write(true)
            .open(dir.join("req"))
            .map_err(|e| format!("open req: {e}"))?;
        let rx = File::open(dir.join("rep")).map_err(|e| format!("open rep: {e}"))?;
        Ok(PipeLink { tx, rx })
    }
}

impl Link for PipeLink {
    fn call(&mut self, payload: &[u8]) -> Result<u64, String> {
        call_stream(&mut self.rx, &mut self.tx, payload)
    }
}
