//! The vocabulary of `#[binder_interface(...)]` and of the attributes on its methods, read in
//! one place. Values are recorded as written (with their tokens, for error spans); whether they
//! make sense is decided in `check.rs`.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, ExprLit, ExprUnary, Lit, LitStr, Meta, Token, UnOp};

use crate::ctxt::Errors;
use crate::util::is_passthrough_attr;

/// `descriptor = "com.example.IFoo"`: the interface descriptor.
pub(crate) const DESCRIPTOR: &str = "descriptor";
/// `version = N`: makes the interface versioned (answers getInterfaceVersion/Hash).
pub(crate) const VERSION: &str = "version";
/// `hash = "..."`: the frozen interface's hash, "notfrozen" by default.
pub(crate) const HASH: &str = "hash";
/// `async_forms = false`: no async traits, proxy or stub (their names are free for the crate).
pub(crate) const ASYNC_FORMS: &str = "async_forms";
/// `#[oneway]` on a method: no reply.
pub(crate) const ONEWAY: &str = "oneway";
/// `#[code(N)]` on a method: pins its transaction code.
pub(crate) const CODE: &str = "code";
/// `#[out]` on a `&mut` argument: the callee's value comes back in the reply.
pub(crate) const OUT: &str = "out";
/// `#[inout]` on a `&mut` argument: sent, and the callee's value comes back in the reply.
pub(crate) const INOUT: &str = "inout";

/// Whether an argument attribute is one of ours (`#[out]`, `#[inout]`), consumed by the macro.
pub(crate) fn is_direction_attr(attr: &Attribute) -> bool {
    attr.path().is_ident(OUT) || attr.path().is_ident(INOUT)
}

/// The arguments of `#[binder_interface(...)]`.
#[derive(Default)]
pub(crate) struct InterfaceAttrs {
    pub descriptor: Option<LitStr>,
    /// Whether a descriptor was written at all (perhaps invalidly, already reported).
    pub descriptor_given: bool,
    pub version: Option<Number>,
    pub hash: Option<LitStr>,
    /// `async_forms = true|false` as written.
    pub async_forms: Option<syn::LitBool>,
}

/// An integer as written: its value when it is an integer literal (possibly negated), and its
/// tokens for error messages.
pub(crate) struct Number {
    pub value: Option<i128>,
    pub tokens: TokenStream,
}

impl Number {
    fn from_expr(expr: &Expr) -> Number {
        let value = match expr {
            Expr::Lit(ExprLit {
                lit: Lit::Int(lit), ..
            }) => lit.base10_parse::<i128>().ok(),
            Expr::Unary(ExprUnary {
                op: UnOp::Neg(_),
                expr,
                ..
            }) => match &**expr {
                Expr::Lit(ExprLit {
                    lit: Lit::Int(lit), ..
                }) => lit.base10_parse::<i128>().ok().map(|v| -v),
                _ => None,
            },
            _ => None,
        };
        Number {
            value,
            tokens: expr.to_token_stream(),
        }
    }
}

impl InterfaceAttrs {
    /// Reads the attribute's arguments; malformed, unknown and repeated keys are reported and
    /// skipped, so the rest can still be checked.
    pub(crate) fn parse(args: TokenStream, errors: &mut Errors) -> InterfaceAttrs {
        let mut attrs = InterfaceAttrs::default();
        if let Ok(lit) = syn::parse2::<LitStr>(args.clone()) {
            errors.spanned(
                &lit,
                format!(
                    "name the argument: `#[binder_interface(descriptor = {})]`",
                    lit.to_token_stream()
                ),
            );
            attrs.descriptor_given = true;
            return attrs;
        }
        let parser = Punctuated::<Meta, Token![,]>::parse_terminated;
        let metas = match syn::parse::Parser::parse2(parser, args) {
            Ok(metas) => metas,
            Err(e) => {
                errors.push(e);
                // Whatever was meant, do not also claim the descriptor is missing.
                attrs.descriptor_given = true;
                return attrs;
            }
        };
        for meta in metas {
            let key = meta
                .path()
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            if key == DESCRIPTOR {
                attrs.descriptor_given = true;
            }
            let example = match key.as_str() {
                DESCRIPTOR => r#"descriptor = "com.example.IFoo""#,
                VERSION => "version = 1",
                HASH => r#"hash = "...""#,
                ASYNC_FORMS => "async_forms = false",
                _ => {
                    errors.spanned(
                        meta.path(),
                        format!(
                            "unknown #[binder_interface] argument `{}`: expected `descriptor`, `version`, `hash` or `async_forms`",
                            meta.path().to_token_stream()
                        ),
                    );
                    continue;
                }
            };
            let Meta::NameValue(nv) = &meta else {
                errors.spanned(&meta, format!("expected `{example}`"));
                continue;
            };
            match key.as_str() {
                DESCRIPTOR => {
                    if let Some(lit) = string_value(&nv.value, DESCRIPTOR, errors) {
                        set_once(&mut attrs.descriptor, lit, &nv.path, errors);
                    }
                }
                HASH => {
                    if let Some(lit) = string_value(&nv.value, HASH, errors) {
                        set_once(&mut attrs.hash, lit, &nv.path, errors);
                    }
                }
                ASYNC_FORMS => match &nv.value {
                    Expr::Lit(ExprLit {
                        lit: Lit::Bool(b), ..
                    }) => set_once(&mut attrs.async_forms, b.clone(), &nv.path, errors),
                    other => errors.spanned(other, "`async_forms` must be `true` or `false`"),
                },
                _ => set_once(
                    &mut attrs.version,
                    Number::from_expr(&nv.value),
                    &nv.path,
                    errors,
                ),
            }
        }
        attrs
    }
}

fn string_value(value: &Expr, key: &str, errors: &mut Errors) -> Option<LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit.clone()),
        _ => {
            errors.spanned(value, format!("`{key}` must be a string literal"));
            None
        }
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T, key: &syn::Path, errors: &mut Errors) {
    if slot.is_some() {
        errors.spanned(
            key,
            format!(
                "duplicate #[binder_interface] argument `{}`",
                key.to_token_stream()
            ),
        );
    } else {
        *slot = Some(value);
    }
}

/// The binder attributes of one method.
#[derive(Default)]
pub(crate) struct MethodAttrs<'a> {
    /// `#[oneway]`, when present.
    pub oneway: Option<&'a Attribute>,
    /// `#[code(N)]`, when present.
    pub code: Option<PinnedCode>,
    /// Malformed, repeated or unknown attributes, reported with the method's other problems
    /// (moved into the invocation's collector by the checks).
    pub errors: Option<Errors>,
}

/// A code pinned with `#[code(N)]`.
pub(crate) struct PinnedCode {
    pub number: Number,
}

impl<'a> MethodAttrs<'a> {
    pub(crate) fn parse(attrs: &'a [Attribute]) -> MethodAttrs<'a> {
        let mut out = MethodAttrs::default();
        let mut errors = Errors::new();
        for attr in attrs {
            if attr.path().is_ident(ONEWAY) {
                if !matches!(attr.meta, Meta::Path(_)) {
                    errors.spanned(attr, "`#[oneway]` takes no arguments");
                } else if out.oneway.is_some() {
                    errors.spanned(attr, "duplicate `#[oneway]`");
                } else {
                    out.oneway = Some(attr);
                }
            } else if attr.path().is_ident(CODE) {
                let number = match &attr.meta {
                    Meta::List(list) => match list.parse_args::<Expr>() {
                        Ok(expr) => Some(Number::from_expr(&expr)),
                        Err(_) => None,
                    },
                    _ => None,
                };
                match number {
                    None => errors.spanned(attr, "expected `#[code(N)]` with an integer literal N"),
                    Some(_) if out.code.is_some() => {
                        errors.spanned(attr, "duplicate `#[code(..)]`")
                    }
                    Some(number) => out.code = Some(PinnedCode { number }),
                }
            } else if !is_passthrough_attr(attr) {
                let name = attr.path().to_token_stream().to_string().replace(' ', "");
                let normalized = name.replace('_', "").to_lowercase();
                let hint = match normalized.as_str() {
                    "oneway" => " (did you mean `#[oneway]`?)",
                    "code" | "transactioncode" => " (did you mean `#[code(N)]`?)",
                    _ => "",
                };
                errors.spanned(
                    attr,
                    format!(
                        "unsupported attribute `#[{name}]` on a binder method{hint}: only `#[oneway]`, \
                         `#[code(N)]`, doc comments and lint attributes (`#[allow(..)]`, ...) are allowed"
                    ),
                );
            }
        }
        out.errors = Some(errors);
        out
    }
}
