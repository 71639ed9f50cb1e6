use binder_rt::{Result, binder_interface};

#[binder_interface(
    descriptor = "com.example.IFoo",
    version = 1,
    descriptor = "com.example.IBar",
    version = 2
)]
pub trait IFoo {
    fn foo(&self) -> Result<()>;
}

fn main() {}
