use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo", hash = "abcdef")]
pub trait IFoo {
    fn foo(&self) -> Result<()>;
}

#[binder_interface(descriptor = "com.example.IBar", version = 1, hash = 42)]
pub trait IBar {
    fn bar(&self) -> Result<()>;
}

fn main() {}
