use binder_rt::Parcelable;

#[derive(Default)]
pub struct NotParcelable;

#[derive(Parcelable, Default)]
pub struct Holder {
    pub fine: i32,
    pub inner: NotParcelable,
}

#[derive(Parcelable)]
pub enum Union {
    Fine(i32),
    Inner(NotParcelable),
}

fn main() {}
