//! The validate pass: every problem of a `#[task]` function, each spanned at the narrowest
//! token the user wrote and saying what to do instead.

use syn::{
    visit::{self, Visit},
    FnArg, Lifetime, PathSegment, Signature, Type, TypeImplTrait, TypeReference,
};

use super::{parse::TaskDef, type_text::type_text};
use crate::errors::Errors;

/// Where a type appears in the signature, for the wording of messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Argument,
    Output,
}

/// Records every problem of `def` in `errors`.
pub(crate) fn validate(def: &TaskDef, errors: &mut Errors) {
    let sig = &def.item.sig;
    check_function_kind(sig, errors);
    check_generics(sig, errors);
    for arg in &def.args {
        for error in type_problems(&arg.ty, Role::Argument) {
            errors.push(error);
        }
    }
    if let syn::ReturnType::Type(_, ty) = &sig.output {
        for error in type_problems(ty, Role::Output) {
            errors.push(error);
        }
    }
    check_options(def, errors);
}

/// Whether the function can have a `bind` next to it: no `self` and no `Self`, which would
/// mean it sits in an `impl` block, where no type can be declared beside it.
pub(crate) fn is_free_function(sig: &Signature) -> bool {
    let mut finder = Finder::new(Role::Argument);
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(_) => return false,
            FnArg::Typed(typed) => finder.visit_type(&typed.ty),
        }
    }
    finder.visit_return_type(&sig.output);
    !finder.saw_self
}

/// Whether the function is generic, explicitly or through `impl Trait` arguments, so that
/// it cannot be named without type arguments.
pub(crate) fn is_generic(sig: &Signature) -> bool {
    let mut finder = Finder::new(Role::Argument);
    for input in &sig.inputs {
        if let FnArg::Typed(typed) = input {
            finder.visit_type(&typed.ty);
        }
    }
    !sig.generics.params.is_empty() || finder.saw_impl_trait
}

/// The problems of one argument or output type: borrowed, `impl Trait`, or `Self`.
pub(crate) fn type_problems(ty: &Type, role: Role) -> Vec<syn::Error> {
    let mut finder = Finder::new(role);
    finder.visit_type(ty);
    finder.problems
}

fn check_function_kind(sig: &Signature, errors: &mut Errors) {
    for input in &sig.inputs {
        if let FnArg::Receiver(receiver) = input {
            errors.spanned(
                receiver.self_token,
                "`#[task]` goes on a free function, not a method; move it out of the impl, \
                 or use `#[virtual_actor]` for stateful objects",
            );
        }
    }
    if let Some(constness) = &sig.constness {
        errors.spanned(
            constness,
            "a task cannot be a `const fn`: it runs in the engine at run time; remove `const`",
        );
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.spanned(
            unsafety,
            "a task cannot be an `unsafe fn`: the engine cannot uphold its safety contract; \
             make it safe and use an `unsafe` block inside",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(
            abi,
            "a task cannot have an `extern` ABI: the engine calls it as Rust; remove the ABI \
             and call foreign functions from its body",
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanned(
            variadic,
            "a task cannot be variadic: each argument needs a name and a type",
        );
    }
}

fn check_generics(sig: &Signature, errors: &mut Errors) {
    let generics = &sig.generics;
    if generics.type_params().next().is_some() || generics.const_params().next().is_some() {
        errors.spanned(
            generics,
            "a task cannot be generic: its durable name must stand for one concrete function; \
             write a non-generic `#[task]` for each type you need",
        );
    } else if generics.lifetimes().next().is_some() {
        errors.spanned(
            generics,
            "a task cannot have lifetime parameters: its arguments are stored, so they must \
             be owned; remove the lifetimes and take owned types",
        );
    }
    if let Some(where_clause) = &generics.where_clause {
        errors.spanned(
            where_clause,
            "a task cannot have a `where` clause: its types must be concrete; remove it",
        );
    }
}

fn check_options(def: &TaskDef, errors: &mut Errors) {
    let options = &def.options;
    if options.blocking == Some(true) && def.item.sig.asyncness.is_some() {
        if let Some(written) = options.written("blocking") {
            errors.spanned(
                written,
                "`blocking` applies to sync tasks; an async task already yields: remove \
                 `blocking`",
            );
        }
    }
    if let Some(name) = &options.name {
        if name.value().trim().is_empty() {
            errors.spanned(
                name,
                "a task name cannot be empty: `name = \"billing.charge\"`",
            );
        }
    }
    if options.timeout.is_some_and(|t| t.is_zero()) {
        if let Some(written) = options.written("timeout") {
            errors.spanned(
                written,
                "a zero `timeout` fails every attempt: give a positive duration, e.g. \"30s\", \
                 or remove `timeout`",
            );
        }
    }
}

/// Walks one type for what a stored, concrete value cannot be.
struct Finder {
    role: Role,
    problems: Vec<syn::Error>,
    saw_self: bool,
    saw_impl_trait: bool,
}

impl Finder {
    fn new(role: Role) -> Self {
        Finder {
            role,
            problems: Vec::new(),
            saw_self: false,
            saw_impl_trait: false,
        }
    }

    fn owned_rule(&self) -> (&'static str, &'static str) {
        match self.role {
            Role::Argument => ("arguments", "take"),
            Role::Output => ("outputs", "return"),
        }
    }
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_type_reference(&mut self, reference: &'ast TypeReference) {
        let (what, verb) = self.owned_rule();
        let owned = owned_form(&reference.elem);
        self.problems.push(syn::Error::new_spanned(
            reference,
            format!(
                "task {what} are stored, so they must be owned: {verb} `{owned}` instead of `{}`",
                type_text(reference)
            ),
        ));
    }

    fn visit_type_impl_trait(&mut self, impl_trait: &'ast TypeImplTrait) {
        self.saw_impl_trait = true;
        let message = match self.role {
            Role::Argument => {
                "a task argument cannot be `impl Trait`: it is stored, so it needs one \
                 concrete, serde-able type; name the type"
            }
            Role::Output => {
                "a task cannot return `impl Trait`: its output is stored, so it needs one \
                 concrete, serde-able type; name the type (for a future, write an `async fn`)"
            }
        };
        self.problems
            .push(syn::Error::new_spanned(impl_trait, message));
    }

    fn visit_lifetime(&mut self, lifetime: &'ast Lifetime) {
        if lifetime.ident != "static" {
            let (what, _) = self.owned_rule();
            self.problems.push(syn::Error::new_spanned(
                lifetime,
                format!(
                    "task {what} are stored, so they cannot borrow: use an owned type \
                     (or `'static`) instead of `{lifetime}`"
                ),
            ));
        }
    }

    fn visit_path_segment(&mut self, segment: &'ast PathSegment) {
        if segment.ident == "Self" {
            self.saw_self = true;
            self.problems.push(syn::Error::new_spanned(
                &segment.ident,
                "`#[task]` goes on a free function, not an associated function, so `Self` \
                 has no meaning here; move the function out of the impl and name the type",
            ));
        }
        visit::visit_path_segment(self, segment);
    }
}

/// The owned type to suggest for a borrowed one: `String` for `str`, `Vec<T>` for `[T]`.
fn owned_form(borrowed: &Type) -> String {
    match borrowed {
        Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => {
            "String".to_string()
        }
        Type::Slice(slice) => format!("Vec<{}>", type_text(&slice.elem)),
        other => type_text(other),
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use syn::{parse_quote, ItemFn};

    use super::*;
    use crate::task::parse::parse;

    fn problems(attr: TokenStream, item: ItemFn) -> Vec<String> {
        let mut errors = Errors::default();
        let def = parse(attr, item, &mut errors);
        validate(&def, &mut errors);
        errors
            .into_error()
            .map(|e| e.into_iter().map(|e| e.to_string()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_plain_task_is_valid() {
        let item = parse_quote! {
            pub async fn fetch(url: String, mut n: u32, (a, b): (u8, u8)) -> Result<String, E> {}
        };
        assert!(problems(TokenStream::new(), item).is_empty());
    }

    #[test]
    fn borrowed_types_get_their_owned_form() {
        let item = parse_quote! {
            fn f(a: &str, b: &mut Order, c: Vec<&[u8]>, d: Cow<'a, str>) -> &'static str {}
        };
        let found = problems(TokenStream::new(), item);
        assert_eq!(
            found,
            [
                "task arguments are stored, so they must be owned: take `String` instead of `&str`",
                "task arguments are stored, so they must be owned: take `Order` instead of `&mut Order`",
                "task arguments are stored, so they must be owned: take `Vec<u8>` instead of `&[u8]`",
                "task arguments are stored, so they cannot borrow: use an owned type (or `'static`) instead of `'a`",
                "task outputs are stored, so they must be owned: return `String` instead of `&'static str`",
            ]
        );
    }

    #[test]
    fn every_unsupported_form_is_reported() {
        let item = parse_quote! {
            const unsafe extern "C" fn f<T>(x: impl Into<u8>) -> impl Sized where T: Copy {}
        };
        let found = problems(TokenStream::new(), item);
        assert_eq!(found.len(), 7, "{found:?}");
        assert!(found[0].contains("`const fn`"));
        assert!(found[1].contains("`unsafe fn`"));
        assert!(found[2].contains("`extern` ABI"));
        assert!(found[3].contains("cannot be generic"));
        assert!(found[4].contains("`where` clause"));
        assert!(found[5].contains("argument cannot be `impl Trait`"));
        assert!(found[6].contains("cannot return `impl Trait`"));
    }

    #[test]
    fn impl_trait_arguments_make_a_function_generic() {
        let item: ItemFn = parse_quote!(
            fn f(x: impl Into<u8>) {}
        );
        assert!(is_generic(&item.sig));
        let item: ItemFn = parse_quote!(
            fn f<T>(x: u8) {}
        );
        assert!(is_generic(&item.sig));
        let item: ItemFn = parse_quote!(
            fn f(x: &str) -> impl Sized {}
        );
        assert!(!is_generic(&item.sig));
    }

    #[test]
    fn methods_are_not_tasks() {
        let item: ItemFn = parse_quote!(
            fn f(&self, x: u8) {}
        );
        assert!(!is_free_function(&item.sig));
        let found = problems(TokenStream::new(), item);
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("`#[task]` goes on a free function, not a method"));

        let item: ItemFn = parse_quote!(
            fn new(x: u8) -> Self {}
        );
        assert!(!is_free_function(&item.sig));
        assert!(problems(TokenStream::new(), item)[0].contains("`Self` has no meaning here"));
    }

    #[test]
    fn options_are_checked_against_the_function() {
        let item = parse_quote!(
            async fn f() {}
        );
        let found = problems(quote::quote!(blocking, name = " ", timeout = "0s"), item);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("`blocking` applies to sync tasks"));
        assert!(found[1].starts_with("a task name cannot be empty"));
        assert!(found[2].starts_with("a zero `timeout`"));

        let item = parse_quote!(
            async fn f() {}
        );
        assert!(problems(quote::quote!(blocking = false), item).is_empty());
    }
}
