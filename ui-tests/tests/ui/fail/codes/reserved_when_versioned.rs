use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo", version = 2)]
pub trait IFoo {
    #[code(0x00FF_FFFF)]
    fn version(&self) -> Result<i32>;
    #[code(0x00FF_FFFE)]
    fn hash(&self) -> Result<String>;
    fn interface_version(&self) -> Result<i32>;
}

// Unversioned, the codes are ordinary ones.
#[binder_interface(descriptor = "com.example.IBar")]
pub trait IBar {
    #[code(0x00FF_FFFF)]
    fn last(&self) -> Result<i32>;
}

fn main() {}
