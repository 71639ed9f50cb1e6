// Async forms of an interface, both ways of writing it: a blocking trait gets `IFooAsync` (the
// async client, implemented by `BpFooAsync`) and `IFooAsyncServer` (for `async fn`
// implementations); a trait written with `async fn` is itself the server trait and gets
// `IFooAsync` and `IFooBlocking`. Any runtime implementing `AsyncRuntime` serves them.
use std::future::Future;
use std::pin::Pin;

use binder_rt::{AsyncRuntime, BoxFuture, Payload, Result, Strong, binder_interface};

#[binder_interface(descriptor = "com.example.ICalculator")]
pub trait ICalculator {
    fn add(&self, a: i32, b: i32) -> Result<i32>;
    #[oneway]
    fn log(&self, line: &str) -> Result<()>;
    fn echo(&self, data: &[u8]) -> Result<Payload>;
}

#[binder_interface(descriptor = "com.example.IGreeter", version = 2)]
pub trait IGreeter {
    async fn greet(&self, name: &str, calculator: &Strong<dyn ICalculatorAsync>) -> Result<String>;
    #[oneway]
    async fn forget(&self, names: &[String]) -> Result<()>;
}

/// Out-parameters in every form: the async client's future borrows them until the reply.
#[binder_interface(descriptor = "com.example.IFiller")]
pub trait IFiller {
    async fn fill(
        &self,
        #[out] values: &mut Vec<i32>,
        #[inout] label: &mut String,
        name: &str,
    ) -> Result<i32>;
}

struct Filler;

impl IFiller for Filler {
    async fn fill(&self, values: &mut Vec<i32>, label: &mut String, name: &str) -> Result<i32> {
        values.push(1);
        label.push_str(name);
        Ok(1)
    }
}

async fn fill_awaited(filler: &Strong<dyn IFillerAsync>) -> Result<(Vec<i32>, String)> {
    let (mut values, mut label) = (vec![0; 2], String::new());
    let name = String::from("temporary");
    let call = filler.fill(&mut values, &mut label, &name);
    drop(name);
    call.await?;
    Ok((values, label))
}

struct Calculator;

impl ICalculatorAsyncServer for Calculator {
    async fn add(&self, a: i32, b: i32) -> Result<i32> {
        Ok(a + b)
    }
    async fn log(&self, _line: &str) -> Result<()> {
        Ok(())
    }
    async fn echo(&self, data: &[u8]) -> Result<Payload> {
        Ok(Payload::from(data.to_vec()))
    }
}

struct Greeter;

impl IGreeter for Greeter {
    async fn greet(&self, name: &str, calculator: &Strong<dyn ICalculatorAsync>) -> Result<String> {
        let n = calculator.add(1, 2).await?;
        Ok(format!("Hello, {name} ({n})"))
    }
    async fn forget(&self, _names: &[String]) -> Result<()> {
        Ok(())
    }
}

struct BlockingGreeter;

impl IGreeterBlocking for BlockingGreeter {
    fn greet(&self, name: &str, _calculator: &Strong<dyn ICalculatorAsync>) -> Result<String> {
        Ok(name.to_owned())
    }
    fn forget(&self, _names: &[String]) -> Result<()> {
        Ok(())
    }
}

struct NoRuntime;

impl AsyncRuntime for NoRuntime {
    fn block_on(&self, _future: Pin<&mut (dyn Future<Output = ()> + Send + '_)>) {}
    fn spawn(&self, _future: BoxFuture<'static, ()>) {}
}

fn calls_are_futures_that_borrow_nothing(calc: &Strong<dyn ICalculatorAsync>) -> BoxFuture<'static, Result<i32>> {
    let line = String::from("temporary");
    let _sent = calc.log(&line);
    drop(line);
    calc.add(2, 3)
}

fn main() {
    let calc: Strong<dyn ICalculatorAsync> = BnCalculator::new_async_binder(Calculator, NoRuntime);
    let _: BoxFuture<'static, Result<i32>> = calls_are_futures_that_borrow_nothing(&calc);
    let _: Strong<dyn IGreeterAsync> = BnGreeter::new_async_binder(Greeter, NoRuntime);
    let _: Strong<dyn IGreeterBlocking> = BnGreeter::new_binder(BlockingGreeter);
    let _ = BnGreeter::VERSION;
    let _ = BpGreeterAsync::from_binder(calc.as_binder());
    let filler: Strong<dyn IFillerAsync> = BnFiller::new_async_binder(Filler, NoRuntime);
    let _ = fill_awaited(&filler);
}
