use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    #[code(0)]
    fn zero(&self) -> Result<()>;
    #[code(0x0100_0000)]
    fn too_big(&self) -> Result<()>;
    #[code(-1)]
    fn negative(&self) -> Result<()>;
    #[code(0x5F504E47)]
    fn ping(&self) -> Result<()>;
}

fn main() {}
