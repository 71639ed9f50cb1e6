use binder_rt::Parcelable;

#[derive(Parcelable)]
pub union Bits {
    int: i32,
    float: f32,
}

fn main() {}
