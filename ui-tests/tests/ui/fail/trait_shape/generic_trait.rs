use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo<T> {
    fn foo(&self, value: T) -> Result<()>;
}

#[binder_interface(descriptor = "com.example.IBar")]
pub trait IBar
where
    Self: Sized,
{
    fn bar(&self) -> Result<()>;
}

fn main() {}
