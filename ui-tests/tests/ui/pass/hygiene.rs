// The generated code names everything by its full path: shadowing the prelude's names (and
// naming arguments like the generated code's locals) changes nothing.
#![allow(dead_code, non_camel_case_types, unused_imports)]

struct Result;
struct Option;
struct String;
struct Vec;
struct Box;
struct Arc;
struct Ok;
struct Err;
struct Some;
struct None;
struct Default;
struct Clone;
struct Send;
struct Sync;
struct Sized;
struct Any;
struct OnceLock;
struct Parcel;
struct Status;
struct StatusCode;
struct Strong;
struct SpIBinder;
struct Remotable;
struct FromIBinder;
mod core {}
mod std {}
mod binder {}

#[binder_rt::binder_interface(descriptor = "com.example.IHygiene", version = 2)]
pub trait IHygiene {
    fn data(&self, data: i32, reply: i32, code: i32, parcel: i32) -> binder_rt::Result<i32>;
    fn strings(
        &self,
        binder: &str,
        status: ::std::string::String,
    ) -> binder_rt::Result<::std::vec::Vec<u8>>;
    fn bytes(&self, __data: &[u8], __reply: &[u8], __status: i32) -> binder_rt::Result<()>;
    #[oneway]
    fn oneway(&self, value: ::std::option::Option<::std::string::String>) -> binder_rt::Result<()>;
    fn clone(&self) -> binder_rt::Result<i32>;
    fn from_binder(&self) -> binder_rt::Result<i32>;
}

#[derive(binder_rt::Parcelable)]
pub struct Shadowed {
    pub value: i32,
    pub text: ::std::string::String,
}

impl ::core::default::Default for Shadowed {
    fn default() -> Self {
        Shadowed {
            value: 0,
            text: ::std::string::String::new(),
        }
    }
}

#[derive(binder_rt::Parcelable)]
#[repr(i32)]
pub enum ShadowedEnum {
    A,
    B,
}

#[derive(binder_rt::Parcelable)]
pub enum ShadowedUnion {
    A(i32),
    B(::std::string::String),
}

fn main() {}
