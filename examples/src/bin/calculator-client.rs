//! The calculator client. See `binder_examples::calculator`.

fn main() {
    binder_examples::main_with("calculator-client", binder_examples::calculator::client)
}
