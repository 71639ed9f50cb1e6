//! `binder_alloc`: the allocator of one process's receive area and its `binder_buffer`s.
//!
//! As in the kernel: the area starts as one free chunk; a buffer is the best-fitting free
//! chunk (the smallest one that is large enough), split so that the buffer takes its start;
//! a freed buffer merges with free neighbours, so the area is one free chunk again once every
//! buffer is freed. Sizes are `align8(data) + align8(offsets)`, at least 8 bytes, so buffers
//! have distinct addresses. Oneway buffers may take at most half the area in total.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{NodeId, TxnId};

/// Why a buffer could not be allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocError {
    /// The sizes overflow (`-EINVAL` in the kernel).
    InvalidSize,
    /// No free chunk is large enough (`-ENOSPC`).
    NoSpace,
    /// Oneway buffers already use half the area (`-ENOSPC`).
    NoAsyncSpace,
}

/// Why `BC_FREE_BUFFER` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreeError {
    /// No buffer starts there (never allocated, or already freed).
    NoMatch,
    /// The buffer exists but was not delivered yet, or is already being freed.
    NotReturned,
}

/// One allocated buffer (`binder_buffer`).
#[derive(Debug, Clone)]
pub struct BinderBuffer {
    pub debug_id: u64,
    /// Bytes reserved, `align8(data_size) + align8(offsets_size)` (at least 8).
    pub size: usize,
    pub data_size: usize,
    pub offsets_size: usize,
    pub async_transaction: bool,
    /// Delivered to the process, which may now free it.
    pub allow_user_free: bool,
    /// Zero the contents when freed (`TF_CLEAR_BUF`).
    pub clear_on_free: bool,
    pub transaction: Option<TxnId>,
    pub target_node: Option<NodeId>,
    /// The sending process (`debug_id`), for oneway spam detection.
    pub sender: u64,
}

impl BinderBuffer {
    /// Offset of the offsets array inside the buffer.
    pub fn offsets_start(&self) -> usize {
        align8(self.data_size)
    }
}

#[derive(Debug)]
enum Chunk {
    Free(usize),
    Used(BinderBuffer),
}

impl Chunk {
    fn size(&self) -> usize {
        match self {
            Chunk::Free(size) => *size,
            Chunk::Used(b) => b.size,
        }
    }
}

pub const fn align8(n: usize) -> usize {
    (n + 7) & !7
}

/// Allocation size of a buffer, or `None` on overflow.
pub fn buffer_size(data_size: u64, offsets_size: u64) -> Option<u64> {
    let data = data_size.checked_add(7)? & !7;
    let offsets = offsets_size.checked_add(7)? & !7;
    Some(data.checked_add(offsets)?.max(8))
}

#[derive(Debug)]
pub struct BinderAlloc {
    size: usize,
    free_async_space: usize,
    /// Every chunk, free or used, by offset; together they tile `[0, size)`.
    chunks: BTreeMap<usize, Chunk>,
    /// Free chunks by `(size, offset)`, for best fit.
    free_by_size: BTreeSet<(usize, usize)>,
    used: usize,
    /// A spamming sender was reported; reset once async space recovers.
    oneway_spam_detected: bool,
}

impl BinderAlloc {
    pub fn new(size: usize) -> Self {
        let mut alloc = BinderAlloc {
            size,
            free_async_space: size / 2,
            chunks: BTreeMap::new(),
            free_by_size: BTreeSet::new(),
            used: 0,
            oneway_spam_detected: false,
        };
        if size > 0 {
            alloc.chunks.insert(0, Chunk::Free(size));
            alloc.free_by_size.insert((size, 0));
        }
        alloc
    }

    pub fn size(&self) -> usize {
        self.size
    }

    pub fn free_async_space(&self) -> usize {
        self.free_async_space
    }

    pub fn buffers_in_use(&self) -> usize {
        self.used
    }

    pub fn free_bytes(&self) -> usize {
        self.free_by_size.iter().map(|(s, _)| s).sum()
    }

    pub fn largest_free(&self) -> usize {
        self.free_by_size.last().map_or(0, |(s, _)| *s)
    }

    /// True when the whole area is one free chunk.
    #[cfg(test)]
    pub fn is_fully_free(&self) -> bool {
        self.used == 0 && self.chunks.len() == 1 && self.free_by_size.contains(&(self.size, 0))
    }

    /// Allocates a buffer for `data_size` + `offsets_size` bytes sent by `sender`. Returns
    /// its offset and whether the sender looks like it is spamming oneway calls (the kernel's
    /// `oneway_spam_suspect`).
    pub fn new_buf(
        &mut self,
        data_size: u64,
        offsets_size: u64,
        is_async: bool,
        debug_id: u64,
        sender: u64,
    ) -> Result<(usize, bool), AllocError> {
        let size = buffer_size(data_size, offsets_size).ok_or(AllocError::InvalidSize)?;
        if size > self.size as u64 {
            return Err(AllocError::NoSpace);
        }
        let size = size as usize;
        if is_async && self.free_async_space < size {
            return Err(AllocError::NoAsyncSpace);
        }
        let &(chunk_size, offset) = self
            .free_by_size
            .range((size, 0)..)
            .next()
            .ok_or(AllocError::NoSpace)?;
        self.free_by_size.remove(&(chunk_size, offset));
        if chunk_size > size {
            let rest = offset + size;
            self.chunks.insert(rest, Chunk::Free(chunk_size - size));
            self.free_by_size.insert((chunk_size - size, rest));
        }
        let buffer = BinderBuffer {
            debug_id,
            size,
            data_size: data_size as usize,
            offsets_size: offsets_size as usize,
            async_transaction: is_async,
            allow_user_free: false,
            clear_on_free: false,
            transaction: None,
            target_node: None,
            sender,
        };
        self.chunks.insert(offset, Chunk::Used(buffer));
        self.used += 1;
        let mut spam_suspect = false;
        if is_async {
            self.free_async_space -= size;
            if self.free_async_space < self.size / 10 {
                spam_suspect = self.low_async_space(sender);
            } else {
                self.oneway_spam_detected = false;
            }
        }
        Ok((offset, spam_suspect))
    }

    /// `debug_low_async_space_locked`: async space is short; is `sender` the one filling it
    /// (more than 50 buffers, or more than a quarter of the area)? Reported once per episode.
    fn low_async_space(&mut self, sender: u64) -> bool {
        let (count, total) = self
            .buffers()
            .filter(|(_, b)| b.async_transaction && b.sender == sender)
            .fold((0usize, 0usize), |(n, t), (_, b)| (n + 1, t + b.size));
        if (count > 50 || total > self.size / 4) && !self.oneway_spam_detected {
            self.oneway_spam_detected = true;
            return true;
        }
        false
    }

    pub fn buffer(&self, offset: usize) -> Option<&BinderBuffer> {
        match self.chunks.get(&offset) {
            Some(Chunk::Used(b)) => Some(b),
            _ => None,
        }
    }

    pub fn buffer_mut(&mut self, offset: usize) -> Option<&mut BinderBuffer> {
        match self.chunks.get_mut(&offset) {
            Some(Chunk::Used(b)) => Some(b),
            _ => None,
        }
    }

    /// Buffers in use, by offset.
    pub fn buffers(&self) -> impl Iterator<Item = (usize, &BinderBuffer)> {
        self.chunks.iter().filter_map(|(off, c)| match c {
            Chunk::Used(b) => Some((*off, b)),
            Chunk::Free(_) => None,
        })
    }

    /// `binder_alloc_prepare_to_free`: the user may free a delivered buffer once.
    pub fn prepare_to_free(&mut self, offset: usize) -> Result<(), FreeError> {
        let buffer = self.buffer_mut(offset).ok_or(FreeError::NoMatch)?;
        if !buffer.allow_user_free {
            return Err(FreeError::NotReturned);
        }
        buffer.allow_user_free = false;
        Ok(())
    }

    /// Frees the buffer at `offset`, merging free neighbours; returns its metadata.
    pub fn free_buf(&mut self, offset: usize) -> Option<BinderBuffer> {
        let buffer = match self.chunks.remove(&offset)? {
            Chunk::Used(b) => b,
            free @ Chunk::Free(_) => {
                self.chunks.insert(offset, free);
                return None;
            }
        };
        self.used -= 1;
        if buffer.async_transaction {
            self.free_async_space = (self.free_async_space + buffer.size).min(self.size / 2);
        }
        let mut start = offset;
        let mut size = buffer.size;
        if let Some((&next_off, Chunk::Free(next_size))) = self.chunks.range(offset + 1..).next() {
            let next_size = *next_size;
            if next_off == offset + size {
                self.chunks.remove(&next_off);
                self.free_by_size.remove(&(next_size, next_off));
                size += next_size;
            }
        }
        if let Some((&prev_off, prev)) = self.chunks.range(..offset).next_back()
            && let Chunk::Free(prev_size) = prev
            && prev_off + prev.size() == offset
        {
            let prev_size = *prev_size;
            self.chunks.remove(&prev_off);
            self.free_by_size.remove(&(prev_size, prev_off));
            start = prev_off;
            size += prev_size;
        }
        self.chunks.insert(start, Chunk::Free(size));
        self.free_by_size.insert((size, start));
        Some(buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_fit_split_and_merge_back_to_fully_free() {
        let mut a = BinderAlloc::new(4096);
        let b1 = a.new_buf(100, 16, false, 1, 0).unwrap().0;
        let b2 = a.new_buf(200, 0, false, 2, 0).unwrap().0;
        let b3 = a.new_buf(8, 0, false, 3, 0).unwrap().0;
        assert_eq!((b1, b2, b3), (0, 120, 320));
        assert_eq!(a.buffer(b1).unwrap().size, 104 + 16);
        // Free the middle one: a 200-byte hole. A 150-byte request fits it best.
        a.free_buf(b2).unwrap();
        let b4 = a.new_buf(150, 0, false, 4, 0).unwrap().0;
        assert_eq!(b4, 120);
        for off in [b1, b3, b4] {
            assert!(a.free_buf(off).is_some());
        }
        assert!(a.is_fully_free());
        assert_eq!(a.free_bytes(), 4096);
    }

    #[test]
    fn zero_sized_buffers_get_distinct_addresses() {
        let mut a = BinderAlloc::new(64);
        let x = a.new_buf(0, 0, false, 1, 0).unwrap().0;
        let y = a.new_buf(0, 0, false, 2, 0).unwrap().0;
        assert_ne!(x, y);
    }

    #[test]
    fn too_large_and_overflowing_requests_fail() {
        let mut a = BinderAlloc::new(1024);
        assert_eq!(
            a.new_buf(1025, 0, false, 1, 0).map(|r| r.0),
            Err(AllocError::NoSpace)
        );
        assert_eq!(
            a.new_buf(u64::MAX, 8, false, 1, 0).map(|r| r.0),
            Err(AllocError::InvalidSize)
        );
        assert_eq!(
            a.new_buf(1000, 100, false, 1, 0).map(|r| r.0),
            Err(AllocError::NoSpace)
        );
        assert!(a.is_fully_free());
    }

    #[test]
    fn oneway_buffers_use_at_most_half_the_area() {
        let mut a = BinderAlloc::new(1024);
        let x = a.new_buf(256, 0, true, 1, 0).unwrap().0;
        let y = a.new_buf(256, 0, true, 2, 0).unwrap().0;
        assert_eq!(
            a.new_buf(8, 0, true, 3, 0).map(|r| r.0),
            Err(AllocError::NoAsyncSpace)
        );
        // Two-way buffers still fit.
        assert!(a.new_buf(256, 0, false, 4, 0).is_ok());
        a.free_buf(x).unwrap();
        assert!(a.new_buf(8, 0, true, 5, 0).is_ok());
        a.free_buf(y).unwrap();
    }

    #[test]
    fn a_sender_filling_async_space_is_suspected_once() {
        let mut a = BinderAlloc::new(64 * 100);
        // Oneway buffers of sender 7 take async space below a tenth of the area.
        let mut suspects = Vec::new();
        for i in 0..52 {
            let (_, spam) = a.new_buf(56, 0, true, i, 7).unwrap();
            suspects.push(spam);
        }
        assert_eq!(suspects.iter().filter(|s| **s).count(), 1, "{suspects:?}");
        // Another sender at the same time is not blamed.
        assert_eq!(a.new_buf(8, 0, true, 99, 8).map(|r| r.1), Ok(false));
    }

    #[test]
    fn free_of_unknown_or_undelivered_buffers_is_refused() {
        let mut a = BinderAlloc::new(1024);
        let x = a.new_buf(10, 0, false, 1, 0).unwrap().0;
        assert_eq!(a.prepare_to_free(x), Err(FreeError::NotReturned));
        assert_eq!(a.prepare_to_free(x + 8), Err(FreeError::NoMatch));
        a.buffer_mut(x).unwrap().allow_user_free = true;
        assert_eq!(a.prepare_to_free(x), Ok(()));
        assert_eq!(a.prepare_to_free(x), Err(FreeError::NotReturned));
        a.free_buf(x).unwrap();
        assert_eq!(a.prepare_to_free(x), Err(FreeError::NoMatch));
        assert!(a.free_buf(x).is_none());
        assert!(a.is_fully_free());
    }
}
