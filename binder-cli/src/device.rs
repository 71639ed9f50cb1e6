//! Finding the selected driver without starting one, and opening it.

use std::path::Path;

use binder_rt::service_manager::{IServiceManager, service_manager};
use binder_rt::{DriverSpec, ProcessState, Status, StatusCode, Strong};
use nix::unistd::AccessFlags;

use crate::{CliError, CliResult};

/// The command that starts a userspace driver instance.
fn start_hint(instance: &str) -> String {
    if instance == "default" {
        "binder driver".to_owned()
    } else {
        format!("binder driver --instance {instance}")
    }
}

/// Checks that the driver exists, without starting a userspace driver: a listening instance,
/// or a device node this process may open read-write.
pub fn ensure_available(spec: &DriverSpec) -> CliResult {
    match spec {
        DriverSpec::Userspace(name) => {
            if spec.is_available() {
                Ok(())
            } else {
                Err(CliError::new(format!(
                    "no binder driver running (userspace instance {name:?}); start one with \"{}\" or run a binder program",
                    start_hint(name)
                )))
            }
        }
        DriverSpec::Kernel(path) => check_device_node(path),
    }
}

fn check_device_node(path: &Path) -> CliResult {
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CliError::new(format!(
                "no binder driver running: {shown} does not exist (load binder_linux, mount binderfs, or use a userspace driver with --device userspace:NAME)"
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(permission_denied(path));
        }
        Err(e) => return Err(CliError::new(format!("cannot use {shown}: {e}"))),
    }
    match nix::unistd::access(path, AccessFlags::R_OK | AccessFlags::W_OK) {
        Ok(()) => Ok(()),
        Err(nix::errno::Errno::EACCES) | Err(nix::errno::Errno::EPERM) => {
            Err(permission_denied(path))
        }
        Err(e) => Err(CliError::new(format!("cannot use {shown}: {}", e.desc()))),
    }
}

fn permission_denied(path: &Path) -> CliError {
    CliError::new(format!(
        "permission denied opening {} (it needs read and write access: run as root or get access to the device)",
        path.display()
    ))
}

/// Opens the driver for this process, after checking that it exists; a userspace driver is
/// never started by an inspecting command (`init_existing` refuses to).
pub fn open(spec: &DriverSpec) -> CliResult<&'static ProcessState> {
    ensure_available(spec)?;
    ProcessState::init_existing(spec.clone()).map_err(|e| {
        if e.message.contains("Permission denied") {
            CliError::new(format!("permission denied opening {}", e.spec))
        } else {
            CliError::new(format!(
                "cannot open binder device {}: {}",
                e.spec, e.message
            ))
        }
    })
}

/// Why there is no service manager, for messages.
pub fn no_service_manager(spec: &DriverSpec) -> String {
    match spec {
        DriverSpec::Kernel(path) => format!(
            "no service manager on {}; start one with \"binder --device {} servicemanager\"",
            path.display(),
            path.display()
        ),
        DriverSpec::Userspace(name) => format!(
            "no service manager on userspace driver instance {name:?} (was it started with --no-servicemanager?); start one with \"binder --device userspace:{name} servicemanager\""
        ),
    }
}

/// What went wrong talking to the service manager.
#[derive(Debug)]
pub enum SmError {
    /// No process is the device's context manager.
    Missing(String),
    Other(CliError),
}

impl From<SmError> for CliError {
    fn from(e: SmError) -> CliError {
        match e {
            SmError::Missing(m) => CliError::new(m),
            SmError::Other(e) => e,
        }
    }
}

/// The service manager of the opened device.
pub fn service_manager_of(spec: &DriverSpec) -> Result<Strong<dyn IServiceManager>, SmError> {
    service_manager().map_err(|s| {
        if s.transaction_error() == StatusCode::DeadObject {
            SmError::Missing(no_service_manager(spec))
        } else {
            SmError::Other(CliError::new(format!(
                "cannot reach the service manager on {spec}: {}",
                status_text(&s)
            )))
        }
    })
}

/// A status as one line for messages.
pub fn status_text(s: &Status) -> String {
    s.to_string().replace('\n', " ")
}
