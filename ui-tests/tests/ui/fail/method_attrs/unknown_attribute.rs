use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    #[inline]
    fn foo(&self) -> Result<()>;
    #[one_way]
    fn bar(&self) -> Result<()>;
    /// Doc comments and lint attributes are fine.
    #[allow(unused)]
    fn baz(&self) -> Result<()>;
}

fn main() {}
