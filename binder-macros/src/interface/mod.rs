//! `#[binder_interface]`: attribute arguments and trait → model (`attr`, `ast`) → checks
//! (`check`) → code (`expand`), or the fallback expansion next to the errors (`fallback`).

mod ast;
mod attr;
mod check;
mod expand;
mod fallback;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::Item;

use crate::ctxt::Errors;

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = match syn::parse2::<Item>(input.clone()) {
        Ok(Item::Trait(item)) => item,
        Ok(other) => {
            let error = syn::Error::new_spanned(
                item_keyword(&other),
                "#[binder_interface] goes on a trait declaring the interface's methods",
            );
            let mut out = error.into_compile_error();
            out.extend(other.into_token_stream());
            return out;
        }
        Err(error) => {
            let mut out = error.into_compile_error();
            out.extend(input);
            return out;
        }
    };
    let mut errors = Errors::new();
    let attrs = attr::InterfaceAttrs::parse(args, &mut errors);
    let mut iface = ast::Interface::from_syn(&item, attrs);
    check::check(&mut iface, &mut errors);
    match errors.finish() {
        Ok(()) => expand::expand(&iface),
        Err(error) => fallback::expand(&iface, error),
    }
}

/// The tokens naming what kind of item the attribute was put on, to point the error there.
fn item_keyword(item: &Item) -> TokenStream {
    match item {
        Item::Struct(s) => s.struct_token.to_token_stream(),
        Item::Enum(e) => e.enum_token.to_token_stream(),
        Item::Fn(f) => f.sig.fn_token.to_token_stream(),
        Item::Impl(i) => i.impl_token.to_token_stream(),
        Item::Mod(m) => m.mod_token.to_token_stream(),
        other => other.to_token_stream(),
    }
}
