//! The local object (libbinder's `BBinder`): a [`Remotable`] this process serves, the
//! dispatch of the transactions every binder object answers (ping, interface, extension, dump),
//! and the references the driver holds on local nodes.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use super::{
    BinderObject, DEBUG_PID_TRANSACTION, DUMP_TRANSACTION, EXTENSION_TRANSACTION, FLAG_ONEWAY,
    INTERFACE_TRANSACTION, PING_TRANSACTION, SpIBinder, TransactionCode, TransactionFlags,
};
use crate::parcel::Parcel;
use crate::status::StatusCode;

/// The receiving side of a binder object: what a `Bn` stub implements, and what a hand-written
/// binder object implements to answer transactions itself.
///
/// `Any` is a supertrait, so a `&dyn Remotable` upcasts to `&dyn Any` and downcasts to the
/// concrete stub (see [`SpIBinder::as_remotable`]).
pub trait Remotable: Any + Send + Sync {
    /// The interface descriptor, e.g. `"com.example.ICalculator"`.
    fn descriptor(&self) -> &str;
    /// Handles one transaction. `data` is positioned at its start; `flags` are the sender's
    /// ([`FLAG_ONEWAY`](crate::binder_impl::FLAG_ONEWAY) for a call that gets no reply). An
    /// `Err` goes back to the caller as a status-code reply.
    fn on_transact(
        &self,
        code: TransactionCode,
        data: &mut Parcel,
        reply: &mut Parcel,
        flags: TransactionFlags,
    ) -> Result<(), StatusCode>;
    /// Writes debugging state for `DUMP_TRANSACTION`.
    fn on_dump(&self, _out: &mut dyn std::io::Write, _args: &[String]) -> Result<(), StatusCode> {
        Ok(())
    }
}

/// A local binder object: the implementation and the extension object it hands out.
pub(crate) struct LocalBinder {
    remotable: Box<dyn Remotable>,
    extension: Mutex<Option<SpIBinder>>,
}

impl LocalBinder {
    pub(super) fn new(remotable: Box<dyn Remotable>) -> LocalBinder {
        LocalBinder {
            remotable,
            extension: Mutex::new(None),
        }
    }

    pub(super) fn remotable(&self) -> &dyn Remotable {
        &*self.remotable
    }

    pub(super) fn set_extension(&self, extension: Option<SpIBinder>) {
        *self.extension.lock().unwrap_or_else(|e| e.into_inner()) = extension;
    }

    /// A call on a local object: the same encode → on_transact → decode path as a remote
    /// call, without the driver (libbinder's `BBinder::transact`).
    pub(super) fn transact(
        &self,
        code: TransactionCode,
        mut data: Parcel,
        flags: TransactionFlags,
    ) -> Result<Parcel, StatusCode> {
        data.set_data_position(0)?;
        let mut reply = Parcel::new();
        self.dispatch(code, &mut data, &mut reply, flags)?;
        if flags & FLAG_ONEWAY != 0 {
            return Ok(Parcel::new());
        }
        Ok(reply)
    }

    /// Answers the transactions every binder object answers, and passes the others to the
    /// implementation.
    pub(crate) fn dispatch(
        &self,
        code: TransactionCode,
        data: &mut Parcel,
        reply: &mut Parcel,
        flags: TransactionFlags,
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
            _ => self.remotable.on_transact(code, data, reply, flags),
        }
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

    pub(super) fn register(&self, obj: &Arc<BinderObject>) {
        let ptr = Arc::as_ptr(obj) as u64;
        self.lock().entry(ptr).or_insert_with(|| NodeEntry {
            object: Arc::downgrade(obj),
            strong_hold: None,
            driver_strong: 0,
            driver_weak: 0,
        });
    }

    pub(super) fn lookup(&self, ptr: u64) -> Option<SpIBinder> {
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
    pub(super) fn forget(&self, ptr: u64) {
        let mut nodes = self.lock();
        if nodes
            .get(&ptr)
            .is_some_and(|e| e.driver_strong == 0 && e.driver_weak == 0)
        {
            nodes.remove(&ptr);
        }
    }
}
