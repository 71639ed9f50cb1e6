//! The deathwatch client. See `binder_examples::deathwatch`.

fn main() {
    binder_examples::main_with("deathwatch-client", binder_examples::deathwatch::client)
}
