//! Binder objects: `SpIBinder`, a strong reference to a local object ([`native`], libbinder's
//! `BBinder`) or to a remote one through a driver handle ([`proxy`], `BpBinder`); `WpIBinder`,
//! its weak form; and the transaction codes and flags every binder object knows.

mod native;
mod proxy;

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Weak};

use binder_sys::{
    BINDER_TYPE_BINDER, BINDER_TYPE_HANDLE, FLAT_BINDER_FLAG_ACCEPTS_FDS, FlatBinderObject,
};

use native::LocalBinder;
pub use native::Remotable;
pub(crate) use native::local_nodes;
pub use proxy::DeathRecipient;
use proxy::RemoteBinder;

use crate::parcel::{DEFAULT_SCHED_BITS, Parcel, STABILITY_SYSTEM};
use crate::status::StatusCode;

/// A transaction code.
pub type TransactionCode = u32;
/// Transaction flags (`FLAG_ONEWAY`, ...).
pub type TransactionFlags = u32;

/// The first transaction code of an interface's own methods.
pub const FIRST_CALL_TRANSACTION: TransactionCode = 0x0000_0001;
/// The last transaction code of an interface's own methods.
pub const LAST_CALL_TRANSACTION: TransactionCode = 0x00FF_FFFF;
const fn pack(c: &[u8; 4]) -> u32 {
    ((c[0] as u32) << 24) | ((c[1] as u32) << 16) | ((c[2] as u32) << 8) | (c[3] as u32)
}
/// `_PNG`: is the object alive? Answered with an empty reply.
pub const PING_TRANSACTION: TransactionCode = pack(b"_PNG");
/// `_DMP`: write the object's state to a file descriptor.
pub const DUMP_TRANSACTION: TransactionCode = pack(b"_DMP");
/// `_CMD`: a shell command (not answered by this runtime's objects).
pub const SHELL_COMMAND_TRANSACTION: TransactionCode = pack(b"_CMD");
/// `_NTF`: the interface descriptor, as a String16.
pub const INTERFACE_TRANSACTION: TransactionCode = pack(b"_NTF");
/// `_SPR`: reload system properties (not answered by this runtime's objects).
pub const SYSPROPS_TRANSACTION: TransactionCode = pack(b"_SPR");
/// `_EXT`: the object's extension binder, or null.
pub const EXTENSION_TRANSACTION: TransactionCode = pack(b"_EXT");
/// `_PID`: the pid of the process serving the object.
pub const DEBUG_PID_TRANSACTION: TransactionCode = pack(b"_PID");
/// `getInterfaceVersion` of a versioned AIDL interface.
pub const GET_INTERFACE_VERSION_TRANSACTION: TransactionCode = 0x00FF_FFFF;
/// `getInterfaceHash` of a versioned AIDL interface.
pub const GET_INTERFACE_HASH_TRANSACTION: TransactionCode = 0x00FF_FFFE;

/// A oneway call: the caller does not wait, and gets no reply.
pub const FLAG_ONEWAY: TransactionFlags = binder_sys::TF_ONE_WAY;
/// The driver zeroes the transaction's buffer once the receiver frees it.
pub const FLAG_CLEAR_BUF: TransactionFlags = binder_sys::TF_CLEAR_BUF;

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

impl SpIBinder {
    /// A new local binder object serving `remotable`.
    pub fn new_local(remotable: impl Remotable) -> SpIBinder {
        let obj = Arc::new(BinderObject::Local(LocalBinder::new(Box::new(remotable))));
        local_nodes().register(&obj);
        SpIBinder(obj)
    }

    /// The proxy for a driver handle of this process (created, with the driver references it
    /// needs, if there is none alive).
    pub fn from_handle(handle: u32) -> Result<SpIBinder, StatusCode> {
        crate::process_state::ProcessState::get()?.proxy_for_handle(handle)
    }

    pub(crate) fn new_remote(handle: u32) -> SpIBinder {
        SpIBinder(Arc::new(BinderObject::Remote(RemoteBinder::new(handle))))
    }

    /// Resolves a local object from the `ptr`/`cookie` the driver (or an in-process Parcel)
    /// names it by.
    pub(crate) fn from_local_node(ptr: u64, cookie: u64) -> Result<SpIBinder, StatusCode> {
        if ptr != cookie {
            return Err(StatusCode::BadValue);
        }
        local_nodes().lookup(ptr).ok_or(StatusCode::DeadObject)
    }

    /// Whether the object lives in this process.
    pub fn is_local(&self) -> bool {
        matches!(*self.0, BinderObject::Local(_))
    }

    /// Whether the object lives in another process (this is a proxy for a driver handle).
    pub fn is_remote(&self) -> bool {
        !self.is_local()
    }

    /// The driver handle of a remote object.
    pub fn handle(&self) -> Option<u32> {
        match &*self.0 {
            BinderObject::Remote(r) => Some(r.handle()),
            BinderObject::Local(_) => None,
        }
    }

    /// The local implementation. It upcasts to `&dyn Any`, so generated code can downcast it
    /// to its own stub: `<dyn Any>::downcast_ref::<BnFoo>(remotable)`.
    pub fn as_remotable(&self) -> Option<&dyn Remotable> {
        self.0.as_local().map(LocalBinder::remotable)
    }

    /// A weak reference to the same object.
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
                    binder_or_handle: r.handle() as u64,
                    cookie: 0,
                };
                (obj, r.stability())
            }
        }
    }

    pub(crate) fn set_received_stability(&self, level: i32) {
        if let BinderObject::Remote(r) = &*self.0 {
            r.set_stability(level);
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
            BinderObject::Remote(r) => r.transact(code, &data, flags),
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
            BinderObject::Local(l) => Ok(l.remotable().descriptor().to_owned()),
            BinderObject::Remote(r) => {
                if let Some(d) = r.cached_descriptor().get() {
                    return Ok(d.clone());
                }
                let data = self.prepare_transact();
                let mut reply = self.submit_transact(INTERFACE_TRANSACTION, data, 0)?;
                let d = reply.read_string16()?.unwrap_or_default();
                Ok(r.cached_descriptor().get_or_init(|| d).clone())
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
            BinderObject::Remote(r) => !r.is_dead(),
        }
    }

    /// Sets the extension object a local binder returns for `EXTENSION_TRANSACTION`.
    pub fn set_extension(&self, extension: Option<SpIBinder>) -> Result<(), StatusCode> {
        match &*self.0 {
            BinderObject::Local(l) => {
                l.set_extension(extension);
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
            BinderObject::Local(l) => {
                write!(f, "SpIBinder(local {:?})", l.remotable().descriptor())
            }
            BinderObject::Remote(r) => write!(f, "SpIBinder(handle {})", r.handle()),
        }
    }
}

impl WpIBinder {
    /// The strong reference, if the object is still referenced elsewhere.
    pub fn upgrade(&self) -> Option<SpIBinder> {
        self.0.upgrade().map(SpIBinder)
    }
}

impl fmt::Debug for WpIBinder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WpIBinder")
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
                let cookie = r.death_cookie();
                crate::process_state::release_proxy(r.handle(), cookie);
            }
        }
    }
}
