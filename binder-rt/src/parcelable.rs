//! How Rust types are written to and read from a [`Parcel`], following AIDL's wire rules:
//! scalars as int32/int64 (bool, byte and char16 widened to int32), `String` as String16,
//! arrays with an int32 length (-1 for null) and packed for `byte[]`, parcelables behind a
//! presence flag, nullable values as AIDL writes them.
//!
//! Every implementation of the serialization traits is `#[diagnostic::do_not_recommend]`: a
//! type that cannot be written or read is reported with the traits' own message, which names
//! the supported types, and never with rustc's list of implementors (which would change with
//! every type added, here or by a derive).

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use crate::binder::SpIBinder;
use crate::buffer::ReceivedBuffer;
use crate::parcel::Parcel;
use crate::status::StatusCode;

/// A value that can be written to a Parcel.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be written to a binder Parcel",
    label = "not Parcelable",
    note = "supported: bool, i8, u8, u16 (char16), i32, u32, i64, u64, f32, f64, String/&str, Vec<T>, &[T], [T; N], Option<T> (nullable), tuples, SpIBinder, Strong<dyn IFoo>, OwnedFd, ParcelFileDescriptor, Payload",
    note = "for your own struct or enum, add `#[derive(binder_rt::Parcelable)]`"
)]
pub trait Serialize {
    /// Writes the value at the Parcel's position.
    fn serialize(&self, parcel: &mut Parcel) -> Result<(), StatusCode>;
}

/// A value that can be read from a Parcel.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from a binder Parcel",
    label = "not Parcelable",
    note = "supported: bool, i8, u8, u16 (char16), i32, u32, i64, u64, f32, f64, String, Vec<T>, [T; N], Option<T> (nullable), tuples, SpIBinder, Strong<dyn IFoo>, OwnedFd, ParcelFileDescriptor, Payload",
    note = "for your own struct or enum, add `#[derive(binder_rt::Parcelable)]`"
)]
pub trait Deserialize: Sized {
    /// Reads a value at the Parcel's position.
    fn deserialize(parcel: &mut Parcel) -> Result<Self, StatusCode>;
}

/// How a slice of `Self` is written: by default an int32 length then each element.
pub trait SerializeArray: Serialize + Sized {
    /// Writes `items` as an array.
    fn serialize_array(items: &[Self], parcel: &mut Parcel) -> Result<(), StatusCode> {
        parcel.write_len(items.len())?;
        items.iter().try_for_each(|item| item.serialize(parcel))
    }
}

/// How an array of `Self` is read: by default an int32 length (-1 = null) then each element.
pub trait DeserializeArray: Deserialize {
    /// The fewest bytes one element takes on the wire, so that a length can be checked
    /// against the data that remains before anything is allocated.
    const MIN_WIRE_SIZE: usize = 4;

    /// Reads an array; `None` for a null one.
    fn deserialize_array(parcel: &mut Parcel) -> Result<Option<Vec<Self>>, StatusCode> {
        let Some(len) = parcel.read_len(Self::MIN_WIRE_SIZE)? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(len);
        for _ in 0..len {
            out.push(Self::deserialize(parcel)?);
        }
        Ok(Some(out))
    }
}

/// How `Option<Self>` is written. The default is a parcelable's: int32 0 for `None`, the value
/// (which starts with its own presence flag 1) for `Some`.
pub trait SerializeOption: Serialize {
    /// Writes `value`, or the null form of `Self` for `None`.
    fn serialize_option(value: Option<&Self>, parcel: &mut Parcel) -> Result<(), StatusCode> {
        match value {
            None => parcel.write_i32(0),
            Some(v) => v.serialize(parcel),
        }
    }
}

/// How `Option<Self>` is read; the default is a parcelable's (a presence flag).
pub trait DeserializeOption: Deserialize {
    /// Reads a value or the null form of `Self`.
    fn deserialize_option(parcel: &mut Parcel) -> Result<Option<Self>, StatusCode> {
        let start = parcel.data_position();
        match parcel.read_i32()? {
            0 => Ok(None),
            1 => {
                parcel.set_data_position(start)?;
                Self::deserialize(parcel).map(Some)
            }
            _ => Err(StatusCode::BadValue),
        }
    }
}

/// A structured parcelable or a union: what `#[derive(Parcelable)]` implements. Its body is
/// written after a presence flag (int32 1) wherever it appears as a value.
pub trait Parcelable {
    /// Writes the body (for a struct: the self-counting size, then the fields).
    fn write_to_parcel(&self, parcel: &mut Parcel) -> Result<(), StatusCode>;
    /// Reads the body.
    fn read_from_parcel(parcel: &mut Parcel) -> Result<Self, StatusCode>
    where
        Self: Sized;
}

/// The presence flag of a non-null parcelable.
pub const NON_NULL_PARCELABLE_FLAG: i32 = 1;

#[diagnostic::do_not_recommend]
impl<T: Parcelable> Serialize for T {
    fn serialize(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
        parcel.write_i32(NON_NULL_PARCELABLE_FLAG)?;
        self.write_to_parcel(parcel)
    }
}

#[diagnostic::do_not_recommend]
impl<T: Parcelable> Deserialize for T {
    fn deserialize(parcel: &mut Parcel) -> Result<Self, StatusCode> {
        match parcel.read_i32()? {
            NON_NULL_PARCELABLE_FLAG => parcel.read_nested(T::read_from_parcel),
            0 => Err(StatusCode::UnexpectedNull),
            _ => Err(StatusCode::BadValue),
        }
    }
}

#[diagnostic::do_not_recommend]
impl<T: Parcelable> SerializeArray for T {}
#[diagnostic::do_not_recommend]
impl<T: Parcelable> DeserializeArray for T {}
#[diagnostic::do_not_recommend]
impl<T: Parcelable> SerializeOption for T {}
#[diagnostic::do_not_recommend]
impl<T: Parcelable> DeserializeOption for T {}

// ---- scalars ------------------------------------------------------------------------------

macro_rules! int32_scalar {
    ($($t:ty => $write:expr, $read:expr;)*) => {$(
        #[diagnostic::do_not_recommend]
        impl Serialize for $t {
            #[inline]
            fn serialize(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
                #[allow(clippy::redundant_closure_call)]
                parcel.write_i32(($write)(*self))
            }
        }
        #[diagnostic::do_not_recommend]
        impl Deserialize for $t {
            #[inline]
            fn deserialize(parcel: &mut Parcel) -> Result<Self, StatusCode> {
                let v = parcel.read_i32()?;
                #[allow(clippy::redundant_closure_call)]
                ($read)(v)
            }
        }
    )*};
}

int32_scalar! {
    bool => |v: bool| v as i32, |v: i32| Ok(v != 0);
    i32 => |v: i32| v, Ok;
    u32 => |v: u32| v as i32, |v: i32| Ok(v as u32);
    i8 => |v: i8| v as i32, |v: i32| Ok(v as i8);
    u8 => |v: u8| v as i32, |v: i32| Ok(v as u8);
    // char16: AIDL `char`, a UTF-16 unit widened to int32.
    u16 => |v: u16| v as i32, |v: i32| Ok(v as u16);
    f32 => |v: f32| v.to_bits() as i32, |v: i32| Ok(f32::from_bits(v as u32));
}

macro_rules! int64_scalar {
    ($($t:ty => $write:expr, $read:expr;)*) => {$(
        #[diagnostic::do_not_recommend]
        impl Serialize for $t {
            #[inline]
            fn serialize(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
                #[allow(clippy::redundant_closure_call)]
                parcel.write_i64(($write)(*self))
            }
        }
        #[diagnostic::do_not_recommend]
        impl Deserialize for $t {
            #[inline]
            fn deserialize(parcel: &mut Parcel) -> Result<Self, StatusCode> {
                let v = parcel.read_i64()?;
                #[allow(clippy::redundant_closure_call)]
                Ok(($read)(v))
            }
        }
        #[diagnostic::do_not_recommend]
        impl SerializeArray for $t {}
        #[diagnostic::do_not_recommend]
        impl DeserializeArray for $t {
            const MIN_WIRE_SIZE: usize = 8;
        }
    )*};
}

int64_scalar! {
    i64 => |v: i64| v, |v: i64| v;
    u64 => |v: u64| v as i64, |v: i64| v as u64;
    f64 => |v: f64| v.to_bits() as i64, |v: i64| f64::from_bits(v as u64);
}

// 4-byte element arrays: element by element is byte-identical to AIDL's packed int32/float
// arrays and to its int32-per-element bool/char arrays.
#[diagnostic::do_not_recommend]
impl SerializeArray for bool {}
#[diagnostic::do_not_recommend]
impl DeserializeArray for bool {}
#[diagnostic::do_not_recommend]
impl SerializeArray for i32 {}
#[diagnostic::do_not_recommend]
impl DeserializeArray for i32 {}
#[diagnostic::do_not_recommend]
impl SerializeArray for u32 {}
#[diagnostic::do_not_recommend]
impl DeserializeArray for u32 {}
#[diagnostic::do_not_recommend]
impl SerializeArray for u16 {}
#[diagnostic::do_not_recommend]
impl DeserializeArray for u16 {}
#[diagnostic::do_not_recommend]
impl SerializeArray for f32 {}
#[diagnostic::do_not_recommend]
impl DeserializeArray for f32 {}

/// `byte[]` is packed: the length, the raw bytes, padding to 4.
fn write_packed_bytes(bytes: &[u8], parcel: &mut Parcel) -> Result<(), StatusCode> {
    parcel.write_len(bytes.len())?;
    parcel.write_padded(bytes)
}

fn read_packed_bytes(parcel: &mut Parcel) -> Result<Option<&[u8]>, StatusCode> {
    let Some(len) = parcel.read_len(1)? else {
        return Ok(None);
    };
    parcel.read_padded(len).map(Some)
}

#[diagnostic::do_not_recommend]
impl SerializeArray for u8 {
    fn serialize_array(items: &[Self], parcel: &mut Parcel) -> Result<(), StatusCode> {
        write_packed_bytes(items, parcel)
    }
}
#[diagnostic::do_not_recommend]
impl DeserializeArray for u8 {
    const MIN_WIRE_SIZE: usize = 1;
    fn deserialize_array(parcel: &mut Parcel) -> Result<Option<Vec<Self>>, StatusCode> {
        Ok(read_packed_bytes(parcel)?.map(<[u8]>::to_vec))
    }
}
#[diagnostic::do_not_recommend]
impl SerializeArray for i8 {
    fn serialize_array(items: &[Self], parcel: &mut Parcel) -> Result<(), StatusCode> {
        let bytes: Vec<u8> = items.iter().map(|&b| b as u8).collect();
        write_packed_bytes(&bytes, parcel)
    }
}
#[diagnostic::do_not_recommend]
impl DeserializeArray for i8 {
    const MIN_WIRE_SIZE: usize = 1;
    fn deserialize_array(parcel: &mut Parcel) -> Result<Option<Vec<Self>>, StatusCode> {
        Ok(read_packed_bytes(parcel)?.map(|b| b.iter().map(|&v| v as i8).collect()))
    }
}

impl Parcel {
    /// Reads a `byte[]` in place: the slice borrows the Parcel (for a received Parcel, the
    /// driver's mapping), no copy. `None` for a null array.
    pub fn read_byte_slice(&mut self) -> Result<Option<&[u8]>, StatusCode> {
        read_packed_bytes(self)
    }
}

// ---- unit and tuples (several results) --------------------------------------------------

#[diagnostic::do_not_recommend]
impl Serialize for () {
    fn serialize(&self, _: &mut Parcel) -> Result<(), StatusCode> {
        Ok(())
    }
}
#[diagnostic::do_not_recommend]
impl Deserialize for () {
    fn deserialize(_: &mut Parcel) -> Result<Self, StatusCode> {
        Ok(())
    }
}

macro_rules! tuple_impls {
    ($(($($n:tt $t:ident),+))*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$($t: Serialize),+> Serialize for ($($t,)+) {
            fn serialize(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
                $(self.$n.serialize(parcel)?;)+
                Ok(())
            }
        }
        #[diagnostic::do_not_recommend]
        impl<$($t: Deserialize),+> Deserialize for ($($t,)+) {
            fn deserialize(parcel: &mut Parcel) -> Result<Self, StatusCode> {
                Ok(($($t::deserialize(parcel)?,)+))
            }
        }
    )*};
}

tuple_impls! {
    (0 A, 1 B)
    (0 A, 1 B, 2 C)
    (0 A, 1 B, 2 C, 3 D)
    (0 A, 1 B, 2 C, 3 D, 4 E)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F)
}

// ---- strings ------------------------------------------------------------------------------

#[diagnostic::do_not_recommend]
impl Serialize for str {
    fn serialize(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
        parcel.write_string16(self)
    }
}
#[diagnostic::do_not_recommend]
impl Serialize for String {
    fn serialize(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
        parcel.write_string16(self)
    }
}
#[diagnostic::do_not_recommend]
impl Deserialize for String {
    fn deserialize(parcel: &mut Parcel) -> Result<Self, StatusCode> {
        parcel.read_string16()?.ok_or(StatusCode::UnexpectedNull)
    }
}
#[diagnostic::do_not_recommend]
impl SerializeArray for String {}
#[diagnostic::do_not_recommend]
impl DeserializeArray for String {}
#[diagnostic::do_not_recommend]
impl SerializeOption for String {
    fn serialize_option(value: Option<&Self>, parcel: &mut Parcel) -> Result<(), StatusCode> {
        match value {
            None => parcel.write_null(),
            Some(s) => parcel.write_string16(s),
        }
    }
}
#[diagnostic::do_not_recommend]
impl DeserializeOption for String {
    fn deserialize_option(parcel: &mut Parcel) -> Result<Option<Self>, StatusCode> {
        parcel.read_string16()
    }
}

// ---- references, slices, vectors, fixed arrays, options ----------------------------------

#[diagnostic::do_not_recommend]
impl<T: SerializeArray> Serialize for [T] {
    fn serialize(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
        T::serialize_array(self, parcel)
    }
}
#[diagnostic::do_not_recommend]
impl<T: SerializeArray> Serialize for Vec<T> {
    fn serialize(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
        T::serialize_array(self, parcel)
    }
}
#[diagnostic::do_not_recommend]
impl<T: DeserializeArray> Deserialize for Vec<T> {
    fn deserialize(parcel: &mut Parcel) -> Result<Self, StatusCode> {
        T::deserialize_array(parcel)?.ok_or(StatusCode::UnexpectedNull)
    }
}
#[diagnostic::do_not_recommend]
impl<T: SerializeArray> SerializeArray for Vec<T> {}
#[diagnostic::do_not_recommend]
impl<T: DeserializeArray> DeserializeArray for Vec<T> {}
#[diagnostic::do_not_recommend]
impl<T: SerializeArray> SerializeOption for Vec<T> {
    fn serialize_option(value: Option<&Self>, parcel: &mut Parcel) -> Result<(), StatusCode> {
        match value {
            None => parcel.write_null(),
            Some(v) => T::serialize_array(v, parcel),
        }
    }
}
#[diagnostic::do_not_recommend]
impl<T: DeserializeArray> DeserializeOption for Vec<T> {
    fn deserialize_option(parcel: &mut Parcel) -> Result<Option<Self>, StatusCode> {
        T::deserialize_array(parcel)
    }
}

#[diagnostic::do_not_recommend]
impl<T: SerializeArray, const N: usize> Serialize for [T; N] {
    fn serialize(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
        T::serialize_array(self, parcel)
    }
}
#[diagnostic::do_not_recommend]
impl<T: DeserializeArray, const N: usize> Deserialize for [T; N] {
    fn deserialize(parcel: &mut Parcel) -> Result<Self, StatusCode> {
        let v = T::deserialize_array(parcel)?.ok_or(StatusCode::UnexpectedNull)?;
        v.try_into().map_err(|_| StatusCode::BadValue)
    }
}
#[diagnostic::do_not_recommend]
impl<T: SerializeArray, const N: usize> SerializeArray for [T; N] {}
#[diagnostic::do_not_recommend]
impl<T: DeserializeArray, const N: usize> DeserializeArray for [T; N] {}
#[diagnostic::do_not_recommend]
impl<T: SerializeArray, const N: usize> SerializeOption for [T; N] {
    fn serialize_option(value: Option<&Self>, parcel: &mut Parcel) -> Result<(), StatusCode> {
        match value {
            None => parcel.write_null(),
            Some(v) => T::serialize_array(v, parcel),
        }
    }
}
#[diagnostic::do_not_recommend]
impl<T: DeserializeArray, const N: usize> DeserializeOption for [T; N] {
    fn deserialize_option(parcel: &mut Parcel) -> Result<Option<Self>, StatusCode> {
        match T::deserialize_array(parcel)? {
            None => Ok(None),
            Some(v) => v.try_into().map(Some).map_err(|_| StatusCode::BadValue),
        }
    }
}

#[diagnostic::do_not_recommend]
impl<T: SerializeOption> Serialize for Option<T> {
    fn serialize(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
        T::serialize_option(self.as_ref(), parcel)
    }
}
#[diagnostic::do_not_recommend]
impl<T: DeserializeOption> Deserialize for Option<T> {
    fn deserialize(parcel: &mut Parcel) -> Result<Self, StatusCode> {
        T::deserialize_option(parcel)
    }
}
#[diagnostic::do_not_recommend]
impl<T: SerializeOption> SerializeArray for Option<T> {}
#[diagnostic::do_not_recommend]
impl<T: DeserializeOption> DeserializeArray for Option<T> {}

// ---- binders and file descriptors -------------------------------------------------------

#[diagnostic::do_not_recommend]
impl Serialize for SpIBinder {
    fn serialize(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
        parcel.write_binder(Some(self))
    }
}
#[diagnostic::do_not_recommend]
impl Deserialize for SpIBinder {
    fn deserialize(parcel: &mut Parcel) -> Result<Self, StatusCode> {
        parcel.read_binder()?.ok_or(StatusCode::UnexpectedNull)
    }
}
#[diagnostic::do_not_recommend]
impl SerializeArray for SpIBinder {}
#[diagnostic::do_not_recommend]
impl DeserializeArray for SpIBinder {
    const MIN_WIRE_SIZE: usize = 28;
}
#[diagnostic::do_not_recommend]
impl SerializeOption for SpIBinder {
    fn serialize_option(value: Option<&Self>, parcel: &mut Parcel) -> Result<(), StatusCode> {
        parcel.write_binder(value)
    }
}
#[diagnostic::do_not_recommend]
impl DeserializeOption for SpIBinder {
    fn deserialize_option(parcel: &mut Parcel) -> Result<Option<Self>, StatusCode> {
        parcel.read_binder()
    }
}

/// AIDL `FileDescriptor`: a bare fd object. The receiver gets its own descriptor.
#[diagnostic::do_not_recommend]
impl Serialize for OwnedFd {
    fn serialize(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
        parcel.write_fd(self.as_fd())
    }
}
#[diagnostic::do_not_recommend]
impl Deserialize for OwnedFd {
    fn deserialize(parcel: &mut Parcel) -> Result<Self, StatusCode> {
        parcel.read_fd()
    }
}
#[diagnostic::do_not_recommend]
impl SerializeArray for OwnedFd {}
#[diagnostic::do_not_recommend]
impl DeserializeArray for OwnedFd {
    const MIN_WIRE_SIZE: usize = 24;
}

/// AIDL `ParcelFileDescriptor`: written as a parcelable (presence flag), then int32 0 (no
/// comm channel), then the fd object.
#[derive(Debug)]
pub struct ParcelFileDescriptor(OwnedFd);

impl ParcelFileDescriptor {
    /// Wraps `fd`.
    pub fn new(fd: OwnedFd) -> Self {
        ParcelFileDescriptor(fd)
    }
    /// The file descriptor.
    pub fn into_inner(self) -> OwnedFd {
        self.0
    }
}

impl AsFd for ParcelFileDescriptor {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl From<OwnedFd> for ParcelFileDescriptor {
    fn from(fd: OwnedFd) -> Self {
        ParcelFileDescriptor(fd)
    }
}

impl Parcelable for ParcelFileDescriptor {
    fn write_to_parcel(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
        parcel.write_i32(0)?;
        parcel.write_fd(self.0.as_fd())
    }
    fn read_from_parcel(parcel: &mut Parcel) -> Result<Self, StatusCode> {
        if parcel.read_i32()? != 0 {
            // A comm channel (a second fd) is an Android-Java detail we do not accept.
            return Err(StatusCode::BadValue);
        }
        parcel.read_fd().map(ParcelFileDescriptor)
    }
}

// ---- in-place payloads ------------------------------------------------------------------

/// A `byte[]` that is read in place: when it comes from a received Parcel, it borrows the
/// driver's mapping (no copy) and keeps the received buffer until it is dropped, after which
/// the buffer goes back to the driver. Written like `Vec<u8>`.
#[derive(Clone)]
pub struct Payload {
    inner: PayloadInner,
}

#[derive(Clone)]
enum PayloadInner {
    Owned(Arc<[u8]>),
    Received {
        buffer: Arc<ReceivedBuffer>,
        start: usize,
        len: usize,
    },
}

impl Payload {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match &self.inner {
            PayloadInner::Owned(v) => v,
            PayloadInner::Received { buffer, start, len } => &buffer.data()[*start..*start + *len],
        }
    }

    /// Whether the bytes are read in place from a received buffer (not copied).
    pub fn is_in_place(&self) -> bool {
        matches!(self.inner, PayloadInner::Received { .. })
    }
}

impl std::ops::Deref for Payload {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Payload({} bytes{})",
            self.len(),
            if self.is_in_place() { ", in place" } else { "" }
        )
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl From<Vec<u8>> for Payload {
    fn from(v: Vec<u8>) -> Self {
        Payload {
            inner: PayloadInner::Owned(v.into()),
        }
    }
}

impl From<&[u8]> for Payload {
    fn from(v: &[u8]) -> Self {
        Payload {
            inner: PayloadInner::Owned(v.into()),
        }
    }
}

#[diagnostic::do_not_recommend]
impl Serialize for Payload {
    fn serialize(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
        write_packed_bytes(self, parcel)
    }
}

#[diagnostic::do_not_recommend]
impl Deserialize for Payload {
    fn deserialize(parcel: &mut Parcel) -> Result<Self, StatusCode> {
        let Some(len) = parcel.read_len(1)? else {
            return Err(StatusCode::UnexpectedNull);
        };
        let start = parcel.data_position();
        let received = parcel.received_buffer();
        let bytes = parcel.read_padded(len)?;
        Ok(match received {
            Some(buffer) => Payload {
                inner: PayloadInner::Received { buffer, start, len },
            },
            None => Payload::from(bytes),
        })
    }
}

#[diagnostic::do_not_recommend]
impl SerializeOption for Payload {
    fn serialize_option(value: Option<&Self>, parcel: &mut Parcel) -> Result<(), StatusCode> {
        match value {
            None => parcel.write_null(),
            Some(v) => v.serialize(parcel),
        }
    }
}

#[diagnostic::do_not_recommend]
impl DeserializeOption for Payload {
    fn deserialize_option(parcel: &mut Parcel) -> Result<Option<Self>, StatusCode> {
        let start = parcel.data_position();
        if parcel.read_i32()? == -1 {
            return Ok(None);
        }
        parcel.set_data_position(start)?;
        Payload::deserialize(parcel).map(Some)
    }
}
