use std::os::fd::OwnedFd;

use binder_rt::{Parcelable, SpIBinder};

// A field an older writer did not write takes its default, so every field needs one: use
// Option<..> for binders and file descriptors.
#[derive(Parcelable)]
pub struct Holder {
    pub binder: SpIBinder,
    pub fd: binder_rt::ParcelFileDescriptor,
    pub fine: Option<SpIBinder>,
}

fn main() {
    let _ = std::mem::size_of::<OwnedFd>();
}
