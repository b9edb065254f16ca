//! The parse pass: the attribute's options and the impl, as a [`ListenerDef`].

use proc_macro2::TokenStream;
use syn::LitStr;

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
    let name = crate::name_option::parse(attr, "event_listener", errors);
    ListenerDef { item, name }
}
