use binder_rt::{Result, binder_interface};

pub struct NotParcelable;

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    fn by_value(&self, value: NotParcelable) -> Result<()>;
    fn by_ref(&self, value: &NotParcelable) -> Result<()>;
    fn in_vec(&self, values: Vec<NotParcelable>) -> Result<()>;
}

fn main() {}
