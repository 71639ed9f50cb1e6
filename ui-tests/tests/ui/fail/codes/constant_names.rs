use binder_rt::{Result, binder_interface};

#[binder_interface(descriptor = "com.example.IFoo")]
pub trait IFoo {
    fn get_value(&self) -> Result<i32>;
    #[allow(non_snake_case)]
    fn getValue(&self) -> Result<i32>;
}

fn main() {
    // The constants the fallback still provides.
    let _ = BnFoo::TRANSACTION_GET_VALUE;
    let _ = BnFoo::DESCRIPTOR;
}
