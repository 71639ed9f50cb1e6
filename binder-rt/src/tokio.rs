//! [`Tokio`]: async binder services on a tokio runtime (feature `tokio`). The rest of async
//! binder ([`crate::async_rt`]) needs no runtime: awaited calls run on binder's own call threads
//! and wake the awaiting task through its waker, whatever runtime polls it.

use std::future::Future;
use std::pin::Pin;

use tokio::runtime::{Handle, RuntimeFlavor};

use crate::async_rt::{AsyncRuntime, BoxFuture};

/// A tokio runtime, by its handle: where the methods of async services run.
///
/// The runtime must keep running while it serves: a multi-thread runtime (its workers drive
/// it), or a current-thread runtime whose `block_on` is running on some thread. One that is
/// shut down or not driven leaves oneway calls unrun (the object's next oneway call waits for
/// the buffer of the last one) and two-way calls that await a timer waiting.
///
/// A two-way call's future runs on the binder thread that received it. An in-process blocking
/// call to an async service from inside a current-thread runtime (where nothing may block)
/// fails with `WOULD_BLOCK` instead of deadlocking that runtime; from a multi-thread runtime's
/// worker it runs in `block_in_place`.
#[derive(Debug, Clone)]
pub struct Tokio(Handle);

impl Tokio {
    /// The runtime of the calling task or thread. Panics outside a tokio runtime, as
    /// [`Handle::current`] does.
    pub fn current() -> Tokio {
        Tokio(Handle::current())
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        &self.0
    }
}

impl From<Handle> for Tokio {
    fn from(handle: Handle) -> Tokio {
        Tokio(handle)
    }
}

impl AsyncRuntime for Tokio {
    fn block_on(&self, future: Pin<&mut (dyn Future<Output = ()> + Send + '_)>) {
        match Handle::try_current() {
            // A binder thread: not inside any runtime.
            Err(_) => self.0.block_on(future),
            // A worker of a multi-thread runtime (an in-process call from async code through
            // a blocking interface): tell the runtime this worker blocks, then run it here.
            Ok(current) if current.runtime_flavor() == RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| self.0.block_on(future))
            }
            // Inside a current-thread runtime: blocking here could stall the very runtime the
            // future needs. Not run: the call fails with WOULD_BLOCK.
            Ok(_) => tracing::error!(
                "an async binder method called from inside a current-thread tokio runtime, \
                 where nothing may block: not run (use the async interface)"
            ),
        }
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        drop(self.0.spawn(future));
    }
}
