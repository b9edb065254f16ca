//! `#[virtual_actor]`: parse, validate, then expand; on errors, the impl and the errors.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemImpl;

use crate::errors::Errors;

/// Expands `#[virtual_actor(attr)] item`.
///
/// The impl is always emitted as written, so that an error in the attribute never hides it
/// from the rest of the program or from an IDE.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item_impl: ItemImpl = match syn::parse2(item.clone()) {
        Ok(item_impl) => item_impl,
        Err(_) => {
            let error = syn::Error::new_spanned(
                &item,
                "`#[virtual_actor]` goes on the `impl` block of the actor's type, \
                 e.g. `impl Counter { fn new() -> Self { .. } fn incr(&mut self) -> u64 { .. } }`",
            )
            .to_compile_error();
            return quote!(#item #error);
        }
    };
    let mut errors = Errors::default();
    let def = parse::parse(attr, item_impl, &mut errors);
    validate::validate(&def, &mut errors);
    let item = &def.item;
    match errors.into_error() {
        None => {
            let generated = expand::expand(&def);
            quote!(#item #generated)
        }
        Some(error) => {
            let error = error.to_compile_error();
            quote!(#item #error)
        }
    }
}
