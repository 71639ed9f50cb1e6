//! The remote object (libbinder's `BpBinder`): a driver handle of this process, the stability
//! level it was received with, whether it is known dead, the death recipients linked to it, and
//! its cached interface descriptor.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use super::{
    BinderObject, FIRST_CALL_TRANSACTION, LAST_CALL_TRANSACTION, SpIBinder, TransactionCode,
    TransactionFlags,
};
use crate::parcel::{Parcel, STABILITY_SYSTEM};
use crate::status::StatusCode;

/// A proxy for another process's object, named by a driver handle.
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

impl RemoteBinder {
    pub(super) fn new(handle: u32) -> RemoteBinder {
        RemoteBinder {
            handle,
            stability: AtomicI32::new(STABILITY_SYSTEM),
            dead: AtomicBool::new(false),
            death: Mutex::new(DeathLinks::default()),
            descriptor: OnceLock::new(),
        }
    }

    pub(super) fn handle(&self) -> u32 {
        self.handle
    }

    pub(super) fn stability(&self) -> i32 {
        self.stability.load(Ordering::Relaxed)
    }

    pub(super) fn set_stability(&self, level: i32) {
        self.stability.store(level, Ordering::Relaxed);
    }

    pub(super) fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    pub(super) fn cached_descriptor(&self) -> &OnceLock<String> {
        &self.descriptor
    }

    /// Sends a transaction through the driver. A proxy whose process died answers
    /// `DEAD_OBJECT` from then on without asking the driver.
    pub(super) fn transact(
        &self,
        code: TransactionCode,
        data: &Parcel,
        flags: TransactionFlags,
    ) -> Result<Parcel, StatusCode> {
        if self.is_dead() {
            return Err(StatusCode::DeadObject);
        }
        let stability = self.stability();
        let user_code = (FIRST_CALL_TRANSACTION..=LAST_CALL_TRANSACTION).contains(&code);
        if user_code && stability & STABILITY_SYSTEM != STABILITY_SYSTEM {
            tracing::error!(
                handle = self.handle,
                stability,
                "binder's stability is too low for this call"
            );
            return Err(StatusCode::BadType);
        }
        let result = crate::thread_state::transact(self.handle, code, data, flags);
        if matches!(result, Err(StatusCode::DeadObject)) {
            self.dead.store(true, Ordering::Release);
        }
        Ok(result?.unwrap_or_default())
    }

    /// The driver's death-notification cookie, to clear when the proxy goes away.
    pub(super) fn death_cookie(&mut self) -> Option<u64> {
        self.death.get_mut().map(|d| d.cookie).unwrap_or(None)
    }
}

impl SpIBinder {
    fn remote(&self) -> Result<&RemoteBinder, StatusCode> {
        match &*self.0 {
            BinderObject::Remote(r) => Ok(r),
            BinderObject::Local(_) => Err(StatusCode::InvalidOperation),
        }
    }

    /// Registers `recipient` to be called once when this remote object dies (its process
    /// exits or is killed). `DEAD_OBJECT` if it is already dead; `INVALID_OPERATION` for a
    /// local object, which cannot die while referenced.
    pub fn link_to_death(&self, recipient: &DeathRecipient) -> Result<(), StatusCode> {
        let r = self.remote()?;
        if r.is_dead() {
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
        let r = self.remote()?;
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
        let Ok(r) = self.remote() else {
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

// ---- death recipients ---------------------------------------------------------------------

/// A callback run when a remote object it is linked to dies.
#[derive(Clone)]
pub struct DeathRecipient(Arc<DeathRecipientInner>);

struct DeathRecipientInner {
    callback: Box<dyn Fn() + Send + Sync>,
}

impl DeathRecipient {
    /// A recipient that runs `callback` (on a binder thread) for each object it is linked to,
    /// when that object dies.
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
