//! The callbacks client. See `binder_examples::callbacks`.

fn main() {
    binder_examples::main_with("callbacks-client", binder_examples::callbacks::client)
}
