//! `Parcel`: the container of a transaction's data, byte-compatible with AOSP libbinder
//! (Android 13+ layout: little-endian, 4-byte aligned, String16 strings, flat binder objects
//! followed by a stability int32, and an offsets array recording where the objects are).
//!
//! A Parcel is either *written* by this process (its bytes and offsets live in memory the
//! Parcel owns, laid out exactly as the driver reads them, so sending needs no extra copy) or
//! *received* (it reads in place from the process's read-only receive mapping and gives the
//! buffer back to the driver with `BC_FREE_BUFFER` when dropped).
//!
//! Reading is bounds-checked everywhere: truncated, misaligned or lying input returns a
//! [`StatusCode`], never panics, and never allocates more than the bytes that remain.

use std::fmt;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Arc;

use binder_sys::{
    BINDER_TYPE_BINDER, BINDER_TYPE_FD, BINDER_TYPE_HANDLE, BINDER_TYPE_WEAK_BINDER,
    BINDER_TYPE_WEAK_HANDLE, FLAT_BINDER_OBJECT_SIZE, FlatBinderObject, Wire,
};

use crate::binder::SpIBinder;
use crate::buffer::{Offsets, OutBuf, ReceivedBuffer};
use crate::parcelable::{Deserialize, Serialize};
use crate::status::{ExceptionCode, Status, StatusCode};

/// `STRICT_MODE_PENALTY_GATHER`, always set in the strict-mode word of an interface token.
pub const STRICT_MODE_PENALTY_GATHER: i32 = 1 << 31;
/// `kUnsetWorkSource`.
pub const UNSET_WORK_SOURCE: i32 = -1;
/// The interface-token header of a system build, `'SYST'`.
pub const INTERFACE_HEADER_SYST: i32 = 0x5359_5354;
/// Stability level libbinder writes for objects of a system build (`Stability::SYSTEM`).
pub const STABILITY_SYSTEM: i32 = 0x0C;
/// Scheduling bits libbinder puts in every flat binder object (SCHED_NORMAL, priority 19).
pub const DEFAULT_SCHED_BITS: u32 = 0x13;

/// Rounds `n` up to the 4-byte alignment of the Parcel format.
pub const fn pad4(n: usize) -> usize {
    (n + 3) & !3
}

/// Transaction data: written by this process, or received from the driver and read in place.
pub struct Parcel {
    storage: Storage,
    read_pos: usize,
    /// Binder objects referenced by a written Parcel: kept alive until the Parcel is dropped,
    /// which is after the driver has taken its own references.
    binders: Vec<SpIBinder>,
    /// File descriptors this Parcel owns: dups written into it, or fds received with it
    /// (closed when the Parcel is dropped, as libbinder closes a received Parcel's fds).
    fds: Vec<OwnedFd>,
    /// How many parcelables the reader is inside (see [`Parcel::read_nested`]).
    depth: u32,
}

/// How deep parcelables may nest in a Parcel being read. A recursive type (a tree of
/// parcelables, a union that holds itself) read from a sender's bytes would otherwise recurse
/// as deep as the bytes allow and overflow the reading thread's stack.
pub const MAX_PARCELABLE_NESTING: u32 = 128;

enum Storage {
    Written { data: OutBuf, objects: Offsets },
    Received(Arc<ReceivedBuffer>),
}

impl Default for Parcel {
    fn default() -> Self {
        Parcel::new()
    }
}

impl fmt::Debug for Parcel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parcel")
            .field("size", &self.data_size())
            .field("position", &self.read_pos)
            .field("objects", &self.object_count())
            .field("received", &matches!(self.storage, Storage::Received(_)))
            .finish()
    }
}

impl Parcel {
    /// An empty Parcel to write into, on the heap.
    pub fn new() -> Parcel {
        Parcel::with_buffer(OutBuf::heap())
    }

    pub(crate) fn with_buffer(data: OutBuf) -> Parcel {
        Parcel {
            storage: Storage::Written {
                data,
                objects: Offsets::default(),
            },
            read_pos: 0,
            depth: 0,
            binders: Vec::new(),
            fds: Vec::new(),
        }
    }

    /// A Parcel over a buffer the driver delivered; `fds` are the descriptors it carried.
    pub(crate) fn from_received(buffer: ReceivedBuffer, fds: Vec<OwnedFd>) -> Parcel {
        Parcel {
            storage: Storage::Received(Arc::new(buffer)),
            read_pos: 0,
            depth: 0,
            binders: Vec::new(),
            fds,
        }
    }

    /// A Parcel holding a copy of `bytes` and no objects; for tests and tools that build
    /// input by hand (e.g. to feed the readers arbitrary bytes).
    pub fn from_bytes(bytes: &[u8]) -> Parcel {
        let mut p = Parcel::new();
        p.out_mut()
            .expect("new parcel is writable")
            .extend_from_slice(bytes);
        p
    }

    /// The bytes of the Parcel.
    #[inline]
    pub fn data(&self) -> &[u8] {
        match &self.storage {
            Storage::Written { data, .. } => data.as_slice(),
            Storage::Received(b) => b.data(),
        }
    }

    /// The number of bytes of data.
    #[inline]
    pub fn data_size(&self) -> usize {
        self.data().len()
    }

    /// Where the next read starts.
    pub fn data_position(&self) -> usize {
        self.read_pos
    }

    /// Moves the read position; it must be 4-byte aligned and inside the data.
    pub fn set_data_position(&mut self, pos: usize) -> Result<(), StatusCode> {
        if pos > self.data_size() || !pos.is_multiple_of(4) {
            return Err(StatusCode::BadValue);
        }
        self.read_pos = pos;
        Ok(())
    }

    /// Bytes left to read.
    #[inline]
    pub fn data_avail(&self) -> usize {
        self.data_size().saturating_sub(self.read_pos)
    }

    /// The offsets array as the driver reads it (little-endian `binder_size_t`s).
    fn offsets_bytes(&self) -> &[u8] {
        match &self.storage {
            Storage::Written { objects, .. } => objects.as_bytes(),
            Storage::Received(b) => b.offsets(),
        }
    }

    /// The descriptors this Parcel owns (those its fd objects name).
    pub(crate) fn owned_fds(&self) -> impl Iterator<Item = RawFd> + '_ {
        self.fds.iter().map(|f| f.as_raw_fd())
    }

    /// Number of objects recorded in the offsets array.
    pub fn object_count(&self) -> usize {
        self.offsets_bytes().len() / 8
    }

    /// The object offsets as the driver sees them (little-endian `binder_size_t`s).
    pub fn object_offsets(&self) -> Vec<u64> {
        (0..self.object_count())
            .filter_map(|i| self.object_offset(i))
            .collect()
    }

    fn object_offset(&self, i: usize) -> Option<u64> {
        let bytes = self.offsets_bytes().get(i * 8..i * 8 + 8)?;
        Some(u64::from_le_bytes(bytes.try_into().ok()?))
    }

    /// Whether an object is recorded at `pos` (offsets are ascending: the driver checks that
    /// for received Parcels, and writers append in order).
    fn has_object_at(&self, pos: usize) -> bool {
        let (mut lo, mut hi) = (0usize, self.object_count());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.object_offset(mid) {
                Some(off) if off == pos as u64 => return true,
                Some(off) if off < pos as u64 => lo = mid + 1,
                Some(_) => hi = mid,
                None => return false,
            }
        }
        false
    }

    /// Pointers to data and offsets for `binder_transaction_data`; valid while `self` is not
    /// modified or dropped.
    pub(crate) fn raw_parts(&self) -> (u64, u64, u64, u64) {
        let (data, offsets) = (self.data(), self.offsets_bytes());
        (
            data.as_ptr() as u64,
            data.len() as u64,
            offsets.as_ptr() as u64,
            offsets.len() as u64,
        )
    }

    /// The received buffer behind this Parcel, shared, for values read in place.
    pub(crate) fn received_buffer(&self) -> Option<Arc<ReceivedBuffer>> {
        match &self.storage {
            Storage::Received(b) => Some(b.clone()),
            Storage::Written { .. } => None,
        }
    }

    #[inline]
    fn out_mut(&mut self) -> Result<&mut OutBuf, StatusCode> {
        match &mut self.storage {
            Storage::Written { data, .. } => Ok(data),
            Storage::Received(_) => Err(StatusCode::InvalidOperation),
        }
    }

    // ---- writing ------------------------------------------------------------------------------

    /// Appends `bytes` and zero padding up to 4-byte alignment.
    #[inline]
    pub fn write_padded(&mut self, bytes: &[u8]) -> Result<(), StatusCode> {
        let out = self.out_mut()?;
        out.reserve(pad4(bytes.len()));
        out.extend_from_slice(bytes);
        let pad = pad4(bytes.len()) - bytes.len();
        out.extend_from_slice(&[0u8; 3][..pad]);
        Ok(())
    }

    /// Writes an int32 (little-endian, as every value).
    #[inline]
    pub fn write_i32(&mut self, v: i32) -> Result<(), StatusCode> {
        self.out_mut()?.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    /// Writes a uint32 (as an int32).
    #[inline]
    pub fn write_u32(&mut self, v: u32) -> Result<(), StatusCode> {
        self.write_i32(v as i32)
    }
    /// Writes an int64.
    #[inline]
    pub fn write_i64(&mut self, v: i64) -> Result<(), StatusCode> {
        self.out_mut()?.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    /// Writes a uint64 (as an int64).
    #[inline]
    pub fn write_u64(&mut self, v: u64) -> Result<(), StatusCode> {
        self.write_i64(v as i64)
    }
    /// Writes a float (its bits, as an int32).
    #[inline]
    pub fn write_f32(&mut self, v: f32) -> Result<(), StatusCode> {
        self.write_i32(v.to_bits() as i32)
    }
    /// Writes a double (its bits, as an int64).
    #[inline]
    pub fn write_f64(&mut self, v: f64) -> Result<(), StatusCode> {
        self.write_i64(v.to_bits() as i64)
    }
    /// Writes a bool (an int32, 0 or 1).
    #[inline]
    pub fn write_bool(&mut self, v: bool) -> Result<(), StatusCode> {
        self.write_i32(v as i32)
    }

    /// Writes a value of any serializable type.
    pub fn write<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), StatusCode> {
        value.serialize(self)
    }

    /// A length prefix for an array: an int32, refusing lengths beyond `i32::MAX`.
    #[inline]
    pub fn write_len(&mut self, len: usize) -> Result<(), StatusCode> {
        let len = i32::try_from(len).map_err(|_| StatusCode::BadValue)?;
        self.write_i32(len)
    }

    /// A String16: int32 UTF-16 length, the UTF-16 units, a NUL, padding.
    pub fn write_string16(&mut self, s: &str) -> Result<(), StatusCode> {
        let units = if s.is_ascii() {
            s.len()
        } else {
            s.encode_utf16().count()
        };
        self.write_len(units)?;
        let out = self.out_mut()?;
        let start = out.len();
        // Zeroed first: the terminating NUL and the padding stay zero.
        out.resize(start + pad4((units + 1) * 2), 0);
        let dst = &mut out.as_mut_slice()[start..start + units * 2];
        if s.is_ascii() {
            for (d, b) in dst.chunks_exact_mut(2).zip(s.bytes()) {
                d[0] = b;
            }
        } else {
            for (d, u) in dst.chunks_exact_mut(2).zip(s.encode_utf16()) {
                d.copy_from_slice(&u.to_le_bytes());
            }
        }
        Ok(())
    }

    /// A null String16 (or null vector): int32 -1.
    pub fn write_null(&mut self) -> Result<(), StatusCode> {
        self.write_i32(-1)
    }

    fn write_flat_object(
        &mut self,
        obj: &FlatBinderObject,
        record: bool,
    ) -> Result<(), StatusCode> {
        let out = self.out_mut()?;
        let pos = out.len();
        out.extend_from_slice(&obj.to_bytes());
        if record {
            match &mut self.storage {
                Storage::Written { data, objects } => objects.push(pos as u64, data.arena()),
                Storage::Received(_) => return Err(StatusCode::InvalidOperation),
            }
        }
        Ok(())
    }

    /// A strong binder object (or a null one) followed by its stability level, as
    /// libbinder's `writeStrongBinder`.
    pub fn write_binder(&mut self, binder: Option<&SpIBinder>) -> Result<(), StatusCode> {
        let (obj, stability) = match binder {
            None => (
                FlatBinderObject {
                    hdr_type: BINDER_TYPE_BINDER,
                    flags: DEFAULT_SCHED_BITS,
                    ..Default::default()
                },
                0,
            ),
            Some(b) => b.flatten(),
        };
        // libbinder records an object only when its pointer/handle word is non-zero: null
        // binders (and, as it happens, handle 0) are not listed in the offsets.
        let record = obj.binder_or_handle != 0;
        self.write_flat_object(&obj, record)?;
        self.write_i32(stability)?;
        if let Some(b) = binder {
            self.binders.push(b.clone());
        }
        Ok(())
    }

    /// A file descriptor object (AIDL `FileDescriptor`): the Parcel keeps a dup of `fd`, which
    /// the driver duplicates again into the receiver.
    pub fn write_fd(&mut self, fd: BorrowedFd<'_>) -> Result<(), StatusCode> {
        let dup = fd.try_clone_to_owned().map_err(|_| StatusCode::BadValue)?;
        let obj = FlatBinderObject {
            hdr_type: BINDER_TYPE_FD,
            flags: 0,
            binder_or_handle: dup.as_raw_fd() as u32 as u64,
            cookie: 1,
        };
        self.write_flat_object(&obj, true)?;
        self.fds.push(dup);
        Ok(())
    }

    /// The interface token libbinder writes before the arguments of every call: strict-mode
    /// policy, work-source uid, the `'SYST'` header and the descriptor.
    pub fn write_interface_token(&mut self, descriptor: &str) -> Result<(), StatusCode> {
        self.write_i32(STRICT_MODE_PENALTY_GATHER)?;
        self.write_i32(UNSET_WORK_SOURCE)?;
        self.write_i32(INTERFACE_HEADER_SYST)?;
        self.write_string16(descriptor)
    }

    /// The reply header of an AIDL method: the exception code, and for an exception its
    /// message, an empty stack-trace header and the service-specific code (or 0).
    pub fn write_status(&mut self, status: &Status) -> Result<(), StatusCode> {
        let ex = status.exception_code();
        if ex == ExceptionCode::TransactionFailed {
            // Never written: the status travels as a TF_STATUS_CODE reply instead.
            return Err(status.transaction_error());
        }
        self.write_i32(ex.to_i32())?;
        if ex == ExceptionCode::None {
            return Ok(());
        }
        self.write_string16(status.message())?;
        self.write_i32(0)?;
        match ex {
            ExceptionCode::ServiceSpecific => self.write_i32(status.service_specific_error()),
            ExceptionCode::Parcelable => self.write_i32(0),
            _ => Ok(()),
        }
    }

    // ---- reading ------------------------------------------------------------------------------

    /// Reads `n` bytes in place and advances past them and their padding.
    #[inline]
    pub fn read_padded(&mut self, n: usize) -> Result<&[u8], StatusCode> {
        let start = self.read_pos;
        let padded = n
            .checked_add(3)
            .map(|v| v & !3)
            .ok_or(StatusCode::BadValue)?;
        let end = start.checked_add(padded).ok_or(StatusCode::BadValue)?;
        if end > self.data_size() {
            return Err(StatusCode::NotEnoughData);
        }
        self.read_pos = end;
        Ok(&self.data()[start..start + n])
    }

    #[inline]
    fn read_array<const N: usize>(&mut self) -> Result<[u8; N], StatusCode> {
        let b = self.read_padded(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// Reads an int32.
    #[inline]
    pub fn read_i32(&mut self) -> Result<i32, StatusCode> {
        Ok(i32::from_le_bytes(self.read_array()?))
    }
    /// Reads a uint32 (an int32).
    #[inline]
    pub fn read_u32(&mut self) -> Result<u32, StatusCode> {
        Ok(self.read_i32()? as u32)
    }
    /// Reads an int64.
    #[inline]
    pub fn read_i64(&mut self) -> Result<i64, StatusCode> {
        Ok(i64::from_le_bytes(self.read_array()?))
    }
    /// Reads a uint64 (an int64).
    #[inline]
    pub fn read_u64(&mut self) -> Result<u64, StatusCode> {
        Ok(self.read_i64()? as u64)
    }
    /// Reads a float.
    #[inline]
    pub fn read_f32(&mut self) -> Result<f32, StatusCode> {
        Ok(f32::from_bits(self.read_u32()?))
    }
    /// Reads a double.
    #[inline]
    pub fn read_f64(&mut self) -> Result<f64, StatusCode> {
        Ok(f64::from_bits(self.read_u64()?))
    }
    /// A bool: an int32, 0 or 1 (libbinder accepts any non-zero value as true).
    #[inline]
    pub fn read_bool(&mut self) -> Result<bool, StatusCode> {
        Ok(self.read_i32()? != 0)
    }

    /// Reads a value of any deserializable type.
    pub fn read<T: Deserialize>(&mut self) -> Result<T, StatusCode> {
        T::deserialize(self)
    }

    /// An array length: `None` for -1 (null), an error for other negative values, and an
    /// error when `len` elements of at least `min_elem_size` bytes cannot fit in what remains,
    /// so no caller allocates for a length the data cannot back.
    #[inline]
    pub fn read_len(&mut self, min_elem_size: usize) -> Result<Option<usize>, StatusCode> {
        let len = self.read_i32()?;
        if len == -1 {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| StatusCode::BadValue)?;
        let needed = len.checked_mul(min_elem_size).ok_or(StatusCode::BadValue)?;
        if needed > self.data_avail() {
            return Err(StatusCode::NotEnoughData);
        }
        Ok(Some(len))
    }

    /// A String16 as UTF-16 units, `None` when null. Invalid lengths and a missing NUL
    /// terminator are errors.
    pub fn read_string16_units(&mut self) -> Result<Option<&[u8]>, StatusCode> {
        let len = self.read_i32()?;
        if len == -1 {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| StatusCode::BadValue)?;
        let bytes = len
            .checked_add(1)
            .and_then(|n| n.checked_mul(2))
            .ok_or(StatusCode::BadValue)?;
        let raw = self.read_padded(bytes)?;
        let (units, nul) = raw.split_at(len * 2);
        if nul != [0, 0] {
            return Err(StatusCode::BadValue);
        }
        Ok(Some(units))
    }

    /// A String16 converted to UTF-8; `None` when null; invalid UTF-16 is `BAD_VALUE`.
    pub fn read_string16(&mut self) -> Result<Option<String>, StatusCode> {
        let Some(units) = self.read_string16_units()? else {
            return Ok(None);
        };
        if units.chunks_exact(2).all(|c| c[1] == 0 && c[0].is_ascii()) {
            let ascii: Vec<u8> = units.iter().step_by(2).copied().collect();
            // ASCII is UTF-8 as it is.
            return String::from_utf8(ascii)
                .map(Some)
                .map_err(|_| StatusCode::BadValue);
        }
        let iter = units
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]));
        let mut s = String::with_capacity(units.len() / 2);
        for ch in char::decode_utf16(iter) {
            s.push(ch.map_err(|_| StatusCode::BadValue)?);
        }
        Ok(Some(s))
    }

    /// Reads the flat object at the read position. Objects whose pointer/handle word is
    /// non-zero must be recorded in the offsets array; an unrecorded one is `BAD_TYPE`.
    fn read_flat_object(&mut self) -> Result<FlatBinderObject, StatusCode> {
        let pos = self.read_pos;
        let bytes = self.read_padded(FLAT_BINDER_OBJECT_SIZE)?;
        let obj = FlatBinderObject::read(bytes).ok_or(StatusCode::NotEnoughData)?;
        if obj.binder_or_handle != 0 && !self.has_object_at(pos) {
            self.read_pos = pos;
            return Err(StatusCode::BadType);
        }
        Ok(obj)
    }

    /// A strong binder (`None` for a null binder). Handles become proxies, local objects are
    /// resolved to this process's own binder.
    pub fn read_binder(&mut self) -> Result<Option<SpIBinder>, StatusCode> {
        let start = self.read_pos;
        let obj = self.read_flat_object()?;
        let result = match obj.hdr_type {
            BINDER_TYPE_BINDER | BINDER_TYPE_WEAK_BINDER if obj.binder_or_handle == 0 => None,
            BINDER_TYPE_BINDER | BINDER_TYPE_WEAK_BINDER => Some(SpIBinder::from_local_node(
                obj.binder_or_handle,
                obj.cookie,
            )?),
            BINDER_TYPE_HANDLE | BINDER_TYPE_WEAK_HANDLE => Some(
                self.resolve_handle(obj.handle())
                    .inspect_err(|_| self.read_pos = start)?,
            ),
            _ => {
                self.read_pos = start;
                return Err(StatusCode::BadType);
            }
        };
        let stability = match self.read_i32() {
            Ok(s) => s,
            Err(e) => {
                self.read_pos = start;
                return Err(e);
            }
        };
        if let Some(b) = &result {
            b.set_received_stability(stability);
        }
        Ok(result)
    }

    /// The proxy for a handle in this Parcel: for a received Parcel, the driver translated the
    /// handle into our table; a Parcel written in this process can only name proxies it holds.
    fn resolve_handle(&self, handle: u32) -> Result<SpIBinder, StatusCode> {
        match &self.storage {
            Storage::Received(_) => SpIBinder::from_handle(handle),
            Storage::Written { .. } => self
                .binders
                .iter()
                .find(|b| b.handle() == Some(handle))
                .cloned()
                .ok_or(StatusCode::BadType),
        }
    }

    /// A file descriptor object; returns a new descriptor (a dup: the Parcel keeps its own
    /// until it is dropped, as libbinder does).
    pub fn read_fd(&mut self) -> Result<OwnedFd, StatusCode> {
        let start = self.read_pos;
        let obj = self.read_flat_object()?;
        if obj.hdr_type != BINDER_TYPE_FD || !self.has_object_at(start) {
            self.read_pos = start;
            return Err(StatusCode::BadType);
        }
        let raw = obj.handle() as RawFd;
        // Only fds this Parcel owns may be read: for a received Parcel the driver installed
        // them, for a written one they are our own dups. Anything else is a lie of the data.
        if !self.fds.iter().any(|f| f.as_raw_fd() == raw) {
            self.read_pos = start;
            return Err(StatusCode::BadValue);
        }
        // SAFETY: `raw` is one of `self.fds`, open for the lifetime of this borrow.
        let borrowed = unsafe { BorrowedFd::borrow_raw(raw) };
        borrowed
            .try_clone_to_owned()
            .map_err(|_| StatusCode::NoMemory)
    }

    /// Reads and checks an interface token; `BAD_TYPE` when the descriptor or header differs.
    pub fn enforce_interface(&mut self, descriptor: &str) -> Result<(), StatusCode> {
        let _strict_mode = self.read_i32()?;
        let _work_source = self.read_i32()?;
        let header = self.read_i32()?;
        if header != INTERFACE_HEADER_SYST {
            return Err(StatusCode::BadType);
        }
        let units = self.read_string16_units()?.ok_or(StatusCode::BadType)?;
        if units.len() != descriptor.encode_utf16().count() * 2
            || !descriptor
                .encode_utf16()
                .zip(units.chunks_exact(2))
                .all(|(a, b)| a.to_le_bytes() == [b[0], b[1]])
        {
            return Err(StatusCode::BadType);
        }
        Ok(())
    }

    /// Reads the reply header of an AIDL method (see [`Parcel::write_status`]).
    pub fn read_status(&mut self) -> Result<Status, StatusCode> {
        let mut ex = ExceptionCode::from_i32(self.read_i32()?);
        if ex == ExceptionCode::HasReplyHeader {
            self.skip_sized_header()?;
            ex = ExceptionCode::None;
        }
        if ex == ExceptionCode::None {
            return Ok(Status::ok());
        }
        let message = self.read_string16()?.unwrap_or_default();
        let trace = self.read_i32()?;
        let trace = usize::try_from(trace).map_err(|_| StatusCode::UnknownError)?;
        if trace > self.data_avail() {
            return Err(StatusCode::UnknownError);
        }
        self.set_data_position(self.read_pos + trace)?;
        Ok(match ex {
            ExceptionCode::ServiceSpecific => {
                Status::new_service_specific_error(self.read_i32()?, message)
            }
            ExceptionCode::Parcelable => {
                self.skip_sized_header()?;
                Status::new_exception(ex, message)
            }
            ExceptionCode::TransactionFailed => {
                Status::new_transaction_error(StatusCode::FailedTransaction, message)
            }
            _ => Status::new_exception(ex, message),
        })
    }

    /// Skips a block that starts with an int32 size counting itself. A size below 4 (libbinder
    /// writes 0 after `EX_PARCELABLE`) covers just the size itself; as libbinder, only a
    /// negative size or one past the data is an error.
    fn skip_sized_header(&mut self) -> Result<(), StatusCode> {
        let start = self.read_pos;
        let size = self.read_i32()?;
        let size = usize::try_from(size).map_err(|_| StatusCode::UnknownError)?;
        if size > self.data_size() - start {
            return Err(StatusCode::UnknownError);
        }
        self.set_data_position(start + size.max(4))
    }

    /// Reads one nested parcelable with `read`, refusing (`BAD_VALUE`) nesting deeper than
    /// [`MAX_PARCELABLE_NESTING`].
    pub fn read_nested<T>(
        &mut self,
        read: impl FnOnce(&mut Parcel) -> Result<T, StatusCode>,
    ) -> Result<T, StatusCode> {
        if self.depth >= MAX_PARCELABLE_NESTING {
            return Err(StatusCode::BadValue);
        }
        self.depth += 1;
        let value = read(self);
        self.depth -= 1;
        value
    }

    // ---- structured parcelables ---------------------------------------------------------------

    /// Writes a structured parcelable body: an int32 size that counts itself, then `body`.
    pub fn write_sized<F>(&mut self, body: F) -> Result<(), StatusCode>
    where
        F: FnOnce(&mut Parcel) -> Result<(), StatusCode>,
    {
        let start = self.out_mut()?.len();
        self.write_i32(0)?;
        body(self)?;
        let out = self.out_mut()?;
        let size = i32::try_from(out.len() - start).map_err(|_| StatusCode::BadValue)?;
        out.as_mut_slice()[start..start + 4].copy_from_slice(&size.to_le_bytes());
        Ok(())
    }

    /// Reads a structured parcelable body written by [`Parcel::write_sized`]: `body` reads the
    /// fields it knows; fields a newer writer added are skipped; a size that lies is an error.
    /// Inside `body`, [`SizedReader::has_more_fields`] tells whether the writer wrote the next field.
    pub fn read_sized<T, F>(&mut self, body: F) -> Result<T, StatusCode>
    where
        F: FnOnce(&mut SizedReader<'_>) -> Result<T, StatusCode>,
    {
        let start = self.read_pos;
        let size = self.read_i32()?;
        let size = usize::try_from(size).map_err(|_| StatusCode::BadValue)?;
        if size < 4 || size > self.data_size() - start {
            return Err(StatusCode::BadValue);
        }
        let end = start + size;
        let value = body(&mut SizedReader { parcel: self, end })?;
        if self.read_pos > end {
            // The fields ran past the size the writer declared.
            return Err(StatusCode::BadValue);
        }
        self.read_pos = end;
        Ok(value)
    }

    /// Forgets written contents (keeping the allocation) so the Parcel can be reused.
    pub fn clear(&mut self) -> Result<(), StatusCode> {
        match &mut self.storage {
            Storage::Written { data, objects } => {
                data.clear();
                objects.clear();
            }
            Storage::Received(_) => return Err(StatusCode::InvalidOperation),
        }
        self.read_pos = 0;
        self.binders.clear();
        self.fds.clear();
        Ok(())
    }

    /// Records an object at `offset` of a hand-built Parcel (tests and tools).
    pub fn record_object(&mut self, offset: usize) -> Result<(), StatusCode> {
        match &mut self.storage {
            Storage::Written { data, objects } => {
                objects.push(offset as u64, data.arena());
                Ok(())
            }
            Storage::Received(_) => Err(StatusCode::InvalidOperation),
        }
    }
}

/// Reads the fields of one structured parcelable body (see [`Parcel::read_sized`]).
#[derive(Debug)]
pub struct SizedReader<'p> {
    parcel: &'p mut Parcel,
    end: usize,
}

impl SizedReader<'_> {
    /// Whether the writer wrote another field: an older writer stops early, and the fields it
    /// did not write keep their default values.
    pub fn has_more_fields(&self) -> bool {
        self.parcel.read_pos < self.end
    }

    /// Reads the next field, or returns `default()` if the writer did not write it.
    pub fn read_field_or<T: Deserialize>(
        &mut self,
        default: impl FnOnce() -> T,
    ) -> Result<T, StatusCode> {
        if self.has_more_fields() {
            self.parcel.read()
        } else {
            Ok(default())
        }
    }

    /// The Parcel, for reads the helpers above do not cover.
    pub fn parcel(&mut self) -> &mut Parcel {
        self.parcel
    }
}
