//! A userspace driver instance served by this process, with the service manager beside it:
//! what `binderd`, `binder driver`, an automatically started instance and the test kit's
//! shared instances run, so that they all behave alike.

use binder_driver::{DriverConfig, DriverError, Server};

use super::DriverSpec;

/// Serves the userspace driver instance `config` in this process until it exits (idle after
/// `config.idle_exit`, or shut down), with the service manager as its context manager on a
/// thread of this process when `service_manager` is true. The service manager does not keep
/// the instance busy (`idle_ignores_own_process`).
///
/// Fails at once with [`DriverError::AlreadyRunning`] when another driver listens under the
/// instance's name. A service manager that cannot start (another process became the context
/// manager first) is reported (to the `tracing` subscriber if there is one, else to stderr)
/// and the driver serves on without it.
pub fn serve_instance(mut config: DriverConfig, service_manager: bool) -> Result<(), DriverError> {
    config.idle_ignores_own_process = true;
    let instance = config.instance.clone();
    let server = Server::bind(config)?;
    tracing::info!("processes use this driver with BINDER_DEVICE=userspace:{instance}");
    let driver = std::thread::Builder::new()
        .name("binderd".into())
        .spawn(move || server.run())
        .map_err(|source| DriverError::Io {
            context: "starting the driver thread",
            source,
        })?;
    if service_manager {
        let spec = DriverSpec::Userspace(instance);
        let started = std::thread::Builder::new()
            .name("servicemanager".into())
            .spawn(move || {
                let served = crate::ProcessState::init_existing(spec)
                    .map_err(|e| e.to_string())
                    .and_then(|_| {
                        crate::service_manager::server::run()
                            .map_err(|e| format!("cannot become the context manager: {e}"))
                    });
                if let Err(e) = served {
                    report_service_manager_failure(&e);
                }
            });
        if let Err(e) = started {
            report_service_manager_failure(&format!("cannot start its thread: {e}"));
        }
    }
    driver.join().unwrap_or_else(|_| {
        Err(DriverError::Io {
            context: "the driver thread",
            source: std::io::Error::other("it panicked"),
        })
    })
}

/// The driver serves on without its service manager: say why, where someone may read it.
fn report_service_manager_failure(e: &str) {
    if tracing::dispatcher::has_been_set() {
        tracing::error!("service manager: {e}");
    } else {
        eprintln!("servicemanager: {e}");
    }
}
