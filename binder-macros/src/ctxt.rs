//! Collects every error of one macro invocation, so the user sees all of them in one build.
//!
//! A collector must end in [`Errors::finish`] (or be moved into another with
//! [`Errors::append`]): dropping it with its errors unread would drop them silently and
//! generate code as if the input were fine, so it panics instead, as serde_derive's `Ctxt` does.

use std::fmt::Display;

use proc_macro2::Span;
use quote::ToTokens;

/// The errors found so far, combined with `syn::Error::combine` when reported. `None` once
/// they have been read.
pub(crate) struct Errors {
    errors: Option<Vec<syn::Error>>,
}

impl Errors {
    /// A collector with no errors yet.
    pub(crate) fn new() -> Errors {
        Errors {
            errors: Some(Vec::new()),
        }
    }

    fn list(&mut self) -> &mut Vec<syn::Error> {
        self.errors
            .as_mut()
            .expect("an error collector is used after `finish`")
    }

    /// An error covering the tokens of `at` (the user's own tokens, so the message points there).
    pub(crate) fn spanned(&mut self, at: impl ToTokens, message: impl Display) {
        self.list().push(syn::Error::new_spanned(at, message));
    }

    /// An error at `span`.
    pub(crate) fn at(&mut self, span: Span, message: impl Display) {
        self.list().push(syn::Error::new(span, message));
    }

    /// An error syn produced while parsing.
    pub(crate) fn push(&mut self, error: syn::Error) {
        self.list().push(error);
    }

    /// Moves the errors of `other` (collected apart, e.g. per method) after these; `other` is
    /// consumed.
    pub(crate) fn append(&mut self, mut other: Errors) {
        let theirs = other.errors.take().unwrap_or_default();
        self.list().extend(theirs);
    }

    /// `Err` with all the errors combined, or `Ok` if there were none.
    pub(crate) fn finish(mut self) -> syn::Result<()> {
        let mut errors = self.errors.take().unwrap_or_default().into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        if self.errors.is_some() && !std::thread::panicking() {
            panic!("binder-macros bug: an error collector was dropped without `finish`");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_combines_the_errors_in_order() {
        let mut errors = Errors::new();
        errors.at(Span::call_site(), "first");
        let mut more = Errors::new();
        more.at(Span::call_site(), "second");
        errors.append(more);
        let combined = errors.finish().unwrap_err();
        let messages: Vec<String> = combined.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages, ["first", "second"]);
        assert!(Errors::new().finish().is_ok());
    }

    #[test]
    #[should_panic(expected = "dropped without `finish`")]
    fn a_collector_dropped_unread_panics() {
        let mut errors = Errors::new();
        errors.at(Span::call_site(), "lost");
        drop(errors);
    }
}
