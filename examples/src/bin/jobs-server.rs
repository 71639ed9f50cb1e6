//! The jobs server: an async service on tokio; registers with the service manager and serves
//! until it is killed. See `binder_examples::jobs`.

fn main() {
    binder_examples::main_with("jobs-server", |args| {
        binder_examples::jobs::server(args, binder_examples::support::Serve::Forever)
    })
}
