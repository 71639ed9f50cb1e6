use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    async fn foo(&self) -> Result<()>;
    unsafe fn bar(&self) -> Result<()>;
}

fn main() {}
