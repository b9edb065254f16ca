//! The parse pass: the attribute's option, the constructor and the methods, as an
//! [`ActorDef`].

use proc_macro2::TokenStream;
use quote::format_ident;
use syn::{visit_mut::VisitMut, FnArg, ImplItem, ImplItemFn, LitStr, Receiver, Type};

use crate::{
    errors::Errors,
    task::parse::{binding_name, classify, Arg, Returns},
};

/// An `impl` under `#[virtual_actor]`, as the later passes see it.
pub(crate) struct ActorDef {
    /// The impl as written.
    pub(crate) item: syn::ItemImpl,
    /// `name = "..."`: the durable name.
    pub(crate) name: Option<LitStr>,
    /// `fn new(..) -> Self`, if there is one.
    pub(crate) new: Option<Function>,
    /// The functions with a `self` receiver: the actor's methods.
    pub(crate) methods: Vec<Function>,
}

/// A function of the impl.
pub(crate) struct Function {
    /// The function as written.
    pub(crate) item: ImplItemFn,
    /// Its `self` receiver, if any.
    pub(crate) receiver: Option<Receiver>,
    /// The typed arguments after the receiver.
    pub(crate) args: Vec<Arg>,
    /// What it returns, unless that could not be told (an error is recorded then).
    pub(crate) returns: Option<Returns>,
}

impl Function {
    /// Whether the receiver is `&mut self`: a writer.
    pub(crate) fn writes(&self) -> bool {
        self.receiver
            .as_ref()
            .is_some_and(|r| r.reference.is_some() && r.mutability.is_some())
    }
}

/// Reads the option and the functions; problems are recorded in `errors`.
pub(crate) fn parse(attr: TokenStream, item: syn::ItemImpl, errors: &mut Errors) -> ActorDef {
    let name = crate::name_option::parse(attr, "virtual_actor", errors);
    let mut new = None;
    let mut methods = Vec::new();
    for impl_item in &item.items {
        let ImplItem::Fn(function) = impl_item else {
            continue;
        };
        let parsed = parse_function(function, &item.self_ty, errors);
        if function.sig.ident == "new" {
            new = Some(parsed);
        } else if parsed.receiver.is_some() {
            methods.push(parsed);
        }
    }
    ActorDef {
        item,
        name,
        new,
        methods,
    }
}

/// Reads one function; `Self` in its argument and return types is read as the actor's type,
/// which is what it means in the impl (the generated code is outside it).
fn parse_function(function: &ImplItemFn, self_ty: &Type, errors: &mut Errors) -> Function {
    let mut receiver = None;
    let mut args: Vec<Arg> = Vec::new();
    for (index, input) in function.sig.inputs.iter().enumerate() {
        match input {
            FnArg::Receiver(r) => receiver = Some(r.clone()),
            FnArg::Typed(typed) => {
                let name = binding_name(&typed.pat)
                    .filter(|name| {
                        args.iter().all(|arg| arg.name != *name) && name != "engine" && name != "id"
                    })
                    .unwrap_or_else(|| format_ident!("__arg{index}"));
                let mut ty = (*typed.ty).clone();
                ReplaceSelf(self_ty).visit_type_mut(&mut ty);
                args.push(Arg { name, ty });
            }
        }
    }
    let mut output = function.sig.output.clone();
    ReplaceSelf(self_ty).visit_return_type_mut(&mut output);
    let returns = classify(&output).map_err(|e| errors.push(e)).ok();
    Function {
        item: function.clone(),
        receiver,
        args,
        returns,
    }
}

/// Replaces the type `Self` with the actor's type.
struct ReplaceSelf<'a>(&'a Type);

impl VisitMut for ReplaceSelf<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::Path(path) = ty {
            if path.qself.is_none() && path.path.is_ident("Self") {
                *ty = self.0.clone();
                return;
            }
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}
