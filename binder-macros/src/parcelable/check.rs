//! What `#[derive(Parcelable)]` accepts: structs; enums whose variants are all unit (AIDL
//! enums, with an integer `#[repr]`) or all hold exactly one value (AIDL unions). Every problem
//! is reported, each at its tokens.

use super::ast::{Container, Shape, VariantKind};
use crate::ctxt::Errors;

pub(crate) fn check(container: &Container<'_>, errors: &mut Errors) {
    match &container.data {
        Shape::Struct(_) => {}
        Shape::RustUnion(token) => errors.spanned(
            token,
            "Parcelable cannot be derived for a Rust `union`; an AIDL union is an enum whose variants \
             each hold one value, e.g. `enum Value { Int(i32), Text(String) }`",
        ),
        Shape::Enum { variants, repr } => {
            let ident = &container.input.ident;
            if variants.is_empty() {
                errors.spanned(ident, "Parcelable cannot be derived for an enum without variants");
                return;
            }
            for v in variants.iter().filter(|v| matches!(v.kind, VariantKind::Other)) {
                errors.spanned(
                    &v.variant.fields,
                    format!(
                        "variant `{}` must hold exactly one unnamed value, `{}(T)`: a Parcelable enum is \
                         an AIDL union (every variant holds one value) or an AIDL enum (no variant does)",
                        v.ident, v.ident
                    ),
                );
            }
            let first_unit = variants.iter().find(|v| matches!(v.kind, VariantKind::Unit));
            let first_single = variants.iter().find(|v| matches!(v.kind, VariantKind::Single(_)));
            match (first_unit, first_single) {
                (Some(_), Some(single)) => {
                    for unit in variants.iter().filter(|v| matches!(v.kind, VariantKind::Unit)) {
                        errors.spanned(
                            unit.ident,
                            format!(
                                "variant `{}` holds no value but `{}` does: an AIDL union needs a value in \
                                 every variant (`{}(T)`), an AIDL enum in none",
                                unit.ident, single.ident, unit.ident
                            ),
                        );
                    }
                }
                (Some(_), None) => check_enum_repr(container, repr, errors),
                (None, Some(_)) => {
                    for v in variants.iter().filter(|v| v.variant.discriminant.is_some()) {
                        if let Some((_, expr)) = &v.variant.discriminant {
                            errors.spanned(
                                expr,
                                "the tag of an AIDL union member is its position (0, 1, ...); remove the discriminant",
                            );
                        }
                    }
                }
                (None, None) => {}
            }
        }
    }
}

fn check_enum_repr(container: &Container<'_>, repr: &super::ast::Repr<'_>, errors: &mut Errors) {
    if repr.supported().is_some() {
        return;
    }
    match (&repr.int, repr.attrs.first()) {
        (Some(int), _) => errors.spanned(
            int,
            format!(
                "`#[repr({int})]` has no AIDL equivalent: an AIDL enum is backed by byte \
                 (`#[repr(i8)]` or `#[repr(u8)]`), int (`#[repr(i32)]`) or long (`#[repr(i64)]`)"
            ),
        ),
        (None, Some(attr)) => errors.spanned(
            attr,
            "an AIDL enum needs an integer backing type: `#[repr(i8)]`, `#[repr(u8)]`, `#[repr(i32)]` or `#[repr(i64)]`",
        ),
        (None, None) => errors.spanned(
            &container.input.ident,
            format!(
                "missing `#[repr(..)]` on enum `{}`: an AIDL enum is written as its backing type; add \
                 `#[repr(i32)]` (AIDL int), `#[repr(i8)]`/`#[repr(u8)]` (byte) or `#[repr(i64)]` (long)",
                container.input.ident
            ),
        ),
    }
}
