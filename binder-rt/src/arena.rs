//! The send arena: a memfd this process builds outgoing Parcels in and the userspace driver also
//! maps (read-only), so the driver copies transaction data with `memcpy` from its mapping
//! instead of reading our memory through `/proc/self/mem` — still exactly one copy, into the
//! receiver's area, but a plain `memcpy` (see `userspace-driver-costs.md`: ~4x cheaper than
//! reading another process's memory at 512 KiB).
//!
//! Chunks come in a few size classes with free lists; when the arena has no chunk to give, a
//! Parcel simply lives on the heap and the driver falls back to `/proc/self/mem`.

use std::io;
use std::num::NonZeroUsize;
use std::os::fd::OwnedFd;
use std::sync::Mutex;

use nix::sys::mman::{MapFlags, ProtFlags, mmap};

/// Total size of the arena (virtual; pages are only backed once written).
pub(crate) const ARENA_SIZE: usize = 4 * 1024 * 1024;
/// Chunk size classes.
const CLASSES: [usize; 5] = [4 * 1024, 16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024];

pub(crate) struct SendArena {
    base: usize,
    size: usize,
    state: Mutex<ArenaState>,
    /// Kept open for the driver's registration; the mapping lives as long as the process.
    fd: OwnedFd,
}

#[derive(Default)]
struct ArenaState {
    bump: usize,
    free: [Vec<usize>; CLASSES.len()],
}

impl SendArena {
    /// Creates the memfd and maps it read-write into this process.
    pub fn create() -> io::Result<SendArena> {
        use nix::fcntl::{FcntlArg, SealFlag, fcntl};
        use nix::sys::memfd::{MFdFlags, memfd_create};
        let flags = MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING;
        let fd = memfd_create(c"binder-send-arena", flags)?;
        nix::unistd::ftruncate(&fd, ARENA_SIZE as i64)?;
        // The driver maps it too and copies from it: it refuses an arena that could shrink
        // under its mapping (a fault in the driver).
        let seals = SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW;
        fcntl(&fd, FcntlArg::F_ADD_SEALS(seals))?;
        // SAFETY: maps our own memfd of ARENA_SIZE bytes shared read-write; the mapping is
        // never unmapped, and chunks of it are handed out exclusively (see `alloc`).
        let base = unsafe {
            mmap(
                None,
                const { NonZeroUsize::new(ARENA_SIZE).unwrap() },
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
                &fd,
                0,
            )
        }?;
        Ok(SendArena {
            base: base.as_ptr() as usize,
            size: ARENA_SIZE,
            state: Mutex::new(ArenaState::default()),
            fd,
        })
    }

    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    pub fn base(&self) -> usize {
        self.base
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// A chunk of at least `min` bytes, or `None` when the arena has none to give.
    pub fn alloc(&'static self, min: usize) -> Option<ArenaChunk> {
        let class = CLASSES.iter().position(|&c| c >= min)?;
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let offset = match st.free[class].pop() {
            Some(off) => off,
            None => {
                let off = st.bump;
                if off + CLASSES[class] > self.size {
                    return None;
                }
                st.bump += CLASSES[class];
                off
            }
        };
        Some(ArenaChunk {
            arena: self,
            offset,
            class,
        })
    }

    fn release(&self, offset: usize, class: usize) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).free[class].push(offset);
    }
}

/// A chunk of the arena, owned exclusively until dropped.
pub(crate) struct ArenaChunk {
    arena: &'static SendArena,
    offset: usize,
    class: usize,
}

impl ArenaChunk {
    #[inline]
    pub fn capacity(&self) -> usize {
        CLASSES[self.class]
    }

    #[inline]
    pub fn arena(&self) -> &'static SendArena {
        self.arena
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: [offset, offset+capacity) lies inside the live arena mapping and belongs to
        // this chunk alone until it is dropped (the allocator never hands it out twice).
        unsafe {
            std::slice::from_raw_parts(
                (self.arena.base + self.offset) as *const u8,
                self.capacity(),
            )
        }
    }

    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes this the only reference.
        unsafe {
            std::slice::from_raw_parts_mut(
                (self.arena.base + self.offset) as *mut u8,
                self.capacity(),
            )
        }
    }
}

impl Drop for ArenaChunk {
    fn drop(&mut self) {
        self.arena.release(self.offset, self.class);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_exclusive_and_reused() {
        let arena: &'static SendArena = Box::leak(Box::new(SendArena::create().unwrap()));
        let mut a = arena.alloc(100).unwrap();
        let mut b = arena.alloc(100).unwrap();
        assert_eq!(a.capacity(), 4096);
        a.as_mut_slice().fill(1);
        b.as_mut_slice().fill(2);
        assert!(a.as_slice().iter().all(|&x| x == 1));
        let a_off = a.offset;
        drop(a);
        let c = arena.alloc(4000).unwrap();
        assert_eq!(c.offset, a_off, "freed chunks are reused");
        assert!(
            arena.alloc(2 * 1024 * 1024).is_none(),
            "larger than the largest class"
        );
        let big: Vec<_> = (0..3).filter_map(|_| arena.alloc(1024 * 1024)).collect();
        assert_eq!(
            big.len(),
            3,
            "the rest of the arena still has three 1 MiB chunks"
        );
        assert!(arena.alloc(1024 * 1024).is_none(), "exhausted");
    }
}
