//! The service manager itself: the context manager's implementation of `IServiceManager`.
//!
//! Policy: a name belongs to the uid that registered it first (another uid cannot replace it
//! while it is alive); a service whose process dies leaves the registry at once (the service
//! manager watches every registered binder's death), so lookups and new watchers never see a
//! dead binder; names are checked as Android's servicemanager checks them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{
    BnServiceManager, ConnectionInfo, DUMP_FLAG_PRIORITY_ALL, DUMP_FLAG_PRIORITY_DEFAULT,
    IClientCallback, IServiceCallback, IServiceManager, Service, ServiceDebugInfo,
    ServiceWithMetadata,
};
use crate::{DeathRecipient, ExceptionCode, ProcessState, SpIBinder, Status, StatusCode, Strong};

/// Longest accepted service name (as Android's servicemanager).
pub const MAX_NAME_LEN: usize = 127;

struct Entry {
    binder: SpIBinder,
    uid: u32,
    debug_pid: i32,
    dump_priority: i32,
    /// Kept alive while linked: removes the entry when the service's process dies.
    _death: Option<DeathRecipient>,
}

struct Watcher {
    callback: Strong<dyn IServiceCallback>,
    _death: Option<DeathRecipient>,
}

#[derive(Default)]
struct Registry {
    services: BTreeMap<String, Entry>,
    watchers: BTreeMap<String, Vec<Watcher>>,
}

/// The service manager. Serve it as the context manager with [`run`].
#[derive(Clone, Default)]
pub struct ServiceManager {
    registry: Arc<Mutex<Registry>>,
}

impl std::fmt::Debug for ServiceManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let services = lock(&self.registry).services.len();
        f.debug_struct("ServiceManager")
            .field("services", &services)
            .finish_non_exhaustive()
    }
}

fn lock(r: &Mutex<Registry>) -> MutexGuard<'_, Registry> {
    r.lock().unwrap_or_else(|e| e.into_inner())
}

fn illegal(message: String) -> Status {
    Status::new_exception(ExceptionCode::IllegalArgument, message)
}

/// Checks a service name: 1 to 127 characters of `[A-Za-z0-9_./-]`.
pub fn check_name(name: &str) -> Result<(), Status> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(illegal(format!(
            "invalid service name length {} (1 to {MAX_NAME_LEN})",
            name.len()
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_-./".contains(*c)))
    {
        return Err(illegal(format!(
            "invalid character {c:?} in service name {name:?}"
        )));
    }
    Ok(())
}

impl ServiceManager {
    /// A service manager with no services registered.
    pub fn new() -> Self {
        Self::default()
    }

    fn lookup(&self, name: &str) -> Option<SpIBinder> {
        lock(&self.registry)
            .services
            .get(name)
            .map(|e| e.binder.clone())
    }

    fn service(&self, name: &str) -> Service {
        Service::ServiceWithMetadata(ServiceWithMetadata {
            service: self.lookup(name),
            is_lazy_service: false,
        })
    }

    /// Runs `forget` on the registry (with `name` and the dead binder) when the process behind
    /// `binder` dies; nothing for a local binder, which cannot. The recipient returned must be
    /// kept with the registry entry it cleans up after.
    fn on_death(
        &self,
        binder: &SpIBinder,
        name: &str,
        forget: fn(&mut Registry, &str, &SpIBinder),
    ) -> Result<Option<DeathRecipient>, StatusCode> {
        if binder.is_local() {
            return Ok(None);
        }
        let registry = Arc::downgrade(&self.registry);
        let dead = binder.downgrade();
        let name = name.to_owned();
        let recipient = DeathRecipient::new(move || {
            if let (Some(registry), Some(dead)) = (registry.upgrade(), dead.upgrade()) {
                forget(&mut lock(&registry), &name, &dead);
            }
        });
        binder.link_to_death(&recipient)?;
        Ok(Some(recipient))
    }

    /// Lists `binder`, this service manager's own object, as [`SELF_NAME`]: owned by this
    /// process's uid, never dying before the registry.
    fn add_self(&self, binder: SpIBinder) {
        lock(&self.registry).services.insert(
            SELF_NAME.to_owned(),
            Entry {
                binder,
                uid: nix::unistd::geteuid().as_raw(),
                debug_pid: std::process::id() as i32,
                dump_priority: DUMP_FLAG_PRIORITY_DEFAULT,
                _death: None,
            },
        );
    }

    fn unsupported(what: &str) -> Status {
        Status::new_exception(
            ExceptionCode::UnsupportedOperation,
            format!("{what} is not supported by this service manager"),
        )
    }
}

impl IServiceManager for ServiceManager {
    fn get_service(&self, name: &str) -> crate::Result<Option<SpIBinder>> {
        Ok(self.lookup(name))
    }

    fn get_service2(&self, name: &str) -> crate::Result<Service> {
        Ok(self.service(name))
    }

    fn check_service(&self, name: &str) -> crate::Result<Option<SpIBinder>> {
        Ok(self.lookup(name))
    }

    fn check_service2(&self, name: &str) -> crate::Result<Service> {
        Ok(self.service(name))
    }

    fn add_service(
        &self,
        name: &str,
        service: &SpIBinder,
        _allow_isolated: bool,
        dump_priority: i32,
    ) -> crate::Result<()> {
        check_name(name)?;
        let uid = crate::calling_uid();
        let pid = crate::calling_pid();
        let watchers: Vec<Strong<dyn IServiceCallback>> = {
            let mut reg = lock(&self.registry);
            if let Some(old) = reg.services.get(name)
                && old.uid != uid
            {
                return Err(Status::new_exception(
                    ExceptionCode::Security,
                    format!(
                        "service {name:?} is registered by uid {}; uid {uid} cannot replace it",
                        old.uid
                    ),
                ));
            }
            let death = self
                .on_death(service, name, |reg, name, dead| {
                    if reg.services.get(name).is_some_and(|e| e.binder == *dead) {
                        reg.services.remove(name);
                        tracing::info!(name, "service died; removed");
                    }
                })
                .map_err(|e| {
                    Status::new_transaction_error(e, format!("service {name:?} is already dead"))
                })?;
            reg.services.insert(
                name.to_owned(),
                Entry {
                    binder: service.clone(),
                    uid,
                    debug_pid: pid,
                    dump_priority,
                    _death: death,
                },
            );
            reg.watchers
                .get(name)
                .map(|w| w.iter().map(|w| w.callback.clone()).collect())
                .unwrap_or_default()
        };
        for w in watchers {
            // Oneway: a slow or dead watcher cannot hold up the registration.
            let _ = w.on_registration(name, service);
        }
        tracing::info!(name, uid, pid, "service added");
        Ok(())
    }

    fn list_services(&self, dump_priority: i32) -> crate::Result<Vec<String>> {
        let reg = lock(&self.registry);
        Ok(reg
            .services
            .iter()
            .filter(|(_, e)| {
                dump_priority == DUMP_FLAG_PRIORITY_ALL || e.dump_priority & dump_priority != 0
            })
            .map(|(n, _)| n.clone())
            .collect())
    }

    fn register_for_notifications(
        &self,
        name: &str,
        callback: &Strong<dyn IServiceCallback>,
    ) -> crate::Result<()> {
        check_name(name)?;
        let death = self
            .on_death(&callback.as_binder(), name, |reg, name, dead| {
                if let Some(list) = reg.watchers.get_mut(name) {
                    list.retain(|w| w.callback.as_binder() != *dead);
                }
            })
            .map_err(|e| {
                Status::new_transaction_error(e, "the callback's process is already dead")
            })?;
        let current = {
            let mut reg = lock(&self.registry);
            reg.watchers
                .entry(name.to_owned())
                .or_default()
                .push(Watcher {
                    callback: callback.clone(),
                    _death: death,
                });
            reg.services.get(name).map(|e| e.binder.clone())
        };
        if let Some(b) = current {
            let _ = callback.on_registration(name, &b);
        }
        Ok(())
    }

    fn unregister_for_notifications(
        &self,
        name: &str,
        callback: &Strong<dyn IServiceCallback>,
    ) -> crate::Result<()> {
        let mut reg = lock(&self.registry);
        let list = reg.watchers.entry(name.to_owned()).or_default();
        let before = list.len();
        list.retain(|w| w.callback != *callback);
        if list.len() == before {
            return Err(Status::new_exception(
                ExceptionCode::IllegalState,
                format!("no such callback for {name:?}"),
            ));
        }
        if list.is_empty() {
            reg.watchers.remove(name);
        }
        Ok(())
    }

    fn is_declared(&self, name: &str) -> crate::Result<bool> {
        check_name(name)?;
        Ok(false)
    }

    fn get_declared_instances(&self, _iface: &str) -> crate::Result<Vec<String>> {
        Err(Self::unsupported("getDeclaredInstances (VINTF manifests)"))
    }

    fn updatable_via_apex(&self, _name: &str) -> crate::Result<Option<String>> {
        Err(Self::unsupported("updatableViaApex (APEX)"))
    }

    fn get_updatable_names(&self, _apex_name: &str) -> crate::Result<Vec<String>> {
        Err(Self::unsupported("getUpdatableNames (APEX)"))
    }

    fn get_connection_info(&self, _name: &str) -> crate::Result<Option<ConnectionInfo>> {
        Err(Self::unsupported("getConnectionInfo (RPC binder)"))
    }

    fn register_client_callback(
        &self,
        _name: &str,
        _service: &SpIBinder,
        _callback: &Strong<dyn IClientCallback>,
    ) -> crate::Result<()> {
        Err(Self::unsupported("registerClientCallback (lazy services)"))
    }

    fn try_unregister_service(&self, _name: &str, _service: &SpIBinder) -> crate::Result<()> {
        Err(Self::unsupported("tryUnregisterService (lazy services)"))
    }

    fn get_service_debug_info(&self) -> crate::Result<Vec<ServiceDebugInfo>> {
        let reg = lock(&self.registry);
        Ok(reg
            .services
            .iter()
            .map(|(name, e)| ServiceDebugInfo {
                name: name.clone(),
                debug_pid: e.debug_pid,
            })
            .collect())
    }
}

/// The name the service manager lists itself under, as Android's does: `binder list` shows
/// it, and a lookup of it returns the context object (handle 0).
pub const SELF_NAME: &str = "manager";

/// How long [`run`] waits for a device's previous context manager to be released.
pub const CONTEXT_MANAGER_RELEASE: std::time::Duration = std::time::Duration::from_secs(10);

/// Makes this process the context manager serving a new [`ServiceManager`] (listed in itself
/// as [`SELF_NAME`]) and starts the binder thread pool; returns once it serves. Waits up to
/// `release` while the device still has another context manager, then fails (`EBUSY`).
pub fn start(release: std::time::Duration) -> Result<(), StatusCode> {
    let sm = ServiceManager::new();
    let binder = BnServiceManager::new_binder(sm.clone()).as_binder();
    ProcessState::become_context_manager_within(binder.clone(), release)?;
    sm.add_self(binder);
    ProcessState::start_thread_pool()
}

/// [`start`], then serves on this thread until the driver goes away. Fails (`EBUSY`) if another
/// process still is the context manager after [`CONTEXT_MANAGER_RELEASE`].
pub fn run() -> Result<(), StatusCode> {
    start(CONTEXT_MANAGER_RELEASE)?;
    tracing::info!(pid = std::process::id(), "service manager running");
    ProcessState::join_thread_pool()
}
