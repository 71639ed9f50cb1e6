//! The Linux binder UAPI (`linux/android/binder.h`) as Rust constants and structures, plus the
//! small protocol the userspace driver speaks over its sockets (`ud`).
//!
//! Everything here is data: command numbers, structure layouts and their encodings. Both the
//! runtime (`binder-rt`) and the userspace driver (`binder-driver`) build on it, so the two can
//! never disagree about a number or a layout.
//!
//! - The `#[repr(C)]` structures have the kernel's layout (checked by tests) and implement
//!   [`Wire`]: their bytes in a command stream or an ioctl argument are their memory, in the
//!   machine's byte order, as the kernel reads and writes them (`zerocopy` proves each layout
//!   has no padding or invalid bit patterns, so no `unsafe` is needed to convert them).
//! - The command streams of `BINDER_WRITE_READ` are typed: [`Bc`] (process to driver) and [`Br`]
//!   (driver to process), each with its payload, encoded and decoded next to each other. The
//!   `BC_*`/`BR_*` constants, the enums, their names and payload sizes come from one table.
//!
//! Decoding never panics: structures decode to `None` when the input is too short, commands to
//! a [`DecodeError`].

#![deny(missing_docs)]

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

mod protocol;
pub mod ud;

pub use protocol::{Bc, Br, DecodeError, command_name};
// The command words, defined by the tables in `protocol`.
pub use protocol::{
    BC_ACQUIRE, BC_ACQUIRE_DONE, BC_ACQUIRE_RESULT, BC_ATTEMPT_ACQUIRE,
    BC_CLEAR_DEATH_NOTIFICATION, BC_DEAD_BINDER_DONE, BC_DECREFS, BC_ENTER_LOOPER, BC_EXIT_LOOPER,
    BC_FREE_BUFFER, BC_INCREFS, BC_INCREFS_DONE, BC_REGISTER_LOOPER, BC_RELEASE, BC_REPLY,
    BC_REPLY_SG, BC_REQUEST_DEATH_NOTIFICATION, BC_TRANSACTION, BC_TRANSACTION_SG, BR_ACQUIRE,
    BR_ACQUIRE_RESULT, BR_ATTEMPT_ACQUIRE, BR_CLEAR_DEATH_NOTIFICATION_DONE, BR_DEAD_BINDER,
    BR_DEAD_REPLY, BR_DECREFS, BR_ERROR, BR_FAILED_REPLY, BR_FINISHED, BR_FROZEN_REPLY, BR_INCREFS,
    BR_NOOP, BR_OK, BR_ONEWAY_SPAM_SUSPECT, BR_RELEASE, BR_REPLY, BR_SPAWN_LOOPER, BR_TRANSACTION,
    BR_TRANSACTION_COMPLETE, BR_TRANSACTION_PENDING_FROZEN, BR_TRANSACTION_SEC_CTX,
};

/// `B_PACK_CHARS(c1, c2, c3, 0x85)`.
const fn pack_chars(c1: u8, c2: u8, c3: u8) -> u32 {
    ((c1 as u32) << 24) | ((c2 as u32) << 16) | ((c3 as u32) << 8) | 0x85
}

/// Object type of a local (strong) binder: `ptr` and `cookie` of the sender's object.
pub const BINDER_TYPE_BINDER: u32 = pack_chars(b's', b'b', b'*');
/// Object type of a local weak binder.
pub const BINDER_TYPE_WEAK_BINDER: u32 = pack_chars(b'w', b'b', b'*');
/// Object type of a strong reference (a handle).
pub const BINDER_TYPE_HANDLE: u32 = pack_chars(b's', b'h', b'*');
/// Object type of a weak reference (a handle).
pub const BINDER_TYPE_WEAK_HANDLE: u32 = pack_chars(b'w', b'h', b'*');
/// Object type of a file descriptor (`binder_fd_object`).
pub const BINDER_TYPE_FD: u32 = pack_chars(b'f', b'd', b'*');
/// Object type of an array of file descriptors in a parent buffer.
pub const BINDER_TYPE_FDA: u32 = pack_chars(b'f', b'd', b'a');
/// Object type of a scatter-gather buffer (`binder_buffer_object`).
pub const BINDER_TYPE_PTR: u32 = pack_chars(b'p', b't', b'*');

/// The scheduling priority bits of a flat object's flags.
pub const FLAT_BINDER_FLAG_PRIORITY_MASK: u32 = 0xff;
/// The object accepts file descriptors in the transactions sent to it.
pub const FLAT_BINDER_FLAG_ACCEPTS_FDS: u32 = 0x100;
/// The object's transactions inherit the caller's real-time priority.
pub const FLAT_BINDER_FLAG_INHERIT_RT: u32 = 0x800;
/// The object's transactions carry the sender's security context.
pub const FLAT_BINDER_FLAG_TXN_SECURITY_CTX: u32 = 0x1000;

/// Protocol version of the 64-bit binder interface.
pub const BINDER_CURRENT_PROTOCOL_VERSION: i32 = 8;

/// Size of the receive area libbinder maps: 1 MiB minus two 4 KiB pages.
pub const BINDER_VM_SIZE: usize = 1024 * 1024 - 2 * 4096;
/// libbinder's default for `BINDER_SET_MAX_THREADS`.
pub const DEFAULT_MAX_BINDER_THREADS: u32 = 15;

/// Transaction flag: a oneway call (no reply).
pub const TF_ONE_WAY: u32 = 0x01;
/// Transaction flag: the contents are the component's root object (unused by the driver).
pub const TF_ROOT_OBJECT: u32 = 0x04;
/// Transaction flag: the contents are a 32-bit status code, not a reply.
pub const TF_STATUS_CODE: u32 = 0x08;
/// Transaction flag: the sender accepts file descriptors in the reply.
pub const TF_ACCEPT_FDS: u32 = 0x10;
/// Transaction flag: clear the buffer's contents when it is freed.
pub const TF_CLEAR_BUF: u32 = 0x20;
/// Transaction flag: this oneway call replaces an older one still queued for the same node.
pub const TF_UPDATE_TXN: u32 = 0x40;

// ioctl number encoding (asm-generic/ioctl.h).
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;
const fn ioc(dir: u32, ty: u8, nr: u32, size: usize) -> u32 {
    (dir << 30) | ((size as u32) << 16) | ((ty as u32) << 8) | nr
}
const fn iow(ty: u8, nr: u32, size: usize) -> u32 {
    ioc(IOC_WRITE, ty, nr, size)
}
const fn iowr(ty: u8, nr: u32, size: usize) -> u32 {
    ioc(IOC_READ | IOC_WRITE, ty, nr, size)
}

/// Size of `struct binder_write_read`.
pub const WRITE_READ_SIZE: usize = size_of::<BinderWriteRead>();
/// Size of `struct binder_transaction_data`.
pub const TRANSACTION_DATA_SIZE: usize = size_of::<TransactionData>();
/// Size of `struct binder_transaction_data_secctx`.
pub const TRANSACTION_DATA_SECCTX_SIZE: usize = size_of::<TransactionDataSecctx>();
/// Size of `struct binder_transaction_data_sg`.
pub const TRANSACTION_DATA_SG_SIZE: usize = size_of::<TransactionDataSg>();
/// Size of `struct binder_ptr_cookie`.
pub const PTR_COOKIE_SIZE: usize = size_of::<PtrCookie>();
/// Size of the packed `struct binder_handle_cookie`.
pub const HANDLE_COOKIE_SIZE: usize = size_of::<HandleCookie>();
/// Size of `struct flat_binder_object` (and of `binder_fd_object`).
pub const FLAT_BINDER_OBJECT_SIZE: usize = size_of::<FlatBinderObject>();
/// Size of `struct binder_buffer_object`.
pub const BUFFER_OBJECT_SIZE: usize = 40;
/// Size of `struct binder_fd_array_object`.
pub const FD_ARRAY_OBJECT_SIZE: usize = 32;

/// `BINDER_WRITE_READ`: write a `BC_*` stream and read a `BR_*` stream ([`BinderWriteRead`]).
pub const BINDER_WRITE_READ: u32 = iowr(b'b', 1, WRITE_READ_SIZE);
/// `BINDER_SET_IDLE_TIMEOUT` (`i64`; unused by the kernel).
pub const BINDER_SET_IDLE_TIMEOUT: u32 = iow(b'b', 3, 8);
/// `BINDER_SET_MAX_THREADS`: how many looper threads the driver may ask for (`u32`).
pub const BINDER_SET_MAX_THREADS: u32 = iow(b'b', 5, 4);
/// `BINDER_SET_IDLE_PRIORITY` (`i32`; unused by the kernel).
pub const BINDER_SET_IDLE_PRIORITY: u32 = iow(b'b', 6, 4);
/// `BINDER_SET_CONTEXT_MGR`: become the context manager (handle 0) (`i32`, ignored).
pub const BINDER_SET_CONTEXT_MGR: u32 = iow(b'b', 7, 4);
/// `BINDER_THREAD_EXIT`: the calling thread leaves the driver (`i32`, ignored).
pub const BINDER_THREAD_EXIT: u32 = iow(b'b', 8, 4);
/// `BINDER_VERSION`: the driver's protocol version ([`BinderVersion`]).
pub const BINDER_VERSION: u32 = iowr(b'b', 9, size_of::<BinderVersion>());
/// `BINDER_GET_NODE_DEBUG_INFO`: the next node after `ptr` ([`NodeDebugInfo`]).
pub const BINDER_GET_NODE_DEBUG_INFO: u32 = iowr(b'b', 11, size_of::<NodeDebugInfo>());
/// `BINDER_GET_NODE_INFO_FOR_REF`: the counts of the node behind a handle ([`NodeInfoForRef`]).
pub const BINDER_GET_NODE_INFO_FOR_REF: u32 = iowr(b'b', 12, size_of::<NodeInfoForRef>());
/// `BINDER_SET_CONTEXT_MGR_EXT`: become the context manager with an object's flags
/// ([`FlatBinderObject`]).
pub const BINDER_SET_CONTEXT_MGR_EXT: u32 = iow(b'b', 13, FLAT_BINDER_OBJECT_SIZE);
/// `BINDER_ENABLE_ONEWAY_SPAM_DETECTION` (`u32` boolean).
pub const BINDER_ENABLE_ONEWAY_SPAM_DETECTION: u32 = iow(b'b', 16, 4);
/// `BINDER_GET_EXTENDED_ERROR`: why the thread's last transaction failed ([`ExtendedError`]).
pub const BINDER_GET_EXTENDED_ERROR: u32 = iowr(b'b', 17, size_of::<ExtendedError>());

/// The payload size carried by a `BC_*`/`BR_*` command word (bits 16..30 of the number).
pub const fn command_payload_size(cmd: u32) -> usize {
    ((cmd >> 16) & 0x3fff) as usize
}

/// A structure with a fixed wire form: its memory, as the kernel reads and writes it.
///
/// Implemented for every type `zerocopy` can prove to be plain bytes (the structures of this
/// crate and the integers). Decoding copies the fixed-size structure out of the input and
/// never fails other than for short input; what a structure points to is not touched.
pub trait Wire: FromBytes + IntoBytes + Immutable + KnownLayout + Copy {
    /// Decodes the structure from the start of `bytes`; `None` if `bytes` is too short.
    fn read(bytes: &[u8]) -> Option<Self> {
        Self::read_from_prefix(bytes).ok().map(|(v, _)| v)
    }
    /// Decodes the structure at the reader's position and advances past it.
    fn decode(r: &mut Reader<'_>) -> Option<Self> {
        r.take(size_of::<Self>()).and_then(Self::read)
    }
    /// Appends the structure's bytes to `out`.
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
    /// The structure's bytes.
    fn bytes(&self) -> &[u8] {
        self.as_bytes()
    }
    /// The structure's bytes, writable (an ioctl argument the driver fills in).
    fn bytes_mut(&mut self) -> &mut [u8] {
        self.as_mut_bytes()
    }
}

impl<T: FromBytes + IntoBytes + Immutable + KnownLayout + Copy> Wire for T {}

/// `struct binder_write_read`, the argument of [`BINDER_WRITE_READ`].
#[repr(C)]
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct BinderWriteRead {
    /// Bytes of commands at `write_buffer`.
    pub write_size: u64,
    /// Bytes of commands the driver consumed (in and out).
    pub write_consumed: u64,
    /// Address of the `BC_*` stream.
    pub write_buffer: u64,
    /// Room for returns at `read_buffer`.
    pub read_size: u64,
    /// Bytes of returns the driver stored (in and out).
    pub read_consumed: u64,
    /// Address where the driver stores the `BR_*` stream.
    pub read_buffer: u64,
}

/// `struct binder_version`, the argument of [`BINDER_VERSION`].
#[repr(C)]
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct BinderVersion {
    /// [`BINDER_CURRENT_PROTOCOL_VERSION`] for a 64-bit driver.
    pub protocol_version: i32,
}

/// `struct binder_transaction_data`.
///
/// `target` holds the union: a `u32` handle in its low half (BC_TRANSACTION) or a node pointer
/// (BR_TRANSACTION). `data_buffer`/`data_offsets` are addresses in the address space of the
/// process that sends (BC_*) or receives (BR_*) the command: decoding one never copies the
/// transaction's data.
#[repr(C)]
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct TransactionData {
    /// The handle (sending) or the node's `ptr` (receiving); 0 for the context manager.
    pub target: u64,
    /// The node's cookie (receiving only).
    pub cookie: u64,
    /// The transaction code.
    pub code: u32,
    /// `TF_*` flags.
    pub flags: u32,
    /// The sender's pid (set by the driver; 0 for oneway calls).
    pub sender_pid: i32,
    /// The sender's effective uid (set by the driver).
    pub sender_euid: u32,
    /// Bytes of data at `data_buffer`.
    pub data_size: u64,
    /// Bytes of object offsets at `data_offsets`.
    pub offsets_size: u64,
    /// Address of the data.
    pub data_buffer: u64,
    /// Address of the `u64` offsets of the objects in the data.
    pub data_offsets: u64,
}

/// `struct binder_transaction_data_secctx`: a received transaction with the sender's security
/// context.
#[repr(C)]
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct TransactionDataSecctx {
    /// The transaction.
    pub transaction_data: TransactionData,
    /// Address of the security context string in the receive buffer.
    pub secctx: u64,
}

/// `struct binder_transaction_data_sg`: a transaction with scatter-gather buffers.
#[repr(C)]
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct TransactionDataSg {
    /// The transaction.
    pub transaction_data: TransactionData,
    /// Total size of the `BINDER_TYPE_PTR` buffers, 8-byte aligned.
    pub buffers_size: u64,
}

/// `struct flat_binder_object` (also the layout of `binder_fd_object`: `handle` holds the fd).
#[repr(C)]
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct FlatBinderObject {
    /// `BINDER_TYPE_*`.
    pub hdr_type: u32,
    /// `FLAT_BINDER_FLAG_*`.
    pub flags: u32,
    /// The union `{ binder_uintptr_t binder; __u32 handle; }`; a handle or fd is the low half.
    pub binder_or_handle: u64,
    /// The object's cookie (local binders).
    pub cookie: u64,
}

/// `struct binder_extended_error` ([`BINDER_GET_EXTENDED_ERROR`]): the last error the driver
/// returned to the calling thread: the transaction's debug id, the `BR_*` command and a
/// negative errno.
#[repr(C)]
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct ExtendedError {
    /// Debug id of the transaction.
    pub id: u32,
    /// The `BR_*` return it ended with ([`BR_OK`] when it did not fail).
    pub command: u32,
    /// A negative errno, or 0.
    pub param: i32,
}

impl ExtendedError {
    /// No error for transaction `id` (what a thread holds after a successful transaction).
    pub const fn ok(id: u32) -> Self {
        ExtendedError {
            id,
            command: BR_OK,
            param: 0,
        }
    }
}

/// `struct binder_ptr_cookie`: a node of the receiving process.
#[repr(C)]
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct PtrCookie {
    /// The node's `ptr`.
    pub ptr: u64,
    /// The node's cookie.
    pub cookie: u64,
}

/// The packed `struct binder_handle_cookie`: a handle and the cookie of a death notification.
#[repr(C, packed)]
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct HandleCookie {
    /// The handle.
    pub handle: u32,
    /// The death notification's cookie.
    pub cookie: u64,
}

/// `struct binder_pri_desc` ([`BC_ATTEMPT_ACQUIRE`], not supported by the drivers).
#[repr(C)]
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct PriDesc {
    /// A priority.
    pub priority: i32,
    /// A handle.
    pub desc: u32,
}

/// `struct binder_pri_ptr_cookie` ([`BR_ATTEMPT_ACQUIRE`], never sent by the drivers).
#[repr(C)]
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct PriPtrCookie {
    /// A priority.
    pub priority: i32,
    /// The C structure's alignment padding.
    pub padding: u32,
    /// The node's `ptr`.
    pub ptr: u64,
    /// The node's cookie.
    pub cookie: u64,
}

/// `struct binder_node_debug_info` ([`BINDER_GET_NODE_DEBUG_INFO`]).
#[repr(C)]
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct NodeDebugInfo {
    /// In: the node to start after; out: the next node's `ptr` (0: no more).
    pub ptr: u64,
    /// The node's cookie.
    pub cookie: u64,
    /// Whether the driver holds a strong reference on the object.
    pub has_strong_ref: u32,
    /// Whether the driver holds a weak reference on the object.
    pub has_weak_ref: u32,
}

/// `struct binder_node_info_for_ref` ([`BINDER_GET_NODE_INFO_FOR_REF`]).
#[repr(C)]
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct NodeInfoForRef {
    /// In: the handle.
    pub handle: u32,
    /// Out: strong references on the node.
    pub strong_count: u32,
    /// Out: weak references on the node.
    pub weak_count: u32,
    /// Must be 0.
    pub reserved1: u32,
    /// Must be 0.
    pub reserved2: u32,
    /// Must be 0.
    pub reserved3: u32,
}

/// Little-endian field reader over a byte slice; every read is bounds-checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }
    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }
    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
    /// The bytes left, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        &self.bytes[self.pos..]
    }
    /// The next `n` bytes; `None` (and nothing consumed) if fewer are left.
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    /// The next `u32`.
    pub fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    }
    /// The next `i32`.
    pub fn i32(&mut self) -> Option<i32> {
        self.u32().map(|v| v as i32)
    }
    /// The next `u64`.
    pub fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    }
}

impl TransactionData {
    /// The handle a sent transaction is addressed to (the low half of `target`).
    pub fn handle(&self) -> u32 {
        self.target as u32
    }
}

impl FlatBinderObject {
    /// The handle or fd (the low half of the union).
    pub fn handle(&self) -> u32 {
        self.binder_or_handle as u32
    }
    /// The object's 24 bytes.
    pub fn to_bytes(&self) -> [u8; FLAT_BINDER_OBJECT_SIZE] {
        let mut b = [0u8; FLAT_BINDER_OBJECT_SIZE];
        b.copy_from_slice(self.as_bytes());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers_match_the_kernel_header() {
        assert_eq!(BINDER_WRITE_READ, 0xC030_6201);
        assert_eq!(BINDER_SET_MAX_THREADS, 0x4004_6205);
        assert_eq!(BINDER_SET_CONTEXT_MGR, 0x4004_6207);
        assert_eq!(BINDER_VERSION, 0xC004_6209);
        assert_eq!(BINDER_GET_NODE_DEBUG_INFO, 0xC018_620B);
        assert_eq!(BINDER_GET_NODE_INFO_FOR_REF, 0xC018_620C);
        assert_eq!(BINDER_SET_CONTEXT_MGR_EXT, 0x4018_620D);
        assert_eq!(BINDER_GET_EXTENDED_ERROR, 0xC00C_6211);
        assert_eq!(BC_TRANSACTION, 0x4040_6300);
        assert_eq!(BC_TRANSACTION_SG, 0x4048_6311);
        assert_eq!(BC_FREE_BUFFER, 0x4008_6303);
        assert_eq!(BC_INCREFS_DONE, 0x4010_6308);
        assert_eq!(BC_ATTEMPT_ACQUIRE, 0x4008_630A);
        assert_eq!(BR_TRANSACTION, 0x8040_7202);
        assert_eq!(BR_TRANSACTION_SEC_CTX, 0x8048_7202);
        assert_eq!(BR_ERROR, 0x8004_7200);
        assert_eq!(BR_INCREFS, 0x8010_7207);
        assert_eq!(BR_ATTEMPT_ACQUIRE, 0x8018_720B);
        assert_eq!(BC_REQUEST_DEATH_NOTIFICATION, 0x400c_630e);
        assert_eq!(BR_NOOP, 0x0000_720c);
        assert_eq!(BR_TRANSACTION_PENDING_FROZEN, 0x0000_7214);
    }

    #[test]
    fn object_types_match_the_fact_sheet() {
        assert_eq!(BINDER_TYPE_BINDER, 0x7362_2a85);
        assert_eq!(BINDER_TYPE_WEAK_BINDER, 0x7762_2a85);
        assert_eq!(BINDER_TYPE_HANDLE, 0x7368_2a85);
        assert_eq!(BINDER_TYPE_WEAK_HANDLE, 0x7768_2a85);
        assert_eq!(BINDER_TYPE_FD, 0x6664_2a85);
        assert_eq!(BINDER_TYPE_FDA, 0x6664_6185);
        assert_eq!(BINDER_TYPE_PTR, 0x7074_2a85);
    }

    #[test]
    fn struct_layouts_match_the_kernel() {
        assert_eq!(WRITE_READ_SIZE, 48);
        assert_eq!(TRANSACTION_DATA_SIZE, 64);
        assert_eq!(TRANSACTION_DATA_SECCTX_SIZE, 72);
        assert_eq!(TRANSACTION_DATA_SG_SIZE, 72);
        assert_eq!(PTR_COOKIE_SIZE, 16);
        assert_eq!(HANDLE_COOKIE_SIZE, 12);
        assert_eq!(FLAT_BINDER_OBJECT_SIZE, 24);
        assert_eq!(size_of::<ExtendedError>(), 12);
        assert_eq!(command_payload_size(BC_TRANSACTION), TRANSACTION_DATA_SIZE);
        assert_eq!(command_payload_size(BC_FREE_BUFFER), 8);
        assert_eq!(command_payload_size(BR_NOOP), 0);
    }

    #[test]
    fn structures_round_trip_and_reject_short_input() {
        let td = TransactionData {
            target: 7,
            cookie: 9,
            code: 3,
            flags: TF_ONE_WAY,
            sender_pid: 42,
            sender_euid: 1000,
            data_size: 100,
            offsets_size: 16,
            data_buffer: 0x1000,
            data_offsets: 0x2000,
        };
        let mut out = Vec::new();
        td.encode(&mut out);
        assert_eq!(out.len(), TRANSACTION_DATA_SIZE);
        assert_eq!(out[..8], 7u64.to_ne_bytes());
        assert_eq!(TransactionData::decode(&mut Reader::new(&out)), Some(td));
        assert_eq!(TransactionData::decode(&mut Reader::new(&out[..63])), None);
        let hc = HandleCookie {
            handle: 5,
            cookie: 0xdead,
        };
        assert_eq!(HandleCookie::read(hc.bytes()), Some(hc));
        let e = ExtendedError {
            id: 3,
            command: BR_FAILED_REPLY,
            param: -22,
        };
        assert_eq!(ExtendedError::read(e.bytes()), Some(e));
        assert_eq!(ExtendedError::read(&e.bytes()[..11]), None);
    }
}
