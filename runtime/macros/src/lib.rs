//! `#[zokio::main]` and `#[zokio::test]`: run an `async fn` on a zokio runtime.
//!
//! Both accept Tokio's arguments, so code written for Tokio ports by renaming the crate:
//! `flavor = "multi_thread" | "current_thread" | "local"`, `worker_threads = N`,
//! `name = "..."` (the runtime's name, `Handle::name`) and `start_paused = true` (`"local"` runs on a `zokio::runtime::LocalRuntime`, where
//! `spawn_local` works in every task; `start_paused` needs zokio's `test-util` feature and
//! a current-thread or local flavor, and starts the runtime's clock paused).
//! `#[zokio::main]` defaults to the multi-thread flavor with one worker per core;
//! `#[zokio::test]` defaults to the current-thread flavor, like Tokio's.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ItemFn, Lit, MetaNameValue, Token};

#[derive(Clone, Copy, PartialEq)]
enum Flavor {
    CurrentThread,
    MultiThread,
    Local,
}

struct Config {
    flavor: Flavor,
    worker_threads: Option<(usize, Span)>,
    start_paused: Option<(bool, Span)>,
    name: Option<String>,
}

fn parse_args(args: TokenStream, default: Flavor) -> syn::Result<Config> {
    let mut config = Config {
        flavor: default,
        worker_threads: None,
        start_paused: None,
        name: None,
    };
    let args = Punctuated::<MetaNameValue, Token![,]>::parse_terminated.parse(args)?;
    for arg in args {
        let name = arg
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        let Expr::Lit(lit) = &arg.value else {
            return Err(syn::Error::new_spanned(&arg.value, "expected a literal"));
        };
        match (name.as_str(), &lit.lit) {
            ("flavor", Lit::Str(s)) => {
                config.flavor = match s.value().as_str() {
                    "current_thread" => Flavor::CurrentThread,
                    "multi_thread" => Flavor::MultiThread,
                    "local" => Flavor::Local,
                    other => {
                        return Err(syn::Error::new_spanned(
                            s,
                            format!(
                        "unknown flavor {other:?}; expected \"current_thread\", \"multi_thread\" or \"local\""
                    ),
                        ))
                    }
                }
            }
            ("worker_threads", Lit::Int(n)) => {
                let value: usize = n.base10_parse()?;
                if value == 0 {
                    return Err(syn::Error::new_spanned(
                        n,
                        "worker_threads must be greater than 0",
                    ));
                }
                config.worker_threads = Some((value, n.span()));
            }
            ("name", Lit::Str(s)) => {
                if s.value().is_empty() {
                    return Err(syn::Error::new_spanned(s, "the runtime name must not be empty"));
                }
                config.name = Some(s.value());
            }
            ("start_paused", Lit::Bool(b)) => {
                config.start_paused = Some((b.value, b.span));
            }
            ("flavor" | "worker_threads" | "start_paused" | "name", _) => {
                return Err(syn::Error::new_spanned(
                    &lit.lit,
                    format!("wrong literal type for `{name}`"),
                ))
            }
            _ => {
                return Err(syn::Error::new_spanned(
                    &arg.path,
                    "unknown attribute; expected `flavor`, `worker_threads`, `name` or `start_paused`",
                ))
            }
        }
    }
    if let (Flavor::CurrentThread | Flavor::Local, Some((_, span))) =
        (config.flavor, config.worker_threads)
    {
        return Err(syn::Error::new(
            span,
            "worker_threads is only valid with flavor = \"multi_thread\"",
        ));
    }
    if let (Flavor::MultiThread, Some((true, span))) = (config.flavor, config.start_paused) {
        return Err(syn::Error::new(
            span,
            "the `start_paused` option requires the `current_thread` runtime flavor; use \
             `flavor = \"current_thread\"`",
        ));
    }
    Ok(config)
}

fn expand(args: TokenStream, item: TokenStream, default: Flavor, is_test: bool) -> TokenStream {
    let mut func: ItemFn = match syn::parse(item) {
        Ok(f) => f,
        Err(e) => return e.to_compile_error().into(),
    };
    let config = match parse_args(args, default) {
        Ok(c) => c,
        Err(e) => return e.to_compile_error().into(),
    };
    if func.sig.asyncness.take().is_none() {
        return syn::Error::new_spanned(
            func.sig.fn_token,
            "the `async` keyword is missing from the function declaration",
        )
        .to_compile_error()
        .into();
    }
    let builder = match config.flavor {
        Flavor::CurrentThread => quote! { ::zokio::runtime::Builder::new_current_thread() },
        Flavor::MultiThread => quote! { ::zokio::runtime::Builder::new_multi_thread() },
        Flavor::Local => quote! { ::zokio::runtime::Builder::new_current_thread() },
    };
    let build = match config.flavor {
        Flavor::Local => {
            quote! { .build_local(::core::default::Default::default()) }
        }
        Flavor::CurrentThread | Flavor::MultiThread => quote! { .build() },
    };
    let workers = config
        .worker_threads
        .map(|(n, _)| quote! { .worker_threads(#n) });
    let paused = config
        .start_paused
        .map(|(paused, _)| quote! { .start_paused(#paused) });
    let name = config.name.as_ref().map(|name| quote! { .name(#name) });
    let body = &func.block;
    func.block = syn::parse_quote! {{
        let body = async move #body;
        #[allow(clippy::expect_used)]
        let runtime = #builder #workers #name #paused #build .expect("failed to build the zokio runtime");
        let out: _ = runtime.block_on(body);
        out
    }};
    let test_attr = is_test.then(|| quote! { #[::core::prelude::v1::test] });
    quote! { #test_attr #func }.into()
}

/// Runs `async fn main` on a zokio runtime (multi-thread by default).
///
/// ```ignore
/// #[zokio::main(flavor = "multi_thread", worker_threads = 2)]
/// async fn main() {
///     zokio::spawn(async { println!("hello") }).await.unwrap();
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, Flavor::MultiThread, false)
}

/// Runs an `async fn` test on a zokio runtime (current-thread by default).
///
/// ```ignore
/// #[zokio::test(flavor = "multi_thread", worker_threads = 2)]
/// async fn spawns() {
///     assert_eq!(zokio::spawn(async { 1 }).await.unwrap(), 1);
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, Flavor::CurrentThread, true)
}
