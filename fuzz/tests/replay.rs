//! Replays the checked-in corpus and the regression inputs through the fuzz targets, without
//! libFuzzer (`cargo test --manifest-path fuzz/Cargo.toml`): a quick check that the targets
//! build and that no known input crashes. Every failing input is listed. A panic in a thread
//! other than the replaying one (a driver thread) aborts, as under libFuzzer; so does a stack
//! overflow.

use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Once;

thread_local! {
    static REPLAYING: Cell<bool> = const { Cell::new(false) };
}

fn abort_on_foreign_panic() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            default(info);
            if !REPLAYING.with(Cell::get) {
                std::process::abort();
            }
        }));
    });
}

fn replay(target: &str, run: fn(&[u8])) {
    abort_on_foreign_panic();
    REPLAYING.with(|r| r.set(true));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (mut n, mut failed) = (0, Vec::new());
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let data = std::fs::read(&path).unwrap();
            if std::panic::catch_unwind(AssertUnwindSafe(|| run(&data))).is_err() {
                failed.push(path.display().to_string());
            }
            n += 1;
        }
    }
    assert!(n > 0, "no inputs for {target}");
    assert!(
        failed.is_empty(),
        "{target} fails on:\n{}",
        failed.join("\n")
    );
}

#[test]
fn parcel_read() {
    replay("parcel_read", binder_fuzz::parcel_read::run);
}

#[test]
fn dispatch() {
    replay("dispatch", binder_fuzz::dispatch::run);
}

#[test]
fn driver_commands() {
    replay("driver_commands", binder_fuzz::driver::run);
}
