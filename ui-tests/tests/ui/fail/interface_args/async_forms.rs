use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo", async_forms = false)]
pub trait IFoo {
    async fn foo(&self) -> Result<()>;
}

#[binder_interface(descriptor = "com.example.IBar", async_forms = "no")]
pub trait IBar {
    fn bar(&self) -> Result<()>;
}

fn main() {}
