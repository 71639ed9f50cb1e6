// The example of the documentation: codes, names, stub and proxy.
use binder_rt::{FromIBinder, SpIBinder, Strong, binder_interface};

#[binder_interface(descriptor = "com.example.ICalculator")]
pub trait ICalculator {
    fn add(&self, a: i32, b: i32) -> binder_rt::Result<i32>;
    #[oneway]
    fn log(&self, line: &str) -> binder_rt::Result<()>;
    #[code(42)]
    fn pinned(&self) -> binder_rt::Result<Vec<String>>;
    fn after_pinned(&self) -> binder_rt::Result<()>;
}

struct Calculator;

impl ICalculator for Calculator {
    fn add(&self, a: i32, b: i32) -> binder_rt::Result<i32> {
        Ok(a + b)
    }
    fn log(&self, _line: &str) -> binder_rt::Result<()> {
        Ok(())
    }
    fn pinned(&self) -> binder_rt::Result<Vec<String>> {
        Ok(Vec::new())
    }
    fn after_pinned(&self) -> binder_rt::Result<()> {
        Ok(())
    }
}

const _: () = {
    assert!(BnCalculator::TRANSACTION_ADD == 1);
    assert!(BnCalculator::TRANSACTION_LOG == 2);
    assert!(BnCalculator::TRANSACTION_PINNED == 42);
    // Every method takes an index, pinned or not.
    assert!(BnCalculator::TRANSACTION_AFTER_PINNED == 4);
};

fn takes_interface<T: binder_rt::Interface + ?Sized>() {}

fn main() {
    takes_interface::<dyn ICalculator>();
    let service: Strong<dyn ICalculator> = BnCalculator::new_binder(Calculator);
    let binder: SpIBinder = service.as_binder();
    let proxy = BpCalculator::from_binder(binder.clone());
    let _: &dyn ICalculator = &proxy;
    let _: SpIBinder = proxy.as_binder();
    let _: Result<Strong<dyn ICalculator>, binder_rt::StatusCode> =
        <dyn ICalculator as FromIBinder>::try_from(binder);
    let _: &'static str = BnCalculator::DESCRIPTOR;
    let _: &'static str = <dyn ICalculator as FromIBinder>::DESCRIPTOR;
}
