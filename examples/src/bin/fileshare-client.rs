//! The fileshare client. See `binder_examples::fileshare`.

fn main() {
    binder_examples::main_with("fileshare-client", binder_examples::fileshare::client)
}
