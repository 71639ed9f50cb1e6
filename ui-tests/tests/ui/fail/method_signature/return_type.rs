use binder_rt::{Result, Status, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    fn nothing(&self);
    fn plain(&self) -> i32;
    fn option(&self) -> Option<i32>;
    fn two_arguments(&self) -> std::result::Result<i32, Status>;
    fn bare(&self) -> Result;
    fn fine(&self) -> ::binder_rt::Result<i32>;
}

fn main() {}
