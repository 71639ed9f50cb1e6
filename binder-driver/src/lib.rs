//! The userspace binder driver: the kernel driver's contract (ioctls, `BC_*`/`BR_*` command
//! streams, one copy of every payload) served over Unix sockets. See
//! `docs/userspace-driver.md` for the design and `binder_sys::ud` for the protocol.
//!
//! [`serve`] runs an instance in the calling thread; `binderd` is the same from the command
//! line. The objects and their behaviour follow `drivers/android/binder.c`; the modules carry
//! the kernel's nouns:
//! - `model`: `binder_proc`, `binder_thread`, `binder_node`, `binder_ref`,
//!   `binder_transaction` and the work lists;
//! - `alloc`: `binder_alloc`, the receive-area allocator;
//! - `transaction`: `binder_transaction`, with the one copy;
//! - `read`: `binder_thread_read` and the wake-ups;
//! - `refs`, `release`, `driver` (`binder_thread_write`, `binder_ioctl`), `server` (sockets);
//! - `sys`: every syscall and mapping, the only place with `unsafe`.

mod alloc;
mod driver;
mod dump;
mod model;
mod objects;
mod read;
mod refs;
mod release;
mod server;
mod stats;
mod sys;
mod transaction;

use std::time::Duration;

pub use server::Server;

/// Configuration of one driver instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverConfig {
    /// Instance name: the driver listens on `\0binder-ud/<instance>`.
    pub instance: String,
    /// Exit once no process connection has existed for this long (auto-started instances).
    pub idle_exit: Option<Duration>,
    /// Connections from the driver's own process (a service manager running beside the
    /// driver) do not keep it from being idle.
    pub idle_ignores_own_process: bool,
}

impl DriverConfig {
    pub fn new(instance: impl Into<String>) -> Self {
        DriverConfig {
            instance: instance.into(),
            idle_exit: None,
            idle_ignores_own_process: false,
        }
    }
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig::new("default")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// Another driver already listens under this instance name.
    #[error("a binder driver instance with this name is already running")]
    AlreadyRunning,
    #[error("invalid instance name {0:?}")]
    InvalidInstance(String),
    #[error("{context}: {source}")]
    Io {
        context: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// Binds the instance's socket and serves until shutdown. Returns
/// `Err(DriverError::AlreadyRunning)` at once if the name is taken.
pub fn serve(config: DriverConfig) -> Result<(), DriverError> {
    Server::bind(config)?.run()
}
