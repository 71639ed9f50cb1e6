use binder_rt::Parcelable;

#[derive(Parcelable)]
#[repr(C)]
pub enum NotAnInteger {
    A,
}

#[derive(Parcelable)]
#[repr(u32)]
pub enum Unsigned {
    A,
}

#[derive(Parcelable)]
#[repr(i16)]
pub enum Short {
    A,
}

fn main() {}
