//! The model of a `#[binder_interface]` trait: each method with its attributes, receiver,
//! arguments (classified by how the stub reads them) and result type. Every part keeps a
//! reference to the user's syntax, for error spans and for the generated signatures. Building
//! the model never fails: what does not fit is recorded as such and reported by `check.rs`.

use proc_macro2::Span;
use quote::format_ident;
use syn::{
    FnArg, GenericArgument, Ident, ItemTrait, Pat, PathArguments, ReturnType, TraitItem,
    TraitItemFn, Type, TypeReference,
};

use super::attr::{InterfaceAttrs, MethodAttrs};
use crate::util::screaming_snake;

/// `FIRST_CALL_TRANSACTION`.
pub(crate) const FIRST_CALL: u32 = 0x0000_0001;
/// `LAST_CALL_TRANSACTION`.
pub(crate) const LAST_CALL: u32 = 0x00FF_FFFF;
/// `GET_INTERFACE_VERSION_TRANSACTION`, answered by versioned interfaces.
pub(crate) const GET_INTERFACE_VERSION: u32 = 0x00FF_FFFF;
/// `GET_INTERFACE_HASH_TRANSACTION`, answered by versioned interfaces.
pub(crate) const GET_INTERFACE_HASH: u32 = 0x00FF_FFFE;
/// The hash of an interface that is not frozen.
pub(crate) const NOT_FROZEN_HASH: &str = "notfrozen";
/// Provided methods a versioned interface adds to the trait.
pub(crate) const INTERFACE_VERSION_METHOD: &str = "interface_version";
pub(crate) const INTERFACE_HASH_METHOD: &str = "interface_hash";

pub(crate) struct Interface<'a> {
    pub item: &'a ItemTrait,
    pub attrs: InterfaceAttrs,
    /// `BnFoo`, the local stub.
    pub bn: Ident,
    /// `BpFoo`, the proxy.
    pub bp: Ident,
    /// Written with `async fn` methods: the trait as written is the async server trait.
    pub is_async: bool,
    /// The blocking trait: the trait as written (`IFoo`), or `IFooBlocking` for one written
    /// with `async fn`.
    pub sync_trait: Ident,
    /// The async client trait, `IFooAsync`, implemented by the proxy.
    pub async_trait: Ident,
    /// The async server trait: `IFooAsyncServer`, or the trait as written with `async fn`.
    pub server_trait: Ident,
    /// The stub serving an async implementation (`BnFooAsync`, private).
    pub bn_async: Ident,
    /// The proxy implementing the async client trait (`BpFooAsync`).
    pub bp_async: Ident,
    pub methods: Vec<Method<'a>>,
    /// Associated types, consts and macros: not allowed, reported by the checks.
    pub other_items: Vec<&'a TraitItem>,
}

pub(crate) struct Method<'a> {
    pub item: &'a TraitItemFn,
    pub ident: &'a Ident,
    /// Position among the trait's methods: the automatic code is `FIRST_CALL + index`.
    pub index: usize,
    pub attrs: MethodAttrs<'a>,
    pub receiver: Receiver<'a>,
    pub args: Vec<Arg<'a>>,
    pub output: Output<'a>,
    /// `TRANSACTION_FOO`, the name of its code constant.
    pub code_const: Ident,
}

/// What the method takes `self` as.
pub(crate) enum Receiver<'a> {
    /// `&self`: the only accepted form.
    Ref,
    /// `&mut self`, `self`, `self: Box<Self>`, ...: the receiver as written.
    Other(&'a syn::Receiver),
    /// No `self` at all.
    Missing,
}

pub(crate) struct Arg<'a> {
    pub pat: &'a Pat,
    /// The argument's name, when its pattern is a plain identifier.
    pub ident: Option<&'a Ident>,
    pub ty: &'a Type,
    pub kind: ArgKind<'a>,
    /// `#[out]` or `#[inout]`, as written (the first; others are reported).
    pub direction: Option<(Direction, &'a syn::Attribute)>,
    /// Direction attributes after the first, and malformed ones.
    pub bad_direction_attrs: Vec<&'a syn::Attribute>,
}

/// Which way an out-parameter's value travels (AIDL's `out` and `inout`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Direction {
    /// Not sent (an `out T[]` sends its length); the callee's value comes back in the reply.
    Out,
    /// Sent, and the callee's value comes back in the reply.
    InOut,
}

/// How an argument travels, which decides how the stub reads it and what it passes on.
pub(crate) enum ArgKind<'a> {
    /// `T`: read a `T`, pass it.
    Value,
    /// `&str`: read a `String`, pass `&s`.
    Str,
    /// `&[u8]`: read in place from the Parcel (no copy), pass the slice.
    Bytes,
    /// `&[T]`: read a `Vec<T>`, pass `&v`.
    Slice(&'a Type),
    /// `&T`: read a `T`, pass `&t`.
    Ref(&'a Type),
    /// `&mut T`: an out-parameter, not supported.
    RefMut(&'a TypeReference),
}

/// The method's return type.
pub(crate) enum Output<'a> {
    /// `binder_rt::Result<T>`: `T`.
    Result(&'a Type),
    /// Something else, as written.
    Invalid(&'a Type),
    /// No return type.
    Missing,
}

impl<'a> Interface<'a> {
    pub(crate) fn from_syn(item: &'a ItemTrait, attrs: InterfaceAttrs) -> Interface<'a> {
        let (bn, bp) = stub_names(&item.ident);
        let mut methods = Vec::new();
        let mut other_items = Vec::new();
        for trait_item in &item.items {
            match trait_item {
                TraitItem::Fn(f) => {
                    let index = methods.len();
                    methods.push(Method::from_syn(f, index));
                }
                other => other_items.push(other),
            }
        }
        // Written with `async fn` when most methods are (the others are reported).
        let written_async = methods
            .iter()
            .filter(|m| m.item.sig.asyncness.is_some())
            .count();
        let is_async = written_async * 2 > methods.len();
        let name = item.ident.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name);
        let span = item.ident.span();
        let (sync_trait, server_trait) = if is_async {
            (
                format_ident!("{}Blocking", name, span = span),
                item.ident.clone(),
            )
        } else {
            (
                item.ident.clone(),
                format_ident!("{}AsyncServer", name, span = span),
            )
        };
        Interface {
            item,
            attrs,
            bn_async: format_ident!("{}Async", bn),
            bp_async: format_ident!("{}Async", bp),
            bn,
            bp,
            is_async,
            sync_trait,
            async_trait: format_ident!("{}Async", name, span = span),
            server_trait,
            methods,
            other_items,
        }
    }

    /// Whether the async forms (client and server traits, proxy, stub) are generated: unless
    /// `async_forms = false`.
    pub(crate) fn async_forms(&self) -> bool {
        self.attrs.async_forms.as_ref().is_none_or(|b| b.value)
    }

    pub(crate) fn is_versioned(&self) -> bool {
        self.attrs.version.is_some()
    }

    /// The version, once checked to be a positive `i32`.
    pub(crate) fn version(&self) -> Option<i32> {
        self.attrs
            .version
            .as_ref()
            .and_then(|v| v.value)
            .and_then(|v| i32::try_from(v).ok())
    }

    pub(crate) fn hash(&self) -> String {
        self.attrs
            .hash
            .as_ref()
            .map_or_else(|| NOT_FROZEN_HASH.to_owned(), |h| h.value())
    }

    pub(crate) fn descriptor(&self) -> String {
        self.attrs
            .descriptor
            .as_ref()
            .map(|d| d.value())
            .unwrap_or_default()
    }
}

impl<'a> Method<'a> {
    fn from_syn(item: &'a TraitItemFn, index: usize) -> Method<'a> {
        let attrs = MethodAttrs::parse(&item.attrs);
        let mut inputs = item.sig.inputs.iter();
        let receiver = match item.sig.inputs.first() {
            Some(FnArg::Receiver(r)) => {
                inputs.next();
                if r.reference.is_some() && r.mutability.is_none() && r.colon_token.is_none() {
                    Receiver::Ref
                } else {
                    Receiver::Other(r)
                }
            }
            _ => Receiver::Missing,
        };
        let args = inputs
            .filter_map(|input| match input {
                FnArg::Typed(pt) => Some(Arg::new(&pt.pat, &pt.ty, &pt.attrs)),
                // A second `self`: rustc reports it.
                FnArg::Receiver(_) => None,
            })
            .collect();
        let output = match &item.sig.output {
            ReturnType::Default => Output::Missing,
            ReturnType::Type(_, ty) => match result_arg(ty) {
                Some(inner) => Output::Result(inner),
                None => Output::Invalid(ty),
            },
        };
        let name = item.sig.ident.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name);
        let code_const = format_ident!(
            "TRANSACTION_{}",
            screaming_snake(name),
            span = item.sig.ident.span()
        );
        Method {
            item,
            ident: &item.sig.ident,
            index,
            attrs,
            receiver,
            args,
            output,
            code_const,
        }
    }

    pub(crate) fn is_oneway(&self) -> bool {
        self.attrs.oneway.is_some()
    }

    /// The code pinned with `#[code(N)]`, when it is a valid one.
    pub(crate) fn pinned_code(&self) -> Option<u32> {
        let value = self.attrs.code.as_ref()?.number.value?;
        u32::try_from(value)
            .ok()
            .filter(|c| (FIRST_CALL..=LAST_CALL).contains(c))
    }

    /// The transaction code: pinned, or `FIRST_CALL_TRANSACTION` + declaration index.
    pub(crate) fn code(&self) -> u32 {
        self.pinned_code().unwrap_or_else(|| self.auto_code())
    }

    pub(crate) fn auto_code(&self) -> u32 {
        u32::try_from(self.index).map_or(u32::MAX, |i| FIRST_CALL.saturating_add(i))
    }

    /// The type the method returns inside `Result<_>`, once checked.
    pub(crate) fn result_type(&self) -> Option<&'a Type> {
        match self.output {
            Output::Result(ty) => Some(ty),
            _ => None,
        }
    }

    /// Whether any argument is an out-parameter (`#[out]`/`#[inout]` `&mut T`).
    pub(crate) fn has_out_args(&self) -> bool {
        self.args.iter().any(Arg::is_out)
    }

    /// The span to blame for problems with the whole signature.
    pub(crate) fn signature_span(&self) -> Span {
        self.item.sig.paren_token.span.join()
    }
}

impl<'a> Arg<'a> {
    fn new(pat: &'a Pat, ty: &'a Type, attrs: &'a [syn::Attribute]) -> Arg<'a> {
        let mut direction = None;
        let mut bad_direction_attrs = Vec::new();
        for attr in attrs {
            let dir = if attr.path().is_ident(super::attr::OUT) {
                Direction::Out
            } else if attr.path().is_ident(super::attr::INOUT) {
                Direction::InOut
            } else {
                continue;
            };
            if direction.is_some() || !matches!(attr.meta, syn::Meta::Path(_)) {
                bad_direction_attrs.push(attr);
            } else {
                direction = Some((dir, attr));
            }
        }
        let ident = match pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.mutability.is_none() && p.subpat.is_none() => {
                Some(&p.ident)
            }
            _ => None,
        };
        let kind = match ty {
            Type::Reference(r) if r.mutability.is_some() => ArgKind::RefMut(r),
            Type::Reference(r) => match &*r.elem {
                Type::Path(p) if p.qself.is_none() && p.path.is_ident("str") => ArgKind::Str,
                Type::Slice(s) => match &*s.elem {
                    Type::Path(p) if p.qself.is_none() && p.path.is_ident("u8") => ArgKind::Bytes,
                    elem => ArgKind::Slice(elem),
                },
                elem => ArgKind::Ref(elem),
            },
            _ => ArgKind::Value,
        };
        Arg {
            pat,
            ident,
            ty,
            kind,
            direction,
            bad_direction_attrs,
        }
    }
}

impl Arg<'_> {
    /// An out-parameter: a `&mut T` with `#[out]` or `#[inout]` (anything else was reported).
    pub(crate) fn is_out(&self) -> bool {
        matches!(self.kind, ArgKind::RefMut(_)) && self.direction.is_some()
    }

    /// The `T` of a `&mut T` argument.
    pub(crate) fn out_type(&self) -> Option<&Type> {
        match self.kind {
            ArgKind::RefMut(r) => Some(&r.elem),
            _ => None,
        }
    }
}

/// The name bound by `pat` when it is a plain identifier (no `mut`, `ref`, `@` or destructuring).
pub(crate) fn plain_ident(pat: &Pat) -> Option<&Ident> {
    match pat {
        Pat::Ident(p) if p.by_ref.is_none() && p.mutability.is_none() && p.subpat.is_none() => {
            Some(&p.ident)
        }
        _ => None,
    }
}

/// `Foo` → (`BnFoo`, `BpFoo`); a leading `I` before an uppercase letter is dropped, as AIDL
/// does (`ICalculator` → `BnCalculator`).
fn stub_names(trait_ident: &Ident) -> (Ident, Ident) {
    let name = trait_ident.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name);
    let base = match name.strip_prefix('I') {
        Some(rest) if rest.starts_with(|c: char| c.is_uppercase()) => rest,
        _ => name,
    };
    let span = trait_ident.span();
    (
        format_ident!("Bn{}", base, span = span),
        format_ident!("Bp{}", base, span = span),
    )
}

/// `T` when `ty` is `Result<T>`, `binder_rt::Result<T>` or `::binder_rt::Result<T>` (a path
/// whose last segment is `Result` with exactly one type argument).
fn result_arg(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut args = args.args.iter();
    match (args.next(), args.next()) {
        (Some(GenericArgument::Type(inner)), None) => Some(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stubs_are_named_as_aidl_names_them() {
        let names = |s: &str| {
            let (bn, bp) = stub_names(&Ident::new(s, Span::call_site()));
            (bn.to_string(), bp.to_string())
        };
        assert_eq!(
            names("ICalculator"),
            ("BnCalculator".into(), "BpCalculator".into())
        );
        assert_eq!(
            names("Interface"),
            ("BnInterface".into(), "BpInterface".into())
        );
        assert_eq!(
            names("Calculator"),
            ("BnCalculator".into(), "BpCalculator".into())
        );
        assert_eq!(names("I"), ("BnI".into(), "BpI".into()));
    }

    #[test]
    fn only_result_with_one_type_argument_is_a_result() {
        let ok = |ty: Type| result_arg(&ty).is_some();
        assert!(ok(syn::parse_quote!(Result<i32>)));
        assert!(ok(syn::parse_quote!(binder_rt::Result<()>)));
        assert!(ok(syn::parse_quote!(::binder_rt::Result<Vec<String>>)));
        assert!(!ok(syn::parse_quote!(Result<i32, Status>)));
        assert!(!ok(syn::parse_quote!(Option<i32>)));
        assert!(!ok(syn::parse_quote!(i32)));
        assert!(!ok(syn::parse_quote!(Result)));
    }
}
