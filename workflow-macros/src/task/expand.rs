//! The expand pass: the marker type and its `bind`, the `Task` impl and the registration.
//!
//! The marker is an uninhabited enum named after the function: a type lives in the type
//! namespace and the function in the value namespace, so both share the name, `add::bind`
//! names the builder and `add(..)` still calls the function. Everything is generated next to
//! the function, in its own scope, so a task can be declared wherever a function can, a
//! function body included, and its signature's types resolve exactly as the user wrote them.
//!
//! Everything generated names the runtime as `::workflow::__private::...`, so it does not
//! depend on the user's imports.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::{ext::IdentExt, parse_quote, spanned::Spanned, Attribute, Ident, Type};

use super::{
    parse::{Returns, TaskDef},
    type_text::{signature_text, type_text},
    validate::{is_free_function, is_generic, type_problems, Role},
};

/// The code generated next to a valid task function (which is emitted by the caller).
///
/// The `Task` impl is on a private enum of its own, `__Task`, not on the marker: the marker
/// has the function's visibility, and the types of an impl's associated types must be at
/// least as visible as the impl, so a `pub fn` taking a `pub(crate)` type would not compile.
/// `__Task` sits in an anonymous const with the registration and a private `__bind` that
/// `bind` calls; all of it resolves names in the function's scope, like the code around it.
pub(crate) fn expand(def: &TaskDef, returns: &Returns) -> TokenStream {
    let item = &def.item;
    let name = &item.sig.ident;
    let cfgs = cfg_attrs(&item.attrs);
    let output = &returns.output;
    let marker = marker(def);
    let task_impl = task_impl(def, returns);
    let bind = bind_fn(def, output);
    let remote = remote_fn(def, output);
    let arg_types = def.args.iter().map(|arg| &arg.ty);
    let value_types = value_types(def, returns);
    quote! {
        #(#cfgs)*
        #marker

        #(#cfgs)*
        #[allow(dead_code, unreachable_pub, private_interfaces, private_bounds)]
        impl #name {
            #bind

            #remote
        }

        #(#cfgs)*
        const _: () = {
            #[allow(dead_code)]
            enum __Task {}

            #task_impl

            #value_types

            ::workflow::__private::inventory::submit! {
                ::workflow::__private::TaskRegistration::of::<__Task>()
                    .with_value_types(__VALUE_TYPES)
            }

            #[allow(dead_code)]
            impl #name {
                fn __bind(
                    inputs: ::std::vec::Vec<::workflow::__private::Input>,
                ) -> ::workflow::__private::Dag<#output> {
                    ::workflow::__private::bind::<__Task>(inputs)
                }

                fn __remote(
                    args: (#(#arg_types,)*),
                ) -> ::workflow::__private::ObjectRef<#output> {
                    ::workflow::__private::remote::<__Task>(args)
                }
            }
        };
    }
}

/// What is generated for a task with errors: the marker and a `bind` of the same shape whose
/// body is never run, so that call sites type-check and one mistake does not cascade.
///
/// Empty when the function sits in an `impl` block, where no type can be declared.
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
            quote!(_: impl ::workflow::__private::IntoArg<#ty>)
        }
    });
    let output = match &def.returns {
        Some(returns) if !generic && type_problems(&returns.output, Role::Output).is_empty() => {
            returns.output.clone()
        }
        _ => parse_quote!(()),
    };
    let name = &item.sig.ident;
    let cfgs = cfg_attrs(&item.attrs);
    let marker = marker(def);
    // Naming the function keeps it from being reported as unused on top of the real errors.
    let use_function = (!generic).then(|| {
        quote! {
            #(#cfgs)*
            const _: () = {
                let _ = #name;
            };
        }
    });
    quote! {
        #(#cfgs)*
        #marker

        #(#cfgs)*
        #[allow(dead_code, unreachable_pub, private_interfaces, private_bounds)]
        impl #name {
            pub fn bind(#(#params),*) -> ::workflow::__private::Dag<#output> {
                ::core::unimplemented!()
            }
        }

        #use_function
    }
}

/// The uninhabited enum named after the function, with the function's visibility.
fn marker(def: &TaskDef) -> TokenStream {
    let item = &def.item;
    let vis = &item.vis;
    let name = &item.sig.ident;
    let doc = format!(
        "The task [`{function}`](fn@{name}): `{function}::bind(..)` builds a `Dag` node that \
         calls it.",
        function = name.unraw(),
    );
    quote! {
        #[doc = #doc]
        #[allow(non_camel_case_types, dead_code, unreachable_pub)]
        #vis enum #name {}
    }
}

fn task_impl(def: &TaskDef, returns: &Returns) -> TokenStream {
    let item = &def.item;
    let name = &item.sig.ident;
    let function = name.unraw().to_string();
    let durable_name = match &def.options.name {
        Some(lit) => lit.to_token_stream(),
        // `<fn's module path>::<fn>`, the fn spelled as `module_path!` spells path segments
        // (`r#type` stays `r#type`), so that the whole name reads as one path.
        None => {
            let written = name.to_string();
            quote!(::core::concat!(::core::module_path!(), "::", #written))
        }
    };
    let arg_types = def.args.iter().map(|arg| &arg.ty);
    let output = &returns.output;
    let version = def.options.version.unwrap_or(1);
    let signature = signature_text(def, &returns.written);
    let options = task_options(def);
    let invoke = invoke_body(def, returns);
    let continues = returns.kind.continues();
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
            const CONTINUES: bool = #continues;

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
    let return_span = returns.span(sig);
    let wrapper = Ident::new(returns.kind.wrapper(), return_span);
    let mut function = name.clone();
    function.set_span(return_span);
    // The function, not the marker: an enum without variants has nothing in the value
    // namespace, so the name as written resolves to the function wherever it is declared.
    let call = quote_spanned!(return_span=> #function(#(#locals),*));
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

fn bind_fn(def: &TaskDef, output: &Type) -> TokenStream {
    let name = &def.item.sig.ident;
    let function = name.unraw();
    let bind = Ident::new("bind", name.span());
    let params = def.args.iter().map(|arg| {
        let (name, ty) = (&arg.name, &arg.ty);
        quote_spanned!(ty.span()=> #name: impl ::workflow::__private::IntoArg<#ty>)
    });
    let inputs = def.args.iter().map(|arg| {
        let (name, ty) = (&arg.name, &arg.ty);
        quote!(::workflow::__private::IntoArg::<#ty>::into_input(#name))
    });

    let mut doc = format!(
        "Builds a node that calls [`{function}`](fn@{name}).\n\n\
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
            Self::__bind(::std::vec![#(#inputs),*])
        }
    }
}

/// `remote(..)`: starts the task at once inside the running task, not durably, and returns a
/// reference to its output.
fn remote_fn(def: &TaskDef, output: &Type) -> TokenStream {
    let name = &def.item.sig.ident;
    let function = name.unraw();
    let remote = Ident::new("remote", name.span());
    let params = def.args.iter().map(|arg| {
        let (name, ty) = (&arg.name, &arg.ty);
        quote!(#name: #ty)
    });
    let names = def.args.iter().map(|arg| &arg.name);
    let doc = format!(
        "Starts [`{function}`](fn@{name}) at once inside the running task, not durably, and \
         returns a reference to its output. The output is checkpointed with the output of \
         the task that returns the reference.\n\n\
         # Panics\n\nPanics outside a task."
    );
    quote! {
        #[doc = #doc]
        pub fn #remote(#(#params),*) -> ::workflow::__private::ObjectRef<#output> {
            Self::__remote((#(#names,)*))
        }
    }
}

/// The value types of the arguments and the output, registered with the task (for JSON), each
/// spanned at the type as the user wrote it: their `TaskValue` bound reports a type that
/// cannot be stored there.
fn value_types(def: &TaskDef, returns: &Returns) -> TokenStream {
    let types = def.args.iter().map(|arg| &arg.ty).chain([&returns.output]);
    let types =
        types.map(|ty| quote_spanned!(ty.span()=> ::workflow::__private::ValueType::of::<#ty>()));
    quote! {
        const __VALUE_TYPES: &[::workflow::__private::ValueType] = &[#(#types,)*];
    }
}

/// The function's `#[cfg(..)]` attributes, repeated on what is generated beside it.
pub(crate) fn cfg_attrs(attrs: &[Attribute]) -> Vec<&Attribute> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"))
        .collect()
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
            "# [allow (non_camel_case_types , dead_code , unreachable_pub)] pub enum fetch { }",
            "const _ : () = { # [allow (dead_code)] enum __Task { }",
            "impl :: workflow :: __private :: Task for __Task {",
            "type Args = (String , u32 ,)",
            "type Output = String",
            "const NAME : & 'static str = :: core :: concat ! (:: core :: module_path ! () , \"::\" , \"fetch\")",
            "const FUNCTION : & 'static str = \"fetch\"",
            "const VERSION : u32 = 1u32",
            "signature_hash (\"fn(String, u32) -> Result<String, FetchError>\")",
            "max_retries : 5u32 ,",
            "timeout : :: core :: option :: Option :: Some (:: core :: time :: Duration :: new (1u64 , 500000000u32)) ,",
            ".. :: workflow :: __private :: TaskOptions :: DEFAULT",
            "let (__arg0 , __arg1 ,) = args ;",
            "Invocation :: Async",
            "fallible (fetch (__arg0 , __arg1) . await)",
            "inventory :: submit ! { :: workflow :: __private :: TaskRegistration :: of :: < __Task > () . with_value_types (__VALUE_TYPES) }",
            "const __VALUE_TYPES : & [:: workflow :: __private :: ValueType] = & [",
            "impl fetch {",
            "pub fn bind (url : impl :: workflow :: __private :: IntoArg < String >",
            "Self :: __bind (:: std :: vec ! [",
            "bind :: < __Task > (inputs)",
            "ValueType :: of :: < u32 > ()",
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
            "enum one { }",
            "type Args = ()",
            "const NAME : & 'static str = \"x.one\"",
            "const VERSION : u32 = 3u32",
            "let () = args ;",
            "Invocation :: Sync (:: std :: boxed :: Box :: new (move || :: workflow :: __private :: plain (one ())))",
            "pub fn bind () -> :: workflow :: __private :: Dag < i64 >",
        ] {
            assert!(code.contains(fragment), "missing `{fragment}` in {code}");
        }
    }

    #[test]
    fn the_default_name_is_the_module_path_and_the_function_as_written() {
        let code = expanded(
            TokenStream::new(),
            parse_quote!(
                fn r#type(r#in: u8) -> u8 {}
            ),
        );
        for fragment in [
            "enum r#type { }",
            "impl r#type {",
            "concat ! (:: core :: module_path ! () , \"::\" , \"r#type\")",
            "const FUNCTION : & 'static str = \"type\"",
            "plain (r#type (__arg0))",
            "pub fn bind (r#in : impl",
        ] {
            assert!(code.contains(fragment), "missing `{fragment}` in {code}");
        }
    }

    #[test]
    fn cfg_attributes_are_repeated_on_every_item() {
        let code = expanded(
            TokenStream::new(),
            parse_quote! {
                #[cfg(feature = "x")]
                #[inline]
                fn one() -> i64 {}
            },
        );
        // The marker, `bind`, and the const with the `Task` impl and the registration.
        assert_eq!(
            code.matches("# [cfg (feature = \"x\")]").count(),
            3,
            "{code}"
        );
        assert!(!code.contains("inline"), "{code}");
    }

    #[test]
    fn a_task_with_errors_gets_a_marker_and_a_stub_bind() {
        let stubbed = |item: syn::ItemFn| {
            let mut errors = Errors::default();
            stub(&parse(TokenStream::new(), item, &mut errors)).to_string()
        };
        let code = stubbed(parse_quote!(
            pub fn greet(name: &str, n: u8) -> String {}
        ));
        for fragment in [
            "pub enum greet { }",
            "impl greet {",
            "pub fn bind (_ : impl :: core :: marker :: Sized , _ : impl :: workflow :: __private :: IntoArg < u8 >) -> :: workflow :: __private :: Dag < String > { :: core :: unimplemented ! () }",
            "let _ = greet ;",
        ] {
            assert!(code.contains(fragment), "missing `{fragment}` in {code}");
        }
        let generic = stubbed(parse_quote!(
            fn identity<T>(value: T) -> T {}
        ));
        assert!(generic.contains("pub fn bind (_ : impl :: core :: marker :: Sized) -> :: workflow :: __private :: Dag < () >"));
        assert!(!generic.contains("let _ = identity"));
        let method = stubbed(parse_quote!(
            fn incr(&self, by: u64) -> u64 {}
        ));
        assert!(method.is_empty());
    }
}
