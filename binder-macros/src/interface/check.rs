//! Everything a `#[binder_interface]` trait must satisfy, checked on the model in one pass that
//! reports every problem (each at the user's offending tokens) rather than the first.

use std::collections::HashMap;

use proc_macro2::Span;
use quote::ToTokens;
use syn::visit::Visit;
use syn::{GenericParam, TraitItem, Type, TypeParamBound};

use super::ast::{
    ArgKind, FIRST_CALL, GET_INTERFACE_HASH, GET_INTERFACE_VERSION, INTERFACE_HASH_METHOD,
    INTERFACE_VERSION_METHOD, Interface, LAST_CALL, Method, Output, Receiver,
};
use crate::ctxt::Errors;

pub(crate) fn check(iface: &mut Interface<'_>, errors: &mut Errors) {
    check_attrs(iface, errors);
    check_trait_shape(iface, errors);
    for i in 0..iface.methods.len() {
        // The method's attribute errors first, then its signature's, in source order.
        if let Some(attr_errors) = iface.methods[i].attrs.errors.take() {
            errors.append(attr_errors);
        }
        check_method(iface, &iface.methods[i], errors);
    }
    check_codes(iface, errors);
    check_names(iface, errors);
}

fn check_attrs(iface: &Interface<'_>, errors: &mut Errors) {
    let attrs = &iface.attrs;
    match &attrs.descriptor {
        // Written, but not as a string literal: already reported.
        None if attrs.descriptor_given => {}
        None => errors.at(
            Span::call_site(),
            r#"missing interface descriptor: write `#[binder_interface(descriptor = "com.example.IFoo")]`"#,
        ),
        Some(lit) => {
            if let Err(why) = validate_descriptor(&lit.value()) {
                errors.spanned(lit, format!("invalid interface descriptor: {why}"));
            }
        }
    }
    if let Some(version) = &attrs.version
        && iface.version().is_none_or(|v| v < 1)
    {
        errors.spanned(
            &version.tokens,
            "`version` must be a positive integer literal (1..=2147483647), e.g. `version = 1`",
        );
    }
    if let Some(off) = attrs.async_forms.as_ref().filter(|b| !b.value)
        && iface.is_async
    {
        errors.spanned(
            off,
            "a trait written with `async fn` is the async server form itself: it cannot do without \
             async forms (write it with blocking `fn`s, or drop `async_forms = false`)",
        );
    }
    if let (Some(hash), None) = (&attrs.hash, &attrs.version) {
        errors.spanned(
            hash,
            "`hash` is only meaningful for a versioned interface: add `version = N`",
        );
    }
}

/// AIDL descriptors are qualified names: dot-separated identifiers such as
/// `android.os.IServiceManager`.
fn validate_descriptor(descriptor: &str) -> Result<(), String> {
    if descriptor.is_empty() {
        return Err(
            "it is empty; use the qualified name of the interface, e.g. \"com.example.IFoo\""
                .into(),
        );
    }
    if let Some(c) = descriptor
        .chars()
        .find(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "it contains {c:?}; a descriptor is a qualified name such as \"com.example.IFoo\""
        ));
    }
    for segment in descriptor.split('.') {
        if segment.is_empty() {
            return Err(
                "it has an empty segment (`..`, or a `.` at the start or end); a descriptor is \
                        dot-separated identifiers such as \"com.example.IFoo\""
                    .into(),
            );
        }
        let mut chars = segment.chars();
        let valid = chars
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
            && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$');
        if !valid {
            return Err(format!(
                "`{segment}` is not an identifier; a descriptor is dot-separated identifiers such as \"com.example.IFoo\""
            ));
        }
    }
    Ok(())
}

fn check_trait_shape(iface: &Interface<'_>, errors: &mut Errors) {
    let item = iface.item;
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        let generics = match (&item.generics.where_clause, item.generics.params.is_empty()) {
            (Some(where_clause), true) => where_clause.to_token_stream(),
            _ => item.generics.to_token_stream(),
        };
        errors.spanned(
            generics,
            "a binder interface cannot be generic: its methods must have one wire form; \
             use concrete types in the signatures",
        );
    }
    if let Some(unsafety) = &item.unsafety {
        errors.spanned(unsafety, "a binder interface cannot be an `unsafe trait`");
    }
    if let Some(auto) = &item.auto_token {
        errors.spanned(auto, "a binder interface cannot be an auto trait");
    }
    for bound in &item.supertraits {
        let allowed = match bound {
            TypeParamBound::Trait(t) => t.path.segments.last().is_some_and(|s| {
                s.arguments.is_none() && ["Send", "Sync", "Interface"].iter().any(|n| s.ident == n)
            }),
            TypeParamBound::Lifetime(l) => l.ident == "static",
            _ => false,
        };
        if !allowed {
            errors.spanned(
                bound,
                "a binder interface cannot have supertraits (the generated proxy could not implement them); \
                 the macro adds `binder_rt::Interface` (Send + Sync + 'static) itself",
            );
        }
    }
    for other in &iface.other_items {
        let message = match other {
            TraitItem::Type(_) => {
                "associated types are not supported in a binder interface: methods must use concrete types"
            }
            TraitItem::Const(_) => {
                "associated consts are not supported in a binder interface: declare a `const` next to the trait instead"
            }
            _ => "only methods are allowed in a binder interface",
        };
        errors.spanned(other, message);
    }
}

fn check_method(iface: &Interface<'_>, method: &Method<'_>, errors: &mut Errors) {
    let sig = &method.item.sig;
    match (&sig.asyncness, iface.is_async) {
        (None, true) => errors.spanned(
            sig.fn_token,
            format!(
                "this interface is written with `async fn`, so every method is `async fn` (the trait \
                 is what async services implement; its blocking form `{}` is generated): add `async`",
                iface.sync_trait
            ),
        ),
        (Some(asyncness), false) => errors.spanned(
            asyncness,
            format!(
                "the methods of this interface are blocking `fn`s (their async forms are generated: \
                 `{}` for callers, `{}` for implementations): remove `async`, or make every method \
                 `async fn`",
                iface.async_trait, iface.server_trait
            ),
        ),
        _ => {}
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.spanned(unsafety, "binder methods cannot be `unsafe`");
    }
    if let Some(constness) = &sig.constness {
        errors.spanned(constness, "binder methods cannot be `const`");
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(abi, "binder methods cannot declare an ABI");
    }
    let generic = sig
        .generics
        .params
        .iter()
        .any(|p| !matches!(p, GenericParam::Lifetime(_)));
    if generic || sig.generics.where_clause.is_some() {
        let generics = match (&sig.generics.where_clause, generic) {
            (Some(where_clause), false) => where_clause.to_token_stream(),
            _ => sig.generics.to_token_stream(),
        };
        errors.spanned(
            generics,
            "binder methods cannot be generic: each method has one wire form; use concrete types",
        );
    }

    match &method.receiver {
        Receiver::Ref => {}
        Receiver::Missing => errors.at(
            method.signature_span(),
            "binder methods take `&self` first: an associated function without `self` cannot be called on a binder object",
        ),
        Receiver::Other(r) if r.reference.is_some() && r.mutability.is_some() => errors.spanned(
            r,
            "binder methods take `&self`, not `&mut self`: a binder object is shared by every client and \
             thread; use interior mutability (e.g. a Mutex) in the implementation",
        ),
        Receiver::Other(r) if r.colon_token.is_none() => errors.spanned(
            r,
            "binder methods take `&self`, not `self`: a binder object is shared, a call cannot consume it",
        ),
        Receiver::Other(r) => errors.spanned(
            r,
            "binder methods take plain `&self`: a binder object is shared, a call cannot take it as a \
             `Box`, `Rc`, `Arc` or `Pin`",
        ),
    }

    if let Some(body) = &method.item.default {
        errors.spanned(
            body,
            "binder interface methods cannot have a default body: the proxy implements every method as a \
             transaction; move the body into your implementation",
        );
    }

    match method.output {
        Output::Result(ty) => {
            if method.is_oneway() && !is_unit(ty) {
                errors.spanned(
                    ty,
                    "a #[oneway] method returns `binder_rt::Result<()>`: a oneway call has no reply to carry a value",
                );
            }
            report_borrowed_result(ty, method, errors);
            report_impl_trait(ty, errors);
        }
        Output::Invalid(ty) => errors.spanned(
            ty,
            "binder methods return `binder_rt::Result<T>` (the error is the binder `Status` of the call)",
        ),
        Output::Missing => errors.at(
            method.signature_span(),
            "binder methods return `binder_rt::Result<T>`: add `-> binder_rt::Result<()>` \
             (a call can always fail, e.g. when the remote process dies)",
        ),
    }

    for arg in &method.args {
        if arg.ident.is_none() {
            errors.spanned(
                arg.pat,
                "binder method arguments must be plain identifiers (`name: Type`), not patterns",
            );
        }
        for attr in &arg.bad_direction_attrs {
            errors.spanned(
                attr,
                "one `#[out]` or `#[inout]` per argument, without arguments",
            );
        }
        match (&arg.kind, arg.direction) {
            (ArgKind::RefMut(r), _) if method.is_oneway() => errors.spanned(
                r,
                "a #[oneway] method cannot have out-parameters (`&mut` arguments): a oneway call has no reply",
            ),
            // A malformed `#[out(..)]` was reported just above.
            (ArgKind::RefMut(r), None) if arg.bad_direction_attrs.is_empty() => errors.spanned(
                r,
                "a `&mut` argument is an out-parameter: mark it `#[out]` (the callee fills it in: \
                 only an array's length is sent) or `#[inout]` (sent, and the callee's value comes \
                 back), as AIDL's `out` and `inout`",
            ),
            (ArgKind::RefMut(_), Some(_)) => {}
            (_, Some((_, attr))) => errors.spanned(
                attr,
                "`#[out]` and `#[inout]` go on `&mut` arguments: the callee's value is written into them",
            ),
            _ => {}
        }
        report_impl_trait(arg.ty, errors);
    }

    if iface.is_versioned() {
        let name = method.ident.to_string();
        if name == INTERFACE_VERSION_METHOD || name == INTERFACE_HASH_METHOD {
            errors.spanned(
                method.ident,
                format!("`{name}` is provided by the macro for a versioned interface; rename this method"),
            );
        }
    }
}

/// `impl Trait` in a signature makes the method generic, which a binder interface cannot be.
fn report_impl_trait(ty: &Type, errors: &mut Errors) {
    struct Finder<'e> {
        errors: &'e mut Errors,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_type_impl_trait(&mut self, ty: &'ast syn::TypeImplTrait) {
            self.errors.spanned(
                ty,
                "`impl Trait` is not allowed in a binder method: each method has one wire form; use a concrete type",
            );
        }
    }
    Finder { errors }.visit_type(ty);
}

/// A reply is read into values the caller owns: a borrowed result could only borrow from the
/// reply's buffer, which is freed when the call returns (or, for an awaited call, outlives
/// nothing the future can hand out).
fn report_borrowed_result(ty: &Type, method: &Method<'_>, errors: &mut Errors) {
    struct Finder<'e> {
        errors: &'e mut Errors,
        asynchronous: bool,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
            let context = if self.asynchronous {
                "an async binder method returns an owned value (the reply is freed before its \
                 future resolves)"
            } else {
                "binder methods return owned values: the reply is freed when the call returns"
            };
            self.errors.spanned(
                r,
                format!("{context}; return `String` for `&str`, `Vec<T>` for `&[T]`, `T` for `&T`"),
            );
        }
    }
    Finder {
        errors,
        asynchronous: method.item.sig.asyncness.is_some(),
    }
    .visit_type(ty);
}

fn is_unit(ty: &Type) -> bool {
    match ty {
        Type::Tuple(t) => t.elems.is_empty(),
        Type::Paren(p) => is_unit(&p.elem),
        _ => false,
    }
}

fn check_codes(iface: &Interface<'_>, errors: &mut Errors) {
    let mut taken: HashMap<u32, &Method<'_>> = HashMap::new();
    for method in &iface.methods {
        if let Some(pinned) = &method.attrs.code {
            let valid = pinned
                .number
                .value
                .and_then(|v| u32::try_from(v).ok())
                .filter(|c| (FIRST_CALL..=LAST_CALL).contains(c));
            match (pinned.number.value, valid) {
                (None, _) => {
                    errors.spanned(
                        &pinned.number.tokens,
                        "expected an integer literal, e.g. `#[code(42)]`",
                    );
                    continue;
                }
                (Some(value), None) => {
                    let hex = if value > 0 {
                        format!(" ({value:#X})")
                    } else {
                        String::new()
                    };
                    errors.spanned(
                        &pinned.number.tokens,
                        format!(
                            "transaction code {value}{hex} is out of range: user codes are \
                             FIRST_CALL_TRANSACTION..=LAST_CALL_TRANSACTION (1..=0x00FFFFFF)"
                        ),
                    );
                    continue;
                }
                (Some(_), Some(_)) => {}
            }
        }
        let code = method.code();
        if iface.is_versioned() && (code == GET_INTERFACE_VERSION || code == GET_INTERFACE_HASH) {
            let which = if code == GET_INTERFACE_VERSION {
                "GET_INTERFACE_VERSION_TRANSACTION"
            } else {
                "GET_INTERFACE_HASH_TRANSACTION"
            };
            let message = format!(
                "transaction code {code:#010X} is reserved for {which} in a versioned interface"
            );
            match &method.attrs.code {
                Some(pinned) => errors.spanned(&pinned.number.tokens, message),
                None => errors.spanned(method.ident, message),
            }
            continue;
        }
        match taken.get(&code) {
            None => {
                taken.insert(code, method);
            }
            Some(previous) => report_duplicate_code(code, previous, method, errors),
        }
    }
}

/// Two methods have the same code. The blame goes to a `#[code(N)]` (automatic codes cannot
/// collide with each other): the later one when both are pinned.
fn report_duplicate_code(
    code: u32,
    previous: &Method<'_>,
    current: &Method<'_>,
    errors: &mut Errors,
) {
    let describe = |m: &Method<'_>| match &m.attrs.code {
        Some(_) => format!("`{}` (pinned with #[code({code})])", m.ident),
        None => format!(
            "`{}` (automatic code: FIRST_CALL_TRANSACTION + declaration index {} = {code})",
            m.ident, m.index
        ),
    };
    let (blamed, other) = if current.attrs.code.is_some() {
        (current, previous)
    } else {
        (previous, current)
    };
    let Some(pinned) = &blamed.attrs.code else {
        return;
    };
    errors.spanned(
        &pinned.number.tokens,
        format!(
            "duplicate transaction code {code}: also used by {}; every method needs its own code",
            describe(other)
        ),
    );
}

fn check_names(iface: &Interface<'_>, errors: &mut Errors) {
    let mut seen: HashMap<String, &Method<'_>> = HashMap::new();
    for method in &iface.methods {
        let name = method.code_const.to_string();
        if let Some(previous) = seen.get(&name) {
            errors.spanned(
                method.ident,
                format!(
                    "`{}` and `{}` would both have the code constant `{name}`; rename one",
                    previous.ident, method.ident
                ),
            );
        } else {
            seen.insert(name, method);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::validate_descriptor;

    #[test]
    fn descriptors_are_dotted_identifiers() {
        assert!(validate_descriptor("com.example.ICalculator").is_ok());
        assert!(validate_descriptor("android.os.IServiceManager").is_ok());
        assert!(validate_descriptor("Outer$Inner").is_ok());
        assert!(validate_descriptor("").is_err());
        assert!(validate_descriptor("com.example. IFoo").is_err());
        assert!(validate_descriptor("com..IFoo").is_err());
        assert!(validate_descriptor("com.example.").is_err());
        assert!(validate_descriptor("1com.IFoo").is_err());
        assert!(validate_descriptor("com/IFoo").is_err());
    }
}
