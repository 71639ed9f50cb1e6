//! The smallest binder server: one interface, its implementation, registered by name.
//!
//! ```text
//! cargo run -p binder-examples --bin hello-server     # then, in another terminal:
//! cargo run -p binder-examples --bin hello-client -- Ada
//! ```

use binder_rt::{ProcessState, binder_interface};

/// The interface both sides declare (in AIDL: `interface IHello { String sayHello(String
/// name); }`). The macro generates the client proxy (`BpHello`) and the server stub (`BnHello`).
#[binder_interface(descriptor = "binder_examples.IHello")]
pub trait IHello {
    fn say_hello(&self, name: &str) -> binder_rt::Result<String>;
}

/// The service: what runs when a client calls.
struct Hello;

impl IHello for Hello {
    fn say_hello(&self, name: &str) -> binder_rt::Result<String> {
        println!("say_hello({name:?}) from pid {}", binder_rt::calling_pid());
        Ok(format!("Hello, {name}!"))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Threads that take the incoming calls: started before anyone can find the service.
    ProcessState::start_thread_pool()?;
    let service = BnHello::new_binder(Hello);
    binder_rt::add_service("binder-examples.hello", service.as_binder())?;
    println!("registered \"binder-examples.hello\"; serving until killed");
    // This thread serves calls too, for as long as the process runs.
    ProcessState::join_thread_pool()?;
    Ok(())
}
