use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    #[oneway(true)]
    fn a(&self) -> Result<()>;
    #[oneway]
    #[oneway]
    fn b(&self) -> Result<()>;
    #[code]
    fn c(&self) -> Result<()>;
    #[code = 4]
    fn d(&self) -> Result<()>;
    #[code(5)]
    #[code(6)]
    fn e(&self) -> Result<()>;
    #[code(FIVE)]
    fn f(&self) -> Result<()>;
}

fn main() {}
