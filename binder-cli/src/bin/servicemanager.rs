//! `servicemanager`: becomes the context manager of a binder device and serves the service
//! manager (`android.os.IServiceManager`) until killed. The same as `binder servicemanager`.

use std::process::ExitCode;

use clap::Parser;

/// Serve the service manager on a binder device (Linux's driver needs one; a userspace driver
/// instance starts its own unless run with "binder driver --no-servicemanager").
#[derive(Debug, Parser)]
#[command(name = "servicemanager", version)]
struct Args {
    /// Binder device: a device path (/dev/binder) or `userspace:NAME`. Overrides BINDER_DEVICE;
    /// without either, /dev/binderfs/binder or /dev/binder.
    #[arg(long, value_name = "DEVICE")]
    device: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let spec = binder_cli::selected_device(args.device.as_deref());
    match binder_cli::run_service_manager(&spec, &binder_cli::ServiceManagerArgs {}) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            binder_cli::report_error("servicemanager", &e);
            ExitCode::FAILURE
        }
    }
}
