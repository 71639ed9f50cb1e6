//! Sharing data: the server hands the client an open file (a sealed memfd, as a
//! `ParcelFileDescriptor`) and a 512 KiB `Payload`.
//!
//! The payload travels the binder way: the driver copies the reply once, from the server's
//! memory into a buffer in the client's receive area (mapped read-only into the client), and the
//! client reads it there in place. On the userspace driver the client proves the single copy
//! with the driver's byte counter; the kernel driver keeps no byte counters, so there the client
//! checks what it can (the content, that it reads the bytes inside its receive mapping, and the
//! driver buffer it holds while it does).
//!
//! ```text
//! fileshare-server                 # registers "binder-examples.fileshare"
//! fileshare-client [SEED]          # a file and a payload made from SEED (default 7)
//! ```

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::time::Instant;

use binder_rt::{
    ParcelFileDescriptor, Payload, ProcessState, Status, Strong, binder_interface, introspect,
};
use nix::fcntl::{FcntlArg, SealFlag, fcntl};
use nix::sys::memfd::{MFdFlags, memfd_create};

use crate::support::{Serve, arg, check, find, fmt_duration, pid, say, st};

/// The name the server registers with the service manager.
pub const SERVICE_NAME: &str = "binder-examples.fileshare";

/// Size of the payload the client asks for.
pub const PAYLOAD_LEN: usize = 512 * 1024;
/// Size of the file the client asks for.
pub const FILE_LEN: usize = 16 * 1024;
/// Largest file or payload the server makes (a reply must fit the client's receive area).
pub const MAX_LEN: usize = 768 * 1024;

/// Service-specific error: a length outside `0..=MAX_LEN`.
pub const ERROR_BAD_LENGTH: i32 = 1;
/// Service-specific error: the server could not make the file.
pub const ERROR_IO: i32 = 2;

/// The file server's interface.
#[binder_interface(descriptor = "binder_examples.IFileShare")]
pub trait IFileShare {
    /// A read-only (sealed) memfd holding [`file_content`]`(seed, len)`.
    fn open_file(&self, seed: i32, len: i32) -> binder_rt::Result<ParcelFileDescriptor>;
    /// [`payload_content`]`(seed, len)`.
    fn payload(&self, seed: i32, len: i32) -> binder_rt::Result<Payload>;
}

/// The file's content: numbered text lines made from `seed`, cut to `len` bytes.
pub fn file_content(seed: i32, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut line = 0;
    while out.len() < len {
        line += 1;
        let _ = writeln!(out, "binder-examples fileshare: seed {seed}, line {line}");
    }
    out.truncate(len);
    out
}

/// The payload's content: `len` pseudo-random bytes (xorshift32) made from `seed`.
pub fn payload_content(seed: i32, len: usize) -> Vec<u8> {
    let mut x = (seed as u32) ^ 0x9e37_79b9;
    if x == 0 {
        x = 1;
    }
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn checked_len(len: i32) -> binder_rt::Result<usize> {
    usize::try_from(len)
        .ok()
        .filter(|&l| l <= MAX_LEN)
        .ok_or_else(|| {
            Status::new_service_specific_error(
                ERROR_BAD_LENGTH,
                format!("length {len} is outside 0..={MAX_LEN}"),
            )
        })
}

fn io_error(what: &str, e: impl std::fmt::Display) -> Status {
    Status::new_service_specific_error(ERROR_IO, format!("{what}: {e}"))
}

/// The server's implementation.
#[derive(Default, Debug)]
pub struct FileShare;

impl IFileShare for FileShare {
    fn open_file(&self, seed: i32, len: i32) -> binder_rt::Result<ParcelFileDescriptor> {
        let len = checked_len(len)?;
        let fd = memfd_create(
            c"binder-examples-fileshare",
            MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
        )
        .map_err(|e| io_error("memfd_create", e))?;
        let mut file = File::from(fd);
        file.write_all(&file_content(seed, len))
            .map_err(|e| io_error("write", e))?;
        // Sealed, the file can be handed out: nobody, the server included, can change it now.
        let seals = SealFlag::F_SEAL_WRITE
            | SealFlag::F_SEAL_GROW
            | SealFlag::F_SEAL_SHRINK
            | SealFlag::F_SEAL_SEAL;
        fcntl(&file, FcntlArg::F_ADD_SEALS(seals)).map_err(|e| io_error("F_ADD_SEALS", e))?;
        say(format!(
            "call: open_file(seed {seed}, {len} bytes) from pid {}: a sealed memfd (fd {} here) goes back",
            binder_rt::calling_pid(),
            file.as_raw_fd()
        ));
        Ok(ParcelFileDescriptor::new(file.into()))
    }

    fn payload(&self, seed: i32, len: i32) -> binder_rt::Result<Payload> {
        let len = checked_len(len)?;
        say(format!(
            "call: payload(seed {seed}, {len} bytes) from pid {}",
            binder_rt::calling_pid()
        ));
        Ok(Payload::from(payload_content(seed, len)))
    }
}

/// The server: registers a [`FileShare`] and serves.
pub fn server(_args: &[String], serve: Serve) -> Result<(), String> {
    let service = BnFileShare::new_binder(FileShare);
    crate::support::register_and_serve(SERVICE_NAME, service.as_binder(), serve)
}

/// The names of the seals on `file`.
fn seal_names(file: &File) -> Result<Vec<&'static str>, String> {
    let bits = SealFlag::from_bits_truncate(fcntl(file, FcntlArg::F_GET_SEALS).map_err(st)?);
    Ok([
        (SealFlag::F_SEAL_WRITE, "write"),
        (SealFlag::F_SEAL_GROW, "grow"),
        (SealFlag::F_SEAL_SHRINK, "shrink"),
        (SealFlag::F_SEAL_SEAL, "seal"),
    ]
    .into_iter()
    .filter(|(f, _)| bits.contains(*f))
    .map(|(_, n)| n)
    .collect())
}

fn check_file(share: &Strong<dyn IFileShare>, seed: i32) -> Result<(), String> {
    let t0 = Instant::now();
    let pfd = share
        .open_file(seed, FILE_LEN as i32)
        .map_err(|e| format!("open_file failed: {e}"))?;
    let elapsed = t0.elapsed();
    let file = File::from(pfd.into_inner());
    let fd = file.as_raw_fd();
    let target = std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .map(|p| p.display().to_string())
        .unwrap_or_else(|e| format!("unknown: {e}"));
    let size = file.metadata().map_err(st)?.len() as usize;
    let mut content = vec![0u8; size];
    file.read_exact_at(&mut content, 0).map_err(st)?;
    let expected = file_content(seed, FILE_LEN);
    check(content == expected, || {
        format!(
            "the file holds {size} bytes that differ from the {} expected",
            expected.len()
        )
    })?;
    let seals = seal_names(&file)?;
    let write = file.write_at(b"x", 0);
    check(write.is_err(), || {
        "the client could write to the server's sealed file".into()
    })?;
    say(format!(
        "file: got fd {fd} ({target}) in {}: {size} bytes, content as expected; sealed against {}, so a write fails ({})",
        fmt_duration(elapsed),
        seals.join(", "),
        write.err().map(|e| e.to_string()).unwrap_or_default()
    ));
    Ok(())
}

/// Where `bytes` are relative to the receive mapping: `Some(offset)` inside it.
fn offset_in_receive_area(ps: &ProcessState, bytes: &[u8]) -> Option<usize> {
    let (base, size) = ps.receive_area();
    let start = bytes.as_ptr() as usize;
    (start >= base && start + bytes.len() <= base + size).then(|| start - base)
}

/// Driver buffers this process holds, or why that cannot be known.
fn my_buffers(ps: &ProcessState) -> Result<usize, introspect::IntrospectError> {
    introspect::buffers_in_use(&ps.driver_spec().to_string(), &[std::process::id()])
}

fn check_payload(share: &Strong<dyn IFileShare>, seed: i32) -> Result<(), String> {
    let ps = ProcessState::try_get().map_err(st)?;
    let binder = share.as_binder();
    // What `BpFileShare::payload` does, spelled out to see the size of both Parcels.
    let mut data = binder.prepare_transact();
    data.write_interface_token(BnFileShare::DESCRIPTOR)
        .map_err(st)?;
    data.write(&seed).map_err(st)?;
    data.write(&(PAYLOAD_LEN as i32)).map_err(st)?;
    let request_bytes = data.data_size() + 8 * data.object_count();
    // The kernel driver counts no bytes: only the userspace driver's counters are read.
    let counters = || (!ps.is_kernel_driver()).then(binder_rt::driver_stats);
    let before = counters();
    let t0 = Instant::now();
    let mut reply = binder
        .submit_transact(BnFileShare::TRANSACTION_PAYLOAD, data, 0)
        .map_err(|e| format!("payload failed: {e}"))?;
    let elapsed = t0.elapsed();
    let after = counters();
    let reply_bytes = reply.data_size() + 8 * reply.object_count();
    let status = reply.read_status().map_err(st)?;
    if !status.is_ok() {
        return Err(format!("payload failed: {status}"));
    }
    let payload: Payload = reply.read().map_err(st)?;
    drop(reply);

    check(
        payload.as_slice() == payload_content(seed, PAYLOAD_LEN),
        || {
            format!(
                "the payload's {} bytes differ from the {PAYLOAD_LEN} expected",
                payload.len()
            )
        },
    )?;
    let offset = offset_in_receive_area(ps, &payload);
    check(payload.is_in_place() && offset.is_some(), || {
        "the payload was copied out of the receive area instead of read in place".into()
    })?;
    let (_, area) = ps.receive_area();
    say(format!(
        "payload: {} bytes in {}, content as expected, read in place at offset {} of this process's {} KiB read-only receive mapping (no copy out of it)",
        payload.len(),
        fmt_duration(elapsed),
        offset.unwrap_or_default(),
        area / 1024
    ));

    if let (Some(before), Some(after)) = (before, after) {
        let (before, after) = (before.map_err(st)?, after.map_err(st)?);
        let copied = after.bytes_copied - before.bytes_copied;
        let transfers =
            (after.transactions + after.replies) - (before.transactions + before.replies);
        let parcels = (request_bytes + reply_bytes) as u64;
        say(format!(
            "copied: request={request_bytes} reply={reply_bytes} parcels={parcels} driver_copied={copied} transfers={transfers} (arena memcpy {} B, outside the arena {} B)",
            after.bytes_copied_arena - before.bytes_copied_arena,
            after.bytes_copied_vm - before.bytes_copied_vm
        ));
        check(transfers == 2 && copied == parcels, || {
            format!(
                "the driver copied {copied} bytes in {transfers} transfers for Parcels of {parcels} bytes: not exactly once"
            )
        })?;
        say(format!(
            "copied: exactly once: the driver copied {copied} bytes for the request and the reply, their exact size; the {} KiB payload was not copied again",
            PAYLOAD_LEN / 1024
        ));
    } else {
        say(
            "copied: not measurable here: the kernel binder driver keeps no byte counters (it copies each transaction once, with copy_from_user into the receiver's buffer); checked instead: the content, the in-place read, and the driver buffer below",
        );
    }

    // The payload borrows the driver's buffer; dropping it gives the buffer back.
    match my_buffers(ps) {
        Ok(held) => {
            drop(payload);
            binder_rt::flush_commands().map_err(st)?;
            let after_drop = my_buffers(ps).map_err(st)?;
            say(format!(
                "buffers: this process holds {held} driver buffer(s) while the payload is alive, {after_drop} after dropping it"
            ));
            check(held == 1 && after_drop == 0, || {
                format!("expected 1 buffer held then 0, got {held} then {after_drop}")
            })?;
        }
        Err(e) => say(format!("buffers: not checked: {e}")),
    }
    Ok(())
}

/// The client: `fileshare-client [SEED]` (default 7).
pub fn client(args: &[String]) -> Result<(), String> {
    let seed: i32 = arg(args, 0, "seed", 7)?;
    let share = find::<dyn IFileShare>(SERVICE_NAME, "fileshare-server")?;
    check_file(&share, seed)?;
    check_payload(&share, seed)?;
    say(format!(
        "done: the file and the {} KiB payload arrived intact (client pid {})",
        PAYLOAD_LEN / 1024,
        pid()
    ));
    Ok(())
}
