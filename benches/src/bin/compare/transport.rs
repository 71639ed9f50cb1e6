//! The transports `compare` measures, how each one's server starts and how a client connects.

use std::path::{Path, PathBuf};

use binder_testkit::{Process, TestBinder};

use crate::measure::Link;
use crate::{binder, kernel_raw, limits, others, sockets};

/// A transport, named as in the JSON rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// binder-rs through a generated proxy, on the userspace driver.
    BinderUserspace,
    /// The same with the userspace driver's thread connections carrying requests on their
    /// sockets instead of mailboxes (`BINDER_UD_MAILBOX=0`): the transport before mailboxes.
    BinderUserspaceSocket,
    /// binder-rs with awaited calls (`IBenchAsync`) to a service written with `async fn`, both
    /// on tokio, on the userspace driver.
    BinderUserspaceAsync,
    /// binder-rs through a generated proxy, on Linux's binder driver.
    BinderKernel,
    /// A bare `BINDER_WRITE_READ` ping-pong on Linux's binder driver, no framework.
    BinderKernelRaw,
    /// The wake-up limit: a futex ping-pong between two processes.
    Futex,
    /// The copy limit: memcpy of the payload.
    Memcpy,
    /// The bare broker floor: four hand-offs, one copy, no framework.
    BrokerFloor,
    /// A Unix-socket ping-pong carrying the payload.
    UnixSocket,
    /// A pipe ping-pong carrying the payload.
    Pipe,
    /// tarpc over a Unix socket.
    Tarpc,
    /// ipc-channel.
    IpcChannel,
    /// rsbinder's RPC binder over a Unix socket.
    RsbinderRpc,
    /// rsbinder on Linux's binder driver.
    RsbinderKernel,
}

impl Kind {
    pub const ALL: [Kind; 14] = [
        Kind::BinderUserspace,
        Kind::BinderUserspaceSocket,
        Kind::BinderUserspaceAsync,
        Kind::BinderKernel,
        Kind::BinderKernelRaw,
        Kind::Futex,
        Kind::Memcpy,
        Kind::BrokerFloor,
        Kind::UnixSocket,
        Kind::Pipe,
        Kind::Tarpc,
        Kind::IpcChannel,
        Kind::RsbinderRpc,
        Kind::RsbinderKernel,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::BinderUserspace => "binder-userspace",
            Kind::BinderUserspaceSocket => "binder-userspace-socket",
            Kind::BinderUserspaceAsync => "binder-userspace-async",
            Kind::BinderKernel => "binder-kernel",
            Kind::BinderKernelRaw => "binder-kernel-raw",
            Kind::Futex => "futex",
            Kind::Memcpy => "memcpy",
            Kind::BrokerFloor => "broker-floor",
            Kind::UnixSocket => "unix-socket",
            Kind::Pipe => "pipe",
            Kind::Tarpc => "tarpc",
            Kind::IpcChannel => "ipc-channel",
            Kind::RsbinderRpc => "rsbinder-rpc",
            Kind::RsbinderKernel => "rsbinder-kernel",
        }
    }

    /// The environment its processes run with.
    pub fn env(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kind::BinderUserspaceSocket => &[("BINDER_UD_MAILBOX", "0")],
            _ => &[],
        }
    }

    /// Whether this machine has what the transport needs.
    pub fn available(self) -> bool {
        match self {
            Kind::BinderKernel | Kind::BinderKernelRaw | Kind::RsbinderKernel => {
                binder_testkit::kernel_devices_available()
            }
            _ => true,
        }
    }

    /// Whether the transport carries a request of `size` bytes (the futex carries none; a
    /// memcpy of nothing measures nothing).
    pub fn carries(self, size: usize) -> bool {
        match self {
            Kind::Futex => size == 0,
            Kind::Memcpy => size > 0,
            _ => true,
        }
    }

    /// Whether it runs on the userspace driver (it gets an idle CPU measurement).
    pub fn userspace_driver(self) -> bool {
        matches!(
            self,
            Kind::BinderUserspace | Kind::BinderUserspaceSocket | Kind::BinderUserspaceAsync
        )
    }

    /// Whether it gets throughput rows.
    pub fn throughput(self) -> bool {
        matches!(
            self,
            Kind::BinderUserspace
                | Kind::BinderUserspaceSocket
                | Kind::BinderUserspaceAsync
                | Kind::BinderKernel
                | Kind::UnixSocket
                | Kind::Tarpc
        )
    }

    /// Copies of the payload per call, where known: binder's one (into the receiver's mapping;
    /// building the Parcel is the sender's own write), a socket's or pipe's two (into the kernel
    /// and out), the broker floor's one.
    pub fn copies(self) -> Option<u32> {
        match self {
            Kind::BinderUserspace
            | Kind::BinderUserspaceSocket
            | Kind::BinderUserspaceAsync
            | Kind::BinderKernel
            | Kind::BinderKernelRaw
            | Kind::RsbinderKernel
            | Kind::BrokerFloor
            | Kind::Memcpy => Some(1),
            Kind::UnixSocket | Kind::Pipe => Some(2),
            Kind::Futex | Kind::Tarpc | Kind::IpcChannel | Kind::RsbinderRpc => None,
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = String;

    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("no transport named {s}"))
    }
}

/// A temporary folder on tmpfs for a transport's sockets, FIFOs and shared areas.
struct Scratch(PathBuf);

impl Scratch {
    fn new(kind: Kind) -> Result<Scratch, String> {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let base = Path::new("/dev/shm");
        let base = if base.is_dir() {
            base.to_owned()
        } else {
            std::env::temp_dir()
        };
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = base.join(format!(
            "binder-compare-{}-{n}-{}",
            std::process::id(),
            kind.name()
        ));
        std::fs::create_dir(&dir).map_err(|e| format!("create {dir:?}: {e}"))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A transport's server (and broker), running; its clients start from here.
pub struct Running {
    kind: Kind,
    address: String,
    // Dropped in this order: the clients' peers first, then the device, then the files.
    _procs: Vec<Process>,
    binder: TestBinder,
    _scratch: Scratch,
}

impl Running {
    /// Starts `kind`'s server processes under this process's CPU affinity. Each start gets a
    /// driver instance (or kernel device) of its own.
    pub fn start(kind: Kind) -> Result<Running, String> {
        let scratch = Scratch::new(kind)?;
        let binder = match kind {
            Kind::BinderKernel | Kind::RsbinderKernel => TestBinder::kernel("compare")?,
            Kind::BinderKernelRaw => TestBinder::bare_kernel("compare")?,
            _ => TestBinder::userspace("compare")?,
        };
        let dir = scratch.0.display().to_string();
        let mut procs = Vec::new();
        let mut address = dir.clone();
        if kind == Kind::BrokerFloor {
            // The broker listens first, then the server behind it connects.
            let mut broker = binder.spawn("server", &[kind.name(), &dir])?;
            broker.expect("READY")?;
            let mut server = binder.spawn("broker-server", &[&dir])?;
            server.expect("READY")?;
            procs.extend([broker, server]);
        } else if kind != Kind::Memcpy {
            let place = match kind {
                Kind::UnixSocket => format!("{dir}/unix.sock"),
                Kind::Tarpc => format!("{dir}/tarpc.sock"),
                Kind::RsbinderRpc => format!("{dir}/rsbinder.sock"),
                Kind::BinderKernelRaw | Kind::RsbinderKernel => binder.device().to_owned(),
                _ => dir.clone(),
            };
            let args = [kind.name(), place.as_str()];
            let mut server = binder.spawn_with_env("server", &args, kind.env())?;
            address = server.expect("READY")?;
            procs.push(server);
        }
        Ok(Running {
            kind,
            address,
            _procs: procs,
            binder,
            _scratch: scratch,
        })
    }

    /// The binder device (`userspace:NAME` or a device node) the processes use.
    pub fn device(&self) -> &str {
        self.binder.device()
    }

    /// A client role connected to this server (on the same driver instance or device).
    pub fn spawn_client(&self, args: &[&str]) -> Result<Process, String> {
        let mut all = vec![self.kind.name(), &self.address];
        all.extend_from_slice(args);
        self.binder.spawn_with_env("client", &all, self.kind.env())
    }
}

/// Runs `kind`'s server in this (role) process; `place` is its folder or socket path.
pub fn serve(kind: Kind, place: &Path) -> Result<(), String> {
    match kind {
        Kind::BinderUserspace | Kind::BinderUserspaceSocket | Kind::BinderKernel => binder::serve(),
        Kind::BinderUserspaceAsync => binder::serve_async(),
        Kind::Futex => limits::serve_futex(place),
        Kind::BrokerFloor => limits::serve_broker(place),
        Kind::UnixSocket => sockets::serve_unix(place),
        Kind::Pipe => sockets::serve_pipe(place),
        Kind::Tarpc => others::serve_tarpc(place),
        Kind::IpcChannel => others::serve_ipc_channel(),
        Kind::RsbinderRpc => others::serve_rsbinder_rpc(place),
        Kind::RsbinderKernel => others::serve_rsbinder_kernel(place),
        Kind::BinderKernelRaw => kernel_raw::serve(&place.to_string_lossy()),
        Kind::Memcpy => Err("memcpy has no server".into()),
    }
}

/// Connects a client of `kind` to the server at `address`.
pub fn connect(kind: Kind, address: &str) -> Result<Box<dyn Link>, String> {
    Ok(match kind {
        Kind::BinderUserspace | Kind::BinderUserspaceSocket | Kind::BinderKernel => {
            Box::new(binder::BinderLink::connect(address)?)
        }
        Kind::BinderUserspaceAsync => Box::new(binder::AsyncLink::connect(address)?),
        Kind::Futex => Box::new(limits::FutexLink::connect(address)?),
        Kind::BrokerFloor => Box::new(limits::BrokerLink::connect(address)?),
        Kind::UnixSocket => Box::new(sockets::UnixLink::connect(address)?),
        Kind::Pipe => Box::new(sockets::PipeLink::connect(address)?),
        Kind::Tarpc => Box::new(others::TarpcLink::connect(address)?),
        Kind::IpcChannel => Box::new(others::IpcChannelLink::connect(address)?),
        Kind::RsbinderRpc => Box::new(others::RsbinderLink::connect_rpc(address)?),
        Kind::RsbinderKernel => Box::new(others::RsbinderLink::connect_kernel(address)?),
        Kind::BinderKernelRaw => Box::new(kernel_raw::KernelRawLink::connect(address)?),
        Kind::Memcpy => return Err("memcpy has no client".into()),
    })
}
