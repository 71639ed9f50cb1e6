//! What `#[binder_interface]` emits next to its errors: the trait, and empty `Bn`/`Bp` structs
//! (the stub with its constants), so that code using them does not add a cascade of "cannot
//! find" errors to the real ones.

use proc_macro2::TokenStream;
use quote::quote;

use super::ast::Interface;
use super::expand::{emit_constants, emit_trait};

pub(crate) fn expand(iface: &Interface<'_>, error: syn::Error) -> TokenStream {
    let error = error.into_compile_error();
    let trait_item = emit_trait(iface);
    let vis = &iface.item.vis;
    let bn = &iface.bn;
    let bp = &iface.bp;
    let constants = emit_constants(iface);
    quote! {
        #error
        // Warnings about the user's code would only distract from the errors.
        #[allow(unused)]
        #trait_item
        #vis struct #bn {}
        impl #bn {
            #constants
        }
        #vis struct #bp {}
    }
}
