use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    #[oneway]
    fn foo(&self) -> Result<i32>;
    #[oneway]
    fn bar(&self, value: &str) -> Result<(String, i32)>;
    #[oneway]
    fn fine(&self, value: &str) -> Result<()>;
}

fn main() {}
