//! Procedural macros for binder-rt: `#[binder_interface]` turns a trait into a binder interface
//! (transaction codes, a `Bn` stub, a `Bp` proxy, `FromIBinder`), and `#[derive(Parcelable)]`
//! gives structs and enums their AIDL wire form. Use them through `binder_rt`, which re-exports
//! both; the generated code refers to `::binder_rt`.
//!
//! Compile-time behaviour (errors included) is tested in the `ui-tests` crate.

#![deny(missing_docs)]

mod ctxt;
mod interface;
mod parcelable;
mod util;

use proc_macro::TokenStream;

/// Declares a binder interface.
///
/// ```ignore
/// #[binder_interface(descriptor = "com.example.ICalculator")]
/// pub trait ICalculator {
///     fn add(&self, a: i32, b: i32) -> binder_rt::Result<i32>;
///     #[oneway]
///     fn log(&self, line: &str) -> binder_rt::Result<()>;
///     #[code(42)]
///     fn pinned(&self) -> binder_rt::Result<Vec<String>>;
/// }
/// ```
///
/// Keeps the trait (adding the `binder_rt::Interface` supertrait) and generates `BnCalculator`
/// (the local stub: `BnCalculator::new_binder(implementation)`, the `DESCRIPTOR` and
/// `TRANSACTION_*` constants), `BpCalculator` (the proxy) and `FromIBinder for dyn ICalculator`.
///
/// Arguments: `descriptor = "..."` (required), `version = N` and `hash = "..."` (a versioned
/// interface answering `interface_version()` / `interface_hash()`). Method attributes:
/// `#[oneway]` (no reply) and `#[code(N)]` (pins the transaction code; otherwise
/// `FIRST_CALL_TRANSACTION` + the method's declaration index).
#[proc_macro_attribute]
pub fn binder_interface(args: TokenStream, input: TokenStream) -> TokenStream {
    interface::expand(args.into(), input.into()).into()
}

/// Implements the AIDL wire form of a struct (a structured parcelable), a fieldless enum with an
/// integer `#[repr]` (an AIDL enum), or an enum whose variants each hold one value (an AIDL
/// union).
#[proc_macro_derive(Parcelable)]
pub fn derive_parcelable(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    parcelable::expand(&input).into()
}
