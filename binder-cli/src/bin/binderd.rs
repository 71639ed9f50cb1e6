//! `binderd`: a userspace binder driver instance in the foreground, with its service manager.
//! Programs whose binder-rt finds no driver running start this one when it is installed (beside
//! them or on `PATH`).

use std::process::ExitCode;
use std::time::Duration;

use binder_driver::{Access, DriverConfig};
use clap::Parser;

/// Userspace binder driver: serves the kernel binder interface to the processes of the user
/// running it (abstract socket `@binder-ud/<uid>/<instance>`), or, with `--shared` and a socket
/// path as instance, to every user the socket's permissions let in.
#[derive(Debug, Parser)]
#[command(name = "binderd", version)]
struct Args {
    /// Instance name (`BINDER_DEVICE=userspace:<instance>` selects it), or an absolute path
    /// for a filesystem socket (`BINDER_DEVICE=userspace:/path`).
    #[arg(long, default_value = "default")]
    instance: String,
    /// Exit after this many seconds without any process connected (the service manager
    /// beside the driver does not count).
    #[arg(long)]
    idle_exit_secs: Option<u64>,
    /// Let processes of every user who can connect to the socket use the instance (a
    /// machine-wide instance; needs a socket path). Without it only the user running the
    /// driver and root may.
    #[arg(long)]
    shared: bool,
    /// Mode of the socket file, in octal (e.g. 660).
    #[arg(long, value_parser = parse_mode)]
    socket_mode: Option<u32>,
    /// Group (numeric gid) of the socket file.
    #[arg(long)]
    socket_group: Option<u32>,
    /// A uid besides the driver's user and root that may become the context manager.
    #[arg(long)]
    context_manager_uid: Option<u32>,
    /// Do not run the service manager beside the driver.
    #[arg(long)]
    no_servicemanager: bool,
    /// How long, in microseconds, a driver thread polls its thread's mailbox before it sleeps
    /// (0: never). By default 50 where four or more cores are usable, else never.
    #[arg(long)]
    poll_us: Option<u64>,
}

fn parse_mode(s: &str) -> Result<u32, String> {
    u32::from_str_radix(s, 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| format!("{s:?} is not an octal file mode"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    binder_cli::init_logging();
    let config = DriverConfig {
        idle_exit: args.idle_exit_secs.map(Duration::from_secs),
        access: Access {
            shared: args.shared,
            context_manager_uid: args.context_manager_uid,
        },
        socket_mode: args.socket_mode,
        socket_group: args.socket_group,
        poll_window: args.poll_us.map(Duration::from_micros),
        ..DriverConfig::new(args.instance)
    };
    match binder_cli::serve_instance(config, !args.no_servicemanager) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("binderd: {e}");
            ExitCode::FAILURE
        }
    }
}
