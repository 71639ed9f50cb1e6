//! The kernel's floor: a bare `BINDER_WRITE_READ` ping-pong on a binder device, without the
//! framework (no Parcel, no proxy, no thread pool, no service manager): the server is the
//! device's context manager, the client transacts to handle 0 and reads the answer where the
//! kernel copied it, in its read-only mapping. Both free each buffer with the next command, as
//! libbinder does.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::time::{Duration, Instant};

use binder_sys::{
    BINDER_SET_CONTEXT_MGR, BINDER_VM_SIZE, BINDER_WRITE_READ, Bc, BinderWriteRead, Br, Reader,
    TransactionData,
};
use nix::sys::ioctl::ioctl_num_type;

use crate::measure::{Link, answer};

nix::ioctl_readwrite_bad!(
    write_read,
    BINDER_WRITE_READ as ioctl_num_type,
    BinderWriteRead
);
nix::ioctl_write_ptr_bad!(
    set_context_mgr,
    BINDER_SET_CONTEXT_MGR as ioctl_num_type,
    i32
);

/// An open device with its receive mapping, and the commands waiting to go with the next
/// write-read.
struct Endpoint {
    file: File,
    map: memmap2::Mmap,
    out: Vec<u8>,
    input: Vec<u8>,
}

impl Endpoint {
    fn open(device: &str) -> Result<Endpoint, String> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_CLOEXEC)
            .open(device)
            .map_err(|e| format!("open {device}: {e}"))?;
        // SAFETY: the kernel's binder mapping of this open device, read-only as the kernel
        // requires; only the kernel writes it, into buffers it has handed to us.
        let map = unsafe { memmap2::MmapOptions::new().len(BINDER_VM_SIZE).map(&file) }
            .map_err(|e| format!("mmap {device}: {e}"))?;
        Ok(Endpoint {
            file,
            map,
            out: Vec::with_capacity(256),
            input: vec![0; 256],
        })
    }

    /// Sends the queued commands and reads what the kernel returns (at least one word).
    fn write_read(&mut self) -> Result<usize, String> {
        let mut bwr = BinderWriteRead {
            write_size: self.out.len() as u64,
            write_buffer: self.out.as_ptr() as u64,
            read_size: self.input.len() as u64,
            read_buffer: self.input.as_mut_ptr() as u64,
            ..Default::default()
        };
        loop {
            // SAFETY: `bwr` points at `out` and `input`, which live across the call; the kernel
            // reads `write_size` bytes of the one and writes at most `read_size` of the other.
            match unsafe { write_read(self.file.as_raw_fd(), &mut bwr) } {
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(format!("BINDER_WRITE_READ: {e}")),
                Ok(_) => break,
            }
        }
        self.out.drain(..bwr.write_consumed as usize);
        Ok(bwr.read_consumed as usize)
    }

    fn queue(&mut self, command: Bc) {
        command.encode(&mut self.out);
    }

    /// A transaction (or reply) to the context manager carrying `data`.
    fn transaction(data: &[u8]) -> TransactionData {
        TransactionData {
            target: 0,
            code: 1,
            data_size: data.len() as u64,
            data_buffer: data.as_ptr() as u64,
            ..Default::default()
        }
    }

    /// Runs write-reads until a `BR_TRANSACTION` or `BR_REPLY` arrives; returns it.
    fn next_transaction(&mut self) -> Result<Br, String> {
        loop {
            let n = self.write_read()?;
            let mut r = Reader::new(&self.input[..n]);
            let mut found = None;
            while r.remaining() > 0 {
                match Br::decode(&mut r).map_err(|e| format!("a return: {e}"))? {
                    Br::Noop | Br::TransactionComplete | Br::SpawnLooper => {}
                    br @ (Br::Transaction(_) | Br::Reply(_)) => found = Some(br),
                    other => return Err(format!("the call failed: {other:?}")),
                }
            }
            if let Some(t) = found {
                return Ok(t);
            }
        }
    }

    /// The `len` bytes the kernel put at `addr`, in our mapping.
    fn received(&self, addr: u64, len: u64) -> Result<&[u8], String> {
        let start = (addr as usize)
            .checked_sub(self.map.as_ptr() as usize)
            .ok_or("a buffer outside the mapping")?;
        usize::try_from(len)
            .ok()
            .and_then(|len| start.checked_add(len))
            .and_then(|end| self.map.get(start..end))
            .ok_or_else(|| "a buffer outside the mapping".to_string())
    }
}

pub fn serve(device: &str) -> Result<(), String> {
    let mut ep = Endpoint::open(device)?;
    // A previous context manager of this device may still be going away.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // SAFETY: BINDER_SET_CONTEXT_MGR reads one i32 from the pointer.
        match unsafe { set_context_mgr(ep.file.as_raw_fd(), &0) } {
            Ok(_) => break,
            Err(nix::errno::Errno::EBUSY) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => return Err(format!("BINDER_SET_CONTEXT_MGR: {e}")),
        }
    }
    ep.queue(Bc::EnterLooper);
    crate::ready(device);
    // The reply's bytes: the next write-read (inside `next_transaction`) copies them, before
    // they are overwritten for the following call.
    let mut reply: [u8; 8];
    loop {
        let Br::Transaction(td) = ep.next_transaction()? else {
            return Err("a reply where a transaction was expected".into());
        };
        reply = answer(ep.received(td.data_buffer, td.data_size)?).to_le_bytes();
        ep.queue(Bc::FreeBuffer(td.data_buffer));
        ep.queue(Bc::Reply(Endpoint::transaction(&reply)));
    }
}

pub struct KernelRawLink(Endpoint);

impl KernelRawLink {
    pub fn connect(device: &str) -> Result<KernelRawLink, String> {
        Endpoint::open(device).map(KernelRawLink)
    }
}

impl Link for KernelRawLink {
    fn call(&mut self, payload: &[u8]) -> Result<u64, String> {
        let ep = &mut self.0;
        ep.queue(Bc::Transaction(Endpoint::transaction(payload)));
        let Br::Reply(td) = ep.next_transaction()? else {
            return Err("a transaction where a reply was expected".into());
        };
        let bytes: [u8; 8] = ep
            .received(td.data_buffer, td.data_size)?
            .try_into()
            .map_err(|_| "an answer that is not 8 bytes")?;
        ep.queue(Bc::FreeBuffer(td.data_buffer));
        Ok(u64::from_le_bytes(bytes))
    }
}
