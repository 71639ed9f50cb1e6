//! The long-running commands: `binder driver` (a userspace driver instance with its service
//! manager) and `binder servicemanager` (the service manager of a device).

use std::time::Duration;

use binder_driver::{DriverConfig, DriverError};
use binder_rt::service_manager::server;
use binder_rt::{DriverSpec, ProcessState, StatusCode};

use crate::device::{self, status_text};
use crate::{CliError, CliResult, init_logging};

#[derive(Debug, clap::Args)]
pub struct DriverArgs {
    /// Instance name: processes select it with BINDER_DEVICE=userspace:NAME. Default: the
    /// instance named by --device/BINDER_DEVICE if it is a userspace one, else "default".
    #[arg(long, value_name = "NAME")]
    pub instance: Option<String>,
    /// Do not run the service manager beside the driver (run one with "binder servicemanager").
    #[arg(long)]
    pub no_servicemanager: bool,
    /// Exit once no process has been connected for this many seconds (the service manager
    /// beside the driver does not count).
    #[arg(long, value_name = "N")]
    pub idle_exit_secs: Option<u64>,
}

/// `binder driver`: serves a userspace driver instance in the foreground until killed (or idle
/// for `--idle-exit-secs`), with the service manager as its context manager, exactly as an
/// automatically started instance does.
pub fn run_driver(spec: &DriverSpec, args: &DriverArgs) -> CliResult {
    init_logging();
    let instance = match (&args.instance, spec) {
        (Some(name), _) => name.clone(),
        (None, DriverSpec::Userspace(name)) => name.clone(),
        (None, DriverSpec::Kernel(_)) => "default".to_owned(),
    };
    let config = DriverConfig {
        idle_exit: args.idle_exit_secs.map(Duration::from_secs),
        ..DriverConfig::new(instance)
    };
    serve_instance(config, !args.no_servicemanager)
}

/// Serves a userspace driver instance in the foreground until it exits (idle, or shut down),
/// with the service manager as its context manager unless `servicemanager` is false: what
/// `binder driver` and `binderd` run, and what an automatically started instance is
/// ([`binder_rt::driver::serve_instance`]).
pub fn serve_instance(config: DriverConfig, servicemanager: bool) -> CliResult {
    let instance = config.instance.clone();
    binder_rt::driver::serve_instance(config, servicemanager).map_err(|e| match e {
        DriverError::AlreadyRunning => CliError::new(format!(
            "a userspace binder driver instance {instance:?} is already running"
        )),
        e => CliError::new(format!("userspace driver {instance:?}: {e}")),
    })
}

/// The options of `binder servicemanager` (none besides `--device`).
#[derive(Debug, clap::Args)]
pub struct ServiceManagerArgs {}

/// `binder servicemanager` and the `servicemanager` binary: becomes the device's context
/// manager and serves the service manager until killed.
pub fn run_service_manager(spec: &DriverSpec, _args: &ServiceManagerArgs) -> CliResult {
    // Never start a userspace driver here: an automatically started one brings its own
    // service manager, and this one could only fail.
    device::ensure_available(spec)?;
    serve_service_manager(spec)
}

/// How long the service manager retries when the device still has a context manager: Linux
/// releases the previous one asynchronously after its process exits.
const CONTEXT_MANAGER_RELEASE: Duration = Duration::from_secs(5);

/// [`binder_rt::service_manager::server::start`], with the failure to become the context
/// manager told in one line. Logging starts once it is the context manager, so that a failure
/// prints nothing but its message.
fn serve_service_manager(spec: &DriverSpec) -> CliResult {
    ProcessState::init_existing(spec.clone()).map_err(|e| {
        CliError::new(format!(
            "cannot open binder device {}: {}",
            e.spec, e.message
        ))
    })?;
    let busy = StatusCode::Other(-(nix::errno::Errno::EBUSY as i32));
    match server::start(CONTEXT_MANAGER_RELEASE) {
        Ok(()) => {}
        Err(e) if e == busy => {
            return Err(CliError::new(format!(
                "{spec} already has a context manager (another service manager is running)"
            )));
        }
        Err(StatusCode::PermissionDenied) => {
            return Err(CliError::new(format!(
                "permission denied becoming the context manager of {spec} (it is reserved for another uid)"
            )));
        }
        Err(e) => {
            return Err(CliError::new(format!(
                "cannot become the context manager of {spec}: {}",
                status_text(&e.into())
            )));
        }
    }
    init_logging();
    tracing::info!(device = %spec, pid = std::process::id(), "service manager running");
    ProcessState::join_thread_pool().map_err(|e| {
        CliError::new(format!(
            "service manager on {spec}: {}",
            status_text(&e.into())
        ))
    })
}
