use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IZero", version = 0)]
pub trait IZero {
    fn foo(&self) -> Result<()>;
}

#[binder_interface(descriptor = "com.example.INegative", version = -1)]
pub trait INegative {
    fn foo(&self) -> Result<()>;
}

#[binder_interface(descriptor = "com.example.IString", version = "1")]
pub trait IString {
    fn foo(&self) -> Result<()>;
}

#[binder_interface(descriptor = "com.example.IHuge", version = 2147483648)]
pub trait IHuge {
    fn foo(&self) -> Result<()>;
}

fn main() {}
