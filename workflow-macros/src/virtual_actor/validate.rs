//! The validate pass: every problem of a `#[virtual_actor]` impl, each spanned at the
//! narrowest token the user wrote and saying what to do instead.

use syn::{ReturnType, Signature, Type};

use super::parse::{ActorDef, Function};
use crate::{
    errors::Errors,
    name_option::type_name,
    task::validate::{type_problems, Role},
};

/// Records every problem of `def` in `errors`.
pub(crate) fn validate(def: &ActorDef, errors: &mut Errors) {
    let item = &def.item;
    if let Some((_, path, _)) = &item.trait_ {
        errors.spanned(
            path,
            "`#[virtual_actor]` goes on the actor type's own `impl` block, not on a trait impl",
        );
    }
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        errors.spanned(
            &item.generics,
            "an actor type cannot be generic: it is stored under one durable name; \
             write the impl for a concrete type",
        );
    }
    if type_name(&item.self_ty).is_none() {
        errors.spanned(
            &item.self_ty,
            "`#[virtual_actor]` goes on the impl of a named, owned type (a struct or enum)",
        );
    }
    match &def.new {
        None => errors.spanned(
            &item.self_ty,
            "an actor needs a constructor: add `fn new(..) -> Self`, run once when the actor \
             is created",
        ),
        Some(new) => check_constructor(new, &item.self_ty, errors),
    }
    for method in &def.methods {
        check_method(method, errors);
    }
}

fn check_constructor(new: &Function, self_ty: &Type, errors: &mut Errors) {
    let sig = &new.item.sig;
    if let Some(receiver) = &new.receiver {
        errors.spanned(
            receiver,
            "`new` is the actor's constructor: it takes no `self`; make it `fn new(..) -> Self`",
        );
    }
    if let Some(asyncness) = &sig.asyncness {
        errors.spanned(
            asyncness,
            "the constructor `new` must be a sync function: remove `async`",
        );
    }
    if !sig.generics.params.is_empty() {
        errors.spanned(
            &sig.generics,
            "the constructor `new` cannot be generic: its arguments follow the id in \
             `get_or_create`; take concrete types",
        );
    }
    let returns_self = match &sig.output {
        ReturnType::Type(_, ty) => {
            let written = type_name(ty);
            written.as_deref() == Some("Self") || written == type_name(self_ty)
        }
        ReturnType::Default => false,
    };
    if !returns_self {
        let span_at: &dyn quote::ToTokens = match &sig.output {
            ReturnType::Type(_, ty) => ty,
            ReturnType::Default => &sig.ident,
        };
        errors.spanned(
            span_at,
            "the constructor `new` returns the actor's initial state: write `-> Self`",
        );
    }
}

/// Names of what `#[virtual_actor]` generates, on the type or on its handle.
const GENERATED: [&str; 4] = ["get_or_create", "get_actor", "actor", "id"];

fn check_method(method: &Function, errors: &mut Errors) {
    let sig = &method.item.sig;
    let name = &sig.ident;
    if GENERATED.iter().any(|generated| name == generated) {
        errors.spanned(
            name,
            format!(
                "`{name}` is a name `#[virtual_actor]` generates (`get_or_create`, \
                 `get_actor`, `actor`, and the handle's `id`): rename the method"
            ),
        );
    }
    if let Some(receiver) = &method.receiver {
        if receiver.reference.is_none() || receiver.colon_token.is_some() {
            errors.spanned(
                receiver,
                format!(
                    "`{name}` takes `self` by value, but an actor call runs on its stored state: \
                     take `&self` (read-only) or `&mut self` (a writer)"
                ),
            );
        }
        if let Some((_, Some(lifetime))) = &receiver.reference {
            errors.spanned(
                lifetime,
                "an actor method's receiver cannot name a lifetime: write `&self` or `&mut self`",
            );
        }
    }
    check_signature_kind(sig, errors);
    for arg in &method.args {
        for error in type_problems(&arg.ty, Role::Argument) {
            errors.push(error);
        }
    }
    // The types as read, with `Self` standing for the actor's type.
    if let Some(returns) = &method.returns {
        for error in type_problems(&returns.written, Role::Output) {
            errors.push(error);
        }
    }
}

fn check_signature_kind(sig: &Signature, errors: &mut Errors) {
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.spanned(
            &sig.generics,
            "an actor method cannot be generic: each call is stored under one durable name; \
             write a method per type you need",
        );
    }
    if let Some(constness) = &sig.constness {
        errors.spanned(
            constness,
            "an actor method cannot be a `const fn`: remove `const`",
        );
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.spanned(
            unsafety,
            "an actor method cannot be an `unsafe fn`: make it safe and use an `unsafe` block \
             inside",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(
            abi,
            "an actor method cannot have an `extern` ABI: remove it",
        );
    }
}
