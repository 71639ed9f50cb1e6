use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    fn generic<T: binder_rt::binder_impl::Serialize>(&self, value: T) -> Result<()>;
    fn constant<const N: usize>(&self, values: [i32; N]) -> Result<()>;
    fn impl_trait(&self, value: impl binder_rt::binder_impl::Serialize) -> Result<()>;
    fn returns_impl(&self) -> Result<impl binder_rt::binder_impl::Serialize>;
    // Lifetimes are fine.
    fn borrowed<'a>(&self, text: &'a str) -> Result<()>;
}

fn main() {}
