use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    #[oneway]
    fn foo(&self, result: &mut i32) -> Result<()>;
}

fn main() {}
