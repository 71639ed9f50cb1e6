//! Linux's binder driver: a device node, `ioctl(BINDER_WRITE_READ)` and a read-only mapping.

use std::fs::{File, OpenOptions};
use std::io;
use std::num::NonZeroUsize;
use std::os::fd::AsRawFd;
use std::path::Path;

use binder_sys::{
    BINDER_CURRENT_PROTOCOL_VERSION, BINDER_GET_EXTENDED_ERROR, BINDER_SET_CONTEXT_MGR,
    BINDER_SET_CONTEXT_MGR_EXT, BINDER_SET_MAX_THREADS, BINDER_THREAD_EXIT, BINDER_VERSION,
    BINDER_WRITE_READ, BinderVersion, BinderWriteRead, ExtendedError, FlatBinderObject, Wire,
};
use nix::errno::Errno;
use nix::sys::ioctl::ioctl_num_type;
use nix::sys::mman::{MapFlags, ProtFlags, mmap};

use super::Mapping;

// The binder ioctls this runtime issues, as typed functions (request numbers from binder-sys).
nix::ioctl_readwrite_bad!(
    binder_write_read,
    BINDER_WRITE_READ as ioctl_num_type,
    BinderWriteRead
);
nix::ioctl_readwrite_bad!(
    binder_version,
    BINDER_VERSION as ioctl_num_type,
    BinderVersion
);
nix::ioctl_write_ptr_bad!(
    binder_set_max_threads,
    BINDER_SET_MAX_THREADS as ioctl_num_type,
    u32
);
nix::ioctl_write_ptr_bad!(
    binder_set_context_mgr,
    BINDER_SET_CONTEXT_MGR as ioctl_num_type,
    i32
);
nix::ioctl_write_ptr_bad!(
    binder_set_context_mgr_ext,
    BINDER_SET_CONTEXT_MGR_EXT as ioctl_num_type,
    FlatBinderObject
);
nix::ioctl_write_ptr_bad!(
    binder_thread_exit,
    BINDER_THREAD_EXIT as ioctl_num_type,
    i32
);

nix::ioctl_readwrite_bad!(
    binder_get_extended_error,
    BINDER_GET_EXTENDED_ERROR as ioctl_num_type,
    ExtendedError
);

/// Retries an ioctl interrupted by a signal.
fn retry<T>(mut f: impl FnMut() -> nix::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(Errno::EINTR) => continue,
            r => return r.map_err(io::Error::from),
        }
    }
}

pub(crate) struct KernelDriver {
    file: File,
}

impl KernelDriver {
    pub fn open(path: &Path, vm_size: usize) -> io::Result<(KernelDriver, Mapping)> {
        // (std opens every file with O_CLOEXEC.)
        let file = OpenOptions::new()
            .read(true)
            .write(true)
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
        let len = NonZeroUsize::new(vm_size).ok_or(Errno::EINVAL)?;
        // SAFETY: maps the binder fd read-only as libbinder does; the kernel owns the pages.
        // The mapping is never unmapped (received buffers borrow it for the process's life).
        let base = unsafe {
            mmap(
                None,
                len,
                ProtFlags::PROT_READ,
                MapFlags::MAP_PRIVATE | MapFlags::MAP_NORESERVE,
                &d.file,
                0,
            )
        }?;
        Ok((
            d,
            Mapping {
                base: base.as_ptr() as usize,
                size: vm_size,
            },
        ))
    }

    /// An ioctl whose argument structure is `arg` (the caller checked its size against `cmd`),
    /// decoded into the ioctl's type, passed to the kernel and written back.
    pub fn ioctl(&self, cmd: u32, arg: &mut [u8]) -> io::Result<()> {
        let fd = self.file.as_raw_fd();
        let word = |arg: &[u8]| {
            arg.try_into()
                .map(u32::from_le_bytes)
                .map_err(|_| io::Error::from(Errno::EINVAL))
        };
        match cmd {
            BINDER_VERSION => {
                let mut v = BinderVersion {
                    protocol_version: word(arg)? as i32,
                };
                // SAFETY: `v` is a live binder_version the kernel fills in.
                retry(|| unsafe { binder_version(fd, &mut v) })?;
                arg.copy_from_slice(&v.protocol_version.to_le_bytes());
            }
            BINDER_SET_MAX_THREADS => {
                let v = word(arg)?;
                // SAFETY: the kernel reads one u32 from `v`.
                retry(|| unsafe { binder_set_max_threads(fd, &v) })?;
            }
            BINDER_SET_CONTEXT_MGR | BINDER_THREAD_EXIT => {
                let v = word(arg)? as i32;
                let call = if cmd == BINDER_THREAD_EXIT {
                    binder_thread_exit
                } else {
                    binder_set_context_mgr
                };
                // SAFETY: the kernel reads one i32 from `v`.
                retry(|| unsafe { call(fd, &v) })?;
            }
            BINDER_SET_CONTEXT_MGR_EXT => {
                let obj =
                    FlatBinderObject::read(arg).ok_or_else(|| io::Error::from(Errno::EINVAL))?;
                // SAFETY: the kernel reads one flat_binder_object from `obj`.
                retry(|| unsafe { binder_set_context_mgr_ext(fd, &obj) })?;
            }
            BINDER_GET_EXTENDED_ERROR => {
                let mut e = ExtendedError::default();
                // SAFETY: `e` is a live binder_extended_error the kernel fills in.
                retry(|| unsafe { binder_get_extended_error(fd, &mut e) })?;
                arg.get_mut(..e.bytes().len())
                    .ok_or_else(|| io::Error::from(Errno::EINVAL))?
                    .copy_from_slice(e.bytes());
            }
            _ => return Err(io::Error::from(Errno::EINVAL)),
        }
        Ok(())
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
        loop {
            // SAFETY: bwr describes `write` (readable) and `read` (writable) buffers that
            // outlive the call; BINDER_WRITE_READ reads them and updates the structure.
            match unsafe { binder_write_read(self.file.as_raw_fd(), &mut bwr) } {
                Ok(_) => return Ok((bwr.write_consumed as usize, bwr.read_consumed as usize)),
                // Interrupted: what was consumed counts, the rest is retried by the caller.
                Err(Errno::EINTR) if bwr.write_consumed > 0 || bwr.read_consumed > 0 => {
                    return Ok((bwr.write_consumed as usize, bwr.read_consumed as usize));
                }
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}
