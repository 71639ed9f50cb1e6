//! Collects every error of one macro invocation, so the user sees all of them in one build.

use std::fmt::Display;

use proc_macro2::Span;
use quote::ToTokens;

/// The errors found so far, combined with `syn::Error::combine` when reported.
#[derive(Default)]
pub(crate) struct Errors {
    errors: Vec<syn::Error>,
}

impl Errors {
    /// An error covering the tokens of `at` (the user's own tokens, so the message points there).
    pub(crate) fn spanned(&mut self, at: impl ToTokens, message: impl Display) {
        self.errors.push(syn::Error::new_spanned(at, message));
    }

    /// An error at `span`.
    pub(crate) fn at(&mut self, span: Span, message: impl Display) {
        self.errors.push(syn::Error::new(span, message));
    }

    /// An error syn produced while parsing.
    pub(crate) fn push(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    /// Moves the errors of `other` (collected apart, e.g. per method) after these.
    pub(crate) fn append(&mut self, other: &mut Errors) {
        self.errors.append(&mut other.errors);
    }

    /// `Err` with all the errors combined, or `Ok` if there were none.
    pub(crate) fn finish(self) -> syn::Result<()> {
        let mut errors = self.errors.into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }
}
