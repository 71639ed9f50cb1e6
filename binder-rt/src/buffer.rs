//! The memory a Parcel lives in: `OutBuf` for Parcels this process writes, `ReceivedBuffer` for
//! buffers the driver delivered into the read-only receive mapping.

use std::fmt;

/// The growable byte buffer of a written Parcel. Its bytes are what the driver copies (the one
/// copy of a transaction), straight from here into the receiver's mapping.
pub struct OutBuf {
    bytes: Vec<u8>,
}

impl OutBuf {
    pub fn heap() -> OutBuf {
        OutBuf { bytes: Vec::new() }
    }
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
    pub fn extend_from_slice(&mut self, b: &[u8]) {
        self.bytes.extend_from_slice(b)
    }
    pub fn reserve(&mut self, n: usize) {
        self.bytes.reserve(n)
    }
    pub fn resize(&mut self, n: usize, v: u8) {
        self.bytes.resize(n, v)
    }
    pub fn clear(&mut self) {
        self.bytes.clear()
    }
}

/// A transaction buffer the driver placed in this process's receive mapping. It is read in
/// place; dropping it gives it back to the driver (`BC_FREE_BUFFER`).
pub struct ReceivedBuffer {
    data: &'static [u8],
    offsets: &'static [u8],
    /// The address the driver knows the buffer by, or `None` for a buffer nobody must free.
    free_ptr: Option<u64>,
}

impl ReceivedBuffer {
    /// `data` and `offsets` must lie inside the receive mapping (the process state checks the
    /// driver's addresses before building one).
    pub(crate) fn new(data: &'static [u8], offsets: &'static [u8], free_ptr: u64) -> Self {
        ReceivedBuffer { data, offsets, free_ptr: Some(free_ptr) }
    }

    pub fn data(&self) -> &[u8] {
        self.data
    }

    pub fn offsets(&self) -> &[u8] {
        self.offsets
    }
}

impl Drop for ReceivedBuffer {
    fn drop(&mut self) {
        if let Some(ptr) = self.free_ptr.take() {
            crate::process_state::queue_free_buffer(ptr);
        }
    }
}

impl fmt::Debug for ReceivedBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivedBuffer")
            .field("addr", &format_args!("{:#x}", self.data.as_ptr() as usize))
            .field("len", &self.data.len())
            .field("objects", &(self.offsets.len() / 8))
            .finish()
    }
}
