//! The deathwatch server: registers with the service manager and serves until it is killed.
//! See `binder_examples::deathwatch`.

fn main() {
    binder_examples::main_with("deathwatch-server", |args| {
        binder_examples::deathwatch::server(args, binder_examples::support::Serve::Forever)
    })
}
