//! The memory a Parcel lives in: `OutBuf` for Parcels this process writes, `ReceivedBuffer` for
//! buffers the driver delivered into the read-only receive mapping.

use std::fmt;

use crate::arena::{ArenaChunk, SendArena};

/// The first capacity of a Parcel built on the heap.
const HEAP_START: usize = 256;

/// The growable byte buffer of a written Parcel. Its bytes are what the driver copies (the one
/// copy of a transaction), straight from here into the receiver's mapping: a chunk of the send
/// arena when the process has one, else the heap.
pub struct OutBuf {
    repr: Repr,
}

enum Repr {
    Heap(Vec<u8>),
    Arena { chunk: ArenaChunk, len: usize },
}

impl OutBuf {
    pub fn heap() -> OutBuf {
        OutBuf {
            // Room for a typical call's arguments, so writing them does not grow the buffer
            // several times over.
            repr: Repr::Heap(Vec::with_capacity(HEAP_START)),
        }
    }

    /// A buffer in `arena` if it has a chunk to give, else on the heap.
    pub(crate) fn in_arena(arena: &'static SendArena) -> OutBuf {
        match arena.alloc(0) {
            Some(chunk) => OutBuf {
                repr: Repr::Arena { chunk, len: 0 },
            },
            None => OutBuf::heap(),
        }
    }

    /// The send arena the bytes live in, if they do.
    pub(crate) fn arena(&self) -> Option<&'static SendArena> {
        match &self.repr {
            Repr::Arena { chunk, .. } => Some(chunk.arena()),
            Repr::Heap(_) => None,
        }
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match &self.repr {
            Repr::Heap(v) => v,
            Repr::Arena { chunk, len } => &chunk.as_slice()[..*len],
        }
    }

    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        match &mut self.repr {
            Repr::Heap(v) => v,
            Repr::Arena { chunk, len } => &mut chunk.as_mut_slice()[..*len],
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Heap(v) => v.len(),
            Repr::Arena { len, .. } => *len,
        }
    }

    /// Makes room for `additional` more bytes: a bigger arena chunk, or the heap when the
    /// arena has none (the bytes written so far move once, as a `Vec` does when it grows).
    #[inline]
    pub fn reserve(&mut self, additional: usize) {
        match &mut self.repr {
            Repr::Heap(v) => v.reserve(additional),
            Repr::Arena { chunk, len } if *len + additional <= chunk.capacity() => {}
            Repr::Arena { .. } => self.grow_arena(additional),
        }
    }

    #[cold]
    fn grow_arena(&mut self, additional: usize) {
        let Repr::Arena { chunk, len } = &mut self.repr else {
            return;
        };
        let need = *len + additional;
        let want = need.max(chunk.capacity() * 2);
        self.repr = match chunk.arena().alloc(want) {
            Some(mut bigger) => {
                bigger.as_mut_slice()[..*len].copy_from_slice(&chunk.as_slice()[..*len]);
                Repr::Arena {
                    chunk: bigger,
                    len: *len,
                }
            }
            None => {
                let mut v = Vec::with_capacity(need);
                v.extend_from_slice(&chunk.as_slice()[..*len]);
                Repr::Heap(v)
            }
        };
    }

    #[inline]
    pub fn extend_from_slice(&mut self, b: &[u8]) {
        self.reserve(b.len());
        match &mut self.repr {
            Repr::Heap(v) => v.extend_from_slice(b),
            Repr::Arena { chunk, len } => {
                chunk.as_mut_slice()[*len..*len + b.len()].copy_from_slice(b);
                *len += b.len();
            }
        }
    }

    #[inline]
    pub fn resize(&mut self, n: usize, v: u8) {
        let cur = self.len();
        if n <= cur {
            self.truncate(n);
            return;
        }
        self.reserve(n - cur);
        match &mut self.repr {
            Repr::Heap(vec) => vec.resize(n, v),
            Repr::Arena { chunk, len } => {
                chunk.as_mut_slice()[*len..n].fill(v);
                *len = n;
            }
        }
    }

    fn truncate(&mut self, n: usize) {
        match &mut self.repr {
            Repr::Heap(v) => v.truncate(n),
            Repr::Arena { len, .. } => *len = (*len).min(n),
        }
    }

    pub fn clear(&mut self) {
        self.truncate(0)
    }
}

/// The offsets array of a written Parcel: where its objects are, as the driver reads it
/// (little-endian `binder_size_t`s). It lives in the send arena when the Parcel's data does, so
/// the driver copies both with `memcpy`.
#[derive(Default)]
pub struct Offsets {
    bytes: Option<OutBuf>,
}

impl Offsets {
    /// Records an object at `offset`; `arena` is where the Parcel's data lives.
    pub fn push(&mut self, offset: u64, arena: Option<&'static SendArena>) {
        let buf = self.bytes.get_or_insert_with(|| match arena {
            Some(a) => OutBuf::in_arena(a),
            None => OutBuf::heap(),
        });
        buf.extend_from_slice(&offset.to_le_bytes());
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.as_ref().map_or(&[], OutBuf::as_slice)
    }

    pub fn clear(&mut self) {
        if let Some(b) = &mut self.bytes {
            b.clear();
        }
    }
}

/// A transaction buffer the driver placed in this process's receive mapping. It is read in
/// place; dropping it gives it back to the driver (`BC_FREE_BUFFER`).
pub struct ReceivedBuffer {
    data: &'static [u8],
    offsets: &'static [u8],
    /// The address the driver knows the buffer by, or `None` for a buffer nobody must free.
    free_ptr: Option<u64>,
    /// Freeing this buffer unblocks something, so it must not wait for an unrelated write:
    /// the data of a oneway transaction (the node's next oneway transaction is delivered only
    /// once it is freed), or a buffer with objects (it holds references on their nodes).
    urgent_free: bool,
}

impl ReceivedBuffer {
    /// `data` and `offsets` must lie inside the receive mapping (the process state checks the
    /// driver's addresses before building one).
    pub(crate) fn new(
        data: &'static [u8],
        offsets: &'static [u8],
        free_ptr: u64,
        oneway: bool,
    ) -> Self {
        ReceivedBuffer {
            data,
            offsets,
            free_ptr: Some(free_ptr),
            urgent_free: oneway || !offsets.is_empty(),
        }
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
            // The free normally rides with the next driver write of any thread (a reply read
            // after a call is freed with the next call). But when the free unblocks something
            // and this thread is not one that talks to the driver anyway (a worker that kept a
            // oneway call's Payload, a client done with a reply that carried objects), no
            // thread may write for a long time: send it now.
            if self.urgent_free {
                crate::thread_state::flush_unless_in_loop();
            }
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
