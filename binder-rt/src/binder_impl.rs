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
    let mut reply = binder
        .submit_transact(code, data, 0)
        .map_err(Status::from_transport_error)?;
    let status = reply.read_status()?;
    if !status.is_ok() {
        return Err(status);
    }
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
