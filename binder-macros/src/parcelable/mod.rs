//! `#[derive(Parcelable)]`: input → model (`ast`) → checks (`check`) → code (`expand`), or a
//! placeholder impl next to the errors, so that uses of the type do not add errors of their own.

mod ast;
mod check;
mod expand;

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::ctxt::Errors;

pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let container = ast::Container::from_syn(input);
    let mut errors = Errors::new();
    check::check(&container, &mut errors);
    match errors.finish() {
        Ok(()) => expand::expand(&container),
        Err(error) => fallback(input, error),
    }
}

fn fallback(input: &DeriveInput, error: syn::Error) -> TokenStream {
    let error = error.into_compile_error();
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #error

        #[automatically_derived]
        impl #impl_generics ::binder_rt::Parcelable for #ident #ty_generics #where_clause {
            fn write_to_parcel(
                &self,
                _: &mut ::binder_rt::binder_impl::Parcel,
            ) -> ::core::result::Result<(), ::binder_rt::StatusCode> {
                ::core::unreachable!()
            }

            fn read_from_parcel(
                _: &mut ::binder_rt::binder_impl::Parcel,
            ) -> ::core::result::Result<Self, ::binder_rt::StatusCode> {
                ::core::unreachable!()
            }
        }
    }
}
