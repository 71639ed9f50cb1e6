//! Binder objects: `SpIBinder`, a strong reference to a local object (libbinder's `BBinder`) or
//! to a remote one through a driver handle (`BpBinder`); `WpIBinder`, its weak form; and
//! `DeathRecipient`.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use binder_sys::{
    BINDER_TYPE_BINDER, BINDER_TYPE_HANDLE, FLAT_BINDER_FLAG_ACCEPTS_FDS, FlatBinderObject,
};

use crate::parcel::{DEFAULT_SCHED_BITS, Parcel, STABILITY_SYSTEM};
use crate::status::StatusCode;

/// A transaction code.
pub type TransactionCode = u32;
/// Transaction flags (`FLAG_ONEWAY`, ...).
pub type TransactionFlags = u32;

pub const FIRST_CALL_TRANSACTION: TransactionCode = 0x0000_0001;
pub const LAST_CALL_TRANSACTION: TransactionCode = 0x00FF_FFFF;
const fn pack(c: &[u8; 4]) -> u32 {
    ((c[0] as u32) << 24) | ((c[1] as u32) << 16) | ((c[2] as u32) << 8) | (c[3] as u32)
}
pub const PING_TRANSACTION: TransactionCode = pack(b"_PNG");
pub const DUMP_TRANSACTION: TransactionCode = pack(b"_DMP");
pub const SHELL_COMMAND_TRANSACTION: TransactionCode = pack(b"_CMD");
pub const INTERFACE_TRANSACTION: TransactionCode = pack(b"_NTF");
pub const SYSPROPS_TRANSACTION: TransactionCode = pack(b"_SPR");
pub const EXTENSION_TRANSACTION: TransactionCode = pack(b"_EXT");
pub const DEBUG_PID_TRANSACTION: TransactionCode = pack(b"_PID");
/// `getInterfaceVersion` of a versioned AIDL interface.
pub const GET_INTERFACE_VERSION_TRANSACTION: TransactionCode = 0x00FF_FFFF;
/// `getInterfaceHash` of a versioned AIDL interface.
pub const GET_INTERFACE_HASH_TRANSACTION: TransactionCode = 0x00FF_FFFE;

pub const FLAG_ONEWAY: TransactionFlags = binder_sys::TF_ONE_WAY;
pub const FLAG_CLEAR_BUF: TransactionFlags = binder_sys::TF_CLEAR_BUF;

/// The receiving side of a binder object: what a `Bn` stub implements.
pub trait Remotable: Send + Sync + 'static {
    /// The interface descriptor, e.g. `"com.example.ICalculator"`.
    fn descriptor(&self) -> &str;
    /// Handles one transaction. `data` is positioned at its start; an `Err` goes back to the
    /// caller as a status-code reply.
    fn on_transact(
        &self,
        code: TransactionCode,
        data: &mut Parcel,
        reply: &mut Parcel,
    ) -> Result<(), StatusCode>;
    /// Writes debugging state for `DUMP_TRANSACTION`.
    fn on_dump(&self, _out: &mut dyn std::io::Write, _args: &[String]) -> Result<(), StatusCode> {
        Ok(())
    }
    /// For downcasting to the concrete stub.
    fn as_any(&self) -> &dyn Any;
}

/// A strong reference to a binder object, local or remote.
#[derive(Clone)]
pub struct SpIBinder(pub(crate) Arc<BinderObject>);

/// A weak reference to a binder object.
#[derive(Clone)]
pub struct WpIBinder(Weak<BinderObject>);

pub(crate) enum BinderObject {
    Local(LocalBinder),
    Remote(RemoteBinder),
}

pub(crate) struct LocalBinder {
    remotable: Box<dyn Remotable>,
    extension: Mutex<Option<SpIBinder>>,
}

pub(crate) struct RemoteBinder {
    handle: u32,
    stability: AtomicI32,
    dead: AtomicBool,
    /// Recipients linked to this proxy's death, and whether the driver was asked to notify.
    death: Mutex<DeathLinks>,
    descriptor: OnceLock<String>,
}

#[derive(Default)]
struct DeathLinks {
    recipients: Vec<Weak<DeathRecipientInner>>,
    /// The cookie of the driver's death notification, once requested.
    cookie: Option<u64>,
}

impl SpIBinder {
    /// A new local binder object serving `remotable`.
    pub fn new_local(remotable: impl Remotable) -> SpIBinder {
        let obj = Arc::new(BinderObject::Local(LocalBinder {
            remotable: Box::new(remotable),
            extension: Mutex::new(None),
        }));
        local_nodes().register(&obj);
        SpIBinder(obj)
    }

    /// The proxy for a driver handle of this process (created, with the driver references it
    /// needs, if there is none alive).
    pub fn from_handle(handle: u32) -> Result<SpIBinder, StatusCode> {
        crate::process_state::ProcessState::get()?.proxy_for_handle(handle)
    }

    pub(crate) fn new_remote(handle: u32) -> SpIBinder {
        SpIBinder(Arc::new(BinderObject::Remote(RemoteBinder {
            handle,
            stability: AtomicI32::new(STABILITY_SYSTEM),
            dead: AtomicBool::new(false),
            death: Mutex::new(DeathLinks::default()),
            descriptor: OnceLock::new(),
        })))
    }

    /// Resolves a local object from the `ptr`/`cookie` the driver (or an in-process Parcel)
    /// names it by.
    pub(crate) fn from_local_node(ptr: u64, cookie: u64) -> Result<SpIBinder, StatusCode> {
        if ptr != cookie {
            return Err(StatusCode::BadValue);
        }
        local_nodes().lookup(ptr).ok_or(StatusCode::DeadObject)
    }

    pub fn is_local(&self) -> bool {
        matches!(*self.0, BinderObject::Local(_))
    }

    pub fn is_remote(&self) -> bool {
        !self.is_local()
    }

    /// The driver handle of a remote object.
    pub fn handle(&self) -> Option<u32> {
        match &*self.0 {
            BinderObject::Remote(r) => Some(r.handle),
            BinderObject::Local(_) => None,
        }
    }

    /// The local implementation, for downcasting by generated code.
    pub fn as_remotable(&self) -> Option<&dyn Remotable> {
        match &*self.0 {
            BinderObject::Local(l) => Some(&*l.remotable),
            BinderObject::Remote(_) => None,
        }
    }

    pub fn downgrade(&self) -> WpIBinder {
        WpIBinder(Arc::downgrade(&self.0))
    }

    /// The node address the driver knows a local object by (binder and cookie both).
    pub(crate) fn node_ptr(&self) -> u64 {
        Arc::as_ptr(&self.0) as u64
    }

    /// The flat object and stability level that represent this binder in a Parcel.
    pub(crate) fn flatten(&self) -> (FlatBinderObject, i32) {
        match &*self.0 {
            BinderObject::Local(_) => {
                local_nodes().register(&self.0);
                let ptr = self.node_ptr();
                let obj = FlatBinderObject {
                    hdr_type: BINDER_TYPE_BINDER,
                    flags: FLAT_BINDER_FLAG_ACCEPTS_FDS | DEFAULT_SCHED_BITS,
                    binder_or_handle: ptr,
                    cookie: ptr,
                };
                (obj, STABILITY_SYSTEM)
            }
            BinderObject::Remote(r) => {
                let obj = FlatBinderObject {
                    hdr_type: BINDER_TYPE_HANDLE,
                    flags: DEFAULT_SCHED_BITS,
                    binder_or_handle: r.handle as u64,
                    cookie: 0,
                };
                (obj, r.stability.load(Ordering::Relaxed))
            }
        }
    }

    pub(crate) fn set_received_stability(&self, level: i32) {
        if let BinderObject::Remote(r) = &*self.0 {
            r.stability.store(level, Ordering::Relaxed);
        }
    }

    /// A Parcel to write a transaction into (on the send arena when the driver has one).
    pub fn prepare_transact(&self) -> Parcel {
        crate::process_state::new_outgoing_parcel()
    }

    /// Sends a transaction and returns the reply (an empty Parcel for oneway calls).
    pub fn submit_transact(
        &self,
        code: TransactionCode,
        data: Parcel,
        flags: TransactionFlags,
    ) -> Result<Parcel, StatusCode> {
        match &*self.0 {
            BinderObject::Local(l) => l.transact(code, data, flags),
            BinderObject::Remote(r) => {
                if r.dead.load(Ordering::Acquire) {
                    return Err(StatusCode::DeadObject);
                }
                let stability = r.stability.load(Ordering::Relaxed);
                let user_code = (FIRST_CALL_TRANSACTION..=LAST_CALL_TRANSACTION).contains(&code);
                if user_code && stability & STABILITY_SYSTEM != STABILITY_SYSTEM {
                    tracing::error!(
                        handle = r.handle,
                        stability,
                        "binder's stability is too low for this call"
                    );
                    return Err(StatusCode::BadType);
                }
                let result = crate::thread_state::transact(r.handle, code, &data, flags);
                if matches!(result, Err(StatusCode::DeadObject)) {
                    r.dead.store(true, Ordering::Release);
                }
                Ok(result?.unwrap_or_default())
            }
        }
    }

    /// Sends `PING_TRANSACTION`.
    pub fn ping_binder(&self) -> Result<(), StatusCode> {
        let data = self.prepare_transact();
        self.submit_transact(PING_TRANSACTION, data, 0).map(|_| ())
    }

    /// The interface descriptor (an `INTERFACE_TRANSACTION` for a remote object, cached).
    pub fn interface_descriptor(&self) -> Result<String, StatusCode> {
        match &*self.0 {
            BinderObject::Local(l) => Ok(l.remotable.descriptor().to_owned()),
            BinderObject::Remote(r) => {
                if let Some(d) = r.descriptor.get() {
                    return Ok(d.clone());
                }
                let data = self.prepare_transact();
                let mut reply = self.submit_transact(INTERFACE_TRANSACTION, data, 0)?;
                let d = reply.read_string16()?.unwrap_or_default();
                Ok(r.descriptor.get_or_init(|| d).clone())
            }
        }
    }

    /// Asks the object to dump its state into `fd` (`DUMP_TRANSACTION`).
    pub fn dump(&self, fd: std::os::fd::BorrowedFd<'_>, args: &[&str]) -> Result<(), StatusCode> {
        let mut data = self.prepare_transact();
        data.write_fd(fd)?;
        data.write_len(args.len())?;
        for a in args {
            data.write_string16(a)?;
        }
        self.submit_transact(DUMP_TRANSACTION, data, 0).map(|_| ())
    }

    /// Whether a remote object is known to be dead (a local one never is).
    pub fn is_binder_alive(&self) -> bool {
        match &*self.0 {
            BinderObject::Local(_) => true,
            BinderObject::Remote(r) => !r.dead.load(Ordering::Acquire),
        }
    }

    /// Sets the extension object a local binder returns for `EXTENSION_TRANSACTION`.
    pub fn set_extension(&self, extension: Option<SpIBinder>) -> Result<(), StatusCode> {
        match &*self.0 {
            BinderObject::Local(l) => {
                *l.extension.lock().unwrap_or_else(|e| e.into_inner()) = extension;
                Ok(())
            }
            BinderObject::Remote(_) => Err(StatusCode::InvalidOperation),
        }
    }

    /// The extension object (`EXTENSION_TRANSACTION`).
    pub fn extension(&self) -> Result<Option<SpIBinder>, StatusCode> {
        let data = self.prepare_transact();
        let mut reply = self.submit_transact(EXTENSION_TRANSACTION, data, 0)?;
        reply.read_binder()
    }

    /// Registers `recipient` to be called once when this remote object dies (its process
    /// exits or is killed). `DEAD_OBJECT` if it is already dead; `INVALID_OPERATION` for a
    /// local object, which cannot die while referenced.
    pub fn link_to_death(&self, recipient: &DeathRecipient) -> Result<(), StatusCode> {
        let BinderObject::Remote(r) = &*self.0 else {
            return Err(StatusCode::InvalidOperation);
        };
        if r.dead.load(Ordering::Acquire) {
            return Err(StatusCode::DeadObject);
        }
        let mut links = r.death.lock().unwrap_or_else(|e| e.into_inner());
        links.recipients.retain(|w| w.strong_count() > 0);
        links.recipients.push(Arc::downgrade(&recipient.0));
        if links.cookie.is_none() {
            let ps = crate::process_state::ProcessState::get()?;
            links.cookie = Some(ps.request_death_notification(self)?);
        }
        Ok(())
    }

    /// Removes a recipient registered with [`SpIBinder::link_to_death`].
    pub fn unlink_to_death(&self, recipient: &DeathRecipient) -> Result<(), StatusCode> {
        let BinderObject::Remote(r) = &*self.0 else {
            return Err(StatusCode::InvalidOperation);
        };
        let mut links = r.death.lock().unwrap_or_else(|e| e.into_inner());
        let before = links.recipients.len();
        links.recipients.retain(|w| {
            w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), Arc::as_ptr(&recipient.0))
        });
        if links.recipients.len() == before {
            return Err(StatusCode::NameNotFound);
        }
        Ok(())
    }

    /// Called by the thread state on `BR_DEAD_BINDER`: marks the proxy dead and calls every
    /// live recipient once.
    pub(crate) fn send_obituary(&self) {
        let BinderObject::Remote(r) = &*self.0 else {
            return;
        };
        r.dead.store(true, Ordering::Release);
        let recipients =
            std::mem::take(&mut r.death.lock().unwrap_or_else(|e| e.into_inner()).recipients);
        for rec in recipients.iter().filter_map(Weak::upgrade) {
            (rec.callback)();
        }
    }
}

impl PartialEq for SpIBinder {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
impl Eq for SpIBinder {}
impl Hash for SpIBinder {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.0) as usize).hash(state)
    }
}

impl fmt::Debug for SpIBinder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            BinderObject::Local(l) => write!(f, "SpIBinder(local {:?})", l.remotable.descriptor()),
            BinderObject::Remote(r) => write!(f, "SpIBinder(handle {})", r.handle),
        }
    }
}

impl WpIBinder {
    pub fn upgrade(&self) -> Option<SpIBinder> {
        self.0.upgrade().map(SpIBinder)
    }
}

impl fmt::Debug for WpIBinder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WpIBinder")
    }
}

impl LocalBinder {
    /// A call on a local object: the same encode → on_transact → decode path as a remote
    /// call, without the driver (libbinder's `BBinder::transact`).
    fn transact(
        &self,
        code: TransactionCode,
        mut data: Parcel,
        flags: TransactionFlags,
    ) -> Result<Parcel, StatusCode> {
        data.set_data_position(0)?;
        let mut reply = Parcel::new();
        self.dispatch(code, &mut data, &mut reply)?;
        if flags & FLAG_ONEWAY != 0 {
            return Ok(Parcel::new());
        }
        Ok(reply)
    }

    pub(crate) fn dispatch(
        &self,
        code: TransactionCode,
        data: &mut Parcel,
        reply: &mut Parcel,
    ) -> Result<(), StatusCode> {
        match code {
            PING_TRANSACTION => Ok(()),
            INTERFACE_TRANSACTION => reply.write_string16(self.remotable.descriptor()),
            EXTENSION_TRANSACTION => {
                let ext = self
                    .extension
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                reply.write_binder(ext.as_ref())
            }
            DEBUG_PID_TRANSACTION => reply.write_i32(std::process::id() as i32),
            DUMP_TRANSACTION => {
                let fd = data.read_fd()?;
                let argc = data.read_len(4)?.unwrap_or(0);
                let mut args = Vec::with_capacity(argc);
                for _ in 0..argc {
                    args.push(data.read_string16()?.unwrap_or_default());
                }
                let mut file = std::fs::File::from(fd);
                self.remotable.on_dump(&mut file, &args)
            }
            _ => self.remotable.on_transact(code, data, reply),
        }
    }
}

impl BinderObject {
    pub(crate) fn as_local(&self) -> Option<&LocalBinder> {
        match self {
            BinderObject::Local(l) => Some(l),
            BinderObject::Remote(_) => None,
        }
    }
}

impl Drop for BinderObject {
    fn drop(&mut self) {
        match self {
            BinderObject::Local(_) => local_nodes().forget(self as *const BinderObject as u64),
            BinderObject::Remote(r) => {
                let cookie = r.death.get_mut().map(|d| d.cookie).unwrap_or(None);
                crate::process_state::release_proxy(r.handle, cookie);
            }
        }
    }
}

// ---- death recipients ---------------------------------------------------------------------

/// A callback run when a remote object it is linked to dies.
#[derive(Clone)]
pub struct DeathRecipient(Arc<DeathRecipientInner>);

struct DeathRecipientInner {
    callback: Box<dyn Fn() + Send + Sync>,
}

impl DeathRecipient {
    pub fn new(callback: impl Fn() + Send + Sync + 'static) -> DeathRecipient {
        DeathRecipient(Arc::new(DeathRecipientInner {
            callback: Box::new(callback),
        }))
    }
}

impl fmt::Debug for DeathRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeathRecipient")
    }
}

// ---- local nodes and the driver's references to them ----------------------------------------

/// The local objects of this process that the driver (or an in-process Parcel) may name, by
/// node address, with the references the driver holds on them (`BR_INCREFS`/`BR_ACQUIRE`).
pub(crate) struct LocalNodes {
    nodes: Mutex<HashMap<u64, NodeEntry>>,
}

struct NodeEntry {
    object: Weak<BinderObject>,
    /// Held while the driver has strong references (`BR_ACQUIRE` .. `BR_RELEASE`).
    strong_hold: Option<Arc<BinderObject>>,
    driver_strong: u32,
    driver_weak: u32,
}

pub(crate) fn local_nodes() -> &'static LocalNodes {
    static NODES: OnceLock<LocalNodes> = OnceLock::new();
    NODES.get_or_init(|| LocalNodes {
        nodes: Mutex::new(HashMap::new()),
    })
}

impl LocalNodes {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, NodeEntry>> {
        self.nodes.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn register(&self, obj: &Arc<BinderObject>) {
        let ptr = Arc::as_ptr(obj) as u64;
        self.lock().entry(ptr).or_insert_with(|| NodeEntry {
            object: Arc::downgrade(obj),
            strong_hold: None,
            driver_strong: 0,
            driver_weak: 0,
        });
    }

    fn lookup(&self, ptr: u64) -> Option<SpIBinder> {
        self.lock()
            .get(&ptr)
            .and_then(|e| e.object.upgrade())
            .map(SpIBinder)
    }

    /// Applies `BR_INCREFS`/`BR_ACQUIRE`/`BR_RELEASE`/`BR_DECREFS` to the node at `ptr`.
    /// Returns false for an unknown node.
    pub(crate) fn acquire_or_release(&self, cmd: u32, ptr: u64) -> bool {
        match cmd {
            binder_sys::BR_INCREFS => self.acquire(ptr, false),
            binder_sys::BR_ACQUIRE => self.acquire(ptr, true),
            binder_sys::BR_RELEASE => self.release(ptr, true),
            binder_sys::BR_DECREFS => self.release(ptr, false),
            _ => false,
        }
    }

    /// `BR_INCREFS` (weak) or `BR_ACQUIRE` (strong). Returns false for an unknown node.
    fn acquire(&self, ptr: u64, strong: bool) -> bool {
        let mut nodes = self.lock();
        let Some(entry) = nodes.get_mut(&ptr) else {
            return false;
        };
        if strong {
            if entry.strong_hold.is_none() {
                entry.strong_hold = entry.object.upgrade();
            }
            entry.driver_strong += 1;
        } else {
            entry.driver_weak += 1;
        }
        true
    }

    /// `BR_RELEASE` (strong) or `BR_DECREFS` (weak). Returns false for an unknown node.
    fn release(&self, ptr: u64, strong: bool) -> bool {
        let released;
        {
            let mut nodes = self.lock();
            let Some(entry) = nodes.get_mut(&ptr) else {
                return false;
            };
            if strong {
                entry.driver_strong = entry.driver_strong.saturating_sub(1);
                released = if entry.driver_strong == 0 {
                    entry.strong_hold.take()
                } else {
                    None
                };
            } else {
                entry.driver_weak = entry.driver_weak.saturating_sub(1);
                released = None;
            }
            if entry.driver_strong == 0
                && entry.driver_weak == 0
                && entry.object.strong_count() == 0
            {
                nodes.remove(&ptr);
            }
        }
        // Dropped outside the lock: the object's own drop takes it.
        drop(released);
        true
    }

    /// The object at `ptr` is being destroyed: forget it unless the driver still holds weak
    /// references (then the entry, and with it the address, stays reserved until
    /// `BR_DECREFS`, so no new object can be mistaken for it).
    fn forget(&self, ptr: u64) {
        let mut nodes = self.lock();
        if nodes
            .get(&ptr)
            .is_some_and(|e| e.driver_strong == 0 && e.driver_weak == 0)
        {
            nodes.remove(&ptr);
        }
    }
}
