//! `ProcessState`: once per process, the open driver, the receive mapping, the table of proxies
//! by handle, the context object, and the commands deferred to the next driver write.

use std::collections::HashMap;
use std::fmt;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use binder_sys::{
    BINDER_SET_CONTEXT_MGR_EXT, BINDER_SET_MAX_THREADS, BINDER_TYPE_BINDER, BINDER_TYPE_FD, Bc,
    FLAT_BINDER_FLAG_ACCEPTS_FDS, FlatBinderObject, HandleCookie, TransactionData, Wire,
};

use crate::arena::SendArena;
use crate::binder::{PING_TRANSACTION, SpIBinder, WpIBinder};
use crate::buffer::{OutBuf, ReceivedBuffer};
use crate::driver::{Driver, DriverSpec, Mapping};
use crate::parcel::{DEFAULT_SCHED_BITS, Parcel};
use crate::status::StatusCode;

/// Why the driver could not be opened.
#[derive(Debug, Clone, thiserror::Error)]
#[error("binder driver {spec}: {message}")]
pub struct InitError {
    /// The driver that was to be opened.
    pub spec: String,
    /// What went wrong, and what to do about it.
    pub message: String,
}

/// The process's connection to its binder driver.
pub struct ProcessState {
    spec: DriverSpec,
    pub(crate) driver: Driver,
    mapping: Mapping,
    handles: Mutex<HashMap<u32, WpIBinder>>,
    deferred: Mutex<Vec<u8>>,
    context_object: Mutex<Option<SpIBinder>>,
    deaths: Mutex<HashMap<u64, WpIBinder>>,
    next_death_cookie: AtomicU64,
    pub(crate) pool: ThreadPool,
    /// Where outgoing Parcels are built when the driver can copy from it (userspace driver).
    arena: Option<&'static SendArena>,
}

/// Thread-pool bookkeeping (`start_thread_pool`, `BR_SPAWN_LOOPER`).
pub(crate) struct ThreadPool {
    pub started: AtomicBool,
    pub spawned: AtomicU32,
}

static PROCESS: OnceLock<&'static ProcessState> = OnceLock::new();
static INIT: Mutex<()> = Mutex::new(());
/// Set in a child of `fork`: the driver connection and mapping belong to the parent (getpid
/// is a system call, too slow to ask on every transaction).
static FORKED: AtomicBool = AtomicBool::new(false);

extern "C" fn mark_forked_child() {
    FORKED.store(true, Ordering::Relaxed);
}

static REQUESTED_MAX_THREADS: AtomicU32 = AtomicU32::new(binder_sys::DEFAULT_MAX_BINDER_THREADS);

impl fmt::Debug for ProcessState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessState")
            .field("driver", &self.spec.to_string())
            .field("mapping", &self.mapping)
            .finish()
    }
}

impl ProcessState {
    /// The process state, opening the driver named by the environment on first use (see
    /// [`DriverSpec::from_env`]).
    pub fn get() -> Result<&'static ProcessState, StatusCode> {
        Self::try_get().map_err(|e| {
            tracing::error!("{e}");
            StatusCode::NoInit
        })
    }

    /// Like [`ProcessState::get`] with the reason when the driver cannot be opened.
    pub fn try_get() -> Result<&'static ProcessState, InitError> {
        if let Some(ps) = PROCESS.get() {
            ps.check_pid()?;
            return Ok(ps);
        }
        Self::init_with_driver(DriverSpec::from_env())
    }

    /// Opens a specific driver (libbinder's `initWithDriver`). Must come before any other binder
    /// use; later calls return the existing state if it uses the same driver.
    pub fn init_with_driver(spec: DriverSpec) -> Result<&'static ProcessState, InitError> {
        Self::init(spec, true)
    }

    /// Like [`ProcessState::init_with_driver`], but never starts a userspace driver instance:
    /// for tools that report "no driver running" instead.
    pub fn init_existing(spec: DriverSpec) -> Result<&'static ProcessState, InitError> {
        Self::init(spec, false)
    }

    fn init(spec: DriverSpec, start: bool) -> Result<&'static ProcessState, InitError> {
        let _init = INIT.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ps) = PROCESS.get() {
            if ps.spec != spec {
                return Err(InitError {
                    spec: spec.to_string(),
                    message: format!("this process already uses {}", ps.spec),
                });
            }
            return Ok(ps);
        }
        let fail = |e: std::io::Error| InitError {
            spec: spec.to_string(),
            message: e.to_string(),
        };
        let (driver, mapping) = Driver::open(&spec, start).map_err(fail)?;
        let arena = match &driver {
            Driver::Userspace(d) => match SendArena::create().and_then(|a| {
                let a: &'static SendArena = Box::leak(Box::new(a));
                d.register_arena(a).map(|()| a)
            }) {
                Ok(a) => Some(a),
                Err(e) => {
                    tracing::warn!(
                        "no send arena ({e}); transactions are read through /proc/self/mem"
                    );
                    None
                }
            },
            Driver::Kernel(_) => None,
        };
        let ps: &'static ProcessState = Box::leak(Box::new(ProcessState {
            spec,
            driver,
            mapping,
            handles: Mutex::new(HashMap::new()),
            deferred: Mutex::new(Vec::new()),
            context_object: Mutex::new(None),
            deaths: Mutex::new(HashMap::new()),
            next_death_cookie: AtomicU64::new(1),
            pool: ThreadPool {
                started: AtomicBool::new(false),
                spawned: AtomicU32::new(0),
            },
            arena,
        }));
        let _ = PROCESS.set(ps);
        // SAFETY: registers a handler that only stores to an atomic, which is async-signal-safe
        // as a fork child handler must be. (Raw libc: neither nix nor rustix wraps
        // pthread_atfork.)
        unsafe { nix::libc::pthread_atfork(None, None, Some(mark_forked_child)) };
        // As libbinder when it opens the driver: the pool may grow to this many threads.
        let max = REQUESTED_MAX_THREADS.load(Ordering::Relaxed);
        if let Err(e) = crate::thread_state::ioctl_u32(BINDER_SET_MAX_THREADS, max) {
            tracing::warn!("BINDER_SET_MAX_THREADS: {e}");
        }
        Ok(ps)
    }

    /// The state if the driver has been opened already (never opens it).
    pub(crate) fn existing() -> Option<&'static ProcessState> {
        PROCESS
            .get()
            .copied()
            .filter(|_| !FORKED.load(Ordering::Relaxed))
    }

    fn check_pid(&self) -> Result<(), InitError> {
        if FORKED.load(Ordering::Relaxed) {
            return Err(InitError {
                spec: self.spec.to_string(),
                message:
                    "binder state was opened by the parent process and cannot be used after fork"
                        .into(),
            });
        }
        Ok(())
    }

    /// Which driver this process uses.
    pub fn driver_spec(&self) -> &DriverSpec {
        &self.spec
    }

    /// Whether the driver is Linux's (as opposed to the userspace driver).
    pub fn is_kernel_driver(&self) -> bool {
        self.driver.is_kernel()
    }

    /// The receive mapping (address, size), for diagnostics and tests.
    pub fn receive_area(&self) -> (usize, usize) {
        (self.mapping.base, self.mapping.size)
    }

    /// Sets the maximum number of threads the driver may ask this process to spawn.
    pub fn set_thread_pool_max_thread_count(max: u32) -> Result<(), StatusCode> {
        REQUESTED_MAX_THREADS.store(max, Ordering::Relaxed);
        if Self::existing().is_some() {
            crate::thread_state::ioctl_u32(BINDER_SET_MAX_THREADS, max)?;
        }
        Ok(())
    }

    /// Starts the thread pool: one looper thread now, more when the driver asks.
    pub fn start_thread_pool() -> Result<(), StatusCode> {
        let ps = Self::get()?;
        if !ps.pool.started.swap(true, Ordering::AcqRel) {
            crate::thread_state::spawn_pooled_thread(true)?;
        }
        Ok(())
    }

    /// Whether [`ProcessState::start_thread_pool`] was called.
    pub fn thread_pool_started(&self) -> bool {
        self.pool.started.load(Ordering::Acquire)
    }

    /// Makes the calling thread serve incoming transactions until the driver goes away.
    pub fn join_thread_pool() -> Result<(), StatusCode> {
        Self::get()?;
        crate::thread_state::join_thread_pool(true);
        Ok(())
    }

    /// Makes this process the context manager (handle 0 of every other process) with `binder`
    /// as the object behind it.
    pub fn become_context_manager(binder: SpIBinder) -> Result<(), StatusCode> {
        if !binder.is_local() {
            return Err(StatusCode::BadValue);
        }
        let ps = Self::get()?;
        *ps.context_object.lock().unwrap_or_else(|e| e.into_inner()) = Some(binder);
        // The _EXT form names the node's flags: like every local object we flatten, the
        // context object accepts file descriptors (the plain form creates a node that does not).
        let node = FlatBinderObject {
            hdr_type: BINDER_TYPE_BINDER,
            flags: FLAT_BINDER_FLAG_ACCEPTS_FDS | DEFAULT_SCHED_BITS,
            binder_or_handle: 0,
            cookie: 0,
        };
        crate::thread_state::ioctl(BINDER_SET_CONTEXT_MGR_EXT, &mut node.to_bytes()).inspect_err(
            |_| {
                *ps.context_object.lock().unwrap_or_else(|e| e.into_inner()) = None;
            },
        )?;
        Ok(())
    }

    /// [`ProcessState::become_context_manager`], waiting up to `timeout` while the device still
    /// has one (`EBUSY`): Linux releases the context manager of a process that exited
    /// asynchronously, so a restarted service manager may have to wait a moment. Other errors
    /// return at once.
    pub fn become_context_manager_within(
        binder: SpIBinder,
        timeout: std::time::Duration,
    ) -> Result<(), StatusCode> {
        let busy = StatusCode::from_i32(-(nix::errno::Errno::EBUSY as i32));
        let deadline = std::time::Instant::now() + timeout;
        loop {
            match Self::become_context_manager(binder.clone()) {
                Err(e) if e == busy && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                r => return r,
            }
        }
    }

    pub(crate) fn context_object(&self) -> Option<SpIBinder> {
        self.context_object
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The context manager (handle 0) as seen from this process.
    pub fn context_object_proxy(&self) -> Result<SpIBinder, StatusCode> {
        self.proxy_for_handle(0)
    }

    /// The proxy for `handle`, creating it (and taking the driver references it holds) when
    /// none is alive. For handle 0, checks first that a context manager exists.
    pub fn proxy_for_handle(&self, handle: u32) -> Result<SpIBinder, StatusCode> {
        let mut handles = self.handles.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = handles.get(&handle).and_then(WpIBinder::upgrade) {
            return Ok(b);
        }
        if handle == 0 {
            drop(handles);
            // Like libbinder: a transaction to handle 0 reaches the context manager without a
            // reference, and fails with DEAD_OBJECT when there is none.
            let data = Parcel::new();
            crate::thread_state::transact(0, PING_TRANSACTION, &data, 0)?;
            handles = self.handles.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(b) = handles.get(&handle).and_then(WpIBinder::upgrade) {
                return Ok(b);
            }
        }
        let b = SpIBinder::new_remote(handle);
        handles.insert(handle, b.downgrade());
        drop(handles);
        // Sent now by this thread, not queued for any thread's next write: the handle came in a
        // received buffer that holds the only reference until it is freed, and another thread
        // could free that buffer and reach the driver before a write carrying these commands
        // did. The reference would then be gone, and every call on the handle would fail.
        crate::thread_state::write_now(&[Bc::IncRefs(handle), Bc::Acquire(handle)])?;
        Ok(b)
    }

    /// Appends a command to send with the next driver write of any thread.
    pub(crate) fn defer(&self, cmd: Bc) {
        cmd.encode(&mut self.deferred.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Takes the deferred commands, to be sent before the thread's own.
    pub(crate) fn take_deferred(&self, into: &mut Vec<u8>) {
        let mut d = self.deferred.lock().unwrap_or_else(|e| e.into_inner());
        if !d.is_empty() {
            into.splice(0..0, d.drain(..));
        }
    }

    /// Asks the driver to tell us when the object behind `binder` dies.
    pub(crate) fn request_death_notification(&self, binder: &SpIBinder) -> Result<u64, StatusCode> {
        let handle = binder.handle().ok_or(StatusCode::InvalidOperation)?;
        let cookie = self.next_death_cookie.fetch_add(1, Ordering::Relaxed);
        self.deaths
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(cookie, binder.downgrade());
        // From this thread, at once (as a new proxy's references): queued, another thread
        // could take it and still be on its way to the driver when this returns.
        crate::thread_state::write_now(&[Bc::RequestDeathNotification(HandleCookie {
            handle,
            cookie,
        })])?;
        Ok(cookie)
    }

    /// The proxy a death notification cookie belongs to.
    pub(crate) fn death_target(&self, cookie: u64) -> Option<SpIBinder> {
        self.deaths
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&cookie)
            .and_then(WpIBinder::upgrade)
    }

    /// Wraps a buffer the driver delivered, after checking that it lies inside our mapping.
    /// Buffers that do not are still given back to the driver.
    pub(crate) fn received_parcel(&self, tr: &TransactionData) -> Result<Parcel, StatusCode> {
        let data = self.mapping.slice(tr.data_buffer, tr.data_size);
        let offsets = self.mapping.slice(tr.data_offsets, tr.offsets_size);
        let (Some(data), Some(offsets)) = (data, offsets) else {
            queue_free_buffer(tr.data_buffer);
            tracing::error!(
                ?tr,
                "binder driver delivered a buffer outside the receive mapping"
            );
            return Err(StatusCode::BadValue);
        };
        if offsets.len() % 8 != 0 {
            queue_free_buffer(tr.data_buffer);
            return Err(StatusCode::BadValue);
        }
        let oneway = tr.flags & binder_sys::TF_ONE_WAY != 0;
        let buffer = ReceivedBuffer::new(data, offsets, tr.data_buffer, oneway);
        // The driver installed the fds of FD objects in our table: the Parcel owns them now.
        let mut fds: Vec<OwnedFd> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for chunk in offsets.chunks_exact(8) {
            let off = u64::from_le_bytes(chunk.try_into().expect("8 bytes")) as usize;
            let Some(obj) = data.get(off..).and_then(FlatBinderObject::read) else {
                continue;
            };
            if obj.hdr_type == BINDER_TYPE_FD && seen.insert(obj.handle()) {
                // SAFETY: the driver installed this fd for this transaction; nothing else in
                // the process owns it, and `seen` makes sure it is wrapped once.
                fds.push(unsafe { OwnedFd::from_raw_fd(obj.handle() as i32) });
            }
        }
        Ok(Parcel::from_received(buffer, fds))
    }
}

/// Queues `BC_FREE_BUFFER` for a received buffer (sent with the next driver write, as libbinder
/// batches it).
pub(crate) fn queue_free_buffer(ptr: u64) {
    if let Some(ps) = ProcessState::existing() {
        ps.defer(Bc::FreeBuffer(ptr));
    }
}

/// A proxy is gone: clear its death notification and drop the driver references it held.
pub(crate) fn release_proxy(handle: u32, death_cookie: Option<u64>) {
    let Some(ps) = ProcessState::existing() else {
        return;
    };
    {
        let mut handles = ps.handles.lock().unwrap_or_else(|e| e.into_inner());
        if handles.get(&handle).is_some_and(|w| w.upgrade().is_none()) {
            handles.remove(&handle);
        }
    }
    if let Some(cookie) = death_cookie {
        ps.deaths
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&cookie);
        ps.defer(Bc::ClearDeathNotification(HandleCookie { handle, cookie }));
    }
    ps.defer(Bc::Release(handle));
    ps.defer(Bc::DecRefs(handle));
    // The owner keeps its object until it hears of this; don't leave that to whichever thread
    // writes next, which may be never (libbinder flushes here too).
    crate::thread_state::flush_unless_in_loop();
}

/// A Parcel for an outgoing transaction or reply: in the send arena when there is one.
pub(crate) fn new_outgoing_parcel() -> Parcel {
    match ProcessState::existing().and_then(|ps| ps.arena) {
        Some(arena) => Parcel::with_buffer(OutBuf::in_arena(arena)),
        None => Parcel::new(),
    }
}
