//! `binder`: inspect and serve binder devices (see the `binder_cli` crate).

fn main() -> std::process::ExitCode {
    binder_cli::main()
}
