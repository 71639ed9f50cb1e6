use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    fn foo(&self) -> Result<i32> {
        Ok(1)
    }
}

fn main() {}
