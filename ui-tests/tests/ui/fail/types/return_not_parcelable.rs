use binder_rt::{Result, binder_interface};

pub struct NotParcelable;

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    fn returns(&self) -> Result<NotParcelable>;
    fn returns_usize(&self) -> Result<usize>;
}

fn main() {}
