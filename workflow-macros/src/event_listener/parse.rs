//! The parse pass: the attribute's options and the impl, as a [`ListenerDef`].

use proc_macro2::TokenStream;
use syn::{parse::Parser, punctuated::Punctuated, Expr, Lit, LitStr, Meta, Token};

use crate::errors::Errors;

/// An `impl EventListener for T` under `#[event_listener]`, as the later passes see it.
pub(crate) struct ListenerDef {
    /// The impl as written.
    pub(crate) item: syn::ItemImpl,
    /// `name = "..."`: the durable name.
    pub(crate) name: Option<LitStr>,
}

/// Reads the attribute's options; every mistake is recorded, none stops the parse.
pub(crate) fn parse(attr: TokenStream, item: syn::ItemImpl, errors: &mut Errors) -> ListenerDef {
    let mut name = None;
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
                    name = Some(value.clone());
                }
                value => errors.spanned(value, "expected a string: `name = \"orders.listener\"`"),
            },
            _ => errors.spanned(
                &meta,
                "unknown option; `#[event_listener]` takes only `name = \"...\"`",
            ),
        }
    }
    ListenerDef { item, name }
}
