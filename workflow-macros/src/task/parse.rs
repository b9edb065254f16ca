//! The parse pass: the attribute's options and the function's signature, as a [`TaskDef`].

mod options;

use proc_macro2::TokenStream;
use quote::format_ident;
use syn::ext::IdentExt;
use syn::{
    parse_quote, FnArg, GenericArgument, Ident, ItemFn, Pat, PathArguments, ReturnType, Type,
};

pub(crate) use self::options::Options;
use crate::errors::Errors;

/// A `#[task]` function, as the later passes see it.
pub(crate) struct TaskDef {
    /// The function as written.
    pub(crate) item: ItemFn,
    /// The attribute's options.
    pub(crate) options: Options,
    /// The typed arguments in order; a `self` receiver is not one (validation reports it).
    pub(crate) args: Vec<Arg>,
    /// What the function returns, unless that could not be told (an error is recorded then).
    pub(crate) returns: Option<Returns>,
}

/// One argument of the function.
pub(crate) struct Arg {
    /// The name of `bind`'s parameter: the argument's own name when its pattern is a plain
    /// identifier (`x` or `mut x`), else `__argN`.
    pub(crate) name: Ident,
    /// The type as written.
    pub(crate) ty: Type,
}

/// The function's return type and the node output it gives.
pub(crate) struct Returns {
    /// How the return value becomes the output.
    pub(crate) kind: ReturnKind,
    /// The return type as written; `()` when there is none.
    pub(crate) written: Type,
    /// The output type of the task's nodes: `T` for `T` and for `Result<T, E>`.
    pub(crate) output: Type,
    /// The `E` of `Result<T, E>` as written, if it is written there.
    pub(crate) error: Option<Type>,
}

/// How a task's return value becomes its output, told from the return type's syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReturnKind {
    /// `T` (or no return type): the value is the output.
    Plain,
    /// `Result<T, E>` or a one-argument `Result<T>` alias: `Ok` is the output, `Err` a failure.
    Fallible,
    /// `Flow<T>`: the output, or a continuation DAG that computes it.
    Flow,
    /// `Result<Flow<T>, E>`: a continuation that may fail.
    FallibleFlow,
}

impl Returns {
    /// Where a problem with the return value is reported: at the error type of a `Result`
    /// (so that an error without `Display` is reported where the user wrote it), else at the
    /// return type, else at the function's name.
    pub(crate) fn span(&self, sig: &syn::Signature) -> proc_macro2::Span {
        use syn::spanned::Spanned;
        match (&self.error, &sig.output) {
            (Some(error), _) => error.span(),
            (None, ReturnType::Type(_, ty)) => ty.span(),
            (None, ReturnType::Default) => sig.ident.span(),
        }
    }
}

impl ReturnKind {
    /// The `__private` function that turns a return value into an attempt's outcome.
    pub(crate) fn wrapper(self) -> &'static str {
        match self {
            ReturnKind::Plain => "plain",
            ReturnKind::Fallible => "fallible",
            ReturnKind::Flow => "flow",
            ReturnKind::FallibleFlow => "fallible_flow",
        }
    }

    /// Whether the function may return a continuation.
    pub(crate) fn continues(self) -> bool {
        matches!(self, ReturnKind::Flow | ReturnKind::FallibleFlow)
    }
}

/// `T` of a `Flow<T>` written with any path ending in `Flow`.
fn flow_output(ty: &Type) -> Option<Type> {
    let last = last_segment(ty)?;
    if last.ident != "Flow" {
        return None;
    }
    match &last.arguments {
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
            GenericArgument::Type(ty) => Some(ty.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Reads the options and the signature; problems are recorded in `errors`.
pub(crate) fn parse(attr: TokenStream, item: ItemFn, errors: &mut Errors) -> TaskDef {
    let options = options::parse_options(attr, errors);
    let typed = item.sig.inputs.iter().filter_map(|input| match input {
        FnArg::Typed(typed) => Some(typed),
        FnArg::Receiver(_) => None,
    });
    let mut args: Vec<Arg> = Vec::new();
    for (index, typed) in typed.enumerate() {
        let name = binding_name(&typed.pat)
            .filter(|name| args.iter().all(|arg| arg.name != *name))
            .unwrap_or_else(|| format_ident!("__arg{index}"));
        args.push(Arg {
            name,
            ty: (*typed.ty).clone(),
        });
    }
    let returns = classify(&item.sig.output).map_err(|e| errors.push(e)).ok();
    TaskDef {
        item,
        options,
        args,
        returns,
    }
}

/// The identifier a pattern binds, if it is just one (`x` or `mut x`), without leading
/// underscores: `bind` uses every parameter, so `_unused` would be misleading there.
pub(crate) fn binding_name(pat: &Pat) -> Option<Ident> {
    match pat {
        Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
            let name = ident.ident.unraw().to_string();
            let trimmed = name.trim_start_matches('_');
            if trimmed.len() == name.len() {
                Some(ident.ident.clone())
            } else {
                syn::parse_str::<Ident>(trimmed)
                    .ok()
                    .map(|stripped| Ident::new(&stripped.to_string(), ident.ident.span()))
            }
        }
        _ => None,
    }
}

/// Tells the output type and its [`ReturnKind`] from the return type as written.
///
/// This is syntax only: any path whose last segment is `Result` is a `Result`, so
/// `workflow::Result<T>` and `std::io::Result<T>` are fallible with output `T`.
pub(crate) fn classify(output: &ReturnType) -> syn::Result<Returns> {
    let written: Type = match output {
        ReturnType::Default => parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    let plain = |written: Type| Returns {
        kind: ReturnKind::Plain,
        output: written.clone(),
        error: None,
        written,
    };
    if let Some(output) = flow_output(&written) {
        return Ok(Returns {
            kind: ReturnKind::Flow,
            output,
            error: None,
            written,
        });
    }
    let Some(last) = last_segment(&written) else {
        return Ok(plain(written));
    };
    if last.ident != "Result" {
        return Ok(plain(written));
    }
    let mut type_args = match &last.arguments {
        PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|arg| match arg {
                GenericArgument::Type(ty) => Some(ty.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
    .into_iter();
    match type_args.next() {
        Some(output) => {
            let (kind, output) = match flow_output(&output) {
                Some(inner) => (ReturnKind::FallibleFlow, inner),
                None => (ReturnKind::Fallible, output),
            };
            Ok(Returns {
                kind,
                output,
                error: type_args.next(),
                written,
            })
        }
        None => Err(syn::Error::new_spanned(
            last,
            "cannot tell the output type of this `Result`: write its type arguments, \
             as in `Result<(), MyError>`",
        )),
    }
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        Type::Group(group) => last_segment(&group.elem),
        Type::Paren(paren) => last_segment(&paren.elem),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;

    use super::*;

    fn classified(output: ReturnType) -> (ReturnKind, String) {
        let returns = classify(&output).expect("classifies");
        (returns.kind, returns.output.to_token_stream().to_string())
    }

    #[test]
    fn results_are_fallible_by_last_segment() {
        use ReturnKind::*;
        let cases: [(ReturnType, ReturnKind, &str); 9] = [
            (
                parse_quote!(-> Result<String, FetchError>),
                Fallible,
                "String",
            ),
            (
                parse_quote!(-> workflow::Result<String>),
                Fallible,
                "String",
            ),
            (
                parse_quote!(-> std::io::Result<Vec<u8>>),
                Fallible,
                "Vec < u8 >",
            ),
            (
                parse_quote!(-> ::core::result::Result<(), E>),
                Fallible,
                "()",
            ),
            (parse_quote!(-> i64), Plain, "i64"),
            (parse_quote!(-> Flow<u64>), Flow, "u64"),
            (parse_quote!(-> workflow::Flow<Vec<u8>>), Flow, "Vec < u8 >"),
            (
                parse_quote!(-> Result<Flow<u64>, String>),
                FallibleFlow,
                "u64",
            ),
            (ReturnType::Default, Plain, "()"),
        ];
        for (output, kind, ty) in cases {
            assert_eq!(classified(output), (kind, ty.to_string()));
        }
    }

    #[test]
    fn bare_result_is_an_error() {
        let output: ReturnType = parse_quote!(-> std::fmt::Result);
        let error = classify(&output).err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("write its type arguments")));
    }

    #[test]
    fn arguments_keep_plain_names() {
        let item: ItemFn = parse_quote! {
            fn f(a: i64, mut b: String, (c, d): (u8, u8), _: u8, _e: u8, e: u8, _1: u8) {}
        };
        let mut errors = Errors::default();
        let def = parse(TokenStream::new(), item, &mut errors);
        assert!(errors.into_error().is_none());
        let names: Vec<String> = def.args.iter().map(|a| a.name.to_string()).collect();
        assert_eq!(
            names,
            ["a", "b", "__arg2", "__arg3", "e", "__arg5", "__arg6"]
        );
        assert_eq!(def.returns.map(|r| r.kind), Some(ReturnKind::Plain));
    }
}
