//! Small helpers shared by both macros.

use proc_macro2::Span;
use syn::visit_mut::VisitMut;
use syn::{Attribute, Ident, Lifetime, Type};

/// A local variable (or closure parameter) of generated code. The one convention both macros
/// follow: mixed-site hygiene keeps it apart from the user's variables (an argument called
/// `data` can neither shadow it nor be shadowed by it), and the `__binder_` prefix keeps it
/// apart from the user's constants, which patterns resolve at the call site and would
/// otherwise match against.
pub(crate) fn local(stem: &str) -> Ident {
    Ident::new(&format!("__binder_{stem}"), Span::mixed_site())
}

/// `ty` with every named lifetime replaced by `'_`, so the type can be named inside a generated
/// function body, where the lifetimes of the user's signature are not in scope.
pub(crate) fn erase_lifetimes(ty: &Type) -> Type {
    struct Eraser;
    impl VisitMut for Eraser {
        fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
            if lifetime.ident != "static" {
                *lifetime = Lifetime::new("'_", lifetime.apostrophe);
            }
        }
    }
    let mut ty = ty.clone();
    Eraser.visit_type_mut(&mut ty);
    ty
}

/// `add_two_numbers` / `addTwoNumbers` / `getHTTPCode` → `ADD_TWO_NUMBERS` / `GET_HTTP_CODE`.
pub(crate) fn screaming_snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_uppercase() && next_is_lower)
            {
                out.push('_');
            }
        }
        out.extend(c.to_uppercase());
    }
    out
}

/// Whether an attribute only affects documentation or lints, and so may stay where the user
/// wrote it.
pub(crate) fn is_passthrough_attr(attr: &Attribute) -> bool {
    const PASSTHROUGH: &[&str] = &["doc", "allow", "expect", "warn", "deny"];
    PASSTHROUGH.iter().any(|name| attr.path().is_ident(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_screaming_snake_case() {
        assert_eq!(screaming_snake("add"), "ADD");
        assert_eq!(screaming_snake("add_two"), "ADD_TWO");
        assert_eq!(screaming_snake("addTwo"), "ADD_TWO");
        assert_eq!(screaming_snake("getHTTPCode"), "GET_HTTP_CODE");
        assert_eq!(screaming_snake("get2Values"), "GET2_VALUES");
        assert_eq!(screaming_snake("isDeclared"), "IS_DECLARED");
    }

    #[test]
    fn named_lifetimes_are_erased() {
        let ty: Type = syn::parse_quote!(&'a [&'static str]);
        let erased = erase_lifetimes(&ty);
        assert_eq!(
            quote::quote!(#erased).to_string(),
            quote::quote!(&'_ [&'static str]).to_string()
        );
    }
}
