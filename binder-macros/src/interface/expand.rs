//! Generates, for a checked interface: the trait as written (plus the `Interface` supertrait
//! and, when versioned, the version/hash methods) and its other forms (blocking, async client,
//! async server: see `binder_rt::async_rt`), the `Bn` stub with the code constants and the one
//! serving async implementations, the `Bp` proxy implementing the blocking and the async client
//! traits, and `FromIBinder` for both. One function per artifact.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, ItemTrait, TraitItem, Type, TypeParamBound, parse_quote};

use super::ast::{
    Arg, ArgKind, Direction, INTERFACE_HASH_METHOD, INTERFACE_VERSION_METHOD, Interface, Method,
    plain_ident,
};
use super::attr::is_direction_attr;
use crate::util::{erase_lifetimes, is_passthrough_attr, local};

pub(crate) fn expand(iface: &Interface<'_>) -> TokenStream {
    let trait_item = emit_trait(iface);
    let stub = emit_stub(iface);
    let proxy = emit_proxy(iface);
    let from_ibinder = emit_from_ibinder(iface);
    let (other_traits, async_stub, async_proxy) = if iface.async_forms() {
        (
            emit_other_traits(iface),
            emit_async_stub(iface),
            emit_async_proxy(iface),
        )
    } else {
        Default::default()
    };
    quote! {
        #trait_item
        #other_traits
        #stub
        #async_stub
        #proxy
        #async_proxy
        #from_ibinder
    }
}

/// The forms of an interface's trait.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    /// Methods return `binder_rt::Result<T>`: blocking calls, blocking implementations.
    Blocking,
    /// Methods return `BoxFuture<'static, binder_rt::Result<T>>`: awaited calls (the proxy).
    AsyncClient,
    /// Methods return `impl Future<Output = binder_rt::Result<T>> + Send`: written as `async fn`
    /// by implementations.
    AsyncServer,
}

/// The method's result type as written (`binder_rt::Result<T>`), `()` when missing (reported).
fn written_output(sig: &syn::Signature) -> Type {
    match &sig.output {
        syn::ReturnType::Type(_, ty) => (**ty).clone(),
        syn::ReturnType::Default => parse_quote!(()),
    }
}

/// The lifetime of an async client's future when the method has out-parameters: it writes
/// into them when the reply comes.
const OUT_LIFETIME: &str = "'__binder_out";

/// `sig` without our argument attributes (`#[out]`, `#[inout]`), which are not Rust's.
fn strip_direction_attrs(sig: &mut syn::Signature) {
    for input in &mut sig.inputs {
        if let syn::FnArg::Typed(pt) = input {
            pt.attrs.retain(|a| !is_direction_attr(a));
        }
    }
}

/// `sig` in the form of `flavor`.
fn flavored_sig(sig: &syn::Signature, flavor: Flavor) -> syn::Signature {
    let mut sig = sig.clone();
    strip_direction_attrs(&mut sig);
    if sig.asyncness.take().is_none() && flavor == Flavor::Blocking {
        return sig;
    }
    let out = written_output(&sig);
    let has_out_args = sig.inputs.iter().any(|input| {
        matches!(input, syn::FnArg::Typed(pt) if matches!(&*pt.ty, Type::Reference(r) if r.mutability.is_some()))
    });
    if flavor == Flavor::AsyncClient && has_out_args {
        // The future writes into the out-parameters: it lives as long as they do.
        let lifetime = syn::Lifetime::new(OUT_LIFETIME, Span::call_site());
        sig.generics.params.push(parse_quote!(#lifetime));
        for input in &mut sig.inputs {
            if let syn::FnArg::Typed(pt) = input
                && let Type::Reference(r) = &mut *pt.ty
                && r.mutability.is_some()
            {
                r.lifetime = Some(lifetime.clone());
            }
        }
        sig.output = parse_quote!(-> ::binder_rt::BoxFuture<#lifetime, #out>);
        return sig;
    }
    sig.output = match flavor {
        Flavor::Blocking => parse_quote!(-> #out),
        Flavor::AsyncClient => parse_quote!(-> ::binder_rt::BoxFuture<'static, #out>),
        Flavor::AsyncServer => parse_quote!(
            -> impl ::core::future::Future<Output = #out> + ::core::marker::Send
        ),
    };
    sig
}

/// The flavor the trait was written in.
fn written_flavor(iface: &Interface<'_>) -> Flavor {
    if iface.is_async {
        Flavor::AsyncServer
    } else {
        Flavor::Blocking
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
    let flavor = written_flavor(iface);
    for trait_item in &mut item.items {
        let TraitItem::Fn(f) = trait_item else {
            continue;
        };
        // Ours are consumed here; anything else was reported (and would only add an error).
        f.attrs.retain(is_passthrough_attr);
        strip_direction_attrs(&mut f.sig);
        if flavor == Flavor::AsyncServer && f.sig.asyncness.is_some() && f.default.is_none() {
            // As written, `async fn`, but with futures that must be `Send` (they run on a
            // multi-threaded runtime): what `impl ... { async fn ... }` is then checked against.
            f.sig = flavored_sig(&f.sig, Flavor::AsyncServer);
        }
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
    if flavor == Flavor::Blocking {
        add_version_methods(iface, &mut item);
    }
    quote!(#item)
}

/// A versioned interface's blocking trait gets provided `interface_version`/`interface_hash`.
fn add_version_methods(iface: &Interface<'_>, item: &mut ItemTrait) {
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
}

/// The forms of the trait that were not written: for a blocking trait `IFoo`, `IFooAsync` and
/// `IFooAsyncServer`; for one written with `async fn`, `IFooBlocking` and `IFooAsync`.
fn emit_other_traits(iface: &Interface<'_>) -> TokenStream {
    let written = &iface.item.ident;
    let async_client = flavored_trait(
        iface,
        &iface.async_trait,
        Flavor::AsyncClient,
        &format!(
            "[`{written}`] for callers that await: each method returns a future of the call, \
             which runs on a binder call thread (see `binder_rt::async_rt`). Implemented by the \
             proxy; get one with `binder_rt::async_rt::get_interface::<dyn {}>`.",
            iface.async_trait
        ),
    );
    let other = if iface.is_async {
        flavored_trait(
            iface,
            &iface.sync_trait,
            Flavor::Blocking,
            &format!(
                "[`{written}`] with blocking methods: for blocking callers (implemented by the \
                 proxy) and blocking implementations (served by `{}::new_binder`).",
                iface.bn
            ),
        )
    } else {
        flavored_trait(
            iface,
            &iface.server_trait,
            Flavor::AsyncServer,
            &format!(
                "[`{written}`] for implementations written with `async fn`, served by \
                 `{}::new_async_binder` on an async runtime.",
                iface.bn
            ),
        )
    };
    quote!(#async_client #other)
}

/// The written trait, renamed `ident`, with its methods in the form of `flavor` (no bodies,
/// none of our attributes) and `doc` for documentation.
fn flavored_trait(iface: &Interface<'_>, ident: &Ident, flavor: Flavor, doc: &str) -> TokenStream {
    let mut item: ItemTrait = iface.item.clone();
    item.ident = ident.clone();
    item.attrs.retain(|a| !a.path().is_ident("doc"));
    item.attrs.insert(0, parse_quote!(#[doc = #doc]));
    // Generated for every interface; a program uses the forms it needs.
    item.attrs.push(parse_quote!(#[allow(dead_code)]));
    item.supertraits = parse_quote!(::binder_rt::Interface);
    item.colon_token = Some(Default::default());
    item.items.retain(|i| matches!(i, TraitItem::Fn(_)));
    for trait_item in &mut item.items {
        let TraitItem::Fn(f) = trait_item else {
            continue;
        };
        f.attrs.retain(is_passthrough_attr);
        f.default = None;
        f.semi_token = Some(Default::default());
        f.sig = flavored_sig(&f.sig, flavor);
        for input in &mut f.sig.inputs {
            if let syn::FnArg::Typed(pt) = input
                && plain_ident(&pt.pat).is_none()
            {
                *pt.pat = parse_quote!(_);
            }
        }
    }
    match flavor {
        Flavor::Blocking => add_version_methods(iface, &mut item),
        Flavor::AsyncClient => add_async_version_methods(iface, &mut item),
        Flavor::AsyncServer => {}
    }
    quote!(#item)
}

/// A versioned interface's async client trait asks the remote object for its version and hash
/// (`getInterfaceVersion`/`getInterfaceHash`), awaited. The async server needs no methods: its
/// stub answers from the constants.
fn add_async_version_methods(iface: &Interface<'_>, item: &mut ItemTrait) {
    let declared = |name: &str| iface.methods.iter().any(|m| m.ident == name);
    if !iface.is_versioned()
        || declared(INTERFACE_VERSION_METHOD)
        || declared(INTERFACE_HASH_METHOD)
    {
        return;
    }
    let version_fn = Ident::new(INTERFACE_VERSION_METHOD, Span::call_site());
    let hash_fn = Ident::new(INTERFACE_HASH_METHOD, Span::call_site());
    item.items.push(parse_quote! {
        /// The version of the interface the remote object implements.
        fn #version_fn(&self) -> ::binder_rt::BoxFuture<'static, ::binder_rt::Result<i32>>;
    });
    item.items.push(parse_quote! {
        /// The hash of the frozen interface the remote object implements.
        fn #hash_fn(&self) -> ::binder_rt::BoxFuture<'static, ::binder_rt::Result<::std::string::String>>;
    });
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
    let (data, flags) = (local("data"), local("flags"));
    let (implementation, inner, binder) =
        (param("implementation"), local("inner"), local("binder"));
    let (runtime, proxy) = (param("runtime"), local("proxy"));
    let trait_ident = &iface.sync_trait;
    let (server_trait, async_trait, bn_async, bp_async) = (
        &iface.server_trait,
        &iface.async_trait,
        &iface.bn_async,
        &iface.bp_async,
    );
    let impl_param = impl_param(iface);
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

    let on_transact = on_transact_fn(arms, version_arms);
    let new_async_binder = iface.async_forms().then(|| {
        quote! {
            /// A new local binder object serving `implementation`, whose methods are `async fn`
            /// running on `runtime`: a two-way call's future runs on the binder thread that
            /// received it, with the runtime's context; a oneway call's is spawned on the
            /// runtime. Calls through the returned reference are awaited.
            pub fn new_async_binder<#impl_param: #server_trait>(
                #implementation: #impl_param,
                #runtime: impl ::binder_rt::AsyncRuntime,
            ) -> ::binder_rt::Strong<dyn #async_trait> {
                let #binder = ::binder_rt::SpIBinder::new_local(#bn_async {
                    inner: ::binder_rt::__private::Arc::new(#implementation),
                    runtime: ::binder_rt::__private::Arc::new(#runtime),
                });
                let #proxy: ::binder_rt::__private::Arc<dyn #async_trait> =
                    ::binder_rt::__private::Arc::new(#bp_async::from_binder(::core::clone::Clone::clone(&#binder)));
                ::binder_rt::Strong::from_parts(#proxy, #binder)
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

            #new_async_binder
        }

        #[automatically_derived]
        impl ::binder_rt::binder_impl::Remotable for #bn {
            fn descriptor(&self) -> &str {
                Self::DESCRIPTOR
            }

            #on_transact
        }
    }
}

/// How a stub arm gets a method's arguments: the reads from the Parcel, the borrows of byte
/// slices in place, and the expressions passed to the implementation.
struct ArmArgs {
    reads: Vec<TokenStream>,
    borrows: Vec<TokenStream>,
    passes: Vec<TokenStream>,
    /// Writes of the out-parameters into the reply, after the return value.
    out_writes: Vec<TokenStream>,
}

fn arm_args(method: &Method<'_>) -> ArmArgs {
    let data = local("data");
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
            ArgKind::Str | ArgKind::Slice(_) | ArgKind::Ref(_) => quote!(&#local),
            ArgKind::RefMut(_) => quote!(&mut #local),
        });
    let reply = local("reply");
    let out_writes = method
        .args
        .iter()
        .zip(&locals)
        .filter(|(arg, _)| arg.is_out())
        .filter_map(|(arg, local)| {
            let ty = erase_lifetimes(arg.out_type()?);
            let span = ty.span();
            Some(quote_spanned!(span=> <#ty as ::binder_rt::binder_impl::Serialize>::serialize(&#local, #reply)?;))
        });
    ArmArgs {
        reads: reads.collect(),
        borrows: borrows.collect(),
        passes: passes.collect(),
        out_writes: out_writes.collect(),
    }
}

/// The reply of a two-way stub arm: the return value, then (AIDL's order) the out-parameters.
fn arm_reply(method: &Method<'_>, call: TokenStream, out_writes: &[TokenStream]) -> TokenStream {
    if !method.has_out_args() {
        return two_way_reply(call, method.result_type());
    }
    let reply = local("reply");
    let ty = result_ty(method.result_type());
    quote! {
        ::binder_rt::binder_impl::write_reply_then::<#ty>(#reply, #call, |#reply| {
            #(#out_writes)*
            ::core::result::Result::Ok(())
        })
    }
}

/// A stub's `on_transact`: each method's arm, the version arms, `UNKNOWN_TRANSACTION` else.
fn on_transact_fn(
    arms: impl Iterator<Item = TokenStream>,
    version_arms: Option<TokenStream>,
) -> TokenStream {
    let (code, data, reply, flags) = (local("code"), local("data"), local("reply"), local("flags"));
    quote! {
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

/// One `match` arm of `on_transact`: check the token, read the arguments, call, reply.
fn stub_arm(iface: &Interface<'_>, method: &Method<'_>) -> TokenStream {
    let (data, flags) = (local("data"), local("flags"));
    let trait_ident = &iface.sync_trait;
    let method_ident = method.ident;
    let code_const = &method.code_const;
    let ArmArgs {
        reads,
        borrows,
        passes,
        out_writes,
    } = arm_args(method);
    let call = quote!(#trait_ident::#method_ident(&*self.inner, #(#passes),*));
    let respond = if method.is_oneway() {
        quote! {
            // A oneway call has no reply: the caller is not waiting for the outcome.
            let _ = #call;
            ::core::result::Result::Ok(())
        }
    } else {
        arm_reply(method, call, &out_writes)
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

// ---- the stub of async implementations ----------------------------------------------------

/// The type parameter of the async stub and `new_async_binder`: named after the interface, so
/// that it does not hide a type of the user's that argument types name.
fn impl_param(iface: &Interface<'_>) -> Ident {
    format_ident!("__BinderImplOf{}", iface.bn)
}

fn emit_async_stub(iface: &Interface<'_>) -> TokenStream {
    let (data, reply, flags) = (local("data"), local("reply"), local("flags"));
    let (bn, bn_async, server_trait) = (&iface.bn, &iface.bn_async, &iface.server_trait);
    let impl_param = impl_param(iface);
    let arms = iface.methods.iter().map(|m| async_stub_arm(iface, m));
    let version_arms = iface.is_versioned().then(|| {
        quote! {
            ::binder_rt::binder_impl::GET_INTERFACE_VERSION_TRANSACTION => {
                #data.enforce_interface(#bn::DESCRIPTOR)?;
                ::binder_rt::binder_impl::check_call_kind(#flags, false)?;
                ::binder_rt::binder_impl::write_reply::<i32>(#reply, ::core::result::Result::Ok(#bn::VERSION))
            }
            ::binder_rt::binder_impl::GET_INTERFACE_HASH_TRANSACTION => {
                #data.enforce_interface(#bn::DESCRIPTOR)?;
                ::binder_rt::binder_impl::check_call_kind(#flags, false)?;
                ::binder_rt::binder_impl::write_reply::<::std::string::String>(#reply, ::core::result::Result::Ok(::std::string::String::from(#bn::HASH)))
            }
        }
    });
    let on_transact = on_transact_fn(arms, version_arms);
    quote! {
        /// The local binder object serving an async implementation (`new_async_binder`).
        #[allow(dead_code)]
        struct #bn_async<#impl_param> {
            inner: ::binder_rt::__private::Arc<#impl_param>,
            runtime: ::binder_rt::__private::Arc<dyn ::binder_rt::AsyncRuntime>,
        }

        #[automatically_derived]
        impl<#impl_param: #server_trait> ::binder_rt::binder_impl::Remotable for #bn_async<#impl_param> {
            fn descriptor(&self) -> &str {
                #bn::DESCRIPTOR
            }

            #on_transact
        }
    }
}

/// One arm of the async stub: a two-way call's future runs to completion on this binder thread
/// (which must send the reply); a oneway call's is spawned with the received Parcel, which it
/// reads from and holds until it ends.
fn async_stub_arm(iface: &Interface<'_>, method: &Method<'_>) -> TokenStream {
    let (code, data, flags, inner, owned) = (
        local("code"),
        local("data"),
        local("flags"),
        local("inner"),
        local("owned"),
    );
    let (bn, server_trait) = (&iface.bn, &iface.server_trait);
    let method_ident = method.ident;
    let code_const = &method.code_const;
    let ArmArgs {
        reads,
        borrows,
        passes,
        out_writes,
    } = arm_args(method);
    let oneway = method.is_oneway();
    let check = quote! {
        #data.enforce_interface(#bn::DESCRIPTOR)?;
        ::binder_rt::binder_impl::check_call_kind(#flags, #oneway)?;
    };
    if oneway {
        // The arguments are read here, on the binder thread (reading an object may ask its
        // process for its descriptor: a blocking call); the byte slices are borrowed from the
        // Parcel, which the spawned future holds.
        return quote! {
            #bn::#code_const => {
                #check
                #(#reads)*
                let #inner = ::binder_rt::__private::Arc::clone(&self.inner);
                ::binder_rt::async_rt::spawn_oneway(
                    &*self.runtime,
                    #code,
                    ::binder_rt::async_rt::take_parcel(#data),
                    move |#owned| async move {
                        let #data = &#owned;
                        #(#borrows)*
                        // A oneway call has no reply: the caller is not waiting for the outcome.
                        let _ = #server_trait::#method_ident(&*#inner, #(#passes),*).await;
                        ::core::result::Result::<(), ::binder_rt::StatusCode>::Ok(())
                    },
                );
                ::core::result::Result::Ok(())
            }
        };
    }
    let call = quote! {
        ::binder_rt::async_rt::block_on(
            &*self.runtime,
            #server_trait::#method_ident(&*self.inner, #(#passes),*),
        )?
    };
    let respond = arm_reply(method, call, &out_writes);
    quote! {
        #bn::#code_const => {
            #check
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
        ArgKind::RefMut(r) => read_out_arg(arg, &r.elem, local),
    }
}

/// The callee's value of an out-parameter before the call: for `#[inout]`, the caller's, read;
/// for `#[out]`, the type's default (an array of the length the caller sent, checked).
fn read_out_arg(arg: &Arg<'_>, elem: &Type, local: &Ident) -> TokenStream {
    let data = self::local("data");
    let span = elem.span();
    let ty = erase_lifetimes(elem);
    match (arg.direction.map(|(d, _)| d), out_array(elem)) {
        (Some(Direction::InOut), _) => {
            quote_spanned!(span=> let mut #local = <#ty as ::binder_rt::binder_impl::Deserialize>::deserialize(#data)?;)
        }
        (_, Some(OutArray::Vec)) => {
            quote_spanned!(span=> let mut #local: #ty = ::binder_rt::binder_impl::read_out_vec(#data)?;)
        }
        (_, Some(OutArray::OptionVec)) => {
            quote_spanned!(span=> let mut #local: #ty = ::binder_rt::binder_impl::read_out_vec_option(#data)?;)
        }
        (_, None) => {
            quote_spanned!(span=> let mut #local = <#ty as ::core::default::Default>::default();)
        }
    }
}

/// An `out` array, whose length the caller sends (AIDL's `out T[]`, `out @nullable T[]`).
enum OutArray {
    Vec,
    OptionVec,
}

/// Whether `ty` is `Vec<..>` or `Option<Vec<..>>`, by its last path segments.
fn out_array(ty: &Type) -> Option<OutArray> {
    fn last_is<'t>(ty: &'t Type, name: &str) -> Option<&'t syn::PathArguments> {
        match ty {
            Type::Path(p) if p.qself.is_none() => p
                .path
                .segments
                .last()
                .filter(|s| s.ident == name)
                .map(|s| &s.arguments),
            _ => None,
        }
    }
    if last_is(ty, "Vec").is_some() {
        return Some(OutArray::Vec);
    }
    let syn::PathArguments::AngleBracketed(args) = last_is(ty, "Option")? else {
        return None;
    };
    match args.args.first() {
        Some(syn::GenericArgument::Type(inner)) if last_is(inner, "Vec").is_some() => {
            Some(OutArray::OptionVec)
        }
        _ => None,
    }
}

/// The reply of a two-way call, written by the runtime: status OK and the value, the
/// exception, or (for a transport error the implementation returned) a status-code reply. The
/// value's type carries the user's span, so a type that cannot be written is reported there.
fn two_way_reply(call: TokenStream, result: Option<&Type>) -> TokenStream {
    let reply = local("reply");
    let ty = result_ty(result);
    quote!(::binder_rt::binder_impl::write_reply::<#ty>(#reply, #call))
}

/// The `T` of a method's `Result<T>` as generated code names it: the user's type with its span
/// (so that a type that cannot be written or read is reported there), lifetimes erased; `()`
/// when the result is missing (reported by the checks).
fn result_ty(result: Option<&Type>) -> TokenStream {
    match result {
        Some(ty) => {
            let span = ty.span();
            let ty = erase_lifetimes(ty);
            quote_spanned!(span=> #ty)
        }
        None => quote!(()),
    }
}

// ---- the proxy ---------------------------------------------------------------------------

fn emit_proxy(iface: &Interface<'_>) -> TokenStream {
    let binder = param("binder");
    let trait_ident = &iface.item.ident;
    let sync_trait = &iface.sync_trait;
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
        impl #sync_trait for #bp {
            #(#methods)*
            #version_methods
        }
    }
}

fn proxy_method(bn: &Ident, method: &Method<'_>) -> TokenStream {
    let data = local("data");
    let sig = flavored_sig(&method.item.sig, Flavor::Blocking);
    let code_const = &method.code_const;
    let writes = method.args.iter().map(write_arg);
    let send = if method.is_oneway() {
        quote!(::binder_rt::binder_impl::call_oneway(&self.binder, #bn::#code_const, #data))
    } else if method.has_out_args() {
        let reply = local("reply");
        let reads = read_reply_with_out_args(method);
        quote! {
            let mut #reply =
                ::binder_rt::binder_impl::call_two_way_reply(&self.binder, #bn::#code_const, #data)?;
            #reads
        }
    } else {
        let ty = result_ty(method.result_type());
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

/// Reads a reply after its OK status: the return value, then each out-parameter into the
/// caller's `&mut`; evaluates to `Ok(return value)`.
fn read_reply_with_out_args(method: &Method<'_>) -> TokenStream {
    let (reply, value) = (local("reply"), local("value"));
    let ty = result_ty(method.result_type());
    let outs = method.args.iter().filter(|a| a.is_out()).filter_map(|arg| {
        let ident = arg.ident?;
        let elem = erase_lifetimes(arg.out_type()?);
        let span = elem.span();
        Some(quote_spanned!(span=> *#ident = <#elem as ::binder_rt::binder_impl::Deserialize>::deserialize(&mut #reply)?;))
    });
    quote! {
        let #value = <#ty as ::binder_rt::binder_impl::Deserialize>::deserialize(&mut #reply)?;
        #(#outs)*
        ::core::result::Result::Ok(#value)
    }
}

/// The proxy's async client methods: the Parcel is written now (so the future borrows nothing),
/// the call is made when the future is first polled.
fn emit_async_proxy(iface: &Interface<'_>) -> TokenStream {
    let (bn, bp_async, async_trait) = (&iface.bn, &iface.bp_async, &iface.async_trait);
    let data = local("data");
    let methods = iface.methods.iter().map(|method| {
        let sig = flavored_sig(&method.item.sig, Flavor::AsyncClient);
        let code_const = &method.code_const;
        let writes = method.args.iter().map(write_arg);
        let send = if method.is_oneway() {
            quote!(::binder_rt::async_rt::call_oneway(&self.binder, #bn::#code_const, #data))
        } else if method.has_out_args() {
            // The future writes the out-parameters when the reply comes: it captures only
            // them (and the call), so it lives as long as they do.
            let (call, reply) = (local("call"), local("reply"));
            let reads = read_reply_with_out_args(method);
            quote! {
                let #call = ::binder_rt::async_rt::call_reply(&self.binder, #bn::#code_const, #data);
                ::std::boxed::Box::pin(async move {
                    let mut #reply = #call.await?;
                    #reads
                })
            }
        } else {
            let ty = result_ty(method.result_type());
            quote! {
                ::binder_rt::async_rt::call_two_way(
                    &self.binder,
                    #bn::#code_const,
                    #data,
                    ::binder_rt::binder_impl::call_two_way::<#ty>,
                )
            }
        };
        quote! {
            #sig {
                let #data = (|| -> ::binder_rt::Result<::binder_rt::binder_impl::Parcel> {
                    let mut #data =
                        ::binder_rt::binder_impl::prepare_call(&self.binder, #bn::DESCRIPTOR)?;
                    #(#writes)*
                    ::core::result::Result::Ok(#data)
                })();
                #send
            }
        }
    });
    let version_methods = iface.is_versioned().then(|| {
        let version_fn = Ident::new(INTERFACE_VERSION_METHOD, Span::call_site());
        let hash_fn = Ident::new(INTERFACE_HASH_METHOD, Span::call_site());
        let ask = |code: TokenStream, ty: TokenStream| {
            quote! {
                ::binder_rt::async_rt::call_two_way(
                    &self.binder,
                    #code,
                    ::binder_rt::binder_impl::prepare_call(&self.binder, #bn::DESCRIPTOR)
                        .map_err(::binder_rt::Status::from),
                    ::binder_rt::binder_impl::call_two_way::<#ty>,
                )
            }
        };
        let version = ask(
            quote!(::binder_rt::binder_impl::GET_INTERFACE_VERSION_TRANSACTION),
            quote!(i32),
        );
        let hash = ask(
            quote!(::binder_rt::binder_impl::GET_INTERFACE_HASH_TRANSACTION),
            quote!(::std::string::String),
        );
        quote! {
            fn #version_fn(&self) -> ::binder_rt::BoxFuture<'static, ::binder_rt::Result<i32>> {
                #version
            }
            fn #hash_fn(&self) -> ::binder_rt::BoxFuture<'static, ::binder_rt::Result<::std::string::String>> {
                #hash
            }
        }
    });
    let binder = param("binder");
    let struct_doc = format!(
        "A proxy implementing [`{async_trait}`]: each call is a transaction sent from a binder call \
         thread when its future is first polled (see `binder_rt::async_rt`)."
    );
    let vis = &iface.item.vis;
    quote! {
        #[doc = #struct_doc]
        #[allow(dead_code)]
        #vis struct #bp_async {
            binder: ::binder_rt::SpIBinder,
        }

        #[allow(dead_code)]
        impl #bp_async {
            /// A proxy over `binder`, without checking its descriptor.
            pub fn from_binder(#binder: ::binder_rt::SpIBinder) -> Self {
                #bp_async { binder: #binder }
            }

            /// The binder the calls are sent to.
            pub fn as_binder(&self) -> ::binder_rt::SpIBinder {
                ::core::clone::Clone::clone(&self.binder)
            }
        }

        #[automatically_derived]
        impl #async_trait for #bp_async {
            #(#methods)*
            #version_methods
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
    if let (ArgKind::RefMut(r), Some((Direction::Out, _))) = (&arg.kind, arg.direction) {
        // An `out` parameter is not sent; an `out` array sends its length.
        return match out_array(&r.elem) {
            Some(OutArray::Vec) => {
                quote!(::binder_rt::binder_impl::write_out_len(&mut #data, #ident)?;)
            }
            Some(OutArray::OptionVec) => {
                quote!(::binder_rt::binder_impl::write_out_len_option(&mut #data, #ident)?;)
            }
            None => quote!(),
        };
    }
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
    let trait_ident = &iface.sync_trait;
    let (async_trait, bp_async) = (&iface.async_trait, &iface.bp_async);
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
    let async_from_ibinder = iface.async_forms().then(|| {
        quote! {
            #[automatically_derived]
            impl ::binder_rt::FromIBinder for dyn #async_trait {
                const DESCRIPTOR: &'static str = #bn::DESCRIPTOR;

                /// Always the proxy, even for an object in this process: its calls are awaited,
                /// whatever the implementation. Asks a remote object for its descriptor once (a
                /// blocking call; `binder_rt::async_rt::get_interface` makes it on a call thread).
                fn try_from(
                    #binder: ::binder_rt::SpIBinder,
                ) -> ::core::result::Result<::binder_rt::Strong<dyn #async_trait>, ::binder_rt::StatusCode> {
                    ::binder_rt::binder_impl::checked_proxy(
                        #binder,
                        <Self as ::binder_rt::FromIBinder>::DESCRIPTOR,
                        |#proxy| -> ::binder_rt::__private::Arc<dyn #async_trait> {
                            ::binder_rt::__private::Arc::new(#bp_async::from_binder(#proxy))
                        },
                    )
                }
            }
        }
    });
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
                ::binder_rt::binder_impl::checked_proxy(
                    #binder,
                    <Self as ::binder_rt::FromIBinder>::DESCRIPTOR,
                    |#proxy| -> ::binder_rt::__private::Arc<dyn #trait_ident> {
                        ::binder_rt::__private::Arc::new(#bp::from_binder(#proxy))
                    },
                )
            }
        }

        #async_from_ibinder
    }
}
