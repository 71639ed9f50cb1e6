use binder_rt::Parcelable;

#[derive(Parcelable)]
pub enum Color {
    Red,
    Green,
}

fn main() {
    // The fallback keeps uses of the type quiet.
    fn serializable<T: binder_rt::binder_impl::Serialize>() {}
    serializable::<Color>();
}
