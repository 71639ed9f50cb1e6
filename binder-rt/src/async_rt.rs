//! Async binder: calls that are awaited instead of blocking the caller, and services whose
//! methods are `async fn` running on the program's own async runtime.
//!
//! `#[binder_interface]` generates, beside the blocking trait `IFoo`, an async client trait
//! `IFooAsync` (implemented by the proxy `BpFooAsync`; every method returns a [`BoxFuture`])
//! and an async server trait `IFooAsyncServer` (methods written as `async fn`, served by
//! `BnFoo::new_async_binder(implementation, runtime)`); for a trait written with `async fn`,
//! the trait itself is the server trait and `IFooBlocking` the blocking one. The wire is the
//! same, so a blocking client calls an async service and the reverse. See `docs/async.md`.
//!
//! **Client.** Binder sends a reply to the thread that sent the transaction, and that thread
//! waits for it in the driver. So an awaited call does not run on the caller's thread (an async
//! runtime's worker must not block): it runs on a *call thread*, one of a small pool this
//! module owns — started on demand, at most [`max_call_threads`] (16 unless
//! [`set_max_call_threads`] says otherwise; more calls wait for a free thread, unsent), each
//! leaving after ten idle seconds — and its result comes back through the future's waker. The
//! future starts the call when it is first polled; dropping it cancels the wait: a call not yet sent is never sent, and the reply of one that
//! was sent is freed when it comes. Oneway calls are sent at once on the caller's thread (the
//! driver does not wait for the receiver), so they keep the order they were made in.
//!
//! **Nested calls.** A call polled first from inside a two-way call this thread is serving (an
//! async method's body runs on the binder thread that received the transaction) is made on
//! this thread when polled, as a blocking call would be: a callback into the process that called
//! us must reach the thread waiting there for our reply, as binder requires. (Such a call is
//! made whole in that one poll: a timeout around it cannot cut it short.)
//!
//! **Server.** The binder thread that receives a two-way call runs the method's future to
//! completion with the runtime's context ([`AsyncRuntime::block_on`]) and sends the reply
//! (binder requires the reply from that thread). A oneway call's arguments are read on the
//! binder thread, then its future is spawned on the runtime and the binder thread goes back to
//! the pool at once; the call's buffer is held until the future ends, and the driver delivers
//! the object's next oneway call only when it is freed, so oneway calls to one object still run
//! one at a time, in order (a long one holds the next ones back, as in any binder service). Both
//! see the caller's identity ([`crate::calling_pid`], [`crate::calling_uid`]). A call from this
//! same process reaches the object without a driver, so nothing would order it: its future runs
//! to completion on the calling thread, oneway or not.
//!
//! The core is runtime-agnostic: a runtime is anything implementing [`AsyncRuntime`]. With the
//! `tokio` feature, `binder_rt::tokio::Tokio` is one.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use binder_sys::ud::mailbox::Poller;

use crate::binder::{SpIBinder, TransactionCode};
use crate::binder_impl::Parcel;
use crate::interface::{FromIBinder, Strong};
use crate::status::{Status, StatusCode};

/// A boxed future that can move between threads: what the methods of an `IFooAsync` trait
/// return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The async runtime async services run on. Implemented by `binder_rt::tokio::Tokio` (feature
/// `tokio`); implement it to use another runtime.
pub trait AsyncRuntime: Send + Sync + 'static {
    /// Runs `future` to completion on the calling thread (a binder thread serving a two-way
    /// call), with this runtime's context (its timers and I/O), and returns when it is done.
    /// A runtime that cannot (e.g. the calling thread drives the runtime itself) returns
    /// without running it, and the call fails with `WOULD_BLOCK`.
    fn block_on(&self, future: Pin<&mut (dyn Future<Output = ()> + Send + '_)>);
    /// Runs `future` on the runtime, in the background.
    fn spawn(&self, future: BoxFuture<'static, ()>);
}

/// Runs `future` on the calling thread with `runtime`'s context; for generated stubs.
#[doc(hidden)]
pub fn block_on<F>(runtime: &dyn AsyncRuntime, future: F) -> Result<F::Output, StatusCode>
where
    F: Future + Send,
    F::Output: Send,
{
    let mut out = None;
    {
        let wrapper = std::pin::pin!(async {
            out = Some(future.await);
        });
        runtime.block_on(wrapper);
    }
    // The runtime could not run it here (see `Tokio`'s documentation): the call fails.
    out.ok_or(StatusCode::WouldBlock)
}

/// Runs the body of a oneway call on `runtime`, holding `data` (the call's received buffer)
/// until it ends; for generated stubs, which read the arguments before (on the binder thread)
/// and hand `body` the Parcel to borrow byte slices from. The body sees the calling identity
/// of the transaction ([`crate::calling_pid`], [`crate::calling_uid`]) on whatever thread polls
/// it. A call from this process (no driver between: nothing orders it against the object's
/// other oneway calls) runs to completion here instead, as a blocking stub's would.
#[doc(hidden)]
pub fn spawn_oneway<B, Fut>(
    runtime: &dyn AsyncRuntime,
    code: TransactionCode,
    data: Parcel,
    body: B,
) where
    B: FnOnce(Parcel) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), StatusCode>> + Send + 'static,
{
    let caller = (crate::calling_pid(), crate::calling_uid());
    let outcome = move |result: Result<Result<(), StatusCode>, StatusCode>| {
        if let Err(e) = result.and_then(|r| r) {
            tracing::debug!(code, "oneway transaction failed: {e}");
        }
    };
    if data.received_buffer().is_none() {
        outcome(block_on(runtime, body(data)));
        return;
    }
    runtime.spawn(Box::pin(async move {
        outcome(Ok(AsCaller::new(caller, body(data)).await));
    }));
}

/// A future polled with a served call's calling identity on the polling thread.
struct AsCaller<F> {
    caller: (i32, u32),
    inner: Pin<Box<F>>,
}

impl<F: Future> AsCaller<F> {
    fn new(caller: (i32, u32), inner: F) -> AsCaller<F> {
        AsCaller {
            caller,
            inner: Box::pin(inner),
        }
    }
}

impl<F: Future> Future for AsCaller<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let previous = crate::thread_state::swap_calling_identity(self.caller);
        // Restored even if the body panics.
        struct Restore((i32, u32));
        impl Drop for Restore {
            fn drop(&mut self) {
                crate::thread_state::swap_calling_identity(self.0);
            }
        }
        let _restore = Restore(previous);
        self.inner.as_mut().poll(cx)
    }
}

/// The received Parcel of the transaction being served, taken out of the stub's argument so
/// that a oneway call's future can own it; for generated stubs.
#[doc(hidden)]
pub fn take_parcel(data: &mut Parcel) -> Parcel {
    std::mem::take(data)
}

// ---- the call threads ---------------------------------------------------------------------

/// How long an idle call thread waits for work before it ends (and its driver thread with it).
const IDLE_EXIT: Duration = Duration::from_secs(10);
/// As many as a default binder service has threads (libbinder's 15 and its main thread): more
/// would mostly wait in the driver, and fewer threads each chain more calls without sleeping
/// (measured in `compare`: 64 calls at once ran at 0.81 of the blocking API's rate with 16 call
/// threads, 0.62 with 64, on two cores).
const DEFAULT_MAX_CALL_THREADS: usize = 16;

static MAX_CALL_THREADS: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_CALL_THREADS);

/// The most call threads this process runs at once for awaited calls. More calls in flight
/// than that wait, unsent, for a thread to be free.
pub fn max_call_threads() -> usize {
    MAX_CALL_THREADS.load(Ordering::Relaxed)
}

/// Sets [`max_call_threads`] (at least 1). Threads already running beyond it finish their calls
/// and then leave.
pub fn set_max_call_threads(max: usize) {
    MAX_CALL_THREADS.store(max.max(1), Ordering::Relaxed);
}

/// What the call threads are doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallThreads {
    /// Threads running (busy or idle).
    pub threads: usize,
    /// Threads running a call.
    pub busy: usize,
    /// Calls waiting for a thread.
    pub queued: usize,
}

/// The state of the call threads.
pub fn call_threads() -> CallThreads {
    let Some(pool) = POOL.get() else {
        return CallThreads::default();
    };
    let s = pool.lock();
    CallThreads {
        threads: s.threads,
        busy: s.threads - s.idle,
        queued: s.queue.len(),
    }
}

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct PoolState {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
    spawned: u64,
}

#[derive(Default)]
struct Pool {
    state: Mutex<PoolState>,
    work: Condvar,
    /// The queue's length, for threads polling for work without the lock.
    queued: AtomicUsize,
}

static POOL: OnceLock<Pool> = OnceLock::new();

impl Pool {
    fn get() -> &'static Pool {
        POOL.get_or_init(Pool::default)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        // Jobs run outside the lock, so a panic never poisons it with a half-made change.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job`; wakes an idle thread, or starts one when every thread is busy and the
    /// limit allows it. If no thread can be started and none runs, the job runs here.
    fn submit(&'static self, job: Job) {
        let mut s = self.lock();
        s.queue.push_back(job);
        self.queued.fetch_add(1, Ordering::Release);
        if s.idle >= s.queue.len() {
            // Unlocked first: a thread woken while the lock is held would only wait for it.
            drop(s);
            self.work.notify_one();
            return;
        }
        if s.threads >= max_call_threads() {
            return;
        }
        s.threads += 1;
        s.spawned += 1;
        let name = format!("binder:{}_c{:X}", std::process::id(), s.spawned);
        drop(s);
        if let Err(e) = std::thread::Builder::new()
            .name(name)
            .spawn(move || self.run())
        {
            tracing::warn!("cannot start a binder call thread: {e}");
            let mut s = self.lock();
            s.threads -= 1;
            if s.threads == 0 {
                // Nobody will take the queue: run it here rather than lose it.
                let jobs = std::mem::take(&mut s.queue);
                self.queued.fetch_sub(jobs.len(), Ordering::Release);
                drop(s);
                jobs.into_iter().for_each(|job| job());
            }
        }
    }

    fn run(&self) {
        // A thread that just finished a call polls briefly for the next one before it sleeps,
        // where cores are idle (the process's polling allowance: none below four cores): an
        // awaited call made right after the last one then costs no wake-up of this thread.
        let mut poller = Poller::new(crate::driver::userspace::poll_gate());
        let mut s = self.lock();
        loop {
            if let Some(job) = s.queue.pop_front() {
                self.queued.fetch_sub(1, Ordering::Release);
                drop(s);
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
                    tracing::error!("a job of a binder call thread panicked");
                }
                s = self.lock();
                if s.threads > max_call_threads() {
                    break;
                }
                continue;
            }
            // Counted idle while it polls too, so that a call queued now is left to it.
            s.idle += 1;
            drop(s);
            let got = poller.poll(|| self.queued.load(Ordering::Acquire) > 0);
            s = self.lock();
            if !got && s.queue.is_empty() {
                let (guard, wait) = self
                    .work
                    .wait_timeout(s, IDLE_EXIT)
                    .unwrap_or_else(|e| e.into_inner());
                s = guard;
                if wait.timed_out() && s.queue.is_empty() {
                    s.idle -= 1;
                    break;
                }
            }
            s.idle -= 1;
        }
        s.threads -= 1;
    }
}

// ---- the call future ----------------------------------------------------------------------

/// A call's outcome: its value, or the panic of the work that was to produce it.
type Outcome<T> = std::thread::Result<T>;

enum Slot<T> {
    /// The call runs; the waker of the task waiting for it.
    Waiting(Option<Waker>),
    Ready(Outcome<T>),
    /// The future was dropped: the result is dropped when it comes.
    Cancelled,
    /// The future returned the result.
    Taken,
}

struct Shared<T>(Mutex<Slot<T>>);

impl<T> Shared<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slot<T>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn cancelled(&self) -> bool {
        matches!(*self.lock(), Slot::Cancelled)
    }

    fn complete(&self, value: Outcome<T>) {
        let mut slot = self.lock();
        match std::mem::replace(&mut *slot, Slot::Taken) {
            Slot::Waiting(waker) => {
                *slot = Slot::Ready(value);
                drop(slot);
                if let Some(w) = waker {
                    w.wake();
                }
            }
            other => {
                *slot = other;
                drop(slot);
                // Nobody waits: the reply (already read, its buffer freed) goes with `value`.
                drop(value);
            }
        }
    }
}

enum CallState<T> {
    /// Not polled yet: the work to do on a call thread.
    Start(Option<Box<dyn FnOnce() -> T + Send>>),
    Running(Arc<Shared<T>>),
    Done,
}

/// An awaited binder call (or other blocking binder work) running on a call thread. Dropping
/// it cancels the wait; see the [module documentation](self).
#[must_use = "a call starts when it is first polled"]
pub struct Call<T> {
    state: CallState<T>,
}

impl<T> std::fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            CallState::Start(_) => "not started",
            CallState::Running(_) => "running",
            CallState::Done => "done",
        };
        f.debug_struct("Call").field("state", &state).finish()
    }
}

impl<T: Send + 'static> Call<T> {
    /// A future that runs `work` on a call thread when first polled.
    pub fn new(work: impl FnOnce() -> T + Send + 'static) -> Call<T> {
        Call {
            state: CallState::Start(Some(Box::new(work))),
        }
    }
}

impl<T: Send + 'static> Future for Call<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = &mut *self;
        if let CallState::Start(work) = &mut this.state {
            let work = work.take().expect("a call is started once");
            if nested() {
                // A call from inside a call this thread serves: made here, as binder requires.
                this.state = CallState::Done;
                return Poll::Ready(work());
            }
            let shared = Arc::new(Shared(Mutex::new(Slot::Waiting(Some(cx.waker().clone())))));
            let theirs = Arc::clone(&shared);
            Pool::get().submit(Box::new(move || {
                // Dropped while it waited for a thread: never sent.
                if theirs.cancelled() {
                    return;
                }
                // A panic goes to the awaiting task, not through the call thread.
                theirs.complete(std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)));
            }));
            this.state = CallState::Running(shared);
            return Poll::Pending;
        }
        let CallState::Running(shared) = &this.state else {
            panic!("a binder call future polled after it returned");
        };
        let mut slot = shared.lock();
        match std::mem::replace(&mut *slot, Slot::Taken) {
            Slot::Ready(outcome) => {
                drop(slot);
                this.state = CallState::Done;
                match outcome {
                    Ok(value) => Poll::Ready(value),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            Slot::Waiting(waker) => {
                let waker = match waker {
                    Some(w) if w.will_wake(cx.waker()) => w,
                    _ => cx.waker().clone(),
                };
                *slot = Slot::Waiting(Some(waker));
                Poll::Pending
            }
            other @ (Slot::Cancelled | Slot::Taken) => {
                *slot = other;
                unreachable!("only this future cancels or takes its result")
            }
        }
    }
}

impl<T> Drop for Call<T> {
    fn drop(&mut self) {
        if let CallState::Running(shared) = &self.state {
            let mut slot = shared.lock();
            if let Slot::Waiting(_) = *slot {
                *slot = Slot::Cancelled;
            } else if let Slot::Ready(_) = *slot {
                let ready = std::mem::replace(&mut *slot, Slot::Cancelled);
                drop(slot);
                drop(ready);
            }
        }
    }
}

/// Runs blocking binder work (e.g. a blocking proxy's method) on a call thread and awaits it.
pub fn spawn_call<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Call<T> {
    Call::new(work)
}

// ---- generated proxies' calls -------------------------------------------------------------

/// Whether this thread is serving a two-way call now: then a call it makes must be sent from
/// this thread (a nested call), not from a call thread.
fn nested() -> bool {
    crate::thread_state::serving_two_way()
}

/// The blocking call an awaited one makes: `binder_impl::call_two_way::<T>`. Generated proxies
/// name it themselves, so that a result type that cannot be read is reported once, by the same
/// bound as for the blocking proxy (the compiler merges the two identical errors).
type TwoWay<T> = fn(&SpIBinder, TransactionCode, Parcel) -> crate::Result<T>;

/// An awaited two-way call; for generated proxies. `data` is the call's Parcel, or the error
/// met while writing it; `call` is `binder_impl::call_two_way::<T>`.
#[doc(hidden)]
pub fn call_two_way<T: Send + 'static>(
    binder: &SpIBinder,
    code: TransactionCode,
    data: crate::Result<Parcel>,
    call: TwoWay<T>,
) -> BoxFuture<'static, crate::Result<T>> {
    let data = match data {
        Ok(data) => data,
        Err(e) => return Box::pin(std::future::ready(Err(e))),
    };
    let binder = binder.clone();
    Box::pin(Call::new(move || call(&binder, code, data)))
}

/// An awaited two-way call whose reply the caller reads itself (out-parameters follow the
/// return value); for generated proxies. The reply comes positioned after an OK status.
#[doc(hidden)]
pub fn call_reply(
    binder: &SpIBinder,
    code: TransactionCode,
    data: crate::Result<Parcel>,
) -> BoxFuture<'static, crate::Result<Parcel>> {
    let data = match data {
        Ok(data) => data,
        Err(e) => return Box::pin(std::future::ready(Err(e))),
    };
    let binder = binder.clone();
    Box::pin(Call::new(move || {
        crate::binder_impl::call_two_way_reply(&binder, code, data)
    }))
}

/// A oneway call, sent now from this thread (the driver does not wait for the receiver, so
/// oneway calls keep the order they were made in); for generated proxies.
#[doc(hidden)]
pub fn call_oneway(
    binder: &SpIBinder,
    code: TransactionCode,
    data: crate::Result<Parcel>,
) -> BoxFuture<'static, crate::Result<()>> {
    let result = data.and_then(|data| crate::binder_impl::call_oneway(binder, code, data));
    Box::pin(std::future::ready(result))
}

// ---- what users wait for ------------------------------------------------------------------

/// [`crate::get_interface`], awaited: the service registered as `name`, typed.
pub fn get_interface<I: FromIBinder + ?Sized>(name: &str) -> Call<Result<Strong<I>, Status>> {
    let name = name.to_owned();
    Call::new(move || crate::get_interface::<I>(&name))
}

/// [`crate::check_service`], awaited.
pub fn check_service(name: &str) -> Call<Result<Option<SpIBinder>, Status>> {
    let name = name.to_owned();
    Call::new(move || crate::check_service(&name))
}

/// [`crate::wait_for_service`], awaited: resolves when a service is registered as `name`
/// (the service manager's registration notification, no polling). Waits as long as it takes:
/// put a timeout around it for less.
pub fn wait_for_service(name: &str) -> BoxFuture<'static, Result<SpIBinder, Status>> {
    let name = name.to_owned();
    Box::pin(async move {
        let sm = crate::service_manager::service_manager;
        let found = {
            let name = name.clone();
            Call::new(move || sm()?.check_service2(&name)).await?
        };
        if let Some(binder) = found.into_binder() {
            return Ok(binder);
        }
        Ok(registrations(&name).await?.next_registration().await)
    })
}

/// [`crate::wait_for_interface`], awaited.
pub fn wait_for_interface<I: FromIBinder + ?Sized>(
    name: &str,
) -> BoxFuture<'static, Result<Strong<I>, Status>> {
    let wait = wait_for_service(name);
    Box::pin(async move {
        let binder = wait.await?;
        Call::new(move || crate::interface_cast::<I>(binder).map_err(Status::from_transport_error))
            .await
    })
}

/// The registrations of `name` with the service manager, as they happen (the service now, if
/// it is registered, then each time it is registered again): a stream of binders. Starts the
/// thread pool that receives the notifications if it is not running. The registration ends
/// when the stream is dropped.
pub fn registrations(name: &str) -> Call<Result<Registrations, Status>> {
    let name = name.to_owned();
    Call::new(move || Registrations::register(name))
}

/// What [`registrations`] returns: [`Registrations::next_registration`] awaits the next one.
pub struct Registrations {
    name: String,
    callback: Strong<dyn crate::service_manager::IServiceCallback>,
    events: Arc<Events<SpIBinder>>,
}

impl std::fmt::Debug for Registrations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registrations")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Registrations {
    fn register(name: String) -> Result<Registrations, Status> {
        let sm = crate::service_manager::service_manager()?;
        crate::ProcessState::start_thread_pool()?;
        let events = Arc::new(Events::default());
        let callback = crate::service_manager::BnServiceCallback::new_binder(Notify {
            name: name.clone(),
            events: Arc::clone(&events),
        });
        sm.register_for_notifications(&name, &callback)?;
        Ok(Registrations {
            name,
            callback,
            events,
        })
    }

    /// The next registration. Waits as long as it takes: put a timeout around it for less.
    pub fn next_registration(&mut self) -> impl Future<Output = SpIBinder> + Send + '_ {
        self.events.next()
    }
}

impl Drop for Registrations {
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.name);
        let callback = self.callback.clone();
        // Unregistering is a call: made on a call thread, not on the dropping one.
        Pool::get().submit(Box::new(move || {
            if let Ok(sm) = crate::service_manager::service_manager() {
                let _ = sm.unregister_for_notifications(&name, &callback);
            }
        }));
    }
}

struct Notify {
    name: String,
    events: Arc<Events<SpIBinder>>,
}

impl crate::service_manager::IServiceCallback for Notify {
    fn on_registration(&self, name: &str, binder: &SpIBinder) -> crate::Result<()> {
        if name == self.name {
            self.events.push(binder.clone());
        }
        Ok(())
    }
}

/// Values pushed by binder threads and awaited by one task.
struct Events<T> {
    state: Mutex<(VecDeque<T>, Option<Waker>)>,
}

impl<T> Default for Events<T> {
    fn default() -> Self {
        Events {
            state: Mutex::new((VecDeque::new(), None)),
        }
    }
}

impl<T: Send> Events<T> {
    fn push(&self, value: T) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.0.push_back(value);
        let waker = s.1.take();
        drop(s);
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn next(&self) -> impl Future<Output = T> + Send + '_ {
        std::future::poll_fn(move |cx| {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            match s.0.pop_front() {
                Some(v) => Poll::Ready(v),
                None => {
                    s.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
    }
}

/// Resolves when the remote object `binder` dies (its process exits or is killed): the async
/// form of [`SpIBinder::link_to_death`]. `DEAD_OBJECT` at once if it is already dead;
/// `INVALID_OPERATION` for a local object. The link is removed when the future is dropped.
/// Starts the thread pool (which receives the driver's death notices) if it is not running.
pub fn death(binder: &SpIBinder) -> Result<Death, StatusCode> {
    crate::ProcessState::start_thread_pool()?;
    let events = Arc::new(Events::default());
    let theirs = Arc::clone(&events);
    let recipient = crate::DeathRecipient::new(move || theirs.push(()));
    binder.link_to_death(&recipient)?;
    Ok(Death {
        binder: binder.clone(),
        recipient,
        events,
    })
}

/// The future [`death`] returns.
pub struct Death {
    binder: SpIBinder,
    recipient: crate::DeathRecipient,
    events: Arc<Events<()>>,
}

impl std::fmt::Debug for Death {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Death")
            .field("binder", &self.binder)
            .finish()
    }
}

impl Future for Death {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.events.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.0.pop_front().is_some() {
            return Poll::Ready(());
        }
        s.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Death {
    fn drop(&mut self) {
        let _ = self.binder.unlink_to_death(&self.recipient);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    }

    #[test]
    fn calls_run_on_call_threads_and_come_back_through_the_waker() {
        let rt = runtime();
        let name = rt.block_on(spawn_call(|| {
            std::thread::current().name().map(str::to_owned)
        }));
        let name = name.expect("call threads are named");
        assert!(name.starts_with("binder:") && name.contains("_c"), "{name}");
    }

    #[test]
    fn a_panicking_call_panics_its_awaiter_and_frees_its_thread() {
        let rt = runtime();
        let awaited = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(spawn_call(|| -> i32 { panic!("the call's own panic") }))
        }));
        let panic = awaited.expect_err("the panic reaches the awaiting task");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"the call's own panic"));
        // The thread that ran it is still counted right and takes the next call.
        assert_eq!(rt.block_on(spawn_call(|| 5)), 5);
    }

    #[test]
    fn a_call_never_polled_never_runs() {
        let ran = Arc::new(AtomicBool::new(false));
        let theirs = Arc::clone(&ran);
        drop(spawn_call(move || theirs.store(true, Ordering::SeqCst)));
        // A later call runs after anything queued before it on the same threads would have.
        runtime().block_on(spawn_call(|| ()));
        assert!(!ran.load(Ordering::SeqCst));
    }
}
