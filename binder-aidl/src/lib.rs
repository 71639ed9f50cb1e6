//! The front end of the AIDL compiler: reads `.aidl` files into a syntax tree and evaluates
//! their constant expressions.
//!
//! * [`lexer`]: tokens with positions, doc comments attached;
//! * [`parse`]: a file to a [`Document`] ([`ast`]), or every error found, each a
//!   [`Diagnostic`] that prints as `path:line:column: message`;
//! * [`consteval`]: the value of a constant expression under AOSP's typing rules, names looked
//!   up through a resolver the caller supplies;
//! * [`resolve`]: loads a set of files and their imports from include directories, resolves
//!   every type name and constant across them, and makes AOSP's semantic checks.
//!
//! The language accepted is the one AOSP's `aidl` tool (system/tools/aidl) accepts; where this
//! crate departs from it, the item's documentation says so. Checking annotations and
//! generating Rust are later stages.
//!
//! ```
//! use std::path::Path;
//! use binder_aidl::ast::Decl;
//!
//! let doc = binder_aidl::parse(
//!     Path::new("p/IFoo.aidl"),
//!     "package p; interface IFoo { const int A = 1 << 4; void ping(); }",
//! )
//! .unwrap();
//! let Decl::Interface(iface) = &doc.decls[0] else { panic!() };
//! assert_eq!(iface.methods[0].name.name, "ping");
//!
//! let no_names = |_: &binder_aidl::ast::QualifiedName| None;
//! let eval = binder_aidl::consteval::Evaluator::new(&doc.path, &no_names);
//! let value = eval.eval_as(&iface.consts[0].value, &binder_aidl::consteval::ConstType::Int);
//! assert_eq!(value.unwrap().to_string(), "16");
//!
//! let err = binder_aidl::parse(Path::new("p/IFoo.aidl"), "interface IFoo { void f() }")
//!     .unwrap_err();
//! assert_eq!(
//!     err[0].to_string(),
//!     "p/IFoo.aidl:1:27: expected `;` after the method declaration, found `}`"
//! );
//! ```

#![deny(missing_docs)]

pub mod ast;
pub mod consteval;
mod diagnostic;
pub mod lexer;
mod parser;
pub mod resolve;

pub use ast::Document;
pub use diagnostic::{Diagnostic, Span};
pub use parser::parse;
