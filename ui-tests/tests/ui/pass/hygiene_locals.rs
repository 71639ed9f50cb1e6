// The generated code's own locals are hygienic: constants named like the locals' stems (which
// would turn a `let` binding into a pattern match) do not reach into the generated bodies.
// (Only the public parameters `binder` of `from_binder` and `implementation` of `new_binder`
// carry their plain names, for the documentation.)
#![allow(dead_code, non_upper_case_globals)]

const data: i32 = 0;
const reply: i32 = 0;
const status: i32 = 0;
const value: i32 = 0;
const code: i32 = 0;
const inner: i32 = 0;
const found: i32 = 0;
const stub: i32 = 0;
const remotable: i32 = 0;
const proxy: i32 = 0;
const cached: i32 = 0;
const start: i32 = 0;
const len: i32 = 0;
const arg0: i32 = 0;

#[binder_rt::binder_interface(descriptor = "com.example.ILocals", version = 1)]
pub trait ILocals {
    fn call(&self, x: i32, bytes: &[u8], text: &str) -> binder_rt::Result<i32>;
    #[oneway]
    fn fire(&self, y: i32) -> binder_rt::Result<()>;
}

struct Locals;

impl ILocals for Locals {
    fn call(&self, x: i32, bytes: &[u8], text: &str) -> binder_rt::Result<i32> {
        Ok(x + bytes.len() as i32 + text.len() as i32)
    }
    fn fire(&self, _y: i32) -> binder_rt::Result<()> {
        Ok(())
    }
}

fn main() {
    let service = BnLocals::new_binder(Locals);
    let through = BpLocals::from_binder(service.as_binder());
    assert_eq!(through.call(1, &[1, 2], "abc").unwrap(), 6);
    through.fire(1).unwrap();
    assert_eq!(through.interface_version().unwrap(), 1);
    let cast = binder_rt::interface_cast::<dyn ILocals>(service.as_binder()).unwrap();
    assert_eq!(cast.call(0, &[], "").unwrap(), 0);
}
