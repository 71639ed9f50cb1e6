// Every problem is reported in one build, each at its own tokens.
use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "bad descriptor", flavour = 1)]
pub trait IEverything<T> {
    type Item;
    async fn a(&self) -> Result<()>;
    fn b(self) -> Result<()>;
    fn c(&self, out: &mut i32) -> Result<()>;
    #[oneway]
    fn d(&self) -> Result<i32>;
    #[code(7)]
    fn e(&self) -> i32;
    #[code(7)]
    fn f(&self, (x, y): (i32, i32)) -> Result<()>;
    #[something]
    fn g<U>(&self, u: U) -> Result<()> {
        Ok(())
    }
}

fn main() {}
