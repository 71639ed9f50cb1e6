//! Binder IPC for Rust on Linux.
//!
//! Put `#[binder_interface]` on a trait and get transaction codes, Parcel serialization, a
//! `Bp…` proxy implementing the trait and a `Bn…` stub dispatching to your implementation.
//! Transactions move with exactly one copy, from the sender's memory into a buffer the receiver
//! has mapped read-only, on Linux's binder driver or on the userspace driver this project ships
//! (started automatically where the kernel has no binder).
//!
//! Coming from AIDL: [`aidl_to_rust`] gives the Rust type for every AIDL type and annotation.

#![deny(missing_docs)]

// The macros' generated code names this crate `::binder_rt`, also inside it.
extern crate self as binder_rt;

#[doc = include_str!("aidl_to_rust.md")]
pub mod aidl_to_rust {}
mod arena;
pub mod async_rt;
mod binder;
pub mod binder_impl;
mod buffer;
pub mod driver;
mod interface;
#[cfg(feature = "introspect")]
pub mod introspect;
mod parcel;
mod parcelable;
mod process_state;
pub mod service_manager;
mod status;
mod thread_state;
#[cfg(feature = "tokio")]
pub mod tokio;

pub use async_rt::{AsyncRuntime, BoxFuture};
pub use binder::{DeathRecipient, SpIBinder, WpIBinder};
pub use binder_macros::{Parcelable, binder_interface};
pub use driver::DriverSpec;
pub use interface::{FromIBinder, Interface, Strong, Weak, interface_cast};
pub use parcelable::{ParcelFileDescriptor, Parcelable, Payload};
pub use process_state::{InitError, ProcessState};
pub use service_manager::{
    add_service, check_service, get_interface, get_service, list_services, wait_for_interface,
    wait_for_interface_timeout, wait_for_service, wait_for_service_timeout,
};
pub use status::{ExceptionCode, Result, Status, StatusCode};
pub use thread_state::{calling_pid, calling_uid};

/// Sends the commands this process has queued for the driver (freed buffers, reference
/// counts) now instead of with the next transaction.
pub fn flush_commands() -> Result<(), StatusCode> {
    thread_state::flush_commands()
}

/// The counters of this process's driver (see [`introspect::stats`]).
#[cfg(feature = "introspect")]
pub fn driver_stats() -> std::result::Result<introspect::DriverStats, introspect::IntrospectError> {
    let ps = ProcessState::try_get()
        .map_err(|e| introspect::IntrospectError::Unsupported(e.to_string()))?;
    introspect::stats(ps.driver_spec())
}

/// The README's examples compile (`cargo test --doc`), so they stay true.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// Items the macros' generated code refers to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use std::any::Any;
    pub use std::sync::Arc;
    pub use std::sync::OnceLock;
}

/// When this binary was re-executed to become a userspace driver instance (see
/// `docs/userspace-driver.md`, "Starting"), run the driver and its service manager instead of
/// the program.
#[cfg(feature = "embedded-driver")]
#[ctor::ctor]
fn run_as_spawned_driver() {
    let Some(instance) = std::env::var_os(driver::userspace::SPAWN_ENV) else {
        return;
    };
    let instance = instance.to_string_lossy().into_owned();
    std::process::exit(driver::userspace::run_spawned_driver(&instance));
}
