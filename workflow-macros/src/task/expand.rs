//! The expand pass: the marker type, its `Task` impl, the registration and `bind`.
//!
//! Everything generated names the runtime as `::workflow::__private::...`, so it does not
//! depend on the user's imports.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::{
    ext::IdentExt, parse_quote, spanned::Spanned, visit_mut::VisitMut, Attribute, Ident, Path, Type,
};

use super::{
    parse::{Returns, TaskDef},
    type_text::{signature_text, type_text},
    validate::{is_free_function, is_generic, type_problems, Role},
};

/// The code generated next to a valid task function (which is emitted by the caller).
pub(crate) fn expand(def: &TaskDef, returns: &Returns) -> TokenStream {
    let item = &def.item;
    let vis = &item.vis;
    let name = &item.sig.ident;
    let cfgs = cfg_attrs(&item.attrs);
    let arg_types: Vec<Type> = def.args.iter().map(|arg| in_child(&arg.ty)).collect();
    let output = in_child(&returns.output);

    let task_impl = task_impl(def, returns, &arg_types, &output);
    let bind = bind_fn(def, &arg_types, &output);
    let checks = value_checks(def, returns);
    let doc = format!(
        "Builders of the task [`{function}`](fn@{name}): `{function}::bind(..)` makes a `Dag` \
         node.",
        function = name.unraw(),
    );
    quote! {
        #(#cfgs)*
        #[doc = #doc]
        #[allow(dead_code)]
        #vis mod #name {
            #[allow(unused_imports)]
            use super::*;

            /// The task's marker type, implementing its runtime contract.
            #[doc(hidden)]
            pub(super) struct __Task;

            #task_impl

            ::workflow::__private::inventory::submit! {
                ::workflow::__private::TaskRegistration::of::<__Task>()
            }

            #bind
        }

        #(#cfgs)*
        #checks
    }
}

/// The module generated for a task with errors: a `bind` of the same shape whose body is
/// never run, so that call sites type-check and one mistake does not cascade.
///
/// Empty when the function sits in an `impl` block, where a module cannot be declared.
pub(crate) fn stub(def: &TaskDef) -> TokenStream {
    let item = &def.item;
    if !is_free_function(&item.sig) {
        return TokenStream::new();
    }
    let generic = is_generic(&item.sig);
    let params = def.args.iter().map(|arg| {
        let ty = &arg.ty;
        if generic || !type_problems(ty, Role::Argument).is_empty() {
            quote!(_: impl ::core::marker::Sized)
        } else {
            let ty = in_child(ty);
            quote!(_: impl ::workflow::__private::IntoArg<#ty>)
        }
    });
    let output = match &def.returns {
        Some(returns) if !generic && type_problems(&returns.output, Role::Output).is_empty() => {
            in_child(&returns.output)
        }
        _ => parse_quote!(()),
    };
    let vis = &item.vis;
    let name = &item.sig.ident;
    let cfgs = cfg_attrs(&item.attrs);
    // Naming the function keeps it from being reported as unused on top of the real errors.
    let use_function = (!generic).then(|| quote!(const _: () = { let _ = super::#name; };));
    quote! {
        #(#cfgs)*
        #[allow(dead_code, unused_imports)]
        #vis mod #name {
            use super::*;
            #use_function
            pub fn bind(#(#params),*) -> ::workflow::__private::Dag<#output> {
                ::core::unimplemented!()
            }
        }
    }
}

fn task_impl(def: &TaskDef, returns: &Returns, arg_types: &[Type], output: &Type) -> TokenStream {
    let item = &def.item;
    let name = &item.sig.ident;
    let function = name.unraw().to_string();
    let durable_name = match &def.options.name {
        Some(lit) => lit.to_token_stream(),
        // Expanded inside the module named after the function: `<fn's module path>::<fn>`.
        None => quote!(::core::module_path!()),
    };
    let version = def.options.version.unwrap_or(1);
    let signature = signature_text(def, &returns.written);
    let options = task_options(def);
    let invoke = invoke_body(def, returns);
    let locals: Vec<Ident> = (0..def.args.len())
        .map(|i| format_ident!("__arg{i}"))
        .collect();
    // Spanned at the argument list, where a type that cannot be decoded is reported.
    let args = quote_spanned!(item.sig.paren_token.span.join()=> (#(#arg_types,)*));
    quote! {
        impl ::workflow::__private::Task for __Task {
            type Args = #args;
            type Output = #output;
            const NAME: &'static str = #durable_name;
            const FUNCTION: &'static str = #function;
            const VERSION: u32 = #version;
            const SIGNATURE: u64 = ::workflow::__private::signature_hash(#signature);
            #[allow(clippy::needless_update)]
            const OPTIONS: ::workflow::__private::TaskOptions = #options;

            fn invoke(args: Self::Args) -> ::workflow::__private::Invocation<Self::Output> {
                let (#(#locals,)*) = args;
                #invoke
            }
        }
    }
}

/// The attribute's options over the runtime's defaults, so that defaults live in one place.
fn task_options(def: &TaskDef) -> TokenStream {
    let o = &def.options;
    let duration = |d: Option<std::time::Duration>| {
        d.map(|d| {
            let (secs, nanos) = (d.as_secs(), d.subsec_nanos());
            quote!(::core::option::Option::Some(::core::time::Duration::new(#secs, #nanos)))
        })
    };
    let fields = [
        ("max_retries", o.max_retries.map(|v| quote!(#v))),
        ("retry_errors", o.retry_errors.map(|v| quote!(#v))),
        ("retry_backoff", duration(o.retry_backoff)),
        ("checkpoint", o.checkpoint.map(|v| quote!(#v))),
        ("timeout", duration(o.timeout)),
        ("blocking", o.blocking.map(|v| quote!(#v))),
    ];
    let fields = fields.into_iter().filter_map(|(field, value)| {
        let field = Ident::new(field, Span::call_site());
        value.map(|value| quote!(#field: #value,))
    });
    quote! {
        ::workflow::__private::TaskOptions {
            #(#fields)*
            ..::workflow::__private::TaskOptions::DEFAULT
        }
    }
}

/// Calls the function with the decoded arguments `__arg0..` and wraps its return value.
fn invoke_body(def: &TaskDef, returns: &Returns) -> TokenStream {
    let sig = &def.item.sig;
    let name = &sig.ident;
    let locals = (0..def.args.len()).map(|i| format_ident!("__arg{i}"));
    // Spanned at the error type (else the return type), so that an error type without
    // `Display` is reported where the user wrote it.
    let return_span = match (&returns.error, &sig.output) {
        (Some(error), _) => error.span(),
        (None, syn::ReturnType::Type(_, ty)) => ty.span(),
        (None, syn::ReturnType::Default) => name.span(),
    };
    let wrapper = Ident::new(returns.kind.wrapper(), return_span);
    let mut function = name.clone();
    function.set_span(return_span);
    let call = quote_spanned!(return_span=> super::#function(#(#locals),*));
    match &sig.asyncness {
        Some(asyncness) => {
            let outcome =
                quote_spanned!(return_span=> ::workflow::__private::#wrapper(#call.await));
            // Spanned at `async`: a future that is not `Send` is reported at the function.
            quote_spanned! {asyncness.span()=>
                ::workflow::__private::Invocation::Async(::std::boxed::Box::pin(async move {
                    #outcome
                }))
            }
        }
        None => {
            let outcome = quote_spanned!(return_span=> ::workflow::__private::#wrapper(#call));
            quote! {
                ::workflow::__private::Invocation::Sync(::std::boxed::Box::new(move || #outcome))
            }
        }
    }
}

fn bind_fn(def: &TaskDef, arg_types: &[Type], output: &Type) -> TokenStream {
    let name = &def.item.sig.ident;
    let function = name.unraw();
    let bind = Ident::new("bind", name.span());
    let names: Vec<&Ident> = def.args.iter().map(|arg| &arg.name).collect();
    let params = def.args.iter().zip(arg_types).map(|(arg, ty)| {
        let name = &arg.name;
        quote_spanned!(arg.ty.span()=> #name: impl ::workflow::__private::IntoArg<#ty>)
    });
    let inputs = names
        .iter()
        .zip(arg_types)
        .map(|(name, ty)| quote!(::workflow::__private::IntoArg::<#ty>::into_input(#name)));

    let mut doc = format!(
        "Builds a node that calls [`{function}`](fn@super::{name}).\n\n\
         Each argument takes a value of its type, or the `Dag` of another task with that \
         output (a `&str` also fits a `String`, a `Vec` of `Dag`s a `Vec`)."
    );
    if !def.args.is_empty() {
        doc.push_str("\n\n# Arguments\n");
        doc.extend(
            def.args
                .iter()
                .map(|arg| format!("\n- `{}`: `{}`", arg.name.unraw(), type_text(&arg.ty))),
        );
    }
    quote! {
        #[doc = #doc]
        #[must_use = "a `Dag` does nothing until a workflow runs it"]
        pub fn #bind(#(#params),*) -> ::workflow::__private::Dag<#output> {
            ::workflow::__private::bind::<__Task>(::std::vec![#(#inputs),*])
        }
    }
}

/// `assert_task_value::<T>()` for every argument and the output, each spanned at the type as
/// the user wrote it, so that a type that cannot be stored is reported there.
fn value_checks(def: &TaskDef, returns: &Returns) -> TokenStream {
    let types = def.args.iter().map(|arg| &arg.ty).chain([&returns.output]);
    let checks = types
        .map(|ty| quote_spanned!(ty.span()=> ::workflow::__private::assert_task_value::<#ty>();));
    quote! {
        const _: () = {
            #(#checks)*
        };
    }
}

/// The function's `#[cfg(..)]` attributes, repeated on what is generated beside it.
fn cfg_attrs(attrs: &[Attribute]) -> Vec<&Attribute> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"))
        .collect()
}

/// `ty` as seen from the generated module one level down: `self::T` becomes `super::T` and
/// `super::T` becomes `super::super::T`. Other paths resolve through its `use super::*`.
fn in_child(ty: &Type) -> Type {
    struct Rebase;
    impl VisitMut for Rebase {
        fn visit_path_mut(&mut self, path: &mut Path) {
            if path.leading_colon.is_none() {
                if let Some(first) = path.segments.first_mut() {
                    if first.ident == "self" {
                        first.ident = Ident::new("super", first.ident.span());
                    } else if first.ident == "super" {
                        let span = first.ident.span();
                        path.segments.insert(0, Ident::new("super", span).into());
                    }
                }
            }
            syn::visit_mut::visit_path_mut(self, path);
        }
    }
    let mut ty = ty.clone();
    Rebase.visit_type_mut(&mut ty);
    ty
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{errors::Errors, task::parse::parse};

    fn expanded(attr: TokenStream, item: syn::ItemFn) -> String {
        let mut errors = Errors::default();
        let def = parse(attr, item, &mut errors);
        assert!(errors.into_error().is_none());
        let returns = def.returns.as_ref().expect("classified");
        expand(&def, returns).to_string()
    }

    #[test]
    fn an_async_fallible_task_expands_to_the_contract() {
        let code = expanded(
            quote!(max_retries = 5, timeout = "1.5s"),
            parse_quote! {
                pub async fn fetch(url: String, n: u32) -> Result<String, FetchError> {}
            },
        );
        for fragment in [
            "pub mod fetch",
            "type Args = (String , u32 ,)",
            "type Output = String",
            "const NAME : & 'static str = :: core :: module_path ! ()",
            "const FUNCTION : & 'static str = \"fetch\"",
            "const VERSION : u32 = 1u32",
            "signature_hash (\"fn(String, u32) -> Result<String, FetchError>\")",
            "max_retries : 5u32 ,",
            "timeout : :: core :: option :: Option :: Some (:: core :: time :: Duration :: new (1u64 , 500000000u32)) ,",
            ".. :: workflow :: __private :: TaskOptions :: DEFAULT",
            "let (__arg0 , __arg1 ,) = args ;",
            "Invocation :: Async",
            "fallible (super :: fetch (__arg0 , __arg1) . await)",
            "pub fn bind (url : impl :: workflow :: __private :: IntoArg < String >",
            "assert_task_value :: < u32 > ()",
        ] {
            assert!(code.contains(fragment), "missing `{fragment}` in {code}");
        }
    }

    #[test]
    fn a_sync_task_without_arguments_expands_to_the_contract() {
        let code = expanded(
            quote!(name = "x.one", version = 3),
            parse_quote!(
                fn one() -> i64 {}
            ),
        );
        for fragment in [
            "mod one",
            "type Args = ()",
            "const NAME : & 'static str = \"x.one\"",
            "const VERSION : u32 = 3u32",
            "let () = args ;",
            "Invocation :: Sync (:: std :: boxed :: Box :: new (move || :: workflow :: __private :: plain (super :: one ())))",
            "pub fn bind () -> :: workflow :: __private :: Dag < i64 >",
        ] {
            assert!(code.contains(fragment), "missing `{fragment}` in {code}");
        }
    }

    #[test]
    fn relative_paths_are_rebased() {
        let cases: [(Type, Type); 4] = [
            (parse_quote!(self::A), parse_quote!(super::A)),
            (parse_quote!(super::A), parse_quote!(super::super::A)),
            (
                parse_quote!(Vec<self::m::A>),
                parse_quote!(Vec<super::m::A>),
            ),
            (parse_quote!(crate::A), parse_quote!(crate::A)),
        ];
        for (ty, expected) in cases {
            assert_eq!(
                in_child(&ty).to_token_stream().to_string(),
                expected.to_token_stream().to_string()
            );
        }
    }
}
