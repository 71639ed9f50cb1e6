use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    async fn foo(&self) -> Result<()>;
    fn not_async(&self) -> Result<()>;
    unsafe fn bar(&self) -> Result<()>;
}

#[binder_interface(descriptor = "com.example.IBorrowed")]
pub trait IBorrowed {
    async fn name(&self) -> Result<&str>;
    async fn fine(&self) -> Result<String>;
    fn names(&self) -> Result<Vec<&'static str>>;
}

fn main() {}
