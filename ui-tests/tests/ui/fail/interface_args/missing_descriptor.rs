use binder_rt::{Result, binder_interface};

#[binder_interface]
pub trait IFoo {
    fn foo(&self) -> Result<()>;
}

#[binder_interface(version = 1)]
pub trait IBar {
    fn bar(&self) -> Result<()>;
}

fn main() {}
