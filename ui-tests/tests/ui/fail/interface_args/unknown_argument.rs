use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo", stability = "vintf")]
pub trait IFoo {
    fn foo(&self) -> Result<()>;
}

#[binder_interface(descriptor = "com.example.IBar", oneway)]
pub trait IBar {
    fn bar(&self) -> Result<()>;
}

#[binder_interface("com.example.IBaz")]
pub trait IBaz {
    fn baz(&self) -> Result<()>;
}

fn main() {}
