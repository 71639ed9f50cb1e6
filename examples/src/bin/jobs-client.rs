//! The jobs client: awaits many calls at once from a two-worker tokio runtime. See
//! `binder_examples::jobs`.

fn main() {
    binder_examples::main_with("jobs-client", binder_examples::jobs::client)
}
