//! Prints the syntax tree of each `.aidl` file given, or its diagnostics:
//! `cargo run -p binder-aidl --example dump -- path/to/IFoo.aidl`.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut status = ExitCode::SUCCESS;
    for arg in std::env::args().skip(1) {
        let path = Path::new(&arg);
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) => {
                eprintln!("{arg}: {err}");
                status = ExitCode::FAILURE;
                continue;
            }
        };
        match binder_aidl::parse(path, &text) {
            Ok(doc) => println!("{doc:#?}"),
            Err(diagnostics) => {
                for d in diagnostics {
                    eprintln!("{d}");
                }
                status = ExitCode::FAILURE;
            }
        }
    }
    status
}
