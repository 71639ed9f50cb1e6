use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    type Item;
    const LIMIT: usize;
    fn foo(&self) -> Result<()>;
}

fn main() {}
