//! `binderd`: serves an instance in the foreground (with its service manager), refuses a second
//! one under the same name, and exits when idle.

use std::time::{Duration, Instant};

use binder_rt::DriverSpec;
use binder_testkit::Launcher;

/// Waits up to 10 s for `cond`; fails the test with `what` otherwise.
fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn binderd_serves_in_the_foreground_and_exits_when_idle() {
    let name = format!("t-binderd-{}", std::process::id());
    let spec = DriverSpec::Userspace(name.clone());
    let bin = env!("CARGO_BIN_EXE_binderd");
    let mut child = Launcher::new(bin)
        .args(["--instance", &name, "--idle-exit-secs", "1"])
        .start()
        .unwrap();
    wait_until("binderd did not start", || spec.is_available());
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

/// The driver dies (`kill -9`) while a process's threads sleep on their mailboxes waiting for
/// work: they notice within seconds (the driver's end of each thread connection closes) and
/// the process ends instead of sleeping forever.
#[test]
fn processes_notice_a_driver_killed_while_they_wait() {
    let name = format!("t-binderd-kill-{}", std::process::id());
    let spec = DriverSpec::Userspace(name.clone());
    let mut driver = Launcher::new(env!("CARGO_BIN_EXE_binderd"))
        .args(["--instance", &name, "--no-servicemanager"])
        .start()
        .unwrap();
    wait_until("binderd did not start", || spec.is_available());
    let mut sm = Launcher::new(env!("CARGO_BIN_EXE_servicemanager"))
        .device(Some(&format!("userspace:{name}")))
        .start()
        .unwrap();
    // The service manager is up when the driver shows it as the context manager.
    wait_until("the service manager did not start", || {
        binder_rt::introspect::state(&spec)
            .ok()
            .and_then(|s| s.context_manager)
            .is_some()
    });
    std::thread::sleep(Duration::from_millis(200));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(driver.pid() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let _ = driver.wait_exit(Duration::from_secs(10));
    let started = Instant::now();
    sm.wait_exit(Duration::from_secs(15))
        .unwrap_or_else(|e| panic!("the service manager still waits on a dead driver: {e}"));
    assert!(started.elapsed() < Duration::from_secs(15));
}
