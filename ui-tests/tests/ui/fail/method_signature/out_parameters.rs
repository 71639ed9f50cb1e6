use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    fn unmarked(&self, values: &mut Vec<i32>) -> Result<()>;
    fn not_mut(&self, #[out] values: Vec<i32>) -> Result<()>;
    fn twice(&self, #[out] #[inout] values: &mut Vec<i32>) -> Result<()>;
    fn with_args(&self, #[out(len)] values: &mut Vec<i32>) -> Result<()>;
    #[oneway]
    fn oneway(&self, #[out] values: &mut Vec<i32>) -> Result<()>;
    fn fine(&self, #[out] a: &mut Vec<i32>, #[inout] b: &mut String) -> Result<i32>;
}

fn main() {}
