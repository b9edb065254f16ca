//! The expand pass: the handle type, `get_or_create` and `get_actor`, and for each method a
//! marker type with its `ActorMethod` impl, its registration and its handle method.
//!
//! Everything generated names the runtime as `::workflow::__private::...`, so it does not
//! depend on the user's imports.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{ext::IdentExt, spanned::Spanned, Ident, Type};

use super::parse::{ActorDef, Function};
use crate::{
    name_option::durable_name,
    task::{expand::cfg_attrs, type_text::type_text},
};

/// The code generated beside a valid `#[virtual_actor]` impl (which the caller emits).
pub(crate) fn expand(def: &ActorDef) -> TokenStream {
    let Some(new) = &def.new else {
        return TokenStream::new();
    };
    let self_ty = &def.item.self_ty;
    let handle = handle_name(self_ty);
    let vis = &new.item.vis;
    let name = durable_name(def.name.as_ref(), self_ty);
    let type_doc = type_text(self_ty);
    let handle_doc = format!(
        "A handle to a `{type_doc}` actor, from `{type_doc}::get_or_create` or \
         `{type_doc}::get_actor`: each of its methods starts a call of the actor's method of \
         that name (`.run().await` or `.spawn().await`)."
    );
    let openers = openers(new, &handle, &type_doc);
    let methods = def
        .methods
        .iter()
        .map(|method| method_items(method, self_ty, &name));
    let handle_methods = def.methods.iter().map(handle_method);
    let checks = value_checks(def);
    quote! {
        #[doc = #handle_doc]
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #[allow(dead_code, unreachable_pub)]
        #vis struct #handle {
            inner: ::workflow::__private::ActorHandle,
        }

        #[allow(dead_code, unreachable_pub, private_interfaces, private_bounds)]
        impl #self_ty {
            #openers
        }

        const _: () = {
            impl ::workflow::__private::VirtualActor for #self_ty {
                const NAME: &'static str = #name;
            }

            #(#methods)*

            #[allow(dead_code, unreachable_pub, private_interfaces, private_bounds)]
            impl #handle {
                /// The actor's id.
                pub fn id(&self) -> &str {
                    self.inner.id()
                }

                #(#handle_methods)*
            }

            #checks
        };
    }
}

/// `CounterHandle` for `Counter`.
fn handle_name(self_ty: &Type) -> Ident {
    let ident = match self_ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.unraw()),
        _ => None,
    };
    match ident {
        Some(ident) => format_ident!("{}Handle", ident, span = self_ty.span()),
        None => Ident::new("ActorHandle", Span::call_site()),
    }
}

/// `get_or_create(engine, id, new's args..)` and `get_actor(engine, id)`.
fn openers(new: &Function, handle: &Ident, type_doc: &str) -> TokenStream {
    let vis = &new.item.vis;
    let params = new.args.iter().map(|arg| {
        let (name, ty) = (&arg.name, &arg.ty);
        quote!(#name: #ty)
    });
    let names = new.args.iter().map(|arg| &arg.name);
    let create_doc = format!(
        "Opens the `{type_doc}` actor `id`, creating it with `{type_doc}::new(..)` (given \
         the arguments after `id`) if it does not exist yet.\n\n\
         # Errors\n\n`Error::InvalidId` for a malformed id, `Error::ActorTypeMismatch` if \
         `id` is an actor of another type, and storage errors."
    );
    let get_doc = format!(
        "Opens the existing `{type_doc}` actor `id`.\n\n\
         # Errors\n\n`Error::NotFound` if there is no actor `id`, \
         `Error::ActorTypeMismatch` if it is of another type."
    );
    let actor_doc = format!(
        "A handle to the `{type_doc}` actor `id` for building workflows: `.bind()` makes its \
         calls steps of a DAG (in a method's or a task's continuation), queued when the step \
         runs. Its calls cannot `.run()` or `.spawn()` (`Error::Unbound`): that takes \
         `{type_doc}::get_actor(&engine, id)`."
    );
    quote! {
        #[doc = #create_doc]
        #vis async fn get_or_create(
            engine: &::workflow::__private::Engine,
            id: &str,
            #(#params),*
        ) -> ::workflow::__private::Result<#handle> {
            ::workflow::__private::get_or_create::<Self>(engine, id, move || Self::new(#(#names),*))
                .await
                .map(|inner| #handle { inner })
        }

        #[doc = #actor_doc]
        #vis fn actor(id: &str) -> #handle {
            #handle {
                inner: ::workflow::__private::ActorHandle::unbound(id),
            }
        }

        #[doc = #get_doc]
        #vis async fn get_actor(
            engine: &::workflow::__private::Engine,
            id: &str,
        ) -> ::workflow::__private::Result<#handle> {
            ::workflow::__private::get_actor::<Self>(engine, id)
                .await
                .map(|inner| #handle { inner })
        }
    }
}

fn marker(method: &Function) -> Ident {
    format_ident!("__Method_{}", method.item.sig.ident.unraw())
}

/// The marker of one method, its `ActorMethod` impl and its registration.
fn method_items(method: &Function, self_ty: &Type, actor_name: &TokenStream) -> TokenStream {
    let Some(returns) = &method.returns else {
        return TokenStream::new();
    };
    let sig = &method.item.sig;
    let ident = &sig.ident;
    let function = ident.unraw().to_string();
    let marker = marker(method);
    let cfgs = cfg_attrs(&method.item.attrs);
    let arg_types = method.args.iter().map(|arg| &arg.ty);
    let output = &returns.output;
    let writes = method.writes();
    let receiver = if writes { "&mut self" } else { "&self" };
    let signature = format!(
        "fn({}) -> {}",
        std::iter::once(receiver.to_string())
            .chain(method.args.iter().map(|arg| type_text(&arg.ty)))
            .collect::<Vec<_>>()
            .join(", "),
        type_text(&returns.written)
    );
    let locals: Vec<Ident> = (0..method.args.len())
        .map(|i| format_ident!("__arg{i}"))
        .collect();
    let return_span = returns.span(sig);
    let wrapper = Ident::new(returns.kind.wrapper(), return_span);
    let call = quote_spanned!(return_span=> __state.#ident(#(#locals),*));
    let invocation = match &sig.asyncness {
        Some(asyncness) => {
            let outcome =
                quote_spanned!(return_span=> ::workflow::__private::#wrapper(#call.await));
            quote_spanned! {asyncness.span()=>
                ::workflow::__private::ActorInvocation::Async(::std::boxed::Box::pin(async move {
                    #[allow(unused_mut)]
                    let mut __state = state;
                    let __outcome = #outcome;
                    (__state, __outcome)
                }))
            }
        }
        None => {
            let outcome = quote_spanned!(return_span=> ::workflow::__private::#wrapper(#call));
            quote! {
                ::workflow::__private::ActorInvocation::Sync(::std::boxed::Box::new(move || {
                    #[allow(unused_mut)]
                    let mut __state = state;
                    let __outcome = #outcome;
                    (__state, __outcome)
                }))
            }
        }
    };
    quote! {
        #(#cfgs)*
        #[allow(non_camel_case_types, dead_code)]
        enum #marker {}

        #(#cfgs)*
        impl ::workflow::__private::ActorMethod for #marker {
            type Actor = #self_ty;
            type Args = (#(#arg_types,)*);
            type Output = #output;
            const NAME: &'static str = ::core::concat!(#actor_name, "::", #function);
            const FUNCTION: &'static str = #function;
            const SIGNATURE: u64 = ::workflow::__private::signature_hash(#signature);
            const WRITES: bool = #writes;

            fn call(
                state: #self_ty,
                args: Self::Args,
            ) -> ::workflow::__private::ActorInvocation<#self_ty, #output> {
                let (#(#locals,)*) = args;
                #invocation
            }
        }

        #(#cfgs)*
        ::workflow::__private::inventory::submit! {
            ::workflow::__private::method_registration::<#marker>()
        }
    }
}

/// The handle's method that starts a call of `method`.
fn handle_method(method: &Function) -> TokenStream {
    let Some(returns) = &method.returns else {
        return TokenStream::new();
    };
    let item = &method.item;
    let vis = &item.vis;
    let ident = &item.sig.ident;
    let output = &returns.output;
    let marker = marker(method);
    let cfgs = cfg_attrs(&item.attrs);
    let docs = item.attrs.iter().filter(|attr| attr.path().is_ident("doc"));
    let params = method.args.iter().map(|arg| {
        let (name, ty) = (&arg.name, &arg.ty);
        quote_spanned!(ty.span()=> #name: impl ::workflow::__private::IntoArg<#ty>)
    });
    let inputs = method.args.iter().map(|arg| {
        let (name, ty) = (&arg.name, &arg.ty);
        quote!(::workflow::__private::IntoArg::<#ty>::into_input(#name))
    });
    quote! {
        #(#cfgs)*
        #(#docs)*
        #vis fn #ident(&self, #(#params),*) -> ::workflow::__private::ActorCall<#output> {
            self.inner.call::<#marker>(::std::vec![#(#inputs),*])
        }
    }
}

/// `assert_task_value::<T>()` for the state, every method argument and output, each spanned
/// at the type as the user wrote it.
fn value_checks(def: &ActorDef) -> TokenStream {
    let self_ty = &def.item.self_ty;
    let state =
        quote_spanned!(self_ty.span()=> ::workflow::__private::assert_task_value::<#self_ty>(););
    let methods = def.methods.iter().map(|method| {
        let cfgs = cfg_attrs(&method.item.attrs);
        let types = method
            .args
            .iter()
            .map(|arg| &arg.ty)
            .chain(method.returns.as_ref().map(|r| &r.output));
        let checks = types.map(
            |ty| quote_spanned!(ty.span()=> ::workflow::__private::assert_task_value::<#ty>();),
        );
        quote! {
            #(#cfgs)*
            const _: () = {
                #(#checks)*
            };
        }
    });
    quote! {
        const _: () = {
            #state
        };
        #(#methods)*
    }
}
