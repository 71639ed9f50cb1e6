//! binder-rs as a user gets it: a `#[binder_interface]` trait, its generated proxy and stub, on
//! whichever driver `BINDER_DEVICE` names (a userspace driver instance or a kernel device).

use binder_rt::{ProcessState, binder_interface};

use crate::measure::{Link, answer};

#[binder_interface(descriptor = "compare.IBench")]
pub trait IBench {
    /// Reads `data` in place in the receive mapping and answers [`answer`] of it.
    fn send(&self, data: &[u8]) -> binder_rt::Result<i64>;
}

struct Bench;

impl IBench for Bench {
    fn send(&self, data: &[u8]) -> binder_rt::Result<i64> {
        Ok(answer(data) as i64)
    }
}

pub const SERVICE: &str = "compare.bench";

/// Binder threads of the server: enough that 64 clients are not queued behind a few threads
/// more than a socket server's thread per connection would be.
const SERVER_THREADS: u32 = 32;

pub fn serve() -> Result<(), String> {
    let service = BnBench::new_binder(Bench);
    ProcessState::set_thread_pool_max_thread_count(SERVER_THREADS).map_err(|e| e.to_string())?;
    binder_rt::add_service(SERVICE, service.as_binder()).map_err(|e| e.to_string())?;
    ProcessState::start_thread_pool().map_err(|e| e.to_string())?;
    crate::ready(SERVICE);
    ProcessState::join_thread_pool().map_err(|e| e.to_string())
}

pub struct BinderLink(binder_rt::Strong<dyn IBench>);

impl BinderLink {
    pub fn connect(name: &str) -> Result<BinderLink, String> {
        binder_rt::get_interface::<dyn IBench>(name)
            .map(BinderLink)
            .map_err(|e| format!("get_interface {name}: {e}"))
    }
}

impl Link for BinderLink {
    fn call(&mut self, payload: &[u8]) -> Result<u64, String> {
        self.0
            .send(payload)
            .map(|v| v as u64)
            .map_err(|e| e.to_string())
    }
}
