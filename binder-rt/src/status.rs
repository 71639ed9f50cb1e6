//! Binder errors: `StatusCode` (libbinder's `status_t`) for transport and decoding failures, and
//! `Status` (libbinder's `binder::Status`) for what a method call returns across processes.

use std::fmt;

/// libbinder's `status_t` values (`utils/Errors.h`). On the wire they appear as an int32 in a
/// `TF_STATUS_CODE` reply; in Rust they are the error of transport-level operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusCode {
    Ok,
    UnknownError,
    NoMemory,
    InvalidOperation,
    BadValue,
    BadType,
    NameNotFound,
    PermissionDenied,
    NoInit,
    AlreadyExists,
    DeadObject,
    FailedTransaction,
    BadIndex,
    NotEnoughData,
    WouldBlock,
    TimedOut,
    UnknownTransaction,
    FdsNotAllowed,
    UnexpectedNull,
    /// A status value this list does not name, kept as it was received.
    Other(i32),
}

const UNKNOWN_ERROR: i32 = i32::MIN;

impl StatusCode {
    /// The `status_t` value.
    pub fn to_i32(self) -> i32 {
        match self {
            StatusCode::Ok => 0,
            StatusCode::UnknownError => UNKNOWN_ERROR,
            StatusCode::NoMemory => -libc::ENOMEM,
            StatusCode::InvalidOperation => -libc::ENOSYS,
            StatusCode::BadValue => -libc::EINVAL,
            StatusCode::BadType => UNKNOWN_ERROR + 1,
            StatusCode::NameNotFound => -libc::ENOENT,
            StatusCode::PermissionDenied => -libc::EPERM,
            StatusCode::NoInit => -libc::ENODEV,
            StatusCode::AlreadyExists => -libc::EEXIST,
            StatusCode::DeadObject => -libc::EPIPE,
            StatusCode::FailedTransaction => UNKNOWN_ERROR + 2,
            StatusCode::BadIndex => -libc::EOVERFLOW,
            StatusCode::NotEnoughData => -libc::ENODATA,
            StatusCode::WouldBlock => -libc::EWOULDBLOCK,
            StatusCode::TimedOut => -libc::ETIMEDOUT,
            StatusCode::UnknownTransaction => -libc::EBADMSG,
            StatusCode::FdsNotAllowed => UNKNOWN_ERROR + 7,
            StatusCode::UnexpectedNull => UNKNOWN_ERROR + 8,
            StatusCode::Other(v) => v,
        }
    }

    /// The code for a `status_t` value.
    pub fn from_i32(v: i32) -> StatusCode {
        const ALL: [StatusCode; 19] = [
            StatusCode::Ok,
            StatusCode::UnknownError,
            StatusCode::NoMemory,
            StatusCode::InvalidOperation,
            StatusCode::BadValue,
            StatusCode::BadType,
            StatusCode::NameNotFound,
            StatusCode::PermissionDenied,
            StatusCode::NoInit,
            StatusCode::AlreadyExists,
            StatusCode::DeadObject,
            StatusCode::FailedTransaction,
            StatusCode::BadIndex,
            StatusCode::NotEnoughData,
            StatusCode::WouldBlock,
            StatusCode::TimedOut,
            StatusCode::UnknownTransaction,
            StatusCode::FdsNotAllowed,
            StatusCode::UnexpectedNull,
        ];
        ALL.into_iter()
            .find(|c| c.to_i32() == v)
            .unwrap_or(StatusCode::Other(v))
    }

    fn name(self) -> &'static str {
        match self {
            StatusCode::Ok => "OK",
            StatusCode::UnknownError => "UNKNOWN_ERROR",
            StatusCode::NoMemory => "NO_MEMORY",
            StatusCode::InvalidOperation => "INVALID_OPERATION",
            StatusCode::BadValue => "BAD_VALUE",
            StatusCode::BadType => "BAD_TYPE",
            StatusCode::NameNotFound => "NAME_NOT_FOUND",
            StatusCode::PermissionDenied => "PERMISSION_DENIED",
            StatusCode::NoInit => "NO_INIT",
            StatusCode::AlreadyExists => "ALREADY_EXISTS",
            StatusCode::DeadObject => "DEAD_OBJECT",
            StatusCode::FailedTransaction => "FAILED_TRANSACTION",
            StatusCode::BadIndex => "BAD_INDEX",
            StatusCode::NotEnoughData => "NOT_ENOUGH_DATA",
            StatusCode::WouldBlock => "WOULD_BLOCK",
            StatusCode::TimedOut => "TIMED_OUT",
            StatusCode::UnknownTransaction => "UNKNOWN_TRANSACTION",
            StatusCode::FdsNotAllowed => "FDS_NOT_ALLOWED",
            StatusCode::UnexpectedNull => "UNEXPECTED_NULL",
            StatusCode::Other(_) => "status",
        }
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusCode::Other(v) => write!(f, "status {v}"),
            c => f.write_str(c.name()),
        }
    }
}

impl std::error::Error for StatusCode {}

/// AIDL exception codes (`binder/Status.h`), the first int32 of every reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExceptionCode {
    None,
    Security,
    BadParcelable,
    IllegalArgument,
    NullPointer,
    IllegalState,
    NetworkMainThread,
    UnsupportedOperation,
    ServiceSpecific,
    Parcelable,
    /// The reply begins with a header to skip (`EX_HAS_REPLY_HEADER`).
    HasReplyHeader,
    /// Never on the wire: the call failed at the transport level (see [`Status::transaction_error`]).
    TransactionFailed,
    Other(i32),
}

impl ExceptionCode {
    pub fn to_i32(self) -> i32 {
        match self {
            ExceptionCode::None => 0,
            ExceptionCode::Security => -1,
            ExceptionCode::BadParcelable => -2,
            ExceptionCode::IllegalArgument => -3,
            ExceptionCode::NullPointer => -4,
            ExceptionCode::IllegalState => -5,
            ExceptionCode::NetworkMainThread => -6,
            ExceptionCode::UnsupportedOperation => -7,
            ExceptionCode::ServiceSpecific => -8,
            ExceptionCode::Parcelable => -9,
            ExceptionCode::HasReplyHeader => -128,
            ExceptionCode::TransactionFailed => -129,
            ExceptionCode::Other(v) => v,
        }
    }

    pub fn from_i32(v: i32) -> ExceptionCode {
        match v {
            0 => ExceptionCode::None,
            -1 => ExceptionCode::Security,
            -2 => ExceptionCode::BadParcelable,
            -3 => ExceptionCode::IllegalArgument,
            -4 => ExceptionCode::NullPointer,
            -5 => ExceptionCode::IllegalState,
            -6 => ExceptionCode::NetworkMainThread,
            -7 => ExceptionCode::UnsupportedOperation,
            -8 => ExceptionCode::ServiceSpecific,
            -9 => ExceptionCode::Parcelable,
            -128 => ExceptionCode::HasReplyHeader,
            -129 => ExceptionCode::TransactionFailed,
            v => ExceptionCode::Other(v),
        }
    }
}

impl fmt::Display for ExceptionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ExceptionCode::None => "EX_NONE",
            ExceptionCode::Security => "EX_SECURITY",
            ExceptionCode::BadParcelable => "EX_BAD_PARCELABLE",
            ExceptionCode::IllegalArgument => "EX_ILLEGAL_ARGUMENT",
            ExceptionCode::NullPointer => "EX_NULL_POINTER",
            ExceptionCode::IllegalState => "EX_ILLEGAL_STATE",
            ExceptionCode::NetworkMainThread => "EX_NETWORK_MAIN_THREAD",
            ExceptionCode::UnsupportedOperation => "EX_UNSUPPORTED_OPERATION",
            ExceptionCode::ServiceSpecific => "EX_SERVICE_SPECIFIC",
            ExceptionCode::Parcelable => "EX_PARCELABLE",
            ExceptionCode::HasReplyHeader => "EX_HAS_REPLY_HEADER",
            ExceptionCode::TransactionFailed => "EX_TRANSACTION_FAILED",
            ExceptionCode::Other(v) => return write!(f, "exception {v}"),
        };
        f.write_str(name)
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
            return Status::transaction_error(StatusCode::FailedTransaction, message);
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

    /// A transport-level failure (`EX_TRANSACTION_FAILED` with a `status_t`).
    pub fn transaction_error(code: StatusCode, message: impl Into<String>) -> Status {
        Status {
            exception: ExceptionCode::TransactionFailed,
            error_code: code.to_i32(),
            message: message.into(),
        }
    }

    pub fn is_ok(&self) -> bool {
        self.exception == ExceptionCode::None
    }

    pub fn exception_code(&self) -> ExceptionCode {
        self.exception
    }

    /// The transport status: `OK` unless this is `EX_TRANSACTION_FAILED`.
    pub fn transaction_error_code(&self) -> StatusCode {
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

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl Default for Status {
    fn default() -> Self {
        Status::ok()
    }
}

impl From<StatusCode> for Status {
    /// A transport failure. `FAILED_TRANSACTION` carries the reason the driver gave this thread
    /// for its last refused transaction, when there is one.
    fn from(code: StatusCode) -> Status {
        match code {
            StatusCode::Ok => Status::ok(),
            StatusCode::FailedTransaction => Status::transaction_error(
                code,
                crate::thread_state::take_failure_reason().unwrap_or_default(),
            ),
            code => Status::transaction_error(code, ""),
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
        assert_eq!(t.transaction_error_code(), StatusCode::DeadObject);
        assert!(!t.is_ok());
        assert!(Status::from(StatusCode::Ok).is_ok());
    }
}
