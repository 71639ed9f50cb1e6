//! The Linux binder UAPI (`linux/android/binder.h`) as Rust constants and structures, plus the
//! small protocol the userspace driver speaks over its sockets (`ud`).
//!
//! Everything here is data: command numbers, structure layouts and their little-endian
//! encodings. Both the runtime (`binder-rt`) and the userspace driver (`binder-driver`) build on
//! it, so the two can never disagree about a number.
//!
//! Structures have two forms: a `#[repr(C)]` layout identical to the kernel's (for the ioctl
//! boundary) and explicit `encode`/`decode` functions for command streams, which are plain byte
//! buffers. Decoding never panics: it returns `None` when the input is too short.

pub mod ud;

/// `B_PACK_CHARS(c1, c2, c3, 0x85)`.
const fn pack_chars(c1: u8, c2: u8, c3: u8) -> u32 {
    ((c1 as u32) << 24) | ((c2 as u32) << 16) | ((c3 as u32) << 8) | 0x85
}

pub const BINDER_TYPE_BINDER: u32 = pack_chars(b's', b'b', b'*');
pub const BINDER_TYPE_WEAK_BINDER: u32 = pack_chars(b'w', b'b', b'*');
pub const BINDER_TYPE_HANDLE: u32 = pack_chars(b's', b'h', b'*');
pub const BINDER_TYPE_WEAK_HANDLE: u32 = pack_chars(b'w', b'h', b'*');
pub const BINDER_TYPE_FD: u32 = pack_chars(b'f', b'd', b'*');
pub const BINDER_TYPE_FDA: u32 = pack_chars(b'f', b'd', b'a');
pub const BINDER_TYPE_PTR: u32 = pack_chars(b'p', b't', b'*');

pub const FLAT_BINDER_FLAG_PRIORITY_MASK: u32 = 0xff;
pub const FLAT_BINDER_FLAG_ACCEPTS_FDS: u32 = 0x100;
pub const FLAT_BINDER_FLAG_INHERIT_RT: u32 = 0x800;
pub const FLAT_BINDER_FLAG_TXN_SECURITY_CTX: u32 = 0x1000;

/// Protocol version of the 64-bit binder interface.
pub const BINDER_CURRENT_PROTOCOL_VERSION: i32 = 8;

/// Size of the receive area libbinder maps: 1 MiB minus two 4 KiB pages.
pub const BINDER_VM_SIZE: usize = 1024 * 1024 - 2 * 4096;
/// libbinder's default for `BINDER_SET_MAX_THREADS`.
pub const DEFAULT_MAX_BINDER_THREADS: u32 = 15;

// Transaction flags (`enum transaction_flags`).
pub const TF_ONE_WAY: u32 = 0x01;
pub const TF_ROOT_OBJECT: u32 = 0x04;
pub const TF_STATUS_CODE: u32 = 0x08;
pub const TF_ACCEPT_FDS: u32 = 0x10;
pub const TF_CLEAR_BUF: u32 = 0x20;
pub const TF_UPDATE_TXN: u32 = 0x40;

// ioctl number encoding (asm-generic/ioctl.h).
const IOC_NONE: u32 = 0;
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;
const fn ioc(dir: u32, ty: u8, nr: u32, size: usize) -> u32 {
    (dir << 30) | ((size as u32) << 16) | ((ty as u32) << 8) | nr
}
const fn io(ty: u8, nr: u32) -> u32 {
    ioc(IOC_NONE, ty, nr, 0)
}
const fn ior(ty: u8, nr: u32, size: usize) -> u32 {
    ioc(IOC_READ, ty, nr, size)
}
const fn iow(ty: u8, nr: u32, size: usize) -> u32 {
    ioc(IOC_WRITE, ty, nr, size)
}
const fn iowr(ty: u8, nr: u32, size: usize) -> u32 {
    ioc(IOC_READ | IOC_WRITE, ty, nr, size)
}

/// Size of `struct binder_write_read`.
pub const WRITE_READ_SIZE: usize = 48;
/// Size of `struct binder_transaction_data`.
pub const TRANSACTION_DATA_SIZE: usize = 64;
/// Size of `struct binder_transaction_data_secctx`.
pub const TRANSACTION_DATA_SECCTX_SIZE: usize = 72;
/// Size of `struct binder_transaction_data_sg`.
pub const TRANSACTION_DATA_SG_SIZE: usize = 72;
/// Size of `struct binder_ptr_cookie`.
pub const PTR_COOKIE_SIZE: usize = 16;
/// Size of the packed `struct binder_handle_cookie`.
pub const HANDLE_COOKIE_SIZE: usize = 12;
/// Size of `struct flat_binder_object` (and of `binder_fd_object`).
pub const FLAT_BINDER_OBJECT_SIZE: usize = 24;
/// Size of `struct binder_buffer_object`.
pub const BUFFER_OBJECT_SIZE: usize = 40;
/// Size of `struct binder_fd_array_object`.
pub const FD_ARRAY_OBJECT_SIZE: usize = 32;

// ioctls ('b').
pub const BINDER_WRITE_READ: u32 = iowr(b'b', 1, WRITE_READ_SIZE);
pub const BINDER_SET_IDLE_TIMEOUT: u32 = iow(b'b', 3, 8);
pub const BINDER_SET_MAX_THREADS: u32 = iow(b'b', 5, 4);
pub const BINDER_SET_IDLE_PRIORITY: u32 = iow(b'b', 6, 4);
pub const BINDER_SET_CONTEXT_MGR: u32 = iow(b'b', 7, 4);
pub const BINDER_THREAD_EXIT: u32 = iow(b'b', 8, 4);
pub const BINDER_VERSION: u32 = iowr(b'b', 9, 4);
pub const BINDER_GET_NODE_DEBUG_INFO: u32 = iowr(b'b', 11, 24);
pub const BINDER_GET_NODE_INFO_FOR_REF: u32 = iowr(b'b', 12, 24);
pub const BINDER_SET_CONTEXT_MGR_EXT: u32 = iow(b'b', 13, FLAT_BINDER_OBJECT_SIZE);
pub const BINDER_ENABLE_ONEWAY_SPAM_DETECTION: u32 = iow(b'b', 16, 4);
pub const BINDER_GET_EXTENDED_ERROR: u32 = iowr(b'b', 17, 12);

// Return protocol ('r'), driver to process.
pub const BR_ERROR: u32 = ior(b'r', 0, 4);
pub const BR_OK: u32 = io(b'r', 1);
pub const BR_TRANSACTION_SEC_CTX: u32 = ior(b'r', 2, TRANSACTION_DATA_SECCTX_SIZE);
pub const BR_TRANSACTION: u32 = ior(b'r', 2, TRANSACTION_DATA_SIZE);
pub const BR_REPLY: u32 = ior(b'r', 3, TRANSACTION_DATA_SIZE);
pub const BR_ACQUIRE_RESULT: u32 = ior(b'r', 4, 4);
pub const BR_DEAD_REPLY: u32 = io(b'r', 5);
pub const BR_TRANSACTION_COMPLETE: u32 = io(b'r', 6);
pub const BR_INCREFS: u32 = ior(b'r', 7, PTR_COOKIE_SIZE);
pub const BR_ACQUIRE: u32 = ior(b'r', 8, PTR_COOKIE_SIZE);
pub const BR_RELEASE: u32 = ior(b'r', 9, PTR_COOKIE_SIZE);
pub const BR_DECREFS: u32 = ior(b'r', 10, PTR_COOKIE_SIZE);
pub const BR_ATTEMPT_ACQUIRE: u32 = ior(b'r', 11, 4 + PTR_COOKIE_SIZE);
pub const BR_NOOP: u32 = io(b'r', 12);
pub const BR_SPAWN_LOOPER: u32 = io(b'r', 13);
pub const BR_FINISHED: u32 = io(b'r', 14);
pub const BR_DEAD_BINDER: u32 = ior(b'r', 15, 8);
pub const BR_CLEAR_DEATH_NOTIFICATION_DONE: u32 = ior(b'r', 16, 8);
pub const BR_FAILED_REPLY: u32 = io(b'r', 17);
pub const BR_FROZEN_REPLY: u32 = io(b'r', 18);
pub const BR_ONEWAY_SPAM_SUSPECT: u32 = io(b'r', 19);
pub const BR_TRANSACTION_PENDING_FROZEN: u32 = io(b'r', 20);

// Command protocol ('c'), process to driver.
pub const BC_TRANSACTION: u32 = iow(b'c', 0, TRANSACTION_DATA_SIZE);
pub const BC_REPLY: u32 = iow(b'c', 1, TRANSACTION_DATA_SIZE);
pub const BC_ACQUIRE_RESULT: u32 = iow(b'c', 2, 4);
pub const BC_FREE_BUFFER: u32 = iow(b'c', 3, 8);
pub const BC_INCREFS: u32 = iow(b'c', 4, 4);
pub const BC_ACQUIRE: u32 = iow(b'c', 5, 4);
pub const BC_RELEASE: u32 = iow(b'c', 6, 4);
pub const BC_DECREFS: u32 = iow(b'c', 7, 4);
pub const BC_INCREFS_DONE: u32 = iow(b'c', 8, PTR_COOKIE_SIZE);
pub const BC_ACQUIRE_DONE: u32 = iow(b'c', 9, PTR_COOKIE_SIZE);
pub const BC_ATTEMPT_ACQUIRE: u32 = iow(b'c', 10, 8);
pub const BC_REGISTER_LOOPER: u32 = io(b'c', 11);
pub const BC_ENTER_LOOPER: u32 = io(b'c', 12);
pub const BC_EXIT_LOOPER: u32 = io(b'c', 13);
pub const BC_REQUEST_DEATH_NOTIFICATION: u32 = iow(b'c', 14, HANDLE_COOKIE_SIZE);
pub const BC_CLEAR_DEATH_NOTIFICATION: u32 = iow(b'c', 15, HANDLE_COOKIE_SIZE);
pub const BC_DEAD_BINDER_DONE: u32 = iow(b'c', 16, 8);
pub const BC_TRANSACTION_SG: u32 = iow(b'c', 17, TRANSACTION_DATA_SG_SIZE);
pub const BC_REPLY_SG: u32 = iow(b'c', 18, TRANSACTION_DATA_SG_SIZE);

/// The payload size carried by a `BC_*`/`BR_*` command word (bits 16..30 of the number).
pub const fn command_payload_size(cmd: u32) -> usize {
    ((cmd >> 16) & 0x3fff) as usize
}

/// A human-readable name for a command or return word, for logs and errors.
pub fn command_name(cmd: u32) -> &'static str {
    match cmd {
        BR_ERROR => "BR_ERROR",
        BR_OK => "BR_OK",
        BR_TRANSACTION_SEC_CTX => "BR_TRANSACTION_SEC_CTX",
        BR_TRANSACTION => "BR_TRANSACTION",
        BR_REPLY => "BR_REPLY",
        BR_ACQUIRE_RESULT => "BR_ACQUIRE_RESULT",
        BR_DEAD_REPLY => "BR_DEAD_REPLY",
        BR_TRANSACTION_COMPLETE => "BR_TRANSACTION_COMPLETE",
        BR_INCREFS => "BR_INCREFS",
        BR_ACQUIRE => "BR_ACQUIRE",
        BR_RELEASE => "BR_RELEASE",
        BR_DECREFS => "BR_DECREFS",
        BR_ATTEMPT_ACQUIRE => "BR_ATTEMPT_ACQUIRE",
        BR_NOOP => "BR_NOOP",
        BR_SPAWN_LOOPER => "BR_SPAWN_LOOPER",
        BR_FINISHED => "BR_FINISHED",
        BR_DEAD_BINDER => "BR_DEAD_BINDER",
        BR_CLEAR_DEATH_NOTIFICATION_DONE => "BR_CLEAR_DEATH_NOTIFICATION_DONE",
        BR_FAILED_REPLY => "BR_FAILED_REPLY",
        BR_FROZEN_REPLY => "BR_FROZEN_REPLY",
        BR_ONEWAY_SPAM_SUSPECT => "BR_ONEWAY_SPAM_SUSPECT",
        BR_TRANSACTION_PENDING_FROZEN => "BR_TRANSACTION_PENDING_FROZEN",
        BC_TRANSACTION => "BC_TRANSACTION",
        BC_REPLY => "BC_REPLY",
        BC_ACQUIRE_RESULT => "BC_ACQUIRE_RESULT",
        BC_FREE_BUFFER => "BC_FREE_BUFFER",
        BC_INCREFS => "BC_INCREFS",
        BC_ACQUIRE => "BC_ACQUIRE",
        BC_RELEASE => "BC_RELEASE",
        BC_DECREFS => "BC_DECREFS",
        BC_INCREFS_DONE => "BC_INCREFS_DONE",
        BC_ACQUIRE_DONE => "BC_ACQUIRE_DONE",
        BC_ATTEMPT_ACQUIRE => "BC_ATTEMPT_ACQUIRE",
        BC_REGISTER_LOOPER => "BC_REGISTER_LOOPER",
        BC_ENTER_LOOPER => "BC_ENTER_LOOPER",
        BC_EXIT_LOOPER => "BC_EXIT_LOOPER",
        BC_REQUEST_DEATH_NOTIFICATION => "BC_REQUEST_DEATH_NOTIFICATION",
        BC_CLEAR_DEATH_NOTIFICATION => "BC_CLEAR_DEATH_NOTIFICATION",
        BC_DEAD_BINDER_DONE => "BC_DEAD_BINDER_DONE",
        BC_TRANSACTION_SG => "BC_TRANSACTION_SG",
        BC_REPLY_SG => "BC_REPLY_SG",
        _ => "unknown",
    }
}

/// `struct binder_write_read`, laid out exactly as the kernel expects it for the ioctl.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BinderWriteRead {
    pub write_size: u64,
    pub write_consumed: u64,
    pub write_buffer: u64,
    pub read_size: u64,
    pub read_consumed: u64,
    pub read_buffer: u64,
}

/// `struct binder_version`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BinderVersion {
    pub protocol_version: i32,
}

/// `struct binder_transaction_data`.
///
/// `target` holds the union: a `u32` handle in its low half (BC_TRANSACTION) or a node pointer
/// (BR_TRANSACTION). `data_buffer`/`data_offsets` are addresses in the address space of the
/// process that sends (BC_*) or receives (BR_*) the command.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TransactionData {
    pub target: u64,
    pub cookie: u64,
    pub code: u32,
    pub flags: u32,
    pub sender_pid: i32,
    pub sender_euid: u32,
    pub data_size: u64,
    pub offsets_size: u64,
    pub data_buffer: u64,
    pub data_offsets: u64,
}

/// `struct flat_binder_object` (also the layout of `binder_fd_object`: `handle` holds the fd).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FlatBinderObject {
    pub hdr_type: u32,
    pub flags: u32,
    /// The union `{ binder_uintptr_t binder; __u32 handle; }`; a handle or fd is the low half.
    pub binder_or_handle: u64,
    pub cookie: u64,
}

/// `struct binder_extended_error` (`BINDER_GET_EXTENDED_ERROR`): the last error the driver
/// returned to the calling thread: the transaction's debug id, the `BR_*` command and a
/// negative errno.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExtendedError {
    pub id: u32,
    pub command: u32,
    pub param: i32,
}

/// `struct binder_ptr_cookie`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PtrCookie {
    pub ptr: u64,
    pub cookie: u64,
}

/// The packed `struct binder_handle_cookie`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HandleCookie {
    pub handle: u32,
    pub cookie: u64,
}

/// Little-endian field reader over a byte slice; every read is bounds-checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }
    pub fn position(&self) -> usize {
        self.pos
    }
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    pub fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }
    pub fn i32(&mut self) -> Option<i32> {
        self.u32().map(|v| v as i32)
    }
    pub fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
}

impl TransactionData {
    pub fn handle(&self) -> u32 {
        self.target as u32
    }
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.target.to_le_bytes());
        out.extend_from_slice(&self.cookie.to_le_bytes());
        out.extend_from_slice(&self.code.to_le_bytes());
        out.extend_from_slice(&self.flags.to_le_bytes());
        out.extend_from_slice(&self.sender_pid.to_le_bytes());
        out.extend_from_slice(&self.sender_euid.to_le_bytes());
        out.extend_from_slice(&self.data_size.to_le_bytes());
        out.extend_from_slice(&self.offsets_size.to_le_bytes());
        out.extend_from_slice(&self.data_buffer.to_le_bytes());
        out.extend_from_slice(&self.data_offsets.to_le_bytes());
    }
    pub fn decode(r: &mut Reader<'_>) -> Option<Self> {
        Some(TransactionData {
            target: r.u64()?,
            cookie: r.u64()?,
            code: r.u32()?,
            flags: r.u32()?,
            sender_pid: r.i32()?,
            sender_euid: r.u32()?,
            data_size: r.u64()?,
            offsets_size: r.u64()?,
            data_buffer: r.u64()?,
            data_offsets: r.u64()?,
        })
    }
}

impl FlatBinderObject {
    pub fn handle(&self) -> u32 {
        self.binder_or_handle as u32
    }
    pub fn encode(&self, out: &mut [u8; FLAT_BINDER_OBJECT_SIZE]) {
        out[0..4].copy_from_slice(&self.hdr_type.to_le_bytes());
        out[4..8].copy_from_slice(&self.flags.to_le_bytes());
        out[8..16].copy_from_slice(&self.binder_or_handle.to_le_bytes());
        out[16..24].copy_from_slice(&self.cookie.to_le_bytes());
    }
    pub fn to_bytes(&self) -> [u8; FLAT_BINDER_OBJECT_SIZE] {
        let mut b = [0u8; FLAT_BINDER_OBJECT_SIZE];
        self.encode(&mut b);
        b
    }
    /// Decodes from the first 24 bytes of `b`; `None` if `b` is shorter.
    pub fn decode(b: &[u8]) -> Option<Self> {
        let mut r = Reader::new(b);
        Some(FlatBinderObject {
            hdr_type: r.u32()?,
            flags: r.u32()?,
            binder_or_handle: r.u64()?,
            cookie: r.u64()?,
        })
    }
}

impl PtrCookie {
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ptr.to_le_bytes());
        out.extend_from_slice(&self.cookie.to_le_bytes());
    }
    pub fn decode(r: &mut Reader<'_>) -> Option<Self> {
        Some(PtrCookie {
            ptr: r.u64()?,
            cookie: r.u64()?,
        })
    }
}

impl HandleCookie {
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.handle.to_le_bytes());
        out.extend_from_slice(&self.cookie.to_le_bytes());
    }
    pub fn decode(r: &mut Reader<'_>) -> Option<Self> {
        Some(HandleCookie {
            handle: r.u32()?,
            cookie: r.u64()?,
        })
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
        assert_eq!(BC_TRANSACTION, 0x4040_6300);
        assert_eq!(BR_TRANSACTION, 0x8040_7202);
        assert_eq!(BR_TRANSACTION_SEC_CTX, 0x8048_7202);
        assert_eq!(BC_REQUEST_DEATH_NOTIFICATION, 0x400c_630e);
        assert_eq!(BR_NOOP, 0x0000_720c);
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
        assert_eq!(std::mem::size_of::<BinderWriteRead>(), WRITE_READ_SIZE);
        assert_eq!(
            std::mem::size_of::<TransactionData>(),
            TRANSACTION_DATA_SIZE
        );
        assert_eq!(
            std::mem::size_of::<FlatBinderObject>(),
            FLAT_BINDER_OBJECT_SIZE
        );
        assert_eq!(command_payload_size(BC_TRANSACTION), TRANSACTION_DATA_SIZE);
        assert_eq!(command_payload_size(BC_FREE_BUFFER), 8);
        assert_eq!(command_payload_size(BR_NOOP), 0);
    }

    #[test]
    fn transaction_data_round_trips_and_rejects_short_input() {
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
        assert_eq!(TransactionData::decode(&mut Reader::new(&out)), Some(td));
        assert_eq!(TransactionData::decode(&mut Reader::new(&out[..63])), None);
    }
}
