//! Fuzz targets of binder-rs, as plain functions so that they also run without libFuzzer:
//! `cargo fuzz run <target>` drives them through the thin wrappers in `fuzz_targets/`, and
//! `cargo test` (in this directory) replays the checked-in corpus and regressions through the
//! same functions. `examples/gen_corpus.rs` writes the seed corpus with the encoders here.
//!
//! - [`parcel_read`]: arbitrary bytes as a received Parcel, fed to every reader.
//! - [`dispatch`]: arbitrary `(code, flags, data)` transactions on a generated stub.
//! - [`driver`]: arbitrary command streams and ioctls against an in-process userspace driver.

pub mod dispatch;
pub mod driver;
pub mod parcel_read;

/// A cursor over fuzz input that never fails: reads past the end yield zeros / empty slices,
/// so every input decodes to something.
pub struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { data, pos: 0 }
    }
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }
    pub fn u8(&mut self) -> u8 {
        let v = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        v
    }
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }
    /// Up to `n` bytes (fewer at the end of the input).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        let end = start.saturating_add(n).min(self.data.len());
        self.pos = self.pos.saturating_add(n);
        &self.data[start..end]
    }
    /// Everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        self.bytes(self.remaining())
    }
}

/// Little helpers for the encoders of the seed corpus.
pub fn le32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}
pub fn le64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}
