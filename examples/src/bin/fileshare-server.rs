//! The fileshare server: registers with the service manager and serves until it is killed.
//! See `binder_examples::fileshare`.

fn main() {
    binder_examples::main_with("fileshare-server", |args| {
        binder_examples::fileshare::server(args, binder_examples::support::Serve::Forever)
    })
}
