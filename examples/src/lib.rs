//! Example client/server pairs that talk across processes through binder.
//!
//! Each pair is a module with its interface (`#[binder_interface]`), its server and its client:
//!
//! | Pair | Shows |
//! |---|---|
//! | [`calculator`] | plain calls, a `#[oneway]` call, a service-specific error reaching the client |
//! | [`callbacks`] | a listener object passed to the server and called back, with a nested call from inside the callback on the same thread |
//! | [`fileshare`] | a file descriptor (a sealed memfd) and a 512 KiB payload read in place, copied once |
//! | [`deathwatch`] | a death notification when the server is killed |
//! | [`jobs`] | async on tokio: a service written with `async fn`, a client awaiting many calls at once |
//!
//! The binaries `<pair>-server` and `<pair>-client` run them by hand (start the server, then the
//! client, in two terminals). The same server and client functions are *roles*: the `demo`
//! binary re-executes itself to run each one as a separate process, and so do the tests.
//!
//! A role reports what happens as lines on stdout (`ready: ...`, `add(1, 2) = 3 ...`,
//! `done: ...`); a server started as a role serves until its stdin says `exit` or closes.

#![deny(missing_docs)]

pub mod calculator;
pub mod callbacks;
pub mod deathwatch;
pub mod fileshare;
pub mod jobs;
pub mod support;

/// A role: one side of a pair, run in its own process with its arguments.
pub type RoleFn = fn(&[String]) -> Result<(), String>;

/// Every role by name, for the demo and the tests. Servers started as roles serve until their
/// stdin says `exit` or closes; the `<pair>-server` binaries serve until they are killed.
pub const ROLES: &[(&str, RoleFn)] = &[
    ("calculator-server", |a| {
        calculator::server(a, support::Serve::UntilStdinCloses)
    }),
    ("calculator-client", calculator::client),
    ("callbacks-server", |a| {
        callbacks::server(a, support::Serve::UntilStdinCloses)
    }),
    ("callbacks-client", callbacks::client),
    ("fileshare-server", |a| {
        fileshare::server(a, support::Serve::UntilStdinCloses)
    }),
    ("fileshare-client", fileshare::client),
    ("deathwatch-server", |a| {
        deathwatch::server(a, support::Serve::UntilStdinCloses)
    }),
    ("deathwatch-client", deathwatch::client),
    ("jobs-server", |a| {
        jobs::server(a, support::Serve::UntilStdinCloses)
    }),
    ("jobs-client", jobs::client),
    (support::SERVICE_MANAGER_ROLE, support::service_manager),
];

/// Runs the role `name` with `args`; returns the process exit code (0 on success, 1 when the
/// role failed, 2 for an unknown role). Errors are printed to stderr.
pub fn run_role(name: &str, args: &[String]) -> i32 {
    let Some((_, role)) = ROLES.iter().find(|(n, _)| *n == name) else {
        eprintln!("{name}: no such role");
        return 2;
    };
    exit_code(name, role(args))
}

/// The `main` of a `<pair>-server` or `<pair>-client` binary: runs `body` with the command
/// line arguments and exits with its outcome.
pub fn main_with(name: &str, body: impl FnOnce(&[String]) -> Result<(), String>) -> ! {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(exit_code(name, body(&args)))
}

fn exit_code(name: &str, result: Result<(), String>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{name}: error: {e}");
            1
        }
    }
}
