//! The model of a `#[derive(Parcelable)]` input: a struct's fields, or an enum's variants with
//! their shapes and the enum's `#[repr]`. Built without judging; `check.rs` judges.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{Attribute, Data, DeriveInput, Fields, Ident, Member, Meta, Token, Type, Variant};

pub(crate) struct Container<'a> {
    pub input: &'a DeriveInput,
    pub data: Shape<'a>,
}

pub(crate) enum Shape<'a> {
    /// A struct (named, tuple or unit): a structured parcelable.
    Struct(Vec<Field<'a>>),
    /// An enum: an AIDL enum (all variants unit) or union (all hold one value), if valid.
    Enum {
        variants: Vec<VariantModel<'a>>,
        repr: Repr<'a>,
    },
    /// A Rust `union`: unsupported.
    RustUnion(TokenStream),
}

pub(crate) struct Field<'a> {
    /// `self.name` or `self.0`.
    pub member: Member,
    pub ty: &'a Type,
}

pub(crate) struct VariantModel<'a> {
    pub variant: &'a Variant,
    pub ident: &'a Ident,
    pub kind: VariantKind<'a>,
}

pub(crate) enum VariantKind<'a> {
    /// `A` (or `A = 3`): an enum value.
    Unit,
    /// `A(T)`: a union member holding a `T`.
    Single(&'a Type),
    /// Named fields, several fields or `A()`: neither.
    Other,
}

/// The integer backing type of an enum, from `#[repr(..)]`.
pub(crate) struct Repr<'a> {
    /// The `#[repr(..)]` attributes, for errors.
    pub attrs: Vec<&'a Attribute>,
    /// The first integer type named in them.
    pub int: Option<Ident>,
}

/// The backing types AIDL enums can have: byte (`i8`/`u8`), int (`i32`), long (`i64`).
pub(crate) const SUPPORTED_REPRS: &[&str] = &["i8", "u8", "i32", "i64"];
const INTEGER_REPRS: &[&str] = &[
    "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "i128", "u128", "isize", "usize",
];

impl<'a> Container<'a> {
    pub(crate) fn from_syn(input: &'a DeriveInput) -> Container<'a> {
        let data = match &input.data {
            Data::Struct(s) => Shape::Struct(fields(&s.fields)),
            Data::Enum(e) => Shape::Enum {
                variants: e.variants.iter().map(VariantModel::new).collect(),
                repr: Repr::from_attrs(&input.attrs),
            },
            Data::Union(u) => Shape::RustUnion(u.union_token.to_token_stream()),
        };
        Container { input, data }
    }
}

fn fields(fields: &Fields) -> Vec<Field<'_>> {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| Field {
            member: match &f.ident {
                Some(ident) => Member::Named(ident.clone()),
                None => Member::Unnamed(i.into()),
            },
            ty: &f.ty,
        })
        .collect()
}

impl<'a> VariantModel<'a> {
    fn new(variant: &'a Variant) -> VariantModel<'a> {
        let kind = match &variant.fields {
            Fields::Unit => VariantKind::Unit,
            Fields::Unnamed(f) if f.unnamed.len() == 1 => VariantKind::Single(&f.unnamed[0].ty),
            _ => VariantKind::Other,
        };
        VariantModel {
            variant,
            ident: &variant.ident,
            kind,
        }
    }
}

impl<'a> Repr<'a> {
    fn from_attrs(attrs: &'a [Attribute]) -> Repr<'a> {
        let attrs: Vec<&Attribute> = attrs.iter().filter(|a| a.path().is_ident("repr")).collect();
        let int = attrs
            .iter()
            .filter_map(|a| {
                a.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                    .ok()
            })
            .flatten()
            .filter_map(|meta| match meta {
                Meta::Path(path) => path.get_ident().cloned(),
                _ => None,
            })
            .find(|ident| INTEGER_REPRS.iter().any(|r| ident == r));
        Repr { attrs, int }
    }

    /// The backing type when it is one AIDL has.
    pub(crate) fn supported(&self) -> Option<&Ident> {
        self.int
            .as_ref()
            .filter(|i| SUPPORTED_REPRS.iter().any(|r| *i == r))
    }
}
