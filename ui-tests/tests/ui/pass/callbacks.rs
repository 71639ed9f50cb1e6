// A client passes its own object; the service calls it back.
use std::sync::Mutex;

use binder_rt::{Result, Strong, binder_interface};

#[binder_interface(descriptor = "com.example.IListener")]
pub trait IListener {
    #[oneway]
    fn on_change(&self, value: i32) -> Result<()>;
}

#[binder_interface(descriptor = "com.example.ISubject")]
pub trait ISubject {
    fn subscribe(&self, listener: Strong<dyn IListener>) -> Result<()>;
    fn set(&self, value: i32) -> Result<()>;
}

#[derive(Default)]
struct Subject {
    listeners: Mutex<Vec<Strong<dyn IListener>>>,
}

impl ISubject for Subject {
    fn subscribe(&self, listener: Strong<dyn IListener>) -> Result<()> {
        self.listeners.lock().unwrap().push(listener);
        Ok(())
    }
    fn set(&self, value: i32) -> Result<()> {
        for listener in self.listeners.lock().unwrap().iter() {
            listener.on_change(value)?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Listener(Mutex<Vec<i32>>);

impl IListener for Listener {
    fn on_change(&self, value: i32) -> Result<()> {
        self.0.lock().unwrap().push(value);
        Ok(())
    }
}

fn main() {
    let subject = BpSubject::from_binder(BnSubject::new_binder(Subject::default()).as_binder());
    let listener = BnListener::new_binder(Listener::default());
    subject.subscribe(listener).unwrap();
    subject.set(5).unwrap();
}
