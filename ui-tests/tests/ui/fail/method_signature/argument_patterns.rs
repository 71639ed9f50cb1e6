use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    fn tuple(&self, (a, b): (i32, i32)) -> Result<()>;
    fn wildcard(&self, _: i32) -> Result<()>;
    fn mutable(&self, mut value: i32) -> Result<()>;
    fn by_ref(&self, ref value: i32) -> Result<()>;
}

fn main() {}
