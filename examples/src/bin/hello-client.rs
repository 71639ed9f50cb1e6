//! The smallest binder client: finds the `hello-server`'s service by name and calls it.
//!
//! ```text
//! cargo run -p binder-examples --bin hello-client -- [NAME]
//! ```

use binder_rt::binder_interface;

/// The interface both sides declare (in AIDL: `interface IHello { String sayHello(String
/// name); }`). The macro generates the client proxy (`BpHello`) and the server stub (`BnHello`).
#[binder_interface(descriptor = "binder_examples.IHello")]
pub trait IHello {
    fn say_hello(&self, name: &str) -> binder_rt::Result<String>;
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "world".to_owned());
    // Waits until the server has registered the service (the service manager tells us).
    let hello = binder_rt::wait_for_interface::<dyn IHello>("binder-examples.hello")?;
    // A call into the server's process: the argument and the result cross as Parcels.
    let greeting = hello.say_hello(&name)?;
    println!("{greeting}");
    Ok(())
}
