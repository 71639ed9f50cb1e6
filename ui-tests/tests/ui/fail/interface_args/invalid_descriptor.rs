use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example. IFoo")]
pub trait IFoo {
    fn foo(&self) -> Result<()>;
}

#[binder_interface(descriptor = "com..example.IBar")]
pub trait IBar {
    fn bar(&self) -> Result<()>;
}

#[binder_interface(descriptor = "com/example/IBaz")]
pub trait IBaz {
    fn baz(&self) -> Result<()>;
}

const NAME: &str = "com.example.IQux";

#[binder_interface(descriptor = NAME)]
pub trait IQux {
    fn qux(&self) -> Result<()>;
}

fn main() {}
