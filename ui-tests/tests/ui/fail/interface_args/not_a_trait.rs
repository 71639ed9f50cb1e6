use binder_rt::binder_interface;

#[binder_interface(descriptor = "com.example.IFoo")]
pub struct Foo {
    value: i32,
}

fn main() {
    let _ = Foo { value: 1 }.value;
}
