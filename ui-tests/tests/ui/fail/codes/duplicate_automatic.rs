use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    // Code 1, automatically.
    fn first(&self) -> Result<()>;
    // Pinned onto `first`'s automatic code.
    #[code(1)]
    fn second(&self) -> Result<()>;
    // Pinned onto the automatic code `fourth` will get (1 + 3).
    #[code(4)]
    fn third(&self) -> Result<()>;
    fn fourth(&self) -> Result<()>;
}

fn main() {}
