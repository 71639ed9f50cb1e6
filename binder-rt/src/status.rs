//! Binder errors: `StatusCode` (libbinder's `status_t`) for transport and decoding failures, and
//! `Status` (libbinder's `binder::Status`) for what a method call returns across processes.

use std::fmt;

use nix::libc;

/// One table per code type: each variant, its value and its name. `to_i32`, `from_i32`, `name`
/// and `Display` all read it.
macro_rules! code_table {
    (
        $(#[$enum_doc:meta])*
        pub enum $enum:ident;
        $($(#[$doc:meta])* $variant:ident = $value:expr, $name:literal;)*
    ) => {
        $(#[$enum_doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $enum {
            $($(#[$doc])* $variant,)*
            /// A value this list does not name, kept as it was received.
            Other(i32),
        }

        impl $enum {
            /// The value on the wire.
            pub fn to_i32(self) -> i32 {
                match self {
                    $($enum::$variant => $value,)*
                    $enum::Other(v) => v,
                }
            }

            /// The code for a value on the wire.
            pub fn from_i32(v: i32) -> $enum {
                $(if v == $value {
                    return $enum::$variant;
                })*
                $enum::Other(v)
            }

            /// The name libbinder gives the code (`"DEAD_OBJECT"`, `"EX_SECURITY"`), `None` for
            /// `Other`.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $($enum::$variant => Some($name),)*
                    $enum::Other(_) => None,
                }
            }
        }

        impl From<$enum> for i32 {
            fn from(code: $enum) -> i32 {
                code.to_i32()
            }
        }

        impl From<i32> for $enum {
            fn from(v: i32) -> $enum {
                $enum::from_i32(v)
            }
        }
    };
}

const UNKNOWN_ERROR: i32 = i32::MIN;

code_table! {
    /// libbinder's `status_t` values (`utils/Errors.h`). On the wire they appear as an int32 in a
    /// `TF_STATUS_CODE` reply; in Rust they are the error of transport-level operations.
    pub enum StatusCode;
    /// `OK`: success.
    Ok = 0, "OK";
    /// `UNKNOWN_ERROR`.
    UnknownError = UNKNOWN_ERROR, "UNKNOWN_ERROR";
    /// `NO_MEMORY` (`-ENOMEM`).
    NoMemory = -libc::ENOMEM, "NO_MEMORY";
    /// `INVALID_OPERATION` (`-ENOSYS`): not possible on this object.
    InvalidOperation = -libc::ENOSYS, "INVALID_OPERATION";
    /// `BAD_VALUE` (`-EINVAL`): malformed data.
    BadValue = -libc::EINVAL, "BAD_VALUE";
    /// `BAD_TYPE`: wrong interface descriptor, or a binder of too low stability.
    BadType = UNKNOWN_ERROR + 1, "BAD_TYPE";
    /// `NAME_NOT_FOUND` (`-ENOENT`).
    NameNotFound = -libc::ENOENT, "NAME_NOT_FOUND";
    /// `PERMISSION_DENIED` (`-EPERM`).
    PermissionDenied = -libc::EPERM, "PERMISSION_DENIED";
    /// `NO_INIT` (`-ENODEV`): no driver, or not initialised.
    NoInit = -libc::ENODEV, "NO_INIT";
    /// `ALREADY_EXISTS` (`-EEXIST`).
    AlreadyExists = -libc::EEXIST, "ALREADY_EXISTS";
    /// `DEAD_OBJECT` (`-EPIPE`): the object's process is gone.
    DeadObject = -libc::EPIPE, "DEAD_OBJECT";
    /// `FAILED_TRANSACTION`: the driver refused the transaction.
    FailedTransaction = UNKNOWN_ERROR + 2, "FAILED_TRANSACTION";
    /// `BAD_INDEX` (`-EOVERFLOW`).
    BadIndex = -libc::EOVERFLOW, "BAD_INDEX";
    /// `NOT_ENOUGH_DATA` (`-ENODATA`): a read past the end of a Parcel.
    NotEnoughData = -libc::ENODATA, "NOT_ENOUGH_DATA";
    /// `WOULD_BLOCK` (`-EWOULDBLOCK`).
    WouldBlock = -libc::EWOULDBLOCK, "WOULD_BLOCK";
    /// `TIMED_OUT` (`-ETIMEDOUT`).
    TimedOut = -libc::ETIMEDOUT, "TIMED_OUT";
    /// `UNKNOWN_TRANSACTION` (`-EBADMSG`): the object does not know the transaction code.
    UnknownTransaction = -libc::EBADMSG, "UNKNOWN_TRANSACTION";
    /// `FDS_NOT_ALLOWED`: file descriptors sent to a receiver that does not accept them.
    FdsNotAllowed = UNKNOWN_ERROR + 7, "FDS_NOT_ALLOWED";
    /// `UNEXPECTED_NULL`: a null where the type allows none.
    UnexpectedNull = UNKNOWN_ERROR + 8, "UNEXPECTED_NULL";
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "status {}", self.to_i32()),
        }
    }
}

impl std::error::Error for StatusCode {}

code_table! {
    /// AIDL exception codes (`binder/Status.h`), the first int32 of every reply.
    pub enum ExceptionCode;
    /// `EX_NONE`: no exception, the call succeeded.
    None = 0, "EX_NONE";
    /// `EX_SECURITY`.
    Security = -1, "EX_SECURITY";
    /// `EX_BAD_PARCELABLE`.
    BadParcelable = -2, "EX_BAD_PARCELABLE";
    /// `EX_ILLEGAL_ARGUMENT`.
    IllegalArgument = -3, "EX_ILLEGAL_ARGUMENT";
    /// `EX_NULL_POINTER`.
    NullPointer = -4, "EX_NULL_POINTER";
    /// `EX_ILLEGAL_STATE`.
    IllegalState = -5, "EX_ILLEGAL_STATE";
    /// `EX_NETWORK_MAIN_THREAD`.
    NetworkMainThread = -6, "EX_NETWORK_MAIN_THREAD";
    /// `EX_UNSUPPORTED_OPERATION`.
    UnsupportedOperation = -7, "EX_UNSUPPORTED_OPERATION";
    /// `EX_SERVICE_SPECIFIC`: the service's own error code follows.
    ServiceSpecific = -8, "EX_SERVICE_SPECIFIC";
    /// `EX_PARCELABLE`: a parcelable exception follows.
    Parcelable = -9, "EX_PARCELABLE";
    /// The reply begins with a header to skip (`EX_HAS_REPLY_HEADER`).
    HasReplyHeader = -128, "EX_HAS_REPLY_HEADER";
    /// Never on the wire: the call failed at the transport level (see
    /// [`Status::transaction_error`]).
    TransactionFailed = -129, "EX_TRANSACTION_FAILED";
}

impl fmt::Display for ExceptionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "exception {}", self.to_i32()),
        }
    }
}

/// The outcome of a binder method call, as libbinder's `binder::Status`: an exception code, a
/// transport status for `EX_TRANSACTION_FAILED`, the error code of a service-specific error, and
/// a message.
#[derive(Clone, PartialEq, Eq)]
pub struct Status {
    exception: ExceptionCode,
    /// The service-specific code for `EX_SERVICE_SPECIFIC`, the `status_t` for
    /// `EX_TRANSACTION_FAILED`, 0 otherwise.
    error_code: i32,
    message: String,
}

/// The result of a binder method: `Ok(value)` or the [`Status`] the call failed with.
pub type Result<T, E = Status> = std::result::Result<T, E>;

impl Status {
    /// A successful status (`EX_NONE`).
    pub fn ok() -> Status {
        Status {
            exception: ExceptionCode::None,
            error_code: 0,
            message: String::new(),
        }
    }

    /// An exception with a message, e.g. `EX_ILLEGAL_ARGUMENT`.
    pub fn new_exception(exception: ExceptionCode, message: impl Into<String>) -> Status {
        if exception == ExceptionCode::TransactionFailed {
            return Status::new_transaction_error(StatusCode::FailedTransaction, message);
        }
        Status {
            exception,
            error_code: 0,
            message: message.into(),
        }
    }

    /// A service-specific error (`EX_SERVICE_SPECIFIC`): the service's own code and message
    /// reach the client as they are.
    pub fn new_service_specific_error(code: i32, message: impl Into<String>) -> Status {
        Status {
            exception: ExceptionCode::ServiceSpecific,
            error_code: code,
            message: message.into(),
        }
    }

    /// A transport-level failure (`EX_TRANSACTION_FAILED` with a `status_t`) with a message.
    /// Without a message, `Status::from(code)` says the same.
    pub fn new_transaction_error(code: StatusCode, message: impl Into<String>) -> Status {
        Status {
            exception: ExceptionCode::TransactionFailed,
            error_code: code.to_i32(),
            message: message.into(),
        }
    }

    /// The status of a transaction this thread sent and the transport refused with `code`
    /// (what `SpIBinder::submit_transact` returned). For `FAILED_TRANSACTION` the message is
    /// the reason the driver gave this thread for refusing its last transaction, when it gave
    /// one (the reason is taken: a second call gets none). Generated proxies convert their
    /// transport errors with it; `Status::from(code)` only wraps the code.
    pub fn from_transport_error(code: StatusCode) -> Status {
        match code {
            StatusCode::FailedTransaction => Status::new_transaction_error(
                code,
                crate::thread_state::take_failure_reason().unwrap_or_default(),
            ),
            code => Status::from(code),
        }
    }

    /// Whether the call succeeded (`EX_NONE`).
    pub fn is_ok(&self) -> bool {
        self.exception == ExceptionCode::None
    }

    /// The exception code (`EX_NONE` for success, `EX_TRANSACTION_FAILED` for a transport
    /// failure).
    pub fn exception_code(&self) -> ExceptionCode {
        self.exception
    }

    /// The transport status: `OK` unless this is `EX_TRANSACTION_FAILED`.
    pub fn transaction_error(&self) -> StatusCode {
        if self.exception == ExceptionCode::TransactionFailed {
            StatusCode::from_i32(self.error_code)
        } else {
            StatusCode::Ok
        }
    }

    /// The service-specific code, 0 unless this is `EX_SERVICE_SPECIFIC`.
    pub fn service_specific_error(&self) -> i32 {
        if self.exception == ExceptionCode::ServiceSpecific {
            self.error_code
        } else {
            0
        }
    }

    /// The message that came with the exception or error (empty if none).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// A description of the whole status, as its `Display` writes it.
    pub fn get_description(&self) -> String {
        self.to_string()
    }
}

impl Default for Status {
    fn default() -> Self {
        Status::ok()
    }
}

impl From<StatusCode> for Status {
    /// A transport failure without a message (`OK` gives a successful status).
    fn from(code: StatusCode) -> Status {
        match code {
            StatusCode::Ok => Status::ok(),
            code => Status::new_transaction_error(code, ""),
        }
    }
}

impl From<ExceptionCode> for Status {
    fn from(exception: ExceptionCode) -> Status {
        Status::new_exception(exception, "")
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.exception {
            ExceptionCode::None => f.write_str("OK")?,
            ExceptionCode::ServiceSpecific => {
                write!(f, "Service-specific error {}", self.error_code)?
            }
            ExceptionCode::TransactionFailed => write!(
                f,
                "Transaction failed: {}",
                StatusCode::from_i32(self.error_code)
            )?,
            e => write!(f, "Exception {e}")?,
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Status({self})")
    }
}

impl std::error::Error for Status {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_round_trip_through_their_values() {
        for v in [
            0,
            i32::MIN,
            -12,
            -38,
            -22,
            i32::MIN + 1,
            -2,
            -1,
            -19,
            -17,
            -32,
            i32::MIN + 2,
        ] {
            assert_eq!(StatusCode::from_i32(v).to_i32(), v);
        }
        assert_eq!(StatusCode::from_i32(-32), StatusCode::DeadObject);
        assert_eq!(StatusCode::from_i32(-74), StatusCode::UnknownTransaction);
        assert_eq!(StatusCode::from_i32(12345), StatusCode::Other(12345));
    }

    #[test]
    fn statuses_keep_their_codes_and_messages() {
        let s = Status::new_service_specific_error(7, "disk full");
        assert_eq!(s.exception_code(), ExceptionCode::ServiceSpecific);
        assert_eq!(s.service_specific_error(), 7);
        assert_eq!(s.to_string(), "Service-specific error 7: disk full");
        let t = Status::from(StatusCode::DeadObject);
        assert_eq!(t.transaction_error(), StatusCode::DeadObject);
        assert!(!t.is_ok());
        assert!(Status::from(StatusCode::Ok).is_ok());
    }
}
