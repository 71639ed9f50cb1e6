//! Reading the offsets array and the objects of a buffer in a receive area
//! (`binder_get_object`). Only the driver writes receive areas, so what is read here is the
//! driver's own copy; it is still validated on every read.

use binder_sys::{
    BINDER_TYPE_BINDER, BINDER_TYPE_FD, BINDER_TYPE_FDA, BINDER_TYPE_HANDLE, BINDER_TYPE_PTR,
    BINDER_TYPE_WEAK_BINDER, BINDER_TYPE_WEAK_HANDLE, BUFFER_OBJECT_SIZE, FD_ARRAY_OBJECT_SIZE,
    FLAT_BINDER_OBJECT_SIZE, FlatBinderObject, Wire,
};

use crate::sys::SharedMapping;

/// An object found in a buffer.
#[derive(Debug, Clone, Copy)]
pub struct Object {
    pub hdr_type: u32,
    /// Size of the whole object structure.
    pub size: usize,
    /// The first 24 bytes decoded as a `flat_binder_object` (also the layout of
    /// `binder_fd_object`).
    pub flat: FlatBinderObject,
}

/// A buffer of a receive area: where it starts and how large its data part is.
#[derive(Clone, Copy)]
pub struct BufferView<'a> {
    pub mapping: &'a SharedMapping,
    pub start: usize,
    pub data_size: usize,
    pub offsets_start: usize,
    pub offsets_size: usize,
}

impl BufferView<'_> {
    /// The `index`-th entry of the offsets array.
    pub fn offset_at(&self, index: usize) -> Option<u64> {
        let pos = index.checked_mul(8)?;
        if pos.checked_add(8)? > self.offsets_size {
            return None;
        }
        let mut b = [0u8; 8];
        self.mapping
            .read(self.start + self.offsets_start + pos, &mut b)
            .then(|| u64::from_le_bytes(b))
    }

    pub fn object_count(&self) -> usize {
        self.offsets_size / 8
    }

    /// `binder_get_object`: the object at `offset` of the data, if it is a known type, aligned
    /// to 4 bytes and entirely inside the data.
    pub fn object_at(&self, offset: u64) -> Option<Object> {
        let data_size = self.data_size as u64;
        if offset > data_size || !offset.is_multiple_of(4) || data_size - offset < 4 {
            return None;
        }
        let offset = offset as usize;
        let mut hdr = [0u8; 4];
        if !self.mapping.read(self.start + offset, &mut hdr) {
            return None;
        }
        let hdr_type = u32::from_le_bytes(hdr);
        let size = match hdr_type {
            BINDER_TYPE_BINDER
            | BINDER_TYPE_WEAK_BINDER
            | BINDER_TYPE_HANDLE
            | BINDER_TYPE_WEAK_HANDLE
            | BINDER_TYPE_FD => FLAT_BINDER_OBJECT_SIZE,
            BINDER_TYPE_PTR => BUFFER_OBJECT_SIZE,
            BINDER_TYPE_FDA => FD_ARRAY_OBJECT_SIZE,
            _ => return None,
        };
        if size > self.data_size - offset {
            return None;
        }
        let mut raw = [0u8; FLAT_BINDER_OBJECT_SIZE];
        if !self.mapping.read(self.start + offset, &mut raw) {
            return None;
        }
        Some(Object {
            hdr_type,
            size,
            flat: FlatBinderObject::read(&raw)?,
        })
    }

    /// Writes a translated `flat_binder_object` back at `offset`.
    pub fn write_flat(&self, offset: u64, obj: &FlatBinderObject) -> bool {
        let offset = offset as usize;
        offset
            .checked_add(FLAT_BINDER_OBJECT_SIZE)
            .is_some_and(|end| end <= self.data_size)
            && self.mapping.write(self.start + offset, &obj.to_bytes())
    }
}
