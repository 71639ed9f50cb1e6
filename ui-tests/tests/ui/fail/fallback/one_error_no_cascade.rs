// A mistake in the trait is reported once: the code using the interface does not add errors.
use binder_rt::{Result, Strong, binder_interface};

#[binder_interface(descriptor = "com.example.ICalculator")]
pub trait ICalculator {
    fn add(&self, a: i32, b: i32) -> Result<i32>;
    fn broken(&mut self) -> Result<()>;
}

struct Calculator;

impl ICalculator for Calculator {
    fn add(&self, a: i32, b: i32) -> Result<i32> {
        Ok(a + b)
    }
    fn broken(&mut self) -> Result<()> {
        Ok(())
    }
}

fn use_it(calc: &dyn ICalculator) -> Result<i32> {
    calc.add(1, 2)
}

fn main() {
    let _ = use_it(&Calculator);
    let _ = BnCalculator::TRANSACTION_ADD;
    let _ = BnCalculator::DESCRIPTOR;
    let _: Option<Strong<dyn binder_rt::Interface>> = None;
}
