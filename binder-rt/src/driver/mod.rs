//! The one place that knows which binder driver this process talks to: Linux's (a character
//! device and `ioctl`) or the userspace driver (sockets to `binderd`). Everything above speaks
//! `BC_*`/`BR_*` through `Driver` and cannot tell them apart.

#[cfg(feature = "embedded-driver")]
mod instance;
mod kernel;
pub(crate) mod userspace;

use std::io;
use std::path::{Path, PathBuf};

use binder_sys::BINDER_VM_SIZE;

#[cfg(feature = "embedded-driver")]
pub use instance::serve_instance;
pub(crate) use kernel::KernelDriver;
pub(crate) use userspace::UserspaceDriver;
pub use userspace::{AUTO_DRIVER_IDLE_EXIT, BINDERD_ENV};

/// Which driver to use, from `BINDER_DEVICE` or the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriverSpec {
    /// Linux's binder driver through a device node (`/dev/binder`, binderfs, ...).
    Kernel(PathBuf),
    /// An instance of the userspace driver, by name.
    Userspace(String),
}

/// Prefix of `BINDER_DEVICE` values that name a userspace driver instance.
pub const USERSPACE_PREFIX: &str = "userspace:";

impl DriverSpec {
    /// `BINDER_DEVICE` if set (a device path, or `userspace:NAME`); else the kernel's
    /// `/dev/binderfs/binder` or `/dev/binder` if present; else the userspace instance
    /// `default`.
    pub fn from_env() -> DriverSpec {
        match std::env::var("BINDER_DEVICE") {
            Ok(v) if !v.is_empty() => DriverSpec::parse(&v),
            _ => DriverSpec::detect(),
        }
    }

    /// The driver a `BINDER_DEVICE`-style value names: `userspace:NAME` for a userspace driver
    /// instance, anything else for the path of a kernel binder device.
    pub fn parse(v: &str) -> DriverSpec {
        match v.strip_prefix(USERSPACE_PREFIX) {
            Some(name) => DriverSpec::Userspace(name.to_owned()),
            None => DriverSpec::Kernel(PathBuf::from(v)),
        }
    }

    fn detect() -> DriverSpec {
        ["/dev/binderfs/binder", "/dev/binder"]
            .iter()
            .map(Path::new)
            .find(|p| p.exists())
            .map(|p| DriverSpec::Kernel(p.to_path_buf()))
            .unwrap_or_else(|| DriverSpec::Userspace("default".to_owned()))
    }
}

impl DriverSpec {
    /// Whether the driver exists without starting anything: the device node for the kernel,
    /// a listening instance for the userspace driver. Tools use it to say "no driver running"
    /// instead of starting one.
    pub fn is_available(&self) -> bool {
        match self {
            DriverSpec::Kernel(path) => path.exists(),
            DriverSpec::Userspace(name) => userspace::connect(name).is_ok(),
        }
    }
}

impl std::fmt::Display for DriverSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DriverSpec::Kernel(p) => write!(f, "{}", p.display()),
            DriverSpec::Userspace(n) => write!(f, "{USERSPACE_PREFIX}{n}"),
        }
    }
}

/// The receive area, mapped read-only at `base`. It is never unmapped: received buffers borrow
/// it for as long as the process lives.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mapping {
    pub base: usize,
    pub size: usize,
}

impl Mapping {
    /// The `len` bytes at `ptr`, if they lie inside the mapping.
    pub fn slice(&self, ptr: u64, len: u64) -> Option<&'static [u8]> {
        let ptr = usize::try_from(ptr).ok()?;
        let len = usize::try_from(len).ok()?;
        let end = ptr.checked_add(len)?;
        if ptr < self.base || end > self.base + self.size {
            return None;
        }
        if len == 0 {
            return Some(&[]);
        }
        // SAFETY: [ptr, ptr+len) lies inside the read-only receive mapping, which stays mapped
        // for the life of the process. The driver writes a buffer only before delivering it
        // and after it is freed, so nothing changes it while this slice is in use.
        Some(unsafe { std::slice::from_raw_parts(ptr as *const u8, len) })
    }
}

/// A connection to a binder driver, shared by the threads of the process.
pub(crate) enum Driver {
    Kernel(KernelDriver),
    Userspace(UserspaceDriver),
}

/// What a thread needs to talk to the driver: nothing for the kernel (the kernel knows the
/// calling thread), its own socket for the userspace driver.
pub(crate) enum ThreadLink {
    Kernel,
    Userspace(userspace::UdThread),
}

impl Driver {
    /// Opens the driver and maps the receive area.
    /// `start` lets a missing userspace driver instance be started (see
    /// [`ProcessState::init_existing`](crate::ProcessState::init_existing) for tools that must not).
    pub fn open(spec: &DriverSpec, start: bool) -> io::Result<(Driver, Mapping)> {
        match spec {
            DriverSpec::Kernel(path) => {
                let (d, m) = KernelDriver::open(path, BINDER_VM_SIZE)?;
                Ok((Driver::Kernel(d), m))
            }
            DriverSpec::Userspace(name) => {
                let (d, m) = UserspaceDriver::open(name, BINDER_VM_SIZE, start)?;
                Ok((Driver::Userspace(d), m))
            }
        }
    }

    pub fn is_kernel(&self) -> bool {
        matches!(self, Driver::Kernel(_))
    }

    pub fn new_thread_link(&self) -> io::Result<ThreadLink> {
        match self {
            Driver::Kernel(_) => Ok(ThreadLink::Kernel),
            Driver::Userspace(d) => d.new_thread().map(ThreadLink::Userspace),
        }
    }

    /// `BINDER_WRITE_READ`: writes `write`, then (if `read` is not empty) blocks until there is
    /// something to read. Returns (bytes written, bytes read). `fds` are the files named by
    /// the fd objects of the transactions in `write`: the kernel takes them from this
    /// process's fd table itself; the userspace driver gets them with the command.
    pub fn write_read(
        &self,
        link: &mut ThreadLink,
        write: &[u8],
        read: &mut [u8],
        fds: &[std::os::fd::RawFd],
    ) -> io::Result<(usize, usize)> {
        match (self, link) {
            (Driver::Kernel(d), _) => d.write_read(write, read),
            (Driver::Userspace(_), ThreadLink::Userspace(t)) => t.write_read(write, read, fds),
            (Driver::Userspace(_), ThreadLink::Kernel) => {
                Err(io::Error::other("thread has no driver link"))
            }
        }
    }

    /// Any other ioctl: `arg` is its argument structure, read and written back by the driver.
    /// Its length must be the size the ioctl number encodes.
    pub fn ioctl(&self, link: &mut ThreadLink, cmd: u32, arg: &mut [u8]) -> io::Result<()> {
        if binder_sys::command_payload_size(cmd) != arg.len() {
            return Err(io::Error::from(nix::errno::Errno::EINVAL));
        }
        match (self, link) {
            (Driver::Kernel(d), _) => d.ioctl(cmd, arg),
            (Driver::Userspace(_), ThreadLink::Userspace(t)) => t.ioctl(cmd, arg),
            (Driver::Userspace(_), ThreadLink::Kernel) => {
                Err(io::Error::other("thread has no driver link"))
            }
        }
    }

    /// An ioctl with an integer argument (`SET_MAX_THREADS`, `SET_CONTEXT_MGR`,
    /// `THREAD_EXIT`, `VERSION`); returns the value the driver wrote back.
    pub fn ioctl_u32(&self, link: &mut ThreadLink, cmd: u32, arg: u32) -> io::Result<u32> {
        let mut bytes = arg.to_le_bytes();
        self.ioctl(link, cmd, &mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }
}
