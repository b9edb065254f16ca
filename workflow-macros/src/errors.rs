//! Collects every error of one macro invocation, so that the user sees all of them at once.

use std::fmt::Display;

use quote::ToTokens;

/// The errors found so far, combined into one `syn::Error` (serde's `Ctxt`).
#[derive(Default)]
pub(crate) struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    /// Records an error spanned at `tokens`.
    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records an error, such as a parse error from `syn`.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    /// All recorded errors, if any.
    pub(crate) fn into_error(self) -> Option<syn::Error> {
        self.combined
    }
}
