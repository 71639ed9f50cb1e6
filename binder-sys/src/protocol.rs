//! The `BC_*` and `BR_*` command streams of `BINDER_WRITE_READ`, typed.
//!
//! One table per direction defines, for each command, its constant (the command word: an
//! ioctl-style number whose size field is the payload's size), its [`Bc`]/[`Br`] variant with
//! the payload's type, and its name. Every command is a native-endian `u32` word followed by its
//! payload's bytes ([`Wire`]).

use crate::{
    HandleCookie, PriDesc, PriPtrCookie, PtrCookie, Reader, TransactionData, TransactionDataSecctx,
    TransactionDataSg, Wire, command_payload_size,
};

/// Why a command could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ends inside the command word (`cmd` is `None`) or its payload.
    Truncated {
        /// The command word, if it was complete.
        cmd: Option<u32>,
        /// Bytes the command needs after its word (4 for a missing word).
        need: usize,
        /// Bytes that were there.
        have: usize,
    },
    /// A command word this direction of the protocol does not define.
    Unknown(u32),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            DecodeError::Truncated {
                cmd: None, have, ..
            } => write!(f, "truncated command word ({have} of 4 bytes)"),
            DecodeError::Truncated {
                cmd: Some(cmd),
                need,
                have,
            } => write!(
                f,
                "truncated {} ({have} of {need} payload bytes)",
                command_name(cmd)
            ),
            DecodeError::Unknown(cmd) => write!(f, "unknown command {cmd:#x}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A pattern or expression binding of a variant's payload (named after the payload's type so
/// that macro repetition knows how often to emit it).
macro_rules! payload {
    ($t:ty, $v:ident) => {
        $v
    };
    ($t:ty, _) => {
        _
    };
}

/// Defines a direction of the protocol: its constants, its enum and the enum's codec.
macro_rules! protocol {
    (
        $(#[$meta:meta])*
        pub enum $Enum:ident: $dir:expr, $ty:literal {
            $(
                $(#[$doc:meta])*
                $CONST:ident = $nr:literal => $Variant:ident $(($Payload:ty))?,
            )*
        }
    ) => {
        $(
            $(#[$doc])*
            pub const $CONST: u32 = command_word($dir, $ty, $nr, 0 $(+ size_of::<$Payload>())?);
        )*

        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $Enum {
            $(
                $(#[$doc])*
                $Variant $(($Payload))?,
            )*
        }

        impl $Enum {
            /// Every command word of this direction, in the table's order.
            pub const CODES: &'static [u32] = &[$($CONST),*];

            /// The command word.
            pub const fn code(&self) -> u32 {
                match self {
                    $( $Enum::$Variant $((payload!($Payload, _)))? => $CONST, )*
                }
            }

            /// The command's name in the kernel header.
            pub const fn name(&self) -> &'static str {
                match self {
                    $( $Enum::$Variant $((payload!($Payload, _)))? => stringify!($CONST), )*
                }
            }

            /// The name of a command word of this direction.
            pub const fn name_of(cmd: u32) -> Option<&'static str> {
                match cmd {
                    $( $CONST => Some(stringify!($CONST)), )*
                    _ => None,
                }
            }

            /// Appends the command word and its payload.
            pub fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.code().to_ne_bytes());
                match self {
                    $(
                        $Enum::$Variant $((payload!($Payload, p)))? => {
                            $( Wire::encode(payload!($Payload, p), out); )?
                        }
                    )*
                }
            }

            /// Decodes the command at the reader's position and advances past it; on an error
            /// nothing is consumed.
            pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                let bytes = r.rest();
                let cmd = u32::read(bytes).ok_or(DecodeError::Truncated {
                    cmd: None,
                    need: 4,
                    have: bytes.len(),
                })?;
                let body = &bytes[4..];
                let need = command_payload_size(cmd);
                let short = DecodeError::Truncated {
                    cmd: Some(cmd),
                    need,
                    have: body.len(),
                };
                let v = match cmd {
                    $(
                        $CONST => $Enum::$Variant $((
                            <$Payload as Wire>::read(body).ok_or(short)?
                        ))?,
                    )*
                    other => return Err(DecodeError::Unknown(other)),
                };
                r.take(4 + need);
                Ok(v)
            }
        }
    };
}

const IOC_NONE: u32 = 0;
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;

/// A command word: `_IO` without payload, else `_IOW`/`_IOR` (`dir`) with the payload's size.
const fn command_word(dir: u32, ty: u8, nr: u32, size: usize) -> u32 {
    let dir = if size == 0 { IOC_NONE } else { dir };
    (dir << 30) | ((size as u32) << 16) | ((ty as u32) << 8) | nr
}

protocol! {
    /// A command from a process to the driver (`enum binder_driver_command_protocol`).
    pub enum Bc: IOC_WRITE, b'c' {
        /// `BC_TRANSACTION`: send a transaction to a handle.
        BC_TRANSACTION = 0 => Transaction(TransactionData),
        /// `BC_REPLY`: reply to the transaction being served.
        BC_REPLY = 1 => Reply(TransactionData),
        /// `BC_ACQUIRE_RESULT` (not supported by the drivers).
        BC_ACQUIRE_RESULT = 2 => AcquireResult(i32),
        /// `BC_FREE_BUFFER`: release a received buffer (by its address).
        BC_FREE_BUFFER = 3 => FreeBuffer(u64),
        /// `BC_INCREFS`: take a weak reference on a handle.
        BC_INCREFS = 4 => IncRefs(u32),
        /// `BC_ACQUIRE`: take a strong reference on a handle.
        BC_ACQUIRE = 5 => Acquire(u32),
        /// `BC_RELEASE`: drop a strong reference on a handle.
        BC_RELEASE = 6 => Release(u32),
        /// `BC_DECREFS`: drop a weak reference on a handle.
        BC_DECREFS = 7 => DecRefs(u32),
        /// `BC_INCREFS_DONE`: the object took the weak reference `BR_INCREFS` asked for.
        BC_INCREFS_DONE = 8 => IncRefsDone(PtrCookie),
        /// `BC_ACQUIRE_DONE`: the object took the strong reference `BR_ACQUIRE` asked for.
        BC_ACQUIRE_DONE = 9 => AcquireDone(PtrCookie),
        /// `BC_ATTEMPT_ACQUIRE` (not supported by the drivers).
        BC_ATTEMPT_ACQUIRE = 10 => AttemptAcquire(PriDesc),
        /// `BC_REGISTER_LOOPER`: a thread the driver asked for joins the pool.
        BC_REGISTER_LOOPER = 11 => RegisterLooper,
        /// `BC_ENTER_LOOPER`: a thread of the application joins the pool.
        BC_ENTER_LOOPER = 12 => EnterLooper,
        /// `BC_EXIT_LOOPER`: the thread leaves the pool.
        BC_EXIT_LOOPER = 13 => ExitLooper,
        /// `BC_REQUEST_DEATH_NOTIFICATION`: tell me when the handle's process dies.
        BC_REQUEST_DEATH_NOTIFICATION = 14 => RequestDeathNotification(HandleCookie),
        /// `BC_CLEAR_DEATH_NOTIFICATION`: cancel a death notification.
        BC_CLEAR_DEATH_NOTIFICATION = 15 => ClearDeathNotification(HandleCookie),
        /// `BC_DEAD_BINDER_DONE`: a `BR_DEAD_BINDER` was handled (by its cookie).
        BC_DEAD_BINDER_DONE = 16 => DeadBinderDone(u64),
        /// `BC_TRANSACTION_SG`: a transaction with scatter-gather buffers.
        BC_TRANSACTION_SG = 17 => TransactionSg(TransactionDataSg),
        /// `BC_REPLY_SG`: a reply with scatter-gather buffers.
        BC_REPLY_SG = 18 => ReplySg(TransactionDataSg),
    }
}

protocol! {
    /// A return from the driver to a process (`enum binder_driver_return_protocol`).
    pub enum Br: IOC_READ, b'r' {
        /// `BR_ERROR`: an error (a negative errno) outside a transaction.
        BR_ERROR = 0 => Error(i32),
        /// `BR_OK`: nothing to report.
        BR_OK = 1 => Ok,
        /// `BR_TRANSACTION_SEC_CTX`: an incoming transaction with the sender's security context.
        BR_TRANSACTION_SEC_CTX = 2 => TransactionSecCtx(TransactionDataSecctx),
        /// `BR_TRANSACTION`: an incoming transaction (its data in the receive area).
        BR_TRANSACTION = 2 => Transaction(TransactionData),
        /// `BR_REPLY`: the reply to this thread's transaction.
        BR_REPLY = 3 => Reply(TransactionData),
        /// `BR_ACQUIRE_RESULT` (never sent by the drivers).
        BR_ACQUIRE_RESULT = 4 => AcquireResult(i32),
        /// `BR_DEAD_REPLY`: the target (or the caller of a reply) is dead.
        BR_DEAD_REPLY = 5 => DeadReply,
        /// `BR_TRANSACTION_COMPLETE`: the driver took the transaction or reply just sent.
        BR_TRANSACTION_COMPLETE = 6 => TransactionComplete,
        /// `BR_INCREFS`: take a weak reference on a local object (answer `BC_INCREFS_DONE`).
        BR_INCREFS = 7 => IncRefs(PtrCookie),
        /// `BR_ACQUIRE`: take a strong reference on a local object (answer `BC_ACQUIRE_DONE`).
        BR_ACQUIRE = 8 => Acquire(PtrCookie),
        /// `BR_RELEASE`: drop the strong reference taken for `BR_ACQUIRE`.
        BR_RELEASE = 9 => Release(PtrCookie),
        /// `BR_DECREFS`: drop the weak reference taken for `BR_INCREFS`.
        BR_DECREFS = 10 => DecRefs(PtrCookie),
        /// `BR_ATTEMPT_ACQUIRE` (never sent by the drivers).
        BR_ATTEMPT_ACQUIRE = 11 => AttemptAcquire(PriPtrCookie),
        /// `BR_NOOP`: nothing (the start of every read).
        BR_NOOP = 12 => Noop,
        /// `BR_SPAWN_LOOPER`: start another pool thread (`BC_REGISTER_LOOPER`).
        BR_SPAWN_LOOPER = 13 => SpawnLooper,
        /// `BR_FINISHED`: a pool thread may exit.
        BR_FINISHED = 14 => Finished,
        /// `BR_DEAD_BINDER`: the object of a death notification died (its cookie).
        BR_DEAD_BINDER = 15 => DeadBinder(u64),
        /// `BR_CLEAR_DEATH_NOTIFICATION_DONE`: a death notification was cancelled (its cookie).
        BR_CLEAR_DEATH_NOTIFICATION_DONE = 16 => ClearDeathNotificationDone(u64),
        /// `BR_FAILED_REPLY`: the transaction failed (`BINDER_GET_EXTENDED_ERROR` says why).
        BR_FAILED_REPLY = 17 => FailedReply,
        /// `BR_FROZEN_REPLY`: the target process is frozen.
        BR_FROZEN_REPLY = 18 => FrozenReply,
        /// `BR_ONEWAY_SPAM_SUSPECT`: in place of `BR_TRANSACTION_COMPLETE` for a oneway call
        /// when the target's oneway space is running out.
        BR_ONEWAY_SPAM_SUSPECT = 19 => OnewaySpamSuspect,
        /// `BR_TRANSACTION_PENDING_FROZEN`: a oneway call queued for a frozen process.
        BR_TRANSACTION_PENDING_FROZEN = 20 => TransactionPendingFrozen,
    }
}

/// A human-readable name for a command or return word, for logs and errors.
pub fn command_name(cmd: u32) -> &'static str {
    Bc::name_of(cmd)
        .or_else(|| Br::name_of(cmd))
        .unwrap_or("unknown")
}

impl Br {
    /// Decodes a whole read buffer: the returns in order, and the error that ended it early
    /// (a truncated or unknown return), if any.
    pub fn decode_all(bytes: &[u8]) -> (Vec<Br>, Option<DecodeError>) {
        let mut r = Reader::new(bytes);
        let mut out = Vec::new();
        while r.remaining() > 0 {
            match Br::decode(&mut r) {
                Ok(br) => out.push(br),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip() {
        let td = TransactionData {
            target: 1,
            code: 2,
            data_buffer: 0x1000,
            ..Default::default()
        };
        let bcs = [
            Bc::Transaction(td),
            Bc::FreeBuffer(0x7f00),
            Bc::IncRefs(3),
            Bc::EnterLooper,
            Bc::RequestDeathNotification(HandleCookie {
                handle: 4,
                cookie: 5,
            }),
            Bc::TransactionSg(TransactionDataSg {
                transaction_data: td,
                buffers_size: 64,
            }),
        ];
        let mut out = Vec::new();
        for bc in &bcs {
            bc.encode(&mut out);
        }
        let mut r = Reader::new(&out);
        for bc in bcs {
            let len = 4 + command_payload_size(bc.code());
            let before = r.position();
            assert_eq!(Bc::decode(&mut r), Ok(bc));
            assert_eq!(r.position() - before, len);
        }
        assert_eq!(r.remaining(), 0);

        let brs = [
            Br::Noop,
            Br::Transaction(td),
            Br::IncRefs(PtrCookie { ptr: 1, cookie: 2 }),
            Br::DeadBinder(9),
            Br::Error(-22),
            Br::TransactionSecCtx(TransactionDataSecctx {
                transaction_data: td,
                secctx: 0x10,
            }),
        ];
        out.clear();
        brs.iter().for_each(|b| b.encode(&mut out));
        assert_eq!(Br::decode_all(&out), (brs.to_vec(), None));
    }

    #[test]
    fn short_and_unknown_input_is_an_error_and_consumes_nothing() {
        let mut out = Vec::new();
        Br::Reply(TransactionData::default()).encode(&mut out);
        let mut r = Reader::new(&out[..40]);
        assert_eq!(
            Br::decode(&mut r),
            Err(DecodeError::Truncated {
                cmd: Some(BR_REPLY),
                need: 64,
                have: 36
            })
        );
        assert_eq!(r.position(), 0);
        assert_eq!(
            Br::decode(&mut Reader::new(&[1, 2])),
            Err(DecodeError::Truncated {
                cmd: None,
                need: 4,
                have: 2
            })
        );
        // A BC word is not a BR word.
        assert_eq!(
            Br::decode(&mut Reader::new(&BC_ENTER_LOOPER.to_ne_bytes())),
            Err(DecodeError::Unknown(BC_ENTER_LOOPER))
        );
        let (brs, err) = Br::decode_all(&[BR_NOOP.to_ne_bytes(), [0xff; 4]].concat());
        assert_eq!(brs, vec![Br::Noop]);
        assert_eq!(err, Some(DecodeError::Unknown(u32::MAX)));
    }

    #[test]
    fn names_come_from_the_table() {
        assert_eq!(command_name(BC_FREE_BUFFER), "BC_FREE_BUFFER");
        assert_eq!(
            command_name(BR_TRANSACTION_SEC_CTX),
            "BR_TRANSACTION_SEC_CTX"
        );
        assert_eq!(Br::SpawnLooper.name(), "BR_SPAWN_LOOPER");
        assert_eq!(Bc::ExitLooper.code(), BC_EXIT_LOOPER);
        assert_eq!(command_name(0x1234), "unknown");
        // Every word of each direction, each named by its own table.
        assert_eq!((Bc::CODES.len(), Br::CODES.len()), (19, 22));
        assert!(Bc::CODES.iter().all(|&c| Bc::name_of(c).is_some()));
        assert!(Br::CODES.iter().all(|&c| Br::name_of(c).is_some()));
    }
}
