//! The calculator server: registers with the service manager and serves until it is killed.
//! See `binder_examples::calculator`.

fn main() {
    binder_examples::main_with("calculator-server", |args| {
        binder_examples::calculator::server(args, binder_examples::support::Serve::Forever)
    })
}
