//! Generates, for a checked interface: the trait as written (plus the `Interface` supertrait
//! and, when versioned, the version/hash methods), the `Bn` stub with the code constants, the
//! `Bp` proxy, and `FromIBinder` for `dyn Trait`. One function per artifact.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, ItemTrait, TraitItem, Type, TypeParamBound, parse_quote};

use super::ast::{
    Arg, ArgKind, INTERFACE_HASH_METHOD, INTERFACE_VERSION_METHOD, Interface, Method, plain_ident,
};
use crate::util::{erase_lifetimes, is_passthrough_attr, local};

pub(crate) fn expand(iface: &Interface<'_>) -> TokenStream {
    let trait_item = emit_trait(iface);
    let stub = emit_stub(iface);
    let proxy = emit_proxy(iface);
    let from_ibinder = emit_from_ibinder(iface);
    quote! {
        #trait_item
        #stub
        #proxy
        #from_ibinder
    }
}

/// The user's trait with `::binder_rt::Interface` as a supertrait, our method attributes
/// removed and, for a versioned interface, the provided version/hash methods. Also used by the
/// fallback expansion, so it must compile whatever the checks found (and reported).
pub(crate) fn emit_trait(iface: &Interface<'_>) -> TokenStream {
    let mut item: ItemTrait = iface.item.clone();
    let has_interface = item.supertraits.iter().any(|b| {
        matches!(b, TypeParamBound::Trait(t) if t.path.segments.last().is_some_and(|s| s.ident == "Interface"))
    });
    if !has_interface {
        if item.colon_token.is_none() {
            item.colon_token = Some(Default::default());
        }
        item.supertraits.push(parse_quote!(::binder_rt::Interface));
    }
    for trait_item in &mut item.items {
        let TraitItem::Fn(f) = trait_item else {
            continue;
        };
        // Ours are consumed here; anything else was reported (and would only add an error).
        f.attrs.retain(is_passthrough_attr);
        if f.default.is_none() {
            // Patterns are not allowed in methods without a body; the checks report them, and
            // the trait emitted next to that error must not add another one.
            for input in &mut f.sig.inputs {
                if let syn::FnArg::Typed(pt) = input
                    && plain_ident(&pt.pat).is_none()
                {
                    *pt.pat = parse_quote!(_);
                }
            }
        }
    }
    let declared = |name: &str| iface.methods.iter().any(|m| m.ident == name);
    // A method of the same name is reported by the checks; adding ours would add an error.
    if iface.is_versioned()
        && !declared(INTERFACE_VERSION_METHOD)
        && !declared(INTERFACE_HASH_METHOD)
    {
        let version = iface.version().unwrap_or(1);
        let hash = iface.hash();
        let version_fn = Ident::new(INTERFACE_VERSION_METHOD, Span::call_site());
        let hash_fn = Ident::new(INTERFACE_HASH_METHOD, Span::call_site());
        item.items.push(parse_quote! {
            /// The version of the interface the object implements: for a local object, the
            /// version this code was built with; for a proxy, the remote object's answer.
            fn #version_fn(&self) -> ::binder_rt::Result<i32> {
                ::core::result::Result::Ok(#version)
            }
        });
        item.items.push(parse_quote! {
            /// The hash of the frozen interface the object implements (`"notfrozen"` while the
            /// interface is still being changed).
            fn #hash_fn(&self) -> ::binder_rt::Result<::std::string::String> {
                ::core::result::Result::Ok(::std::string::String::from(#hash))
            }
        });
    }
    quote!(#item)
}

/// A parameter of a generated public function, named for its documentation.
fn param(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// The stub's associated constants: descriptor, version and hash, transaction codes. Also
/// emitted by the fallback expansion (a code constant only once per name).
pub(crate) fn emit_constants(iface: &Interface<'_>) -> TokenStream {
    let trait_ident = &iface.item.ident;
    let descriptor = iface.descriptor();
    let mut names = std::collections::HashSet::new();
    let code_consts = iface
        .methods
        .iter()
        .filter(|m| names.insert(m.code_const.to_string()))
        .map(|m| {
            let name = &m.code_const;
            let code = m.code();
            let doc = format!("The transaction code of [`{trait_ident}::{}`].", m.ident);
            quote!(#[doc = #doc] pub const #name: ::binder_rt::binder_impl::TransactionCode = #code;)
        });
    let version_consts = iface.version().map(|version| {
        let hash = iface.hash();
        quote! {
            /// The version of the interface this code was built with.
            pub const VERSION: i32 = #version;
            /// The hash of the frozen interface this code was built with.
            pub const HASH: &'static str = #hash;
        }
    });
    quote! {
        /// The interface descriptor.
        pub const DESCRIPTOR: &'static str = #descriptor;
        #version_consts
        #(#code_consts)*
    }
}

// ---- the local stub ----------------------------------------------------------------------

fn emit_stub(iface: &Interface<'_>) -> TokenStream {
    let (code, data, reply, flags) = (local("code"), local("data"), local("reply"), local("flags"));
    let (implementation, inner, binder) =
        (param("implementation"), local("inner"), local("binder"));
    let trait_ident = &iface.item.ident;
    let vis = &iface.item.vis;
    let bn = &iface.bn;
    let struct_doc = format!(
        "The local binder object serving an implementation of [`{trait_ident}`]: decodes each \
         transaction, calls the implementation and encodes the reply."
    );
    let constants = emit_constants(iface);
    let arms = iface.methods.iter().map(|m| stub_arm(iface, m));
    let version_arms = iface.is_versioned().then(|| {
        let version_fn = Ident::new(INTERFACE_VERSION_METHOD, Span::call_site());
        let hash_fn = Ident::new(INTERFACE_HASH_METHOD, Span::call_site());
        let version = two_way_reply(
            quote!(#trait_ident::#version_fn(&*self.inner)),
            Some(&parse_quote!(i32)),
        );
        let hash = two_way_reply(
            quote!(#trait_ident::#hash_fn(&*self.inner)),
            Some(&parse_quote!(::std::string::String)),
        );
        quote! {
            ::binder_rt::binder_impl::GET_INTERFACE_VERSION_TRANSACTION => {
                #data.enforce_interface(Self::DESCRIPTOR)?;
                ::binder_rt::binder_impl::check_call_kind(#flags, false)?;
                #version
            }
            ::binder_rt::binder_impl::GET_INTERFACE_HASH_TRANSACTION => {
                #data.enforce_interface(Self::DESCRIPTOR)?;
                ::binder_rt::binder_impl::check_call_kind(#flags, false)?;
                #hash
            }
        }
    });

    quote! {
        #[doc = #struct_doc]
        #vis struct #bn {
            inner: ::binder_rt::__private::Arc<dyn #trait_ident>,
        }

        impl #bn {
            #constants

            /// A new local binder object serving `implementation`. Calls through the returned
            /// reference go straight to `implementation`; other processes reach it through the
            /// binder.
            pub fn new_binder(#implementation: impl #trait_ident) -> ::binder_rt::Strong<dyn #trait_ident> {
                let #inner: ::binder_rt::__private::Arc<dyn #trait_ident> =
                    ::binder_rt::__private::Arc::new(#implementation);
                let #binder = ::binder_rt::SpIBinder::new_local(#bn {
                    inner: ::binder_rt::__private::Arc::clone(&#inner),
                });
                ::binder_rt::Strong::from_parts(#inner, #binder)
            }
        }

        #[automatically_derived]
        impl ::binder_rt::binder_impl::Remotable for #bn {
            fn descriptor(&self) -> &str {
                Self::DESCRIPTOR
            }

            #[allow(unused_variables)]
            fn on_transact(
                &self,
                #code: ::binder_rt::binder_impl::TransactionCode,
                #data: &mut ::binder_rt::binder_impl::Parcel,
                #reply: &mut ::binder_rt::binder_impl::Parcel,
                #flags: ::binder_rt::binder_impl::TransactionFlags,
            ) -> ::core::result::Result<(), ::binder_rt::StatusCode> {
                match #code {
                    #(#arms)*
                    #version_arms
                    _ => ::core::result::Result::Err(::binder_rt::StatusCode::UnknownTransaction),
                }
            }
        }
    }
}

/// One `match` arm of `on_transact`: check the token, read the arguments, call, reply.
fn stub_arm(iface: &Interface<'_>, method: &Method<'_>) -> TokenStream {
    let (data, flags) = (local("data"), local("flags"));
    let trait_ident = &iface.item.ident;
    let method_ident = method.ident;
    let code_const = &method.code_const;
    let locals: Vec<Ident> = (0..method.args.len())
        .map(|i| local(&format!("arg{i}")))
        .collect();
    let reads = method
        .args
        .iter()
        .zip(&locals)
        .map(|(arg, local)| read_arg(arg, local));
    // `&[u8]` arguments are borrowed from the Parcel once every argument has been read.
    let borrows = method
        .args
        .iter()
        .zip(&locals)
        .filter(|(arg, _)| matches!(arg.kind, ArgKind::Bytes))
        .map(|(_, local)| {
            quote! {
                let #local: &[u8] = #data
                    .data()
                    .get(#local)
                    .ok_or(::binder_rt::StatusCode::BadValue)?;
            }
        });
    let passes = method
        .args
        .iter()
        .zip(&locals)
        .map(|(arg, local)| match arg.kind {
            ArgKind::Value | ArgKind::Bytes => quote!(#local),
            ArgKind::Str | ArgKind::Slice(_) | ArgKind::Ref(_) | ArgKind::RefMut(_) => {
                quote!(&#local)
            }
        });
    let call = quote!(#trait_ident::#method_ident(&*self.inner, #(#passes),*));
    let respond = if method.is_oneway() {
        quote! {
            // A oneway call has no reply: the caller is not waiting for the outcome.
            let _ = #call;
            ::core::result::Result::Ok(())
        }
    } else {
        two_way_reply(call, method.result_type())
    };
    let oneway = method.is_oneway();
    quote! {
        Self::#code_const => {
            #data.enforce_interface(Self::DESCRIPTOR)?;
            ::binder_rt::binder_impl::check_call_kind(#flags, #oneway)?;
            #(#reads)*
            #(#borrows)*
            #respond
        }
    }
}

/// Reads one argument into `local`. Every read names the user's type with its span, so a type
/// that cannot be read is reported at the type in the trait.
fn read_arg(arg: &Arg<'_>, local: &Ident) -> TokenStream {
    let (data, start, len) = (
        self::local("data"),
        self::local("start"),
        self::local("len"),
    );
    let span = arg.ty.span();
    match arg.kind {
        ArgKind::Value => {
            let ty = erase_lifetimes(arg.ty);
            quote_spanned!(span=> let #local = <#ty as ::binder_rt::binder_impl::Deserialize>::deserialize(#data)?;)
        }
        ArgKind::Str => quote! {
            let #local = <::std::string::String as ::binder_rt::binder_impl::Deserialize>::deserialize(#data)?;
        },
        ArgKind::Bytes => quote! {
            // Where the bytes are (after their int32 length): read in place, without a copy.
            let #local = {
                let #start = #data.data_position() + 4;
                let #len = #data.read_byte_slice()?.ok_or(::binder_rt::StatusCode::UnexpectedNull)?.len();
                #start..#start + #len
            };
        },
        ArgKind::Slice(elem) => {
            let elem = erase_lifetimes(elem);
            quote_spanned!(span=> let #local = <::std::vec::Vec<#elem> as ::binder_rt::binder_impl::Deserialize>::deserialize(#data)?;)
        }
        ArgKind::Ref(elem) => {
            let elem = erase_lifetimes(elem);
            quote_spanned!(span=> let #local = <#elem as ::binder_rt::binder_impl::Deserialize>::deserialize(#data)?;)
        }
        // Rejected by the checks.
        ArgKind::RefMut(_) => quote!(),
    }
}

/// The reply of a two-way call, written by the runtime: status OK and the value, the
/// exception, or (for a transport error the implementation returned) a status-code reply. The
/// value's type carries the user's span, so a type that cannot be written is reported there.
fn two_way_reply(call: TokenStream, result: Option<&Type>) -> TokenStream {
    let reply = local("reply");
    let ty = match result {
        Some(ty) => {
            let span = ty.span();
            let ty = erase_lifetimes(ty);
            quote_spanned!(span=> #ty)
        }
        None => quote!(()),
    };
    quote!(::binder_rt::binder_impl::write_reply::<#ty>(#reply, #call))
}

// ---- the proxy ---------------------------------------------------------------------------

fn emit_proxy(iface: &Interface<'_>) -> TokenStream {
    let binder = param("binder");
    let trait_ident = &iface.item.ident;
    let vis = &iface.item.vis;
    let bn = &iface.bn;
    let bp = &iface.bp;
    let struct_doc = format!(
        "A proxy implementing [`{trait_ident}`] by sending each call as a transaction to a binder \
         object, remote or local."
    );
    let cache_fields = iface.is_versioned().then(|| {
        quote! {
            cached_version: ::binder_rt::__private::OnceLock<i32>,
            cached_hash: ::binder_rt::__private::OnceLock<::std::string::String>,
        }
    });
    let cache_init = iface.is_versioned().then(|| {
        quote! {
            cached_version: ::binder_rt::__private::OnceLock::new(),
            cached_hash: ::binder_rt::__private::OnceLock::new(),
        }
    });
    let methods = iface.methods.iter().map(|m| proxy_method(bn, m));
    let version_methods = iface.is_versioned().then(|| proxy_version_methods(bn));
    quote! {
        #[doc = #struct_doc]
        #vis struct #bp {
            binder: ::binder_rt::SpIBinder,
            #cache_fields
        }

        impl #bp {
            /// A proxy over `binder`, without checking its descriptor: over a local binder it
            /// makes every call take the full encode → `on_transact` → decode path.
            pub fn from_binder(#binder: ::binder_rt::SpIBinder) -> Self {
                #bp { binder: #binder, #cache_init }
            }

            /// The binder the calls are sent to.
            pub fn as_binder(&self) -> ::binder_rt::SpIBinder {
                ::core::clone::Clone::clone(&self.binder)
            }
        }

        #[automatically_derived]
        impl #trait_ident for #bp {
            #(#methods)*
            #version_methods
        }
    }
}

fn proxy_method(bn: &Ident, method: &Method<'_>) -> TokenStream {
    let data = local("data");
    let sig = &method.item.sig;
    let code_const = &method.code_const;
    let writes = method.args.iter().map(write_arg);
    let send = if method.is_oneway() {
        quote!(::binder_rt::binder_impl::call_oneway(&self.binder, #bn::#code_const, #data))
    } else {
        let ty = match method.result_type() {
            Some(ty) => {
                let span = ty.span();
                let ty = erase_lifetimes(ty);
                quote_spanned!(span=> #ty)
            }
            None => quote!(()),
        };
        quote!(::binder_rt::binder_impl::call_two_way::<#ty>(&self.binder, #bn::#code_const, #data))
    };
    quote! {
        #sig {
            let mut #data =
                ::binder_rt::binder_impl::prepare_call(&self.binder, #bn::DESCRIPTOR)?;
            #(#writes)*
            #send
        }
    }
}

/// Writes one argument. As for reads, the user's type carries its span.
fn write_arg(arg: &Arg<'_>) -> TokenStream {
    let data = local("data");
    let Some(ident) = arg.ident else {
        return quote!();
    };
    let span = arg.ty.span();
    match arg.ty {
        Type::Reference(r) => {
            let elem = erase_lifetimes(&r.elem);
            quote_spanned!(span=> <#elem as ::binder_rt::binder_impl::Serialize>::serialize(#ident, &mut #data)?;)
        }
        ty => {
            let ty = erase_lifetimes(ty);
            quote_spanned!(span=> <#ty as ::binder_rt::binder_impl::Serialize>::serialize(&#ident, &mut #data)?;)
        }
    }
}

/// A proxy asks the remote object for its version and hash once, then answers from its cache.
fn proxy_version_methods(bn: &Ident) -> TokenStream {
    let (data, value, cached) = (local("data"), local("value"), local("cached"));
    let version_fn = Ident::new(INTERFACE_VERSION_METHOD, Span::call_site());
    let hash_fn = Ident::new(INTERFACE_HASH_METHOD, Span::call_site());
    let ask = |code: TokenStream, ty: TokenStream| {
        quote! {
            let #data = ::binder_rt::binder_impl::prepare_call(&self.binder, #bn::DESCRIPTOR)?;
            let #value = ::binder_rt::binder_impl::call_two_way::<#ty>(&self.binder, #code, #data)?;
        }
    };
    let ask_version = ask(
        quote!(::binder_rt::binder_impl::GET_INTERFACE_VERSION_TRANSACTION),
        quote!(i32),
    );
    let ask_hash = ask(
        quote!(::binder_rt::binder_impl::GET_INTERFACE_HASH_TRANSACTION),
        quote!(::std::string::String),
    );
    quote! {
        fn #version_fn(&self) -> ::binder_rt::Result<i32> {
            if let ::core::option::Option::Some(#cached) = self.cached_version.get() {
                return ::core::result::Result::Ok(*#cached);
            }
            #ask_version
            let _ = self.cached_version.set(#value);
            ::core::result::Result::Ok(#value)
        }

        fn #hash_fn(&self) -> ::binder_rt::Result<::std::string::String> {
            if let ::core::option::Option::Some(#cached) = self.cached_hash.get() {
                return ::core::result::Result::Ok(::core::clone::Clone::clone(#cached));
            }
            #ask_hash
            let _ = self.cached_hash.set(::core::clone::Clone::clone(&#value));
            ::core::result::Result::Ok(#value)
        }
    }
}

// ---- typed references from untyped binders ------------------------------------------------

fn emit_from_ibinder(iface: &Interface<'_>) -> TokenStream {
    let trait_ident = &iface.item.ident;
    let bn = &iface.bn;
    let bp = &iface.bp;
    let (binder, found, remotable, stub, inner, proxy) = (
        local("binder"),
        local("found"),
        local("remotable"),
        local("stub"),
        local("inner"),
        local("proxy"),
    );
    quote! {
        #[automatically_derived]
        impl ::binder_rt::FromIBinder for dyn #trait_ident {
            const DESCRIPTOR: &'static str = #bn::DESCRIPTOR;

            fn try_from(
                #binder: ::binder_rt::SpIBinder,
            ) -> ::core::result::Result<::binder_rt::Strong<dyn #trait_ident>, ::binder_rt::StatusCode> {
                // Our own stub in this process: call the implementation directly.
                let #found = #binder
                    .as_remotable()
                    .and_then(|#remotable| <dyn ::binder_rt::__private::Any>::downcast_ref::<#bn>(#remotable))
                    .map(|#stub| ::binder_rt::__private::Arc::clone(&#stub.inner));
                if let ::core::option::Option::Some(#inner) = #found {
                    return ::core::result::Result::Ok(::binder_rt::Strong::from_parts(#inner, #binder));
                }
                // Another process's object, or a local one of another stub type: a proxy,
                // once the descriptor is known to match.
                if #binder.interface_descriptor()? != <Self as ::binder_rt::FromIBinder>::DESCRIPTOR {
                    return ::core::result::Result::Err(::binder_rt::StatusCode::BadType);
                }
                let #proxy: ::binder_rt::__private::Arc<dyn #trait_ident> =
                    ::binder_rt::__private::Arc::new(#bp::from_binder(::core::clone::Clone::clone(&#binder)));
                ::core::result::Result::Ok(::binder_rt::Strong::from_parts(#proxy, #binder))
            }
        }
    }
}
