//! `binderd`: serves an instance in the foreground (with its service manager), refuses a second
//! one under the same name, and exits when idle.

use std::time::{Duration, Instant};

use binder_rt::DriverSpec;
use binder_testkit::Launcher;

#[test]
fn binderd_serves_in_the_foreground_and_exits_when_idle() {
    let name = format!("t-binderd-{}", std::process::id());
    let spec = DriverSpec::Userspace(name.clone());
    let bin = env!("CARGO_BIN_EXE_binderd");
    let mut child = Launcher::new(bin)
        .args(["--instance", &name, "--idle-exit-secs", "1"])
        .start()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !spec.is_available() {
        assert!(Instant::now() < deadline, "binderd did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A racing second driver loses at once.
    let second = Launcher::new(bin)
        .args(["--instance", &name])
        .output(Duration::from_secs(10))
        .unwrap();
    assert!(!second.status.success());
    assert!(second.stderr.contains("already running"), "{second:?}");
    // A process connection works; the driver is binderd itself.
    let state = binder_rt::introspect::state(&spec).unwrap();
    assert_eq!(state.driver_pid, child.pid());
    // Idle (its own service manager does not count): it exits.
    let status = child.wait_exit(Duration::from_secs(20)).unwrap();
    assert!(status.success(), "{}", child.context());
}
