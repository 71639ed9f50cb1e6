use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "")]
pub trait IFoo {
    fn foo(&self) -> Result<()>;
}

fn main() {}
