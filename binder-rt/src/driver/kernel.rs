//! Linux's binder driver: a device node, `ioctl(BINDER_WRITE_READ)` and a read-only mapping.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use binder_sys::{
    BINDER_CURRENT_PROTOCOL_VERSION, BINDER_SET_MAX_THREADS, BINDER_VERSION, BINDER_WRITE_READ,
    BinderVersion, BinderWriteRead, DEFAULT_MAX_BINDER_THREADS,
};

use super::Mapping;

pub(crate) struct KernelDriver {
    file: File,
}

impl KernelDriver {
    pub fn open(path: &Path, vm_size: usize) -> io::Result<(KernelDriver, Mapping)> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot open binder device {}: {e}", path.display()),
                )
            })?;
        let d = KernelDriver { file };
        let mut version = [0u8; 4];
        d.ioctl(BINDER_VERSION, &mut version)?;
        let version = BinderVersion {
            protocol_version: i32::from_le_bytes(version),
        };
        if version.protocol_version != BINDER_CURRENT_PROTOCOL_VERSION {
            return Err(io::Error::other(format!(
                "binder driver {} speaks protocol {}, this runtime needs {}",
                path.display(),
                version.protocol_version,
                BINDER_CURRENT_PROTOCOL_VERSION
            )));
        }
        d.ioctl(
            BINDER_SET_MAX_THREADS,
            &mut DEFAULT_MAX_BINDER_THREADS.to_le_bytes(),
        )?;
        // SAFETY: maps the binder fd read-only as libbinder does; the kernel owns the pages.
        // The mapping is never unmapped (received buffers borrow it for the process's life).
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                vm_size,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_NORESERVE,
                d.file.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok((
            d,
            Mapping {
                base: base as usize,
                size: vm_size,
            },
        ))
    }

    /// An ioctl whose argument structure is `arg` (the caller checked its size against `cmd`).
    pub fn ioctl(&self, cmd: u32, arg: &mut [u8]) -> io::Result<()> {
        loop {
            // SAFETY: `cmd` is a binder ioctl whose argument is `arg.len()` bytes; the kernel
            // reads and writes at most that many bytes of the live buffer `arg`.
            let r = unsafe {
                libc::ioctl(
                    self.file.as_raw_fd(),
                    cmd as libc::c_ulong,
                    arg.as_mut_ptr(),
                )
            };
            if r >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    pub fn write_read(&self, write: &[u8], read: &mut [u8]) -> io::Result<(usize, usize)> {
        let mut bwr = BinderWriteRead {
            write_size: write.len() as u64,
            write_consumed: 0,
            write_buffer: write.as_ptr() as u64,
            read_size: read.len() as u64,
            read_consumed: 0,
            read_buffer: read.as_mut_ptr() as u64,
        };
        // The kernel restarts nothing itself: on EINTR it reports what it consumed, and the
        // rest is retried.
        loop {
            // SAFETY: bwr describes `write` (readable) and `read` (writable) buffers that
            // outlive the call; BINDER_WRITE_READ reads and updates the structure.
            let r = unsafe {
                libc::ioctl(
                    self.file.as_raw_fd(),
                    BINDER_WRITE_READ as libc::c_ulong,
                    &mut bwr as *mut BinderWriteRead,
                )
            };
            if r >= 0 {
                return Ok((bwr.write_consumed as usize, bwr.read_consumed as usize));
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
            if bwr.write_consumed > 0 || bwr.read_consumed > 0 {
                return Ok((bwr.write_consumed as usize, bwr.read_consumed as usize));
            }
        }
    }
}
