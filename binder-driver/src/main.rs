//! `binderd`: a userspace binder driver instance in the foreground.

use std::process::ExitCode;
use std::time::Duration;

use binder_driver::{DriverConfig, DriverError, serve};
use clap::Parser;

/// Userspace binder driver: serves the kernel binder interface on `\0binder-ud/<instance>`.
#[derive(Debug, Parser)]
#[command(name = "binderd", version)]
struct Args {
    /// Instance name (`BINDER_DEVICE=userspace:<instance>` selects it).
    #[arg(long, default_value = "default")]
    instance: String,
    /// Exit after this many seconds without any process connected.
    #[arg(long)]
    idle_exit_secs: Option<u64>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = DriverConfig {
        instance: args.instance,
        idle_exit: args.idle_exit_secs.map(Duration::from_secs),
        idle_ignores_own_process: false,
    };
    match serve(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ DriverError::AlreadyRunning) => {
            eprintln!("binderd: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("binderd: {e}");
            ExitCode::FAILURE
        }
    }
}
