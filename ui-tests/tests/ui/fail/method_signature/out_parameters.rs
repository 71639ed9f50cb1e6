use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    fn fill(&self, out: &mut Vec<i32>) -> Result<()>;
    fn swap(&self, a: &mut i32, b: &mut String) -> Result<()>;
}

fn main() {}
