//! The wire form of a checked Parcelable: a struct as a structured parcelable (self-counting
//! size, then the fields), a unit-only enum as its backing integer, a one-value-per-variant
//! enum as an AIDL union (int32 tag, then the value).

use std::collections::HashSet;

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{DeriveInput, GenericParam, Ident, Type, WhereClause, parse_quote};

use super::ast::{Container, Field, Shape, VariantKind, VariantModel};
use crate::util::local;

pub(crate) fn expand(container: &Container<'_>) -> TokenStream {
    match &container.data {
        Shape::Struct(fields) => expand_struct(container.input, fields),
        Shape::Enum { variants, repr } => {
            let is_union = variants
                .iter()
                .all(|v| matches!(v.kind, VariantKind::Single(_)));
            match repr.supported() {
                _ if is_union => expand_union(container.input, variants),
                Some(repr) => expand_enum(container.input, variants, repr),
                // Rejected by the checks.
                None => quote!(),
            }
        }
        // Rejected by the checks.
        Shape::RustUnion(_) => quote!(),
    }
}

/// `impl Parcelable`: `write_sized` with each field, `read_sized` with each field (default
/// when an older writer did not write it).
fn expand_struct(input: &DeriveInput, fields: &[Field<'_>]) -> TokenStream {
    let (l_parcel, l_body, l_fields) = (local("parcel"), local("body"), local("fields"));
    let ident = &input.ident;
    let bounds = quote!(
        ::binder_rt::binder_impl::Serialize
            + ::binder_rt::binder_impl::Deserialize
            + ::core::default::Default
    );
    let where_clause = bounded_where_clause(input, fields.iter().map(|f| f.ty), &bounds);
    let (impl_generics, ty_generics, _) = input.generics.split_for_impl();
    let writes = fields.iter().map(|f| {
        let member = &f.member;
        let ty = f.ty;
        quote_spanned!(ty.span()=> <#ty as ::binder_rt::binder_impl::Serialize>::serialize(&self.#member, #l_body)?;)
    });
    let reads = fields.iter().map(|f| {
        let member = &f.member;
        let ty = f.ty;
        let read = quote_spanned! {ty.span()=>
            __ParcelableFieldRead::read_field::<#ty>(#l_fields)?
        };
        quote!(#member: #read,)
    });
    quote! {
        const _: () = {
            /// `Default`, with a message for the fields that have none.
            #[diagnostic::on_unimplemented(
                message = "parcelable field of type `{Self}` has no default value",
                label = "no `Default`",
                note = "the fields an older writer did not write take their default value when read",
                note = "wrap binders and file descriptors in `Option<..>`; for an enum, derive `Default` and mark a variant `#[default]`"
            )]
            trait __ParcelableFieldDefault: ::core::marker::Sized {
                fn default_field() -> Self;
            }
            impl<T: ::core::default::Default> __ParcelableFieldDefault for T {
                fn default_field() -> Self {
                    <T as ::core::default::Default>::default()
                }
            }
            /// Reads a field, or gives its default when an older writer did not write it. One
            /// call with the field's type, so a type that is neither is reported once per trait.
            trait __ParcelableFieldRead {
                fn read_field<T: ::binder_rt::binder_impl::Deserialize + __ParcelableFieldDefault>(
                    &mut self,
                ) -> ::core::result::Result<T, ::binder_rt::StatusCode>;
            }
            impl __ParcelableFieldRead for ::binder_rt::binder_impl::SizedReader<'_> {
                fn read_field<T: ::binder_rt::binder_impl::Deserialize + __ParcelableFieldDefault>(
                    &mut self,
                ) -> ::core::result::Result<T, ::binder_rt::StatusCode> {
                    self.read_field_or(<T as __ParcelableFieldDefault>::default_field)
                }
            }

        #[automatically_derived]
        impl #impl_generics ::binder_rt::Parcelable for #ident #ty_generics #where_clause {
            fn write_to_parcel(
                &self,
                #l_parcel: &mut ::binder_rt::binder_impl::Parcel,
            ) -> ::core::result::Result<(), ::binder_rt::StatusCode> {
                #l_parcel.write_sized(|#l_body| {
                    #(#writes)*
                    ::core::result::Result::Ok(())
                })
            }

            fn read_from_parcel(
                #l_parcel: &mut ::binder_rt::binder_impl::Parcel,
            ) -> ::core::result::Result<Self, ::binder_rt::StatusCode> {
                #l_parcel.read_sized(|#l_fields| {
                    ::core::result::Result::Ok(Self { #(#reads)* })
                })
            }
        }
        };
    }
}

/// `impl Parcelable`: the variant's position as an int32 tag, then its value.
fn expand_union(input: &DeriveInput, variants: &[VariantModel<'_>]) -> TokenStream {
    let (l_parcel, l_value) = (local("parcel"), local("value"));
    let ident = &input.ident;
    let members: Vec<(&Ident, &Type, Literal)> = variants
        .iter()
        .enumerate()
        .filter_map(|(i, v)| match v.kind {
            VariantKind::Single(ty) => {
                Some((v.ident, ty, Literal::i32_unsuffixed(i32::try_from(i).ok()?)))
            }
            _ => None,
        })
        .collect();
    let bounds =
        quote!(::binder_rt::binder_impl::Serialize + ::binder_rt::binder_impl::Deserialize);
    let where_clause = bounded_where_clause(input, members.iter().map(|(_, ty, _)| *ty), &bounds);
    let (impl_generics, ty_generics, _) = input.generics.split_for_impl();
    let writes = members.iter().map(|(variant, ty, tag)| {
        let write = quote_spanned!(ty.span()=> <#ty as ::binder_rt::binder_impl::Serialize>::serialize(#l_value, #l_parcel));
        quote! {
            Self::#variant(#l_value) => {
                #l_parcel.write_i32(#tag)?;
                #write
            }
        }
    });
    let reads = members.iter().map(|(variant, ty, tag)| {
        let read =
            quote_spanned!(ty.span()=> <#ty as ::binder_rt::binder_impl::Deserialize>::deserialize(#l_parcel)?);
        quote!(#tag => ::core::result::Result::Ok(Self::#variant(#read)),)
    });
    quote! {
        #[automatically_derived]
        impl #impl_generics ::binder_rt::Parcelable for #ident #ty_generics #where_clause {
            fn write_to_parcel(
                &self,
                #l_parcel: &mut ::binder_rt::binder_impl::Parcel,
            ) -> ::core::result::Result<(), ::binder_rt::StatusCode> {
                match self {
                    #(#writes)*
                }
            }

            fn read_from_parcel(
                #l_parcel: &mut ::binder_rt::binder_impl::Parcel,
            ) -> ::core::result::Result<Self, ::binder_rt::StatusCode> {
                match #l_parcel.read_i32()? {
                    #(#reads)*
                    _ => ::core::result::Result::Err(::binder_rt::StatusCode::BadValue),
                }
            }
        }
    }
}

/// `Serialize`/`Deserialize` and their array forms, as the backing integer: a scalar is
/// widened to int32 (byte, int) or written as int64 (long); arrays follow the backing type's
/// array form (packed bytes for byte-backed enums). Unknown values read as `BAD_VALUE`.
fn expand_enum(input: &DeriveInput, variants: &[VariantModel<'_>], repr: &Ident) -> TokenStream {
    let (l_parcel, l_value, l_items, l_values) = (
        local("parcel"),
        local("value"),
        local("items"),
        local("values"),
    );
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let variant_idents: Vec<&Ident> = variants.iter().map(|v| v.ident).collect();
    quote! {
        const _: () = {
            fn __to_backing #impl_generics (#l_value: &#ident #ty_generics) -> #repr #where_clause {
                match #l_value {
                    #(#ident::#variant_idents => #ident::#variant_idents as #repr,)*
                }
            }

            fn __from_backing #impl_generics (
                #l_value: #repr,
            ) -> ::core::result::Result<#ident #ty_generics, ::binder_rt::StatusCode> #where_clause {
                #(
                    if #l_value == #ident::#variant_idents as #repr {
                        return ::core::result::Result::Ok(#ident::#variant_idents);
                    }
                )*
                ::core::result::Result::Err(::binder_rt::StatusCode::BadValue)
            }

            #[automatically_derived]
            #[diagnostic::do_not_recommend]
            impl #impl_generics ::binder_rt::binder_impl::Serialize for #ident #ty_generics #where_clause {
                fn serialize(
                    &self,
                    #l_parcel: &mut ::binder_rt::binder_impl::Parcel,
                ) -> ::core::result::Result<(), ::binder_rt::StatusCode> {
                    <#repr as ::binder_rt::binder_impl::Serialize>::serialize(&__to_backing(self), #l_parcel)
                }
            }

            #[automatically_derived]
            #[diagnostic::do_not_recommend]
            impl #impl_generics ::binder_rt::binder_impl::Deserialize for #ident #ty_generics #where_clause {
                fn deserialize(
                    #l_parcel: &mut ::binder_rt::binder_impl::Parcel,
                ) -> ::core::result::Result<Self, ::binder_rt::StatusCode> {
                    __from_backing(<#repr as ::binder_rt::binder_impl::Deserialize>::deserialize(#l_parcel)?)
                }
            }

            #[automatically_derived]
            #[diagnostic::do_not_recommend]
            impl #impl_generics ::binder_rt::binder_impl::SerializeArray for #ident #ty_generics #where_clause {
                fn serialize_array(
                    #l_items: &[Self],
                    #l_parcel: &mut ::binder_rt::binder_impl::Parcel,
                ) -> ::core::result::Result<(), ::binder_rt::StatusCode> {
                    let #l_values: ::std::vec::Vec<#repr> = #l_items.iter().map(__to_backing).collect();
                    <#repr as ::binder_rt::binder_impl::SerializeArray>::serialize_array(&#l_values, #l_parcel)
                }
            }

            #[automatically_derived]
            #[diagnostic::do_not_recommend]
            impl #impl_generics ::binder_rt::binder_impl::DeserializeArray for #ident #ty_generics #where_clause {
                const MIN_WIRE_SIZE: usize = <#repr as ::binder_rt::binder_impl::DeserializeArray>::MIN_WIRE_SIZE;

                fn deserialize_array(
                    #l_parcel: &mut ::binder_rt::binder_impl::Parcel,
                ) -> ::core::result::Result<::core::option::Option<::std::vec::Vec<Self>>, ::binder_rt::StatusCode> {
                    match <#repr as ::binder_rt::binder_impl::DeserializeArray>::deserialize_array(#l_parcel)? {
                        ::core::option::Option::None => ::core::result::Result::Ok(::core::option::Option::None),
                        ::core::option::Option::Some(#l_values) => #l_values
                            .into_iter()
                            .map(__from_backing)
                            .collect::<::core::result::Result<::std::vec::Vec<Self>, ::binder_rt::StatusCode>>()
                            .map(::core::option::Option::Some),
                    }
                }
            }
        };
    }
}

/// The input's where clause plus `T: bounds` for every field type that mentions one of the
/// input's type parameters (`Vec<T>: Serialize + ...`), so a generic parcelable is Parcelable
/// exactly when its fields are.
fn bounded_where_clause<'t>(
    input: &DeriveInput,
    field_types: impl Iterator<Item = &'t Type>,
    bounds: &TokenStream,
) -> Option<WhereClause> {
    let params: HashSet<&Ident> = input
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Type(t) => Some(&t.ident),
            _ => None,
        })
        .collect();
    let mut where_clause = input.generics.where_clause.clone();
    if params.is_empty() {
        return where_clause;
    }
    let mut seen = HashSet::new();
    for ty in field_types {
        if !mentions_any(ty, &params) || !seen.insert(quote!(#ty).to_string()) {
            continue;
        }
        where_clause
            .get_or_insert_with(|| parse_quote!(where))
            .predicates
            .push(parse_quote!(#ty: #bounds));
    }
    where_clause
}

fn mentions_any(ty: &Type, params: &HashSet<&Ident>) -> bool {
    struct Finder<'p> {
        params: &'p HashSet<&'p Ident>,
        found: bool,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_path(&mut self, path: &'ast syn::Path) {
            if let Some(first) = path.segments.first()
                && path.leading_colon.is_none()
                && self.params.contains(&first.ident)
            {
                self.found = true;
            }
            syn::visit::visit_path(self, path);
        }
    }
    let mut finder = Finder {
        params,
        found: false,
    };
    finder.visit_type(ty);
    finder.found
}
