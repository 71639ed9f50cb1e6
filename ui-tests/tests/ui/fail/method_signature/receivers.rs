use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    fn no_self() -> Result<()>;
    fn no_self_with_args(value: i32) -> Result<()>;
    fn by_value(self) -> Result<()>;
    fn by_mut_ref(&mut self) -> Result<()>;
    fn boxed(self: Box<Self>) -> Result<()>;
    fn fine(&self) -> Result<()>;
}

fn main() {}
