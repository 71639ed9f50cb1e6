// `async_forms = false`: only the blocking forms, so the crate keeps the names the async ones
// would take (here a trait of its own called `IClockAsync`).
use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IClock", async_forms = false)]
pub trait IClock {
    fn now(&self) -> Result<i64>;
}

/// Not generated: the crate's own.
pub trait IClockAsync {
    fn later(&self) -> i64;
}

pub struct BpClockAsync;
pub struct BnClockAsync;

struct Clock;

impl IClock for Clock {
    fn now(&self) -> Result<i64> {
        Ok(0)
    }
}

fn main() {
    let clock = BnClock::new_binder(Clock);
    assert_eq!(clock.now().unwrap(), 0);
    let _ = (BpClockAsync, BnClockAsync);
}
