//! The canonical text of types as written: hashed into a task's signature, shown in messages.
//!
//! `TokenStream`'s own `Display` differs between compiler versions, and a stored signature
//! must not change when the compiler does, so the spacing rules are fixed here.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;

use super::parse::TaskDef;

/// `Result<Vec<u8>, MyError>` for those tokens, however they were spaced in the source.
pub(crate) fn type_text(ty: &impl ToTokens) -> String {
    let mut out = String::new();
    write_tokens(&mut out, ty.to_token_stream());
    out
}

/// `fn(String, u32) -> Result<String, FetchError>`: the task's types as written.
///
/// Argument names, `async` and the body are not part of it: renaming an argument or making
/// a task async keeps its stored steps readable.
pub(crate) fn signature_text(def: &TaskDef, written_return: &syn::Type) -> String {
    let args: Vec<String> = def.args.iter().map(|arg| type_text(&arg.ty)).collect();
    format!("fn({}) -> {}", args.join(", "), type_text(written_return))
}

fn write_tokens(out: &mut String, tokens: TokenStream) {
    for token in tokens {
        match token {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                if !open.is_empty() && ends_with_word(out) && group.delimiter() == Delimiter::Brace
                {
                    out.push(' ');
                }
                out.push_str(open);
                write_tokens(out, group.stream());
                if !close.is_empty() {
                    let trimmed = out.trim_end().len();
                    out.truncate(trimmed);
                }
                out.push_str(close);
            }
            TokenTree::Ident(ident) => push_word(out, &ident.to_string()),
            TokenTree::Literal(literal) => push_word(out, &literal.to_string()),
            TokenTree::Punct(punct) => match punct.as_char() {
                ',' | ';' => {
                    out.push(punct.as_char());
                    out.push(' ');
                }
                '+' | '=' => {
                    if !out.ends_with(' ') {
                        out.push(' ');
                    }
                    out.push(punct.as_char());
                    out.push(' ');
                }
                c => out.push(c),
            },
        }
    }
}

fn push_word(out: &mut String, word: &str) {
    if ends_with_word(out) {
        out.push(' ');
    }
    out.push_str(word);
}

fn ends_with_word(out: &str) -> bool {
    out.ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '"')
}

#[cfg(test)]
mod tests {
    use syn::{parse_quote, Type};

    use super::*;

    #[test]
    fn spacing_is_canonical() {
        let cases: [(Type, &str); 8] = [
            (
                parse_quote!(Result < String , FetchError >),
                "Result<String, FetchError>",
            ),
            (parse_quote!(::std::vec::Vec<u8>), "::std::vec::Vec<u8>"),
            (parse_quote!((String,)), "(String,)"),
            (parse_quote!(()), "()"),
            (parse_quote!([u8; 4]), "[u8; 4]"),
            (parse_quote!(&'static mut str), "&'static mut str"),
            (parse_quote!(Box<dyn Fn() + Send>), "Box<dyn Fn() + Send>"),
            (
                parse_quote!(HashMap<String, Vec<(u8, bool)>>),
                "HashMap<String, Vec<(u8, bool)>>",
            ),
        ];
        for (ty, text) in cases {
            assert_eq!(type_text(&ty), text);
        }
    }
}
