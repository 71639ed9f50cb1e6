//! The service manager: `android.os.IServiceManager` with Android 16's transaction codes and
//! types (what rsbinder speaks on Linux, so its clients and ours can share one registry), the
//! client helpers every binder program uses to find services by name, and the implementation
//! ([`server::ServiceManager`]) that runs as the context manager.
//!
//! On the userspace driver the service manager starts together with the driver; on Linux's
//! driver it is a binary (`servicemanager`, or `binder servicemanager`).

pub mod server;

use std::sync::mpsc;
use std::time::Duration;

use crate::{
    FromIBinder, Parcelable, ProcessState, SpIBinder, Status, StatusCode, Strong, binder_interface,
};

/// `IServiceManager.DUMP_FLAG_PRIORITY_CRITICAL`: dumped first, in the critical section.
pub const DUMP_FLAG_PRIORITY_CRITICAL: i32 = 1;
/// `DUMP_FLAG_PRIORITY_HIGH`: dumped in the high-priority section.
pub const DUMP_FLAG_PRIORITY_HIGH: i32 = 2;
/// `DUMP_FLAG_PRIORITY_NORMAL`: dumped in the normal section.
pub const DUMP_FLAG_PRIORITY_NORMAL: i32 = 4;
/// `DUMP_FLAG_PRIORITY_DEFAULT`: the priority of a service registered without one.
pub const DUMP_FLAG_PRIORITY_DEFAULT: i32 = 8;
/// `DUMP_FLAG_PRIORITY_ALL`: every priority (for `list_services`, all services).
pub const DUMP_FLAG_PRIORITY_ALL: i32 = 15;
/// `DUMP_FLAG_PROTO`: the service can dump in protobuf form.
pub const DUMP_FLAG_PROTO: i32 = 16;
/// `FLAG_IS_LAZY_SERVICE`: a service started on demand (none are, here).
pub const FLAG_IS_LAZY_SERVICE: i32 = 1 << 30;

/// The registry of services by name (Android 16's `IServiceManager`, codes 1..=16).
#[binder_interface(descriptor = "android.os.IServiceManager")]
pub trait IServiceManager {
    /// The service, or `None`. (Android may start a lazy service first; there are none here.)
    fn get_service(&self, name: &str) -> crate::Result<Option<SpIBinder>>;
    /// The service as a [`Service`] union (Android 16's `getService2`).
    fn get_service2(&self, name: &str) -> crate::Result<Service>;
    /// The service if it is registered now, or `None`.
    fn check_service(&self, name: &str) -> crate::Result<Option<SpIBinder>>;
    /// The service if it is registered now, as a [`Service`] union (`checkService2`).
    fn check_service2(&self, name: &str) -> crate::Result<Service>;
    /// Registers `service` under `name`, replacing a registration whose process died.
    /// `dump_priority` is a `DUMP_FLAG_PRIORITY_*` mask.
    fn add_service(
        &self,
        name: &str,
        service: &SpIBinder,
        allow_isolated: bool,
        dump_priority: i32,
    ) -> crate::Result<()>;
    /// Names of the services whose dump priority matches `dump_priority`.
    fn list_services(&self, dump_priority: i32) -> crate::Result<Vec<String>>;
    /// Calls `callback` now if `name` is registered, and whenever it is registered again.
    fn register_for_notifications(
        &self,
        name: &str,
        callback: &Strong<dyn IServiceCallback>,
    ) -> crate::Result<()>;
    /// Stops the notifications `register_for_notifications` asked for.
    fn unregister_for_notifications(
        &self,
        name: &str,
        callback: &Strong<dyn IServiceCallback>,
    ) -> crate::Result<()>;
    /// Whether a VINTF manifest declares `name` (there is none on Linux: always false).
    fn is_declared(&self, name: &str) -> crate::Result<bool>;
    /// The instances a VINTF manifest declares for `iface` (none on Linux).
    fn get_declared_instances(&self, iface: &str) -> crate::Result<Vec<String>>;
    /// The APEX that can update `name`, if any (none on Linux).
    fn updatable_via_apex(&self, name: &str) -> crate::Result<Option<String>>;
    /// The services an APEX can update (none on Linux).
    fn get_updatable_names(&self, apex_name: &str) -> crate::Result<Vec<String>>;
    /// Where to reach `name` over RPC binder, if it is served that way (never here).
    fn get_connection_info(&self, name: &str) -> crate::Result<Option<ConnectionInfo>>;
    /// Calls `callback` when `service` (registered as `name`) gains or loses its clients.
    fn register_client_callback(
        &self,
        name: &str,
        service: &SpIBinder,
        callback: &Strong<dyn IClientCallback>,
    ) -> crate::Result<()>;
    /// Removes the registration of `service` as `name`, if it has no clients.
    fn try_unregister_service(&self, name: &str, service: &SpIBinder) -> crate::Result<()>;
    /// Every registered service with the pid serving it.
    fn get_service_debug_info(&self) -> crate::Result<Vec<ServiceDebugInfo>>;
}

/// Told when a service is registered (`registerForNotifications`).
#[binder_interface(descriptor = "android.os.IServiceCallback")]
pub trait IServiceCallback {
    /// `name` was registered, as `binder`.
    #[oneway]
    fn on_registration(&self, name: &str, binder: &SpIBinder) -> crate::Result<()>;
}

/// Told when a service gains or loses its clients (`registerClientCallback`).
#[binder_interface(descriptor = "android.os.IClientCallback")]
pub trait IClientCallback {
    /// `registered` gained its first client (`has_clients`) or lost its last one.
    #[oneway]
    fn on_clients(&self, registered: &SpIBinder, has_clients: bool) -> crate::Result<()>;
}

/// What `getService2`/`checkService2` return: an AIDL union.
#[derive(Parcelable, Debug, Clone, PartialEq)]
pub enum Service {
    /// The service binder and what is known about it.
    ServiceWithMetadata(ServiceWithMetadata),
    /// An accessor through which the service is reached (Android's RPC binder; never here).
    Accessor(Option<SpIBinder>),
}

impl Service {
    /// The service binder, if any (an accessor is not a service).
    pub fn into_binder(self) -> Option<SpIBinder> {
        match self {
            Service::ServiceWithMetadata(m) => m.service,
            Service::Accessor(_) => None,
        }
    }
}

/// A service as `getService2` returns it.
#[derive(Parcelable, Debug, Clone, PartialEq, Default)]
pub struct ServiceWithMetadata {
    /// The service, or `None` if it is not registered.
    pub service: Option<SpIBinder>,
    /// Whether it is started on demand.
    pub is_lazy_service: bool,
}

/// One registered service, for `get_service_debug_info`.
#[derive(Parcelable, Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceDebugInfo {
    /// The name it is registered under.
    pub name: String,
    /// The pid of the process serving it.
    pub debug_pid: i32,
}

/// Where an RPC-binder service listens.
#[derive(Parcelable, Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectionInfo {
    /// The address.
    pub ip_address: String,
    /// The port.
    pub port: i32,
}

// ---- client helpers -------------------------------------------------------------------------

/// How long a process waits for the service manager of a userspace driver it (or a process
/// racing with it) just started.
const SERVICE_MANAGER_START: Duration = Duration::from_secs(3);

/// The service manager of this process's driver (handle 0).
pub fn service_manager() -> Result<Strong<dyn IServiceManager>, Status> {
    let ps = ProcessState::get()?;
    let deadline = std::time::Instant::now() + SERVICE_MANAGER_START;
    let binder = loop {
        match ps.context_object_proxy() {
            Ok(b) => break b,
            // A userspace driver starts its service manager a moment after it listens.
            Err(StatusCode::DeadObject)
                if !ps.is_kernel_driver() && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(StatusCode::DeadObject) => {
                return Err(Status::new_transaction_error(
                    StatusCode::DeadObject,
                    format!(
                        "no service manager is running on binder device {}",
                        ps.driver_spec()
                    ),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    };
    crate::interface_cast(binder).map_err(Status::from_transport_error)
}

/// Registers `binder` under `name` (default dump priority, not isolated).
pub fn add_service(name: &str, binder: SpIBinder) -> Result<(), Status> {
    service_manager()?.add_service(name, &binder, false, DUMP_FLAG_PRIORITY_DEFAULT)
}

/// The service registered as `name` now, or `None`.
pub fn check_service(name: &str) -> Result<Option<SpIBinder>, Status> {
    Ok(service_manager()?.check_service2(name)?.into_binder())
}

/// The service registered as `name`; `NAME_NOT_FOUND` (with the name) if there is none.
pub fn get_service(name: &str) -> Result<SpIBinder, Status> {
    service_manager()?
        .get_service2(name)?
        .into_binder()
        .ok_or_else(|| not_found(name))
}

fn not_found(name: &str) -> Status {
    Status::new_transaction_error(
        StatusCode::NameNotFound,
        format!("no service named {name:?} is registered"),
    )
}

/// The names of all registered services.
pub fn list_services() -> Result<Vec<String>, Status> {
    service_manager()?.list_services(DUMP_FLAG_PRIORITY_ALL)
}

/// The service registered as `name`, typed; `BAD_TYPE` if it implements another interface.
pub fn get_interface<I: FromIBinder + ?Sized>(name: &str) -> Result<Strong<I>, Status> {
    crate::interface_cast(get_service(name)?).map_err(Status::from_transport_error)
}

/// Waits until a service is registered as `name` and returns it. The service manager tells us
/// through `registerForNotifications` (no polling), so this starts the thread pool that
/// receives that call if it is not running yet.
pub fn wait_for_service(name: &str) -> Result<SpIBinder, Status> {
    wait_for_service_timeout(name, None)
}

/// [`wait_for_service`] with a limit: `TIMED_OUT` when it passes.
pub fn wait_for_service_timeout(
    name: &str,
    timeout: Option<Duration>,
) -> Result<SpIBinder, Status> {
    let sm = service_manager()?;
    if let Some(b) = sm.check_service2(name)?.into_binder() {
        return Ok(b);
    }
    ProcessState::start_thread_pool()?;
    let (tx, rx) = mpsc::channel();
    let callback = BnServiceCallback::new_binder(Waiter {
        name: name.to_owned(),
        tx: std::sync::Mutex::new(tx),
    });
    sm.register_for_notifications(name, &callback)?;
    let got = match timeout {
        None => rx.recv().map_err(|_| StatusCode::DeadObject),
        Some(t) => rx.recv_timeout(t).map_err(|_| StatusCode::TimedOut),
    };
    let _ = sm.unregister_for_notifications(name, &callback);
    got.map_err(|e| Status::new_transaction_error(e, format!("service {name:?} did not appear")))
}

/// [`wait_for_service`], typed.
pub fn wait_for_interface<I: FromIBinder + ?Sized>(name: &str) -> Result<Strong<I>, Status> {
    crate::interface_cast(wait_for_service(name)?).map_err(Status::from_transport_error)
}

/// [`wait_for_service_timeout`], typed.
pub fn wait_for_interface_timeout<I: FromIBinder + ?Sized>(
    name: &str,
    timeout: Duration,
) -> Result<Strong<I>, Status> {
    crate::interface_cast(wait_for_service_timeout(name, Some(timeout))?)
        .map_err(Status::from_transport_error)
}

struct Waiter {
    name: String,
    tx: std::sync::Mutex<mpsc::Sender<SpIBinder>>,
}

impl IServiceCallback for Waiter {
    fn on_registration(&self, name: &str, binder: &SpIBinder) -> crate::Result<()> {
        if name == self.name {
            let _ = self
                .tx
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .send(binder.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binder_impl::Parcel;

    #[test]
    fn transaction_codes_are_android_16s() {
        let codes = [
            BnServiceManager::TRANSACTION_GET_SERVICE,
            BnServiceManager::TRANSACTION_GET_SERVICE2,
            BnServiceManager::TRANSACTION_CHECK_SERVICE,
            BnServiceManager::TRANSACTION_CHECK_SERVICE2,
            BnServiceManager::TRANSACTION_ADD_SERVICE,
            BnServiceManager::TRANSACTION_LIST_SERVICES,
            BnServiceManager::TRANSACTION_REGISTER_FOR_NOTIFICATIONS,
            BnServiceManager::TRANSACTION_UNREGISTER_FOR_NOTIFICATIONS,
            BnServiceManager::TRANSACTION_IS_DECLARED,
            BnServiceManager::TRANSACTION_GET_DECLARED_INSTANCES,
            BnServiceManager::TRANSACTION_UPDATABLE_VIA_APEX,
            BnServiceManager::TRANSACTION_GET_UPDATABLE_NAMES,
            BnServiceManager::TRANSACTION_GET_CONNECTION_INFO,
            BnServiceManager::TRANSACTION_REGISTER_CLIENT_CALLBACK,
            BnServiceManager::TRANSACTION_TRY_UNREGISTER_SERVICE,
            BnServiceManager::TRANSACTION_GET_SERVICE_DEBUG_INFO,
        ];
        assert_eq!(codes.to_vec(), (1..=16).collect::<Vec<u32>>());
        assert_eq!(BnServiceCallback::TRANSACTION_ON_REGISTRATION, 1);
        assert_eq!(BnServiceManager::DESCRIPTOR, "android.os.IServiceManager");
    }

    fn bytes(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    #[test]
    fn the_service_union_is_a_tag_then_the_field() {
        // As a value, the union has its presence flag 1; then tag 0, the field's own flag 1,
        // its size 36 (4 + 24-byte null binder object + 4 stability + 4 for the bool), the
        // object, stability 0, false.
        let mut p = Parcel::new();
        p.write(&Service::ServiceWithMetadata(ServiceWithMetadata::default()))
            .unwrap();
        let mut expected = bytes(&[1, 0, 1, 36]);
        expected.extend(bytes(&[0x7362_2a85, 0x13, 0, 0, 0, 0, 0, 0]));
        assert_eq!(p.data(), &expected[..]);
        // The accessor arm: flag, tag 1, then a nullable binder.
        let mut p = Parcel::new();
        p.write(&Service::Accessor(None)).unwrap();
        let mut expected = bytes(&[1, 1]);
        expected.extend(bytes(&[0x7362_2a85, 0x13, 0, 0, 0, 0, 0]));
        assert_eq!(p.data(), &expected[..]);
        p.set_data_position(0).unwrap();
        assert_eq!(p.read::<Service>().unwrap(), Service::Accessor(None));
    }

    #[test]
    fn unsupported_methods_answer_an_exception() {
        let sm = server::ServiceManager::new();
        let bn = BnServiceManager::new_binder(sm);
        let b = bn.as_binder();
        let stub = b.as_remotable().unwrap();
        let mut data = Parcel::new();
        data.write_interface_token(BnServiceManager::DESCRIPTOR)
            .unwrap();
        data.write("x").unwrap();
        let mut reply = Parcel::new();
        stub.on_transact(
            BnServiceManager::TRANSACTION_GET_DECLARED_INSTANCES,
            &mut data,
            &mut reply,
            0,
        )
        .unwrap();
        reply.set_data_position(0).unwrap();
        let status = reply.read_status().unwrap();
        assert_eq!(
            status.exception_code(),
            crate::ExceptionCode::UnsupportedOperation
        );
        assert!(status.message().contains("getDeclaredInstances"));
    }
}
