//! Runs inputs through a target without libFuzzer, e.g. to reproduce or trace a crash:
//! `cargo run --manifest-path fuzz/Cargo.toml --example run_one -- driver_commands FILE...`
//! (`BINDER_FUZZ_TRACE=1` prints what `driver_commands` does, `RUST_LOG=debug` the driver's log). A panic in any thread aborts.

fn main() {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        std::process::abort();
    }));
    let mut args = std::env::args().skip(1);
    let target = args.next().expect("usage: run_one TARGET FILE...");
    let run: fn(&[u8]) = match target.as_str() {
        "parcel_read" => binder_fuzz::parcel_read::run,
        "dispatch" => binder_fuzz::dispatch::run,
        "driver_commands" => binder_fuzz::driver::run,
        other => panic!("unknown target {other}"),
    };
    for path in args {
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        eprintln!("running {path} ({} bytes)", data.len());
        run(&data);
    }
    if target == "driver_commands" && std::env::var_os("BINDER_FUZZ_STATS").is_some() {
        println!("{}", binder_fuzz::driver::stats_json());
    }
    eprintln!("done");
}
