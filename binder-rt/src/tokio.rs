//! [`Tokio`]: async binder services on a tokio runtime (feature `tokio`). The rest of async
//! binder ([`crate::async_rt`]) needs no runtime: awaited calls run on binder's own call threads
//! and wake the awaiting task through its waker, whatever runtime polls it.

use std::future::Future;
use std::pin::Pin;

use tokio::runtime::{Handle, RuntimeFlavor};

use crate::async_rt::{AsyncRuntime, BoxFuture};

/// A tokio runtime, by its handle: where the methods of async services run.
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
            // A current-thread runtime cannot block in place: run the future on a thread of
            // its own and wait for it.
            Ok(_) => std::thread::scope(|s| {
                if let Err(panic) = s.spawn(|| self.0.block_on(future)).join() {
                    std::panic::resume_unwind(panic);
                }
            }),
        }
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        drop(self.0.spawn(future));
    }
}
