use std::collections::HashMap;

use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    fn map(&self, values: HashMap<String, i32>) -> Result<()>;
    fn char(&self, c: char) -> Result<()>;
    fn nullable_str(&self, text: Option<&str>) -> Result<()>;
}

fn main() {}
