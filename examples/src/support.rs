//! What every example does the same way: report a line, register and serve, find a service,
//! name threads and durations.

use std::fmt::Display;
use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use binder_rt::{FromIBinder, ProcessState, SpIBinder, Status, StatusCode, Strong};

/// The role that runs a service manager (for a kernel binder device that has none).
pub const SERVICE_MANAGER_ROLE: &str = "servicemanager";

/// Prints one report line and flushes it: stdout is how the demo and the tests follow a role.
pub fn say(line: impl Display) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The calling thread's kernel thread id.
pub fn gettid() -> i32 {
    nix::unistd::gettid().as_raw()
}

/// This process's id.
pub fn pid() -> i32 {
    std::process::id() as i32
}

/// `85 µs`, `1.25 ms`, `3.40 s`.
pub fn fmt_duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 1e6 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// `Status`/`StatusCode` (or any error) as a role's error message.
pub fn st(e: impl Display) -> String {
    e.to_string()
}

/// Fails with `what` unless `cond` holds.
pub fn check(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

/// Whether a call failed because its target died.
pub fn is_dead_object(status: &Status) -> bool {
    status.transaction_error() == StatusCode::DeadObject
}

/// How a server runs once it is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serve {
    /// Serves until the process is killed (the `<pair>-server` binaries).
    Forever,
    /// Serves until stdin says `exit` or closes (servers run as roles by the demo and tests).
    UntilStdinCloses,
}

/// Starts the thread pool, registers `binder` as `name` with the service manager, reports
/// `ready: ...`, then serves as `serve` says.
pub fn register_and_serve(name: &str, binder: SpIBinder, serve: Serve) -> Result<(), String> {
    let ps = ProcessState::try_get().map_err(st)?;
    // The pool first: the service manager may call us as soon as we are registered.
    ProcessState::start_thread_pool().map_err(st)?;
    let t0 = Instant::now();
    binder_rt::add_service(name, binder)
        .map_err(|e| format!("cannot register {name:?} with the service manager: {e}"))?;
    say(format!(
        "ready: registered {name:?} with the service manager of {} in {}; serving on the binder thread pool (pid {})",
        ps.driver_spec(),
        fmt_duration(t0.elapsed()),
        pid()
    ));
    match serve {
        Serve::Forever => ProcessState::join_thread_pool().map_err(st),
        Serve::UntilStdinCloses => {
            for line in std::io::stdin().lock().lines() {
                match line {
                    Ok(l) if l.trim() == "exit" => break,
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            Ok(())
        }
    }
}

/// The service registered as `name`, typed; when it is not registered yet, reports
/// `waiting: ...` and waits until it is (the service manager notifies us: no polling). Reports
/// `found: ...`. `server` names the binary that registers it, for the messages.
pub fn find<I: FromIBinder + ?Sized>(name: &str, server: &str) -> Result<Strong<I>, String> {
    let ps = ProcessState::try_get().map_err(st)?;
    let t0 = Instant::now();
    let service = match binder_rt::get_interface::<I>(name) {
        Ok(service) => service,
        Err(e) if e.transaction_error() == StatusCode::NameNotFound => {
            say(format!(
                "waiting: {name:?} is not registered yet on {} (start {server})",
                ps.driver_spec()
            ));
            binder_rt::wait_for_interface::<I>(name)
                .map_err(|e| format!("waiting for {name:?} failed: {e}"))?
        }
        Err(e) => return Err(format!("cannot get {name:?} from the service manager: {e}")),
    };
    say(format!(
        "found: {name:?} through the service manager of {} in {}",
        ps.driver_spec(),
        fmt_duration(t0.elapsed())
    ));
    Ok(service)
}

/// The `servicemanager` role: runs the service manager (`binder_rt`'s, as the context manager)
/// until it is killed (it waits while a kernel device's previous context manager is released).
pub fn service_manager(_: &[String]) -> Result<(), String> {
    binder_rt::service_manager::server::run()
        .map_err(|e| format!("cannot run the service manager: {e}"))
}

/// Parses the `i`-th argument, or returns `default` when there is none.
pub fn arg<T: std::str::FromStr>(
    args: &[String],
    i: usize,
    what: &str,
    default: T,
) -> Result<T, String> {
    match args.get(i) {
        None => Ok(default),
        Some(a) => a.parse().map_err(|_| format!("bad {what} {a:?}")),
    }
}
