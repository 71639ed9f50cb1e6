//! What generated code and hand-written binder objects use, and application code does not
//! need: the `Parcel` and its serialization traits, transaction codes and flags, the
//! [`Remotable`] trait a local object implements, and the helpers `#[binder_interface]`'s
//! proxies and stubs call. As AOSP's `binder::binder_impl`.

pub use crate::binder::{
    DEBUG_PID_TRANSACTION, DUMP_TRANSACTION, EXTENSION_TRANSACTION, FIRST_CALL_TRANSACTION,
    FLAG_CLEAR_BUF, FLAG_ONEWAY, GET_INTERFACE_HASH_TRANSACTION, GET_INTERFACE_VERSION_TRANSACTION,
    INTERFACE_TRANSACTION, LAST_CALL_TRANSACTION, PING_TRANSACTION, Remotable,
    SHELL_COMMAND_TRANSACTION, SYSPROPS_TRANSACTION, TransactionCode, TransactionFlags,
};
pub use crate::parcel::{MAX_PARCELABLE_NESTING, Parcel, SizedReader};
pub use crate::parcelable::{
    Deserialize, DeserializeArray, DeserializeOption, NON_NULL_PARCELABLE_FLAG, Serialize,
    SerializeArray, SerializeOption,
};

use crate::binder::SpIBinder;
use crate::status::{ExceptionCode, Status, StatusCode};

/// A Parcel for a call to `binder`, starting with the interface token of `descriptor`.
pub fn prepare_call(binder: &SpIBinder, descriptor: &str) -> Result<Parcel, StatusCode> {
    let mut data = binder.prepare_transact();
    data.write_interface_token(descriptor)?;
    Ok(data)
}

/// Sends a two-way call and reads its reply: the status, then, when it is OK, the `T` the
/// method returns. A transport failure becomes an `EX_TRANSACTION_FAILED` status (with the
/// driver's reason for a refused transaction).
pub fn call_two_way<T: Deserialize>(
    binder: &SpIBinder,
    code: TransactionCode,
    data: Parcel,
) -> crate::Result<T> {
    let mut reply = call_two_way_reply(binder, code, data)?;
    Ok(T::deserialize(&mut reply)?)
}

/// Sends a oneway call (no reply). A transport failure becomes an `EX_TRANSACTION_FAILED`
/// status (with the driver's reason for a refused transaction).
pub fn call_oneway(binder: &SpIBinder, code: TransactionCode, data: Parcel) -> crate::Result<()> {
    binder
        .submit_transact(code, data, FLAG_ONEWAY)
        .map(drop)
        .map_err(Status::from_transport_error)
}

/// A typed reference over a proxy of `binder`, once the object says its descriptor is
/// `descriptor` (`BAD_TYPE` otherwise); `proxy` makes the proxy. What generated `FromIBinder`
/// implementations do for an object that is not their own stub.
pub fn checked_proxy<I: ?Sized>(
    binder: SpIBinder,
    descriptor: &str,
    proxy: impl FnOnce(SpIBinder) -> std::sync::Arc<I>,
) -> Result<crate::Strong<I>, StatusCode> {
    if binder.interface_descriptor()? != descriptor {
        return Err(StatusCode::BadType);
    }
    Ok(crate::Strong::from_parts(proxy(binder.clone()), binder))
}

/// A stub's check that a transaction was sent the way its method is declared: oneway for a
/// `#[oneway]` method, two-way otherwise. Either mismatch is `UNKNOWN_TRANSACTION`, and the
/// implementation is not called.
pub fn check_call_kind(flags: TransactionFlags, oneway: bool) -> Result<(), StatusCode> {
    if (flags & FLAG_ONEWAY != 0) == oneway {
        Ok(())
    } else {
        Err(StatusCode::UnknownTransaction)
    }
}

/// Writes the reply of a two-way call: status OK and the value, or the exception. A transport
/// error the implementation returned (`EX_TRANSACTION_FAILED`) is not an exception: it goes
/// back as the transaction's status code.
pub fn write_reply<T: Serialize>(
    reply: &mut Parcel,
    result: crate::Result<T>,
) -> Result<(), StatusCode> {
    match result {
        Ok(value) => {
            reply.write_status(&Status::ok())?;
            value.serialize(reply)
        }
        Err(status) if status.exception_code() == ExceptionCode::TransactionFailed => {
            Err(match status.transaction_error() {
                StatusCode::Ok => StatusCode::FailedTransaction,
                code => code,
            })
        }
        Err(status) => reply.write_status(&status),
    }
}

// ---- out-parameters (AIDL's `out` and `inout`) ---------------------------------------------

/// Sends a two-way call and returns its reply positioned after an OK status (the return value
/// and the out-parameters follow); a failure status or transport error is the `Err`.
pub fn call_two_way_reply(
    binder: &SpIBinder,
    code: TransactionCode,
    data: Parcel,
) -> crate::Result<Parcel> {
    let mut reply = binder
        .submit_transact(code, data, 0)
        .map_err(Status::from_transport_error)?;
    let status = reply.read_status()?;
    if !status.is_ok() {
        return Err(status);
    }
    Ok(reply)
}

/// [`write_reply`], then, when the call succeeded, `out_params` writes the out-parameters
/// after the return value (AIDL's reply order).
pub fn write_reply_then<T: Serialize>(
    reply: &mut Parcel,
    result: crate::Result<T>,
    out_params: impl FnOnce(&mut Parcel) -> Result<(), StatusCode>,
) -> Result<(), StatusCode> {
    let ok = result.is_ok();
    write_reply(reply, result)?;
    if ok { out_params(reply) } else { Ok(()) }
}

/// The most elements an `out` array's length may ask the callee to allocate: as many as the
/// largest reply could carry back. The length comes from the caller, so it is checked before
/// anything is allocated.
fn out_len_limit<T: DeserializeArray>() -> usize {
    binder_sys::BINDER_VM_SIZE / T::MIN_WIRE_SIZE.max(1)
}

/// What a caller sends for an `out T[]` parameter: the length of its array (AIDL's rule: the
/// callee fills in an array of that length).
pub fn write_out_len<T>(data: &mut Parcel, value: &[T]) -> Result<(), StatusCode> {
    data.write_i32(i32::try_from(value.len()).map_err(|_| StatusCode::BadValue)?)
}

/// [`write_out_len`] for a `@nullable` array: -1 for `None`.
pub fn write_out_len_option<T>(
    data: &mut Parcel,
    value: &Option<Vec<T>>,
) -> Result<(), StatusCode> {
    match value {
        Some(v) => write_out_len(data, v),
        None => data.write_i32(-1),
    }
}

/// The callee's start for an `out T[]` parameter: as many default elements as the caller's
/// length says (`BAD_VALUE` beyond what a reply could carry, `UNEXPECTED_NULL` for -1).
pub fn read_out_vec<T: Default + DeserializeArray>(
    data: &mut Parcel,
) -> Result<Vec<T>, StatusCode> {
    read_out_vec_option(data)?.ok_or(StatusCode::UnexpectedNull)
}

/// [`read_out_vec`] for a `@nullable` array: `None` for -1.
pub fn read_out_vec_option<T: Default + DeserializeArray>(
    data: &mut Parcel,
) -> Result<Option<Vec<T>>, StatusCode> {
    let len = data.read_i32()?;
    if len < 0 {
        return if len == -1 {
            Ok(None)
        } else {
            Err(StatusCode::BadValue)
        };
    }
    let len = len as usize;
    if len > out_len_limit::<T>() {
        return Err(StatusCode::BadValue);
    }
    let mut v = Vec::with_capacity(len);
    v.resize_with(len, T::default);
    Ok(Some(v))
}
