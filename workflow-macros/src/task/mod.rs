//! `#[task]`: parse, validate, then expand; on errors, the function, the errors and a stub.

pub(crate) mod expand;
pub(crate) mod parse;
pub(crate) mod type_text;
pub(crate) mod validate;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::ItemFn;

use crate::errors::Errors;

/// Expands `#[task(attr)] item`.
///
/// The function itself is always emitted unchanged, so that an error in the attribute never
/// hides it from the rest of the program or from an IDE.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let error = syn::Error::new(
                Span::call_site(),
                "`#[task]` goes on a function with a body, e.g. `#[task] fn add(a: i64, b: i64) -> i64`",
            );
            let error = error.to_compile_error();
            return quote!(#item #error);
        }
    };
    let mut errors = Errors::default();
    let def = parse::parse(attr, function, &mut errors);
    validate::validate(&def, &mut errors);
    match (errors.into_error(), &def.returns) {
        (None, Some(returns)) => {
            let generated = expand::expand(&def, returns);
            quote!(#item #generated)
        }
        (error, _) => {
            let error = error.map(|e| e.to_compile_error());
            let stub = expand::stub(&def);
            quote!(#item #stub #error)
        }
    }
}
