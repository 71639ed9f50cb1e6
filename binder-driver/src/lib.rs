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

#![deny(missing_docs)]

mod alloc;
mod chan;
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
mod worklist;

use std::time::Duration;

pub use server::Server;

/// Configuration of one driver instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverConfig {
    /// Instance name: the driver listens on the abstract socket `\0binder-ud/<uid>/<instance>`
    /// of the user running it, or on a filesystem socket if the name is an absolute path
    /// (see [`binder_sys::ud::Endpoint`]).
    pub instance: String,
    /// Exit once no process connection has existed for this long (auto-started instances).
    pub idle_exit: Option<Duration>,
    /// Connections from the driver's own process (a service manager running beside the
    /// driver) do not keep it from being idle.
    pub idle_ignores_own_process: bool,
    /// Who may use the instance.
    pub access: Access,
    /// Mode of a filesystem socket (e.g. `0o660`); `None` leaves what the umask gave.
    pub socket_mode: Option<u32>,
    /// Group of a filesystem socket.
    pub socket_group: Option<u32>,
    /// Limits on what one process, one user and the instance may hold.
    pub limits: Limits,
    /// How long a driver thread polls its thread's mailbox before it sleeps: `None` decides by
    /// the usable cores (50 µs with four or more, never with fewer; the `BINDER_POLL_US`
    /// environment variable overrides it), `Some(ZERO)` never polls. Up to half the usable cores
    /// poll at a time, each for a window that adapts to what polling achieves.
    pub poll_window: Option<Duration>,
}

/// Who may use an instance. The instance's **owner** is the user running the driver; the
/// owner and root are its administrators: only they read the full state dump and the
/// counters and ask the driver to shut down.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// Any user who can connect to the socket may open processes on the instance (a
    /// machine-wide instance whose socket permissions, set by its administrator, decide, as
    /// `/dev/binder`'s do). Only for filesystem sockets. When `false` (the default), only the
    /// owner and root may connect.
    pub shared: bool,
    /// A user other than the owner and root that may become the context manager.
    pub context_manager_uid: Option<u32>,
}

/// Bounds on what the instance holds for its peers, so that no process or user can exhaust
/// the driver (the kernel driver bounds the same things per process).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Connections of every kind (not yet identified, process, thread) of the instance. Each is
    /// served by one driver thread and holds one or two file descriptors.
    pub max_connections: usize,
    /// Connections of one user. On a shared instance, [`Server::bind`] lowers it to a quarter
    /// of `max_connections`, so that no user can take every connection.
    pub max_connections_per_uid: usize,
    /// Connections of one user that have not said what they are yet.
    pub max_unidentified_per_uid: usize,
    /// Thread connections of one process, counted from `OP_NEW_THREAD` until the connection
    /// closes (`BINDER_THREAD_EXIT` does not end the connection).
    pub max_threads_per_proc: usize,
    /// Bytes of receive areas of one user's processes.
    pub max_area_bytes_per_uid: u64,
    /// File descriptors held by the driver for transactions not yet delivered, in all.
    pub max_fds_in_flight: usize,
    /// ... sent by one process, and queued for one process.
    pub max_fds_in_flight_per_proc: usize,
    /// Nodes one process may own.
    pub max_nodes_per_proc: usize,
    /// Refs (handles) one process may hold.
    pub max_refs_per_proc: usize,
    /// Death notifications of one process (registered, or cleared and not yet acknowledged).
    pub max_deaths_per_proc: usize,
    /// Completions of its own calls waiting for one thread to read them; a thread that never
    /// reads cannot send past it.
    pub max_thread_backlog: usize,
}

impl Limits {
    /// Limits that fit a driver allowed `nofile` open files: connections and files in flight
    /// share the table with a reserve, so that the driver never runs out of descriptors to
    /// accept connections or create receive areas.
    pub fn for_open_files(nofile: u64) -> Limits {
        let budget = (nofile.saturating_sub(256) as usize).max(64);
        // A process connection holds two descriptors (its socket, its memory file), a thread
        // connection one.
        let max_connections = (budget * 2 / 5).clamp(16, 8192);
        Limits {
            max_connections,
            max_connections_per_uid: max_connections,
            max_unidentified_per_uid: 64,
            max_threads_per_proc: 2048,
            max_area_bytes_per_uid: 512 << 20,
            max_fds_in_flight: (budget / 5).max(16),
            max_fds_in_flight_per_proc: 1024,
            max_nodes_per_proc: 1 << 17,
            max_refs_per_proc: 1 << 17,
            max_deaths_per_proc: 1 << 17,
            max_thread_backlog: 4096,
        }
    }

    /// Limits for this process's open-file limit (raised to the hard limit first, as servers
    /// do).
    pub fn for_this_process() -> Limits {
        Limits::for_open_files(sys::raise_open_file_limit())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::for_open_files(1024)
    }
}

impl DriverConfig {
    /// The configuration of instance `instance`: only its owner and root may use it, no idle
    /// exit, and the limits that fit this process's open-file limit (raised to the hard
    /// limit).
    pub fn new(instance: impl Into<String>) -> Self {
        DriverConfig {
            instance: instance.into(),
            idle_exit: None,
            idle_ignores_own_process: false,
            access: Access::default(),
            socket_mode: None,
            socket_group: None,
            limits: Limits::for_this_process(),
            poll_window: None,
        }
    }
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig::new("default")
    }
}

/// Why an instance cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// Another driver already listens under this instance name.
    #[error("a binder driver instance with this name is already running")]
    AlreadyRunning,
    /// The name is empty, too long for a socket address, or contains a NUL byte.
    #[error("invalid instance name {0:?}")]
    InvalidInstance(String),
    /// Settings that do not go together (e.g. a shared instance on an abstract socket).
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
    /// A system call failed while binding or serving.
    #[error("{context}: {source}")]
    Io {
        /// What the driver was doing.
        context: &'static str,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// The `ret` of an answer on the wire: 0, or the negated errno (as an ioctl's return).
pub(crate) fn ret(r: Result<(), nix::errno::Errno>) -> i32 {
    r.map_or_else(|e| -(e as i32), |()| 0)
}

/// Binds the instance's socket and serves until shutdown. Returns
/// `Err(DriverError::AlreadyRunning)` at once if the name is taken.
pub fn serve(config: DriverConfig) -> Result<(), DriverError> {
    Server::bind(config)?.run()
}
