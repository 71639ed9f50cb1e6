//! The `binder` command-line tool (and the `servicemanager` and `binderd` binaries): look at and serve a binder
//! device, Linux's driver or an instance of the userspace driver.
//!
//! - `binder list`: the services the service manager knows, with their interface and owner;
//! - `binder ping NAME`: a `PING_TRANSACTION` to a service, timed;
//! - `binder dump`: the driver's processes, threads, nodes, refs, buffers, transactions and
//!   counters;
//! - `binder driver`: a userspace driver instance (and its service manager) in the foreground;
//! - `binder servicemanager`: the service manager of a device (Linux's driver needs one).
//!
//! The device is `--device`, else `BINDER_DEVICE`, else the kernel's `/dev/binderfs/binder` or
//! `/dev/binder`, else the userspace instance `default` (see [`DriverSpec::from_env`]). The
//! inspecting commands never start a userspace driver: they say that none is running.

#![deny(missing_docs)]

mod daemon;
mod device;
mod dump;
mod kernel_state;
mod list;
mod ping;
mod table;

use std::io::Write;
use std::process::ExitCode;

use binder_rt::DriverSpec;
use clap::{Parser, Subcommand};

pub use daemon::{ServiceManagerArgs, run_service_manager, serve_instance};

/// Inspect and serve binder devices: Linux's binder driver or the userspace driver.
#[derive(Debug, Parser)]
#[command(name = "binder", version, propagate_version = true)]
#[command(after_help = DEVICE_HELP)]
pub struct Cli {
    /// Binder device: a device path (/dev/binder) or `userspace:NAME` for a userspace driver
    /// instance. Overrides BINDER_DEVICE.
    #[arg(long, global = true, value_name = "DEVICE")]
    pub device: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

const DEVICE_HELP: &str = "\
Device selection: --device, else BINDER_DEVICE, else /dev/binderfs/binder or /dev/binder if
present, else the userspace driver instance \"default\". list, ping and dump never start a
userspace driver.";

/// The subcommands of `binder`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the services registered with the service manager: name, interface, owning pid.
    List(list::ListArgs),
    /// Ping a service (PING_TRANSACTION) and print the round-trip time.
    Ping(ping::PingArgs),
    /// Print the driver's state and counters: processes, threads, nodes, refs, buffers,
    /// transactions in flight, statistics.
    Dump(dump::DumpArgs),
    /// Run a userspace binder driver instance in the foreground, with its service manager.
    Driver(daemon::DriverArgs),
    /// Become the context manager of the device and serve the service manager (for Linux's
    /// driver; a userspace driver starts its own).
    Servicemanager(daemon::ServiceManagerArgs),
}

/// A failure to report to the user: one line, non-zero exit.
#[derive(Debug)]
pub struct CliError(pub String);

impl CliError {
    /// A failure with `message` (one line, without the program's name).
    pub fn new(message: impl Into<String>) -> CliError {
        CliError(message.into())
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The outcome of a command.
pub type CliResult<T = ()> = Result<T, CliError>;

/// The device the user selected: `--device`, else the environment.
pub fn selected_device(device: Option<&str>) -> DriverSpec {
    match device {
        Some(d) if !d.is_empty() => DriverSpec::parse(d),
        _ => DriverSpec::from_env(),
    }
}

/// Writes `text` to stdout. A closed pipe (`binder list | head`) is not an error.
pub fn print(text: &str) -> CliResult {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::new(format!("cannot write the output: {e}"))),
    }
}

/// Prints `program: message` on stderr.
pub fn report_error(program: &str, e: &CliError) {
    let _ = writeln!(std::io::stderr().lock(), "{program}: {e}");
}

/// Logs to stderr for the long-running commands (`RUST_LOG` filters, default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter)
        .try_init();
}

/// The `binder` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let spec = selected_device(cli.device.as_deref());
    let result = match cli.command {
        Command::List(args) => list::run(&spec, &args),
        Command::Ping(args) => ping::run(&spec, &args),
        Command::Dump(args) => dump::run(&spec, &args),
        Command::Driver(args) => daemon::run_driver(&spec, &args),
        Command::Servicemanager(args) => run_service_manager(&spec, &args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report_error("binder", &e);
            ExitCode::FAILURE
        }
    }
}
