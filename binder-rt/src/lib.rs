//! Binder IPC for Rust on Linux.
//!
//! Put `#[binder_interface]` on a trait and get transaction codes, Parcel serialization, a
//! `Bp…` proxy implementing the trait and a `Bn…` stub dispatching to your implementation.
//! Transactions move with exactly one copy, from the sender's memory into a buffer the receiver
//! has mapped read-only, on Linux's binder driver or on the userspace driver this project ships
//! (started automatically where the kernel has no binder).

mod binder;
mod buffer;
pub mod driver;
mod interface;
mod parcel;
mod parcelable;
mod process_state;
mod status;
mod thread_state;

pub use binder::{
    DEBUG_PID_TRANSACTION, DUMP_TRANSACTION, DeathRecipient, EXTENSION_TRANSACTION,
    FIRST_CALL_TRANSACTION, FLAG_CLEAR_BUF, FLAG_ONEWAY, GET_INTERFACE_HASH_TRANSACTION,
    GET_INTERFACE_VERSION_TRANSACTION, INTERFACE_TRANSACTION, LAST_CALL_TRANSACTION,
    PING_TRANSACTION, Remotable, SHELL_COMMAND_TRANSACTION, SYSPROPS_TRANSACTION, SpIBinder,
    TransactionCode, TransactionFlags, WpIBinder,
};
// TEMP pub use binder_macros::{Parcelable, binder_interface};
pub use driver::DriverSpec;
pub use interface::{FromIBinder, Interface, Strong, Weak, interface_cast};
pub use parcel::{Parcel, SizedReader};
pub use parcelable::{
    Deserialize, DeserializeArray, DeserializeOption, NON_NULL_PARCELABLE_FLAG, Parcelable,
    ParcelFileDescriptor, Payload, Serialize, SerializeArray, SerializeOption,
};
pub use process_state::{InitError, ProcessState};
pub use status::{ExceptionCode, Result, Status, StatusCode};
pub use thread_state::{calling_pid, calling_uid};

/// Items the macros' generated code refers to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use std::sync::Arc;
    pub use std::any::Any;
}

/// When this binary was re-executed to become a userspace driver instance (see
/// `docs/userspace-driver.md`, "Starting"), run the driver instead of the program.
#[cfg(any())] // TEMP until binder-driver exposes serve()
#[ctor::ctor]
fn run_as_spawned_driver() {
    let Some(instance) = std::env::var_os(driver::userspace::SPAWN_ENV) else { return };
    let instance = instance.to_string_lossy().into_owned();
    let config = binder_driver::DriverConfig {
        instance,
        idle_exit: Some(driver::userspace::AUTO_DRIVER_IDLE_EXIT),
        ..Default::default()
    };
    let code = match binder_driver::serve(config) {
        Ok(()) | Err(binder_driver::DriverError::AlreadyRunning) => 0,
        Err(e) => {
            eprintln!("binderd: {e}");
            1
        }
    };
    std::process::exit(code);
}
