use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo: std::fmt::Debug + Send {
    fn foo(&self) -> Result<()>;
}

fn main() {}
