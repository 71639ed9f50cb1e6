//! The callbacks server: registers with the service manager and serves until it is killed.
//! See `binder_examples::callbacks`.

fn main() {
    binder_examples::main_with("callbacks-server", |args| {
        binder_examples::callbacks::server(args, binder_examples::support::Serve::Forever)
    })
}
