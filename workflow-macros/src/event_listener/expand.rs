//! The expand pass: the impl under `async_trait`, its durable names, and its registration.

use proc_macro2::TokenStream;
use quote::quote;

use super::parse::ListenerDef;

/// The user's impl, with `async_trait` applied so that its `async fn`s match the trait (an
/// inherent impl, already reported, is left as written).
pub(crate) fn item(def: &ListenerDef) -> TokenStream {
    let item = &def.item;
    if item.trait_.is_none() {
        return quote!(#item);
    }
    quote! {
        #[::workflow::__private::async_trait]
        #item
    }
}

/// The durable names of the listener's two steps, and their registrations.
pub(crate) fn registration(def: &ListenerDef) -> TokenStream {
    let self_ty = &def.item.self_ty;
    let name = crate::name_option::durable_name(def.name.as_ref(), self_ty);
    quote! {
        impl ::workflow::__private::RegisteredListener for #self_ty {
            const POLL_TASK: &'static str = ::core::concat!(#name, "::poll_for_event");
            const ACK_TASK: &'static str = ::core::concat!(#name, "::event_checkpointed");
        }

        const _: () = {
            ::workflow::__private::inventory::submit! {
                ::workflow::__private::poll_registration::<#self_ty>()
            }
            ::workflow::__private::inventory::submit! {
                ::workflow::__private::ack_registration::<#self_ty>()
            }
        };
    }
}
