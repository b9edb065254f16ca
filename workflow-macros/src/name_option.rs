//! The one option of `#[event_listener]` and `#[virtual_actor]`: `name = "..."`, the durable
//! name of the type.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{
    parse::Parser, punctuated::Punctuated, Expr, Lit, LitStr, Meta, PathArguments, Token, Type,
};

use crate::errors::Errors;

/// Reads `name = "..."` from the attribute of macro `macro_name`; every mistake is recorded.
pub(crate) fn parse(attr: TokenStream, macro_name: &str, errors: &mut Errors) -> Option<LitStr> {
    let mut name: Option<LitStr> = None;
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr) {
        Ok(metas) => metas,
        Err(error) => {
            errors.push(error);
            Punctuated::new()
        }
    };
    for meta in metas {
        match &meta {
            Meta::NameValue(pair) if pair.path.is_ident("name") => match &pair.value {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(value),
                    ..
                }) => {
                    if name.is_some() {
                        errors.spanned(&meta, "`name` is given twice");
                    }
                    if value.value().trim().is_empty() {
                        errors.spanned(value, "the durable name cannot be empty");
                    }
                    name = Some(value.clone());
                }
                value => errors.spanned(value, "expected a string: `name = \"shop.orders\"`"),
            },
            _ => errors.spanned(
                &meta,
                format!("unknown option; `#[{macro_name}]` takes only `name = \"...\"`"),
            ),
        }
    }
    name
}

/// The durable name as tokens of a `&'static str` expression: the option, or the module
/// path and the type's name as written.
pub(crate) fn durable_name(name: Option<&LitStr>, self_ty: &Type) -> TokenStream {
    match name {
        Some(name) => name.to_token_stream(),
        None => {
            let type_name = type_name(self_ty).unwrap_or_default();
            quote::quote!(::core::concat!(::core::module_path!(), "::", #type_name))
        }
    }
}

/// The name of a type as written (`Orders`, `Queue<u8>`), for its durable name; `None` for
/// anything but a path.
pub(crate) fn type_name(ty: &Type) -> Option<String> {
    let Type::Path(path) = ty else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    let arguments = match &last.arguments {
        PathArguments::None => String::new(),
        arguments => quote::quote!(#arguments)
            .to_string()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect(),
    };
    Some(format!("{}{arguments}", last.ident))
}
