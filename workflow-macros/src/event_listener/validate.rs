//! The validate pass: the shapes of impl that can be registered as a listener.

use super::parse::ListenerDef;
use crate::{errors::Errors, name_option::type_name};

/// Records every reason the impl cannot be an event listener.
pub(crate) fn validate(def: &ListenerDef, errors: &mut Errors) {
    let item = &def.item;
    match &item.trait_ {
        None => errors.spanned(
            &item.self_ty,
            "`#[event_listener]` goes on `impl EventListener for YourType`, not on an inherent impl",
        ),
        Some((bang, path, _)) => {
            if bang.is_some() {
                errors.spanned(path, "a negative impl cannot be an event listener");
            }
            if path.segments.last().map(|s| &s.ident) != Some(&quote::format_ident!("EventListener")) {
                errors.spanned(
                    path,
                    "`#[event_listener]` goes on an `impl EventListener for YourType`",
                );
            }
        }
    }
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        errors.spanned(
            &item.generics,
            "an event listener cannot be generic: it is registered under one durable name; implement `EventListener` for a concrete type",
        );
    }
    if type_name(&item.self_ty).is_none() {
        errors.spanned(
            &item.self_ty,
            "implement `EventListener` for a named, owned type (a struct or enum)",
        );
    }
}
