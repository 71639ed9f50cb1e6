//! Typed references to binder interfaces: `Strong<dyn IFoo>` and `Weak<dyn IFoo>`, used the same
//! way whether the object lives in this process (calls go straight to the implementation) or in
//! another one (calls go through the generated `Bp` proxy and the driver).

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use crate::binder::{SpIBinder, WpIBinder};
use crate::parcel::Parcel;
use crate::parcelable::{
    Deserialize, DeserializeArray, DeserializeOption, Serialize, SerializeArray, SerializeOption,
};
use crate::status::StatusCode;

/// What every binder interface trait extends: implementations are shared between the threads
/// of the pool, so they must be `Send + Sync`.
pub trait Interface: Send + Sync + 'static {}
impl<T: ?Sized + Send + Sync + 'static> Interface for T {}

/// Implemented by `#[binder_interface]` for `dyn ITrait`: turns an untyped binder into a typed
/// one after checking its interface descriptor.
pub trait FromIBinder: Interface {
    /// The interface descriptor.
    const DESCRIPTOR: &'static str;

    /// The typed interface of `binder`: the local implementation itself when the object lives
    /// in this process, a proxy otherwise. `BAD_TYPE` if the descriptor differs.
    fn try_from(binder: SpIBinder) -> Result<Strong<Self>, StatusCode>;
}

/// A strong reference to a binder interface.
pub struct Strong<I: ?Sized + 'static> {
    iface: Arc<I>,
    binder: SpIBinder,
}

impl<I: ?Sized> Strong<I> {
    /// Pairs an implementation (local object or proxy) with its binder. For generated code.
    #[doc(hidden)]
    pub fn from_parts(iface: Arc<I>, binder: SpIBinder) -> Self {
        Strong { iface, binder }
    }

    /// The untyped binder, to pass to APIs that take one.
    pub fn as_binder(&self) -> SpIBinder {
        self.binder.clone()
    }

    /// A weak reference to the same object.
    pub fn downgrade(this: &Strong<I>) -> Weak<I> {
        Weak {
            binder: this.binder.downgrade(),
            _marker: PhantomData,
        }
    }
}

impl<I: FromIBinder + ?Sized> Strong<I> {
    /// Converts an untyped binder, checking its descriptor.
    pub fn try_from_binder(binder: SpIBinder) -> Result<Self, StatusCode> {
        I::try_from(binder)
    }
}

impl<I: ?Sized> Clone for Strong<I> {
    fn clone(&self) -> Self {
        Strong {
            iface: self.iface.clone(),
            binder: self.binder.clone(),
        }
    }
}

impl<I: ?Sized> Deref for Strong<I> {
    type Target = I;
    fn deref(&self) -> &I {
        &self.iface
    }
}

impl<I: ?Sized> PartialEq for Strong<I> {
    fn eq(&self, other: &Self) -> bool {
        self.binder == other.binder
    }
}
impl<I: ?Sized> Eq for Strong<I> {}

impl<I: ?Sized> fmt::Debug for Strong<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Strong({:?})", self.binder)
    }
}

/// A weak reference to a binder interface.
pub struct Weak<I: ?Sized> {
    binder: WpIBinder,
    _marker: PhantomData<fn() -> Arc<I>>,
}

impl<I: FromIBinder + ?Sized> Weak<I> {
    /// The strong reference, if the object is still referenced elsewhere.
    pub fn upgrade(&self) -> Result<Strong<I>, StatusCode> {
        let binder = self.binder.upgrade().ok_or(StatusCode::DeadObject)?;
        I::try_from(binder)
    }
}

impl<I: ?Sized> Clone for Weak<I> {
    fn clone(&self) -> Self {
        Weak {
            binder: self.binder.clone(),
            _marker: PhantomData,
        }
    }
}

impl<I: ?Sized> fmt::Debug for Weak<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Weak(..)")
    }
}

#[diagnostic::do_not_recommend]
impl<I: ?Sized> Serialize for Strong<I> {
    fn serialize(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
        parcel.write_binder(Some(&self.binder))
    }
}
#[diagnostic::do_not_recommend]
impl<I: FromIBinder + ?Sized> Deserialize for Strong<I> {
    fn deserialize(parcel: &mut Parcel) -> Result<Self, StatusCode> {
        let binder = parcel.read_binder()?.ok_or(StatusCode::UnexpectedNull)?;
        I::try_from(binder)
    }
}
#[diagnostic::do_not_recommend]
impl<I: ?Sized> SerializeArray for Strong<I> {}
#[diagnostic::do_not_recommend]
impl<I: FromIBinder + ?Sized> DeserializeArray for Strong<I> {
    const MIN_WIRE_SIZE: usize = 28;
}
#[diagnostic::do_not_recommend]
impl<I: ?Sized> SerializeOption for Strong<I> {
    fn serialize_option(value: Option<&Self>, parcel: &mut Parcel) -> Result<(), StatusCode> {
        parcel.write_binder(value.map(|s| &s.binder))
    }
}
#[diagnostic::do_not_recommend]
impl<I: FromIBinder + ?Sized> DeserializeOption for Strong<I> {
    fn deserialize_option(parcel: &mut Parcel) -> Result<Option<Self>, StatusCode> {
        parcel.read_binder()?.map(I::try_from).transpose()
    }
}

/// Turns an untyped binder into `Strong<I>` (checking the descriptor).
pub fn interface_cast<I: FromIBinder + ?Sized>(binder: SpIBinder) -> Result<Strong<I>, StatusCode> {
    I::try_from(binder)
}
