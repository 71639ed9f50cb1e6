use binder_rt::Parcelable;

#[derive(Parcelable)]
pub enum Mixed {
    Nothing,
    Number(i32),
    AlsoNothing,
}

#[derive(Parcelable)]
pub enum Shapes {
    Named { value: i32 },
    Pair(i32, i32),
    Empty(),
    Fine(String),
}

#[derive(Parcelable)]
#[repr(i32)]
pub enum Tagged {
    A(i32) = 5,
    B(String),
}

#[derive(Parcelable)]
pub enum Never {}

fn main() {}
