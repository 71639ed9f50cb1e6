use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    #[code(10)]
    fn first(&self) -> Result<()>;
    #[code(10)]
    fn second(&self) -> Result<()>;
}

fn main() {}
