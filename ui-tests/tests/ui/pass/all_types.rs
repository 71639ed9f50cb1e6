// Every type the runtime can write and read, as arguments (by value and by reference) and as
// results.
use std::os::fd::OwnedFd;

use binder_rt::{ParcelFileDescriptor, Payload, Result, SpIBinder, Strong, binder_interface};

#[binder_interface(descriptor = "com.example.IOther")]
pub trait IOther {
    fn ping(&self) -> Result<()>;
}

#[binder_interface(descriptor = "com.example.IAllTypes")]
pub trait IAllTypes {
    fn scalars(
        &self,
        a: bool,
        b: i8,
        c: u8,
        d: u16,
        e: i32,
        f: u32,
        g: i64,
        h: u64,
        i: f32,
        j: f64,
    ) -> Result<bool>;
    fn returns_scalars(&self) -> Result<(i8, u8, u16, u32, u64, f32)>;
    fn float(&self) -> Result<f64>;
    fn strings(
        &self,
        owned: String,
        borrowed: &str,
        nullable: Option<String>,
    ) -> Result<Option<String>>;
    fn byte_slices(&self, in_place: &[u8], signed: &[i8], owned: Vec<u8>) -> Result<Vec<u8>>;
    fn slices(
        &self,
        ints: &[i32],
        strings: &[String],
        longs: &[i64],
        bools: &[bool],
    ) -> Result<Vec<String>>;
    fn vectors(
        &self,
        nested: Vec<Vec<i32>>,
        nullable: Option<Vec<i64>>,
    ) -> Result<Vec<Option<String>>>;
    fn arrays(&self, fixed: [i32; 4], bytes: [u8; 16], by_ref: &[String; 2]) -> Result<[i64; 2]>;
    fn references(
        &self,
        vector: &Vec<i32>,
        option: &Option<String>,
        binder: &SpIBinder,
    ) -> Result<()>;
    fn tuples(&self) -> Result<(i32, String, Vec<u8>, Option<String>)>;
    fn binders(
        &self,
        binder: SpIBinder,
        nullable: Option<SpIBinder>,
        many: Vec<SpIBinder>,
    ) -> Result<Option<SpIBinder>>;
    fn callbacks(
        &self,
        other: Strong<dyn IOther>,
        nullable: Option<Strong<dyn IOther>>,
        by_ref: &Strong<dyn IOther>,
    ) -> Result<Strong<dyn IOther>>;
    fn callback_list(&self, others: Vec<Strong<dyn IOther>>) -> Result<Vec<Strong<dyn IOther>>>;
    fn fds(
        &self,
        fd: OwnedFd,
        pfd: ParcelFileDescriptor,
        nullable: Option<ParcelFileDescriptor>,
    ) -> Result<ParcelFileDescriptor>;
    fn raw_fd(&self) -> Result<OwnedFd>;
    fn payloads(&self, payload: Payload, nullable: Option<Payload>) -> Result<Payload>;
    fn lifetimes<'a>(
        &self,
        text: &'a str,
        bytes: &'a [u8],
        list: &'a [Option<String>],
    ) -> Result<String>;
    fn unit(&self) -> Result<()>;
    fn full_path(&self) -> ::binder_rt::Result<i32>;
    fn crate_path(&self) -> binder_rt::Result<i32>;
}

fn main() {
    let _ = BnAllTypes::TRANSACTION_SCALARS;
    let _ = BnAllTypes::TRANSACTION_CRATE_PATH;
}
