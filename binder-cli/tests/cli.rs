//! The `binder` tool against real binder processes, on the userspace driver (default) and on
//! Linux's driver (`BINDER_TEST_DRIVER=kernel`, see scripts/kernel-tests). Each test gets its
//! own driver instance or kernel device (binder-testkit), starts roles of this binary that
//! register and call services, and runs the built `binder` binary against them.

use std::process::ExitStatus;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use binder_rt::{DriverSpec, ProcessState, binder_interface};
use binder_testkit::{
    Launcher, Process, TestBinder, fields, kernel_driver, next_command, patience, report,
};

const BINDER: &str = env!("CARGO_BIN_EXE_binder");
const SERVICEMANAGER: &str = env!("CARGO_BIN_EXE_servicemanager");

#[binder_interface(descriptor = "binder.cli.test.IEcho")]
pub trait IEcho {
    fn echo(&self, text: &str) -> binder_rt::Result<String>;
    /// Returns once the service's orchestrator sends "release" (a call that stays in flight).
    fn hold(&self) -> binder_rt::Result<()>;
}

const SERVICE: &str = "cli.test.echo";
const DESCRIPTOR: &str = "binder.cli.test.IEcho";
const SERVICE_MANAGER: &str = "android.os.IServiceManager";

// ---- roles ----------------------------------------------------------------------------------

struct Echo;

/// Opened by "release" on the service's stdin; `hold` waits for it.
static GATE: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());

impl IEcho for Echo {
    fn echo(&self, text: &str) -> binder_rt::Result<String> {
        Ok(text.to_owned())
    }
    fn hold(&self) -> binder_rt::Result<()> {
        let (open, cv) = &GATE;
        let guard = open.lock().unwrap_or_else(|e| e.into_inner());
        let _ = cv.wait_timeout_while(guard, patience() * 2, |open| !*open);
        Ok(())
    }
}

/// Registers an `IEcho` as `args[0]`, prints `READY pid=N`, serves until "exit".
fn role_service(args: &[String]) -> Result<(), String> {
    let name = args.first().map_or(SERVICE, String::as_str);
    ProcessState::start_thread_pool().map_err(|e| e.to_string())?;
    let svc = BnEcho::new_binder(Echo);
    binder_rt::add_service(name, svc.as_binder()).map_err(|e| e.to_string())?;
    report(format!("READY pid={}", std::process::id()));
    while let Some(cmd) = next_command() {
        match cmd.as_str() {
            "exit" => break,
            "release" => {
                *GATE.0.lock().unwrap_or_else(|e| e.into_inner()) = true;
                GATE.1.notify_all();
            }
            _ => {}
        }
    }
    Ok(())
}

/// Calls `hold` on `args[0]` (reporting `CALLING tid=N` first, `RETURNED` after).
fn role_holder(args: &[String]) -> Result<(), String> {
    let name = args.first().map_or(SERVICE, String::as_str);
    let echo = binder_rt::get_interface::<dyn IEcho>(name).map_err(|e| e.to_string())?;
    report(format!("CALLING tid={}", nix::unistd::gettid()));
    echo.hold().map_err(|e| e.to_string())?;
    report("RETURNED");
    Ok(())
}

/// Looks up `args[0]` by name, calls it, prints `ECHO text`, stays connected until "exit".
fn role_client(args: &[String]) -> Result<(), String> {
    let name = args.first().map_or(SERVICE, String::as_str);
    let echo = binder_rt::get_interface::<dyn IEcho>(name).map_err(|e| e.to_string())?;
    for i in 0..3 {
        let got = echo
            .echo(&format!("hello {i}"))
            .map_err(|e| e.to_string())?;
        if got != format!("hello {i}") {
            return Err(format!("echo returned {got:?}"));
        }
    }
    report(format!("ECHO hello pid={}", std::process::id()));
    while let Some(cmd) = next_command() {
        if cmd == "exit" {
            break;
        }
    }
    Ok(())
}

// ---- running the tool -----------------------------------------------------------------------

/// What a run of the tool printed.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    what: String,
}

impl Run {
    fn context(&self) -> String {
        format!(
            "`{}` exited with {}\n--- stdout:\n{}--- stderr:\n{}",
            self.what, self.status, self.stdout, self.stderr
        )
    }

    fn ok(self) -> Result<Run, String> {
        if self.status.success() && !self.stderr.contains("panicked") {
            Ok(self)
        } else {
            Err(format!("expected success: {}", self.context()))
        }
    }

    /// Expects failure with exactly one line on stderr, no panic or backtrace.
    fn fails(self) -> Result<Run, String> {
        if self.status.success() || self.status.code().is_none() {
            return Err(format!("expected a non-zero exit: {}", self.context()));
        }
        if self.stderr.lines().count() != 1
            || self.stderr.contains("panicked")
            || self.stderr.contains("backtrace")
        {
            return Err(format!(
                "expected one line of error on stderr: {}",
                self.context()
            ));
        }
        Ok(self)
    }
}

fn check(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

/// Runs `exe args` with `BINDER_DEVICE=device` (or unset), bounded by the test patience.
fn run_exe(exe: &str, device: Option<&str>, args: &[&str]) -> Result<Run, String> {
    run_exe_as(exe, device, args, None)
}

/// [`run_exe`] as another user (uid and gid `uid`).
fn run_exe_as(
    exe: &str,
    device: Option<&str>,
    args: &[&str],
    uid: Option<u32>,
) -> Result<Run, String> {
    let what = format!(
        "BINDER_DEVICE={} {} {}",
        device.unwrap_or("(unset)"),
        exe.rsplit('/').next().unwrap_or(exe),
        args.join(" ")
    );
    let launcher = Launcher::new(exe)
        .args(args)
        .env_remove("RUST_LOG")
        .device(device);
    let launcher = match uid {
        Some(uid) => launcher.uid(uid),
        None => launcher,
    };
    let out = launcher
        .output(patience())
        .map_err(|e| format!("`{what}`: {e}"))?;
    Ok(Run {
        status: out.status,
        stdout: out.stdout,
        stderr: out.stderr,
        what,
    })
}

fn binder(device: &str, args: &[&str]) -> Result<Run, String> {
    run_exe(BINDER, Some(device), args)
}

/// A long-running child (`binder driver`, `binder servicemanager`) logging at `info`, killed
/// when dropped.
fn daemon(exe: &str, device: Option<&str>, args: &[&str]) -> Result<Process, String> {
    Launcher::new(exe)
        .args(args)
        .env("RUST_LOG", "info")
        .device(device)
        .start()
}

/// Waits until `cond` holds.
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + patience();
    while !cond() {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting until {what}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// The userspace instance name of a test device (`userspace:NAME`).
fn instance_of(t: &TestBinder) -> Result<String, String> {
    t.device()
        .strip_prefix("userspace:")
        .map(str::to_owned)
        .ok_or_else(|| format!("{} is not a userspace device", t.device()))
}

/// Starts `binder driver` for the test's userspace instance and waits until it listens.
fn start_driver(t: &TestBinder, extra: &[&str]) -> Result<Process, String> {
    let instance = instance_of(t)?;
    let mut args = vec!["driver", "--instance", instance.as_str()];
    args.extend_from_slice(extra);
    let mut d = daemon(BINDER, None, &args)?;
    d.expect_stderr("binder driver listening")?;
    let spec = DriverSpec::Userspace(instance);
    wait_until("the driver accepts connections", || spec.is_available())?;
    Ok(d)
}

fn skip(reason: &str) -> Result<(), String> {
    println!("skipped: {reason}");
    Ok(())
}

/// The cells of the table line of `out` whose first cell is `first`.
fn row<'a>(out: &'a str, first: &str) -> Option<Vec<&'a str>> {
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|cells| cells.first() == Some(&first))
}

/// The value of a `COUNTER VALUE` row in a dump.
fn counter(out: &str, name: &str) -> Option<u64> {
    row(out, name).and_then(|cells| cells.get(1)?.parse().ok())
}

// ---- tests ----------------------------------------------------------------------------------

fn list_shows_services_with_descriptor_and_pid() -> Result<(), String> {
    let t = TestBinder::new("list")?;
    let mut svc = t.spawn("service", &[SERVICE])?;
    let pid = fields(&svc.expect("READY")?)["pid"].clone();

    let run = binder(t.device(), &["list"])?.ok()?;
    let cells = row(&run.stdout, SERVICE)
        .ok_or_else(|| format!("{SERVICE} not listed: {}", run.context()))?;
    check(cells == [SERVICE, DESCRIPTOR, pid.as_str()], || {
        format!("expected `{SERVICE} {DESCRIPTOR} {pid}`: {}", run.context())
    })?;
    check(run.stdout.starts_with("NAME"), || {
        format!("expected a header line: {}", run.context())
    })?;

    // JSON, and --device overriding BINDER_DEVICE.
    let run = run_exe(
        BINDER,
        Some("userspace:cli-test-not-this-one"),
        &["--device", t.device(), "list", "--json"],
    )?
    .ok()?;
    let entries: serde_json::Value = serde_json::from_str(&run.stdout)
        .map_err(|e| format!("bad JSON ({e}): {}", run.context()))?;
    let entry = entries
        .as_array()
        .and_then(|a| a.iter().find(|e| e["name"] == SERVICE))
        .ok_or_else(|| format!("{SERVICE} not in JSON: {}", run.context()))?;
    check(
        entry["interface"] == DESCRIPTOR
            && entry["pid"].as_u64().map(|p| p.to_string()) == Some(pid.clone()),
        || format!("wrong JSON entry {entry}: {}", run.context()),
    )?;
    svc.send("exit")?;
    svc.finish()
}

/// The service manager lists itself as "manager" (as Android's does) and answers a ping.
fn the_service_manager_is_listed_as_manager_and_answers() -> Result<(), String> {
    let t = TestBinder::new("manager")?;
    // The first program on a userspace instance starts the driver and its service manager.
    let mut svc = t.spawn("service", &[SERVICE])?;
    svc.expect("READY")?;
    let run = binder(t.device(), &["list"])?.ok()?;
    let cells = row(&run.stdout, "manager")
        .ok_or_else(|| format!("manager not listed: {}", run.context()))?;
    check(cells.get(1) == Some(&SERVICE_MANAGER), || run.context())?;
    check(row(&run.stdout, SERVICE).is_some(), || run.context())?;
    let run = binder(t.device(), &["ping", "manager"])?.ok()?;
    check(run.stdout.starts_with("ping manager: time="), || {
        run.context()
    })?;
    svc.send("exit")?;
    svc.finish()
}

fn ping_times_a_service_and_rejects_unknown_names() -> Result<(), String> {
    let t = TestBinder::new("ping")?;
    let mut svc = t.spawn("service", &[SERVICE])?;
    svc.expect("READY")?;

    let run = binder(t.device(), &["ping", SERVICE])?.ok()?;
    let line = run.stdout.trim();
    check(
        line.starts_with(&format!("ping {SERVICE}: time=")) && line.ends_with(" ms"),
        || format!("unexpected ping output: {}", run.context()),
    )?;

    let run = binder(t.device(), &["ping", "-c", "3", SERVICE])?.ok()?;
    check(
        run.stdout.lines().count() == 4
            && run.stdout.contains("seq=3")
            && run.stdout.contains("3 pings: min/avg/max = "),
        || format!("unexpected ping -c 3 output: {}", run.context()),
    )?;

    let run = binder(t.device(), &["ping", "no.such.service"])?.fails()?;
    check(
        run.stderr == "binder: no service named \"no.such.service\"\n" && run.stdout.is_empty(),
        || format!("unexpected error: {}", run.context()),
    )?;
    check(run.status.code() == Some(1), || run.context())?;
    svc.send("exit")?;
    svc.finish()
}

fn dump_shows_processes_and_counters() -> Result<(), String> {
    let t = TestBinder::new("dump")?;
    let mut svc = t.spawn("service", &[SERVICE])?;
    let svc_pid = fields(&svc.expect("READY")?)["pid"].clone();
    let mut client = t.spawn("client", &[SERVICE])?;
    let client_pid = fields(&client.expect("ECHO")?)["pid"].clone();

    if t.is_kernel() {
        let run = binder(t.device(), &["dump"])?;
        if !run.status.success() {
            // Not root, or no debugfs: the tool must say so in one line.
            let run = run.fails()?;
            check(
                run.stderr
                    .starts_with("binder: cannot read the kernel binder driver's state: "),
                || format!("unclear error: {}", run.context()),
            )?;
            println!("kernel debugfs not readable here: {}", run.stderr.trim());
        } else {
            let out = &run.stdout;
            for needle in [
                "binder driver: Linux kernel, device ",
                "PROCESSES",
                "THREADS",
                "NODES",
                "REFS",
                "TRANSACTIONS IN FLIGHT",
                "COUNTERS (all binder devices of the kernel)",
                "bytes_copied",
                "n/a (the kernel driver does not count this)",
                "BC_TRANSACTION",
            ] {
                check(out.contains(needle), || {
                    format!("dump lacks {needle:?}: {}", run.context())
                })?;
            }
            for pid in [&svc_pid, &client_pid] {
                check(row(out, pid).is_some(), || {
                    format!("process {pid} not in the dump: {}", run.context())
                })?;
            }
            check(counter(out, "transactions").is_some_and(|n| n > 0), || {
                format!("no transactions counted: {}", run.context())
            })?;
        }
        // JSON on the kernel: stats and the raw state, or what is unavailable.
        let run = binder(t.device(), &["dump", "--json"])?;
        if run.status.success() {
            let doc: serde_json::Value = serde_json::from_str(&run.stdout)
                .map_err(|e| format!("bad JSON ({e}): {}", run.context()))?;
            check(doc["driver"] == "kernel", || run.context())?;
        }
    } else {
        let run = binder(t.device(), &["dump"])?.ok()?;
        let out = &run.stdout;
        for needle in [
            "binder driver: userspace instance ",
            "context manager: pid ",
            "PROCESSES",
            "THREADS",
            "NODES",
            "REFS",
            "BUFFERS IN USE",
            "TRANSACTIONS IN FLIGHT",
            "OBJECTS",
            "BC_TRANSACTION",
            "BR_REPLY",
        ] {
            check(out.contains(needle), || {
                format!("dump lacks {needle:?}: {}", run.context())
            })?;
        }
        for pid in [&svc_pid, &client_pid] {
            let cells = row(out, pid)
                .ok_or_else(|| format!("process {pid} not in the dump: {}", run.context()))?;
            // PID COMMAND UID THREADS ...: the service has a node, the client a ref to it.
            check(cells.len() >= 10, || {
                format!("short process row {cells:?}: {}", run.context())
            })?;
        }
        // The client made three calls: at least that many transactions and replies.
        for name in ["transactions", "replies", "bytes_copied"] {
            check(counter(out, name).is_some_and(|n| n >= 3), || {
                format!("counter {name} < 3: {}", run.context())
            })?;
        }
        let copied = counter(out, "bytes_copied").unwrap_or(0);
        let arena = counter(out, "bytes_copied_arena").unwrap_or(0);
        let vm = counter(out, "bytes_copied_vm").unwrap_or(0);
        check(copied == arena + vm, || {
            format!("bytes_copied != arena + vm: {}", run.context())
        })?;
        for name in ["oneway", "failed", "fds_passed", "lock_contended"] {
            check(counter(out, name).is_some(), || {
                format!("no counter {name}: {}", run.context())
            })?;
        }

        let run = binder(t.device(), &["dump", "--json"])?.ok()?;
        let doc: serde_json::Value = serde_json::from_str(&run.stdout)
            .map_err(|e| format!("bad JSON ({e}): {}", run.context()))?;
        let pids: Vec<String> = doc["state"]["processes"]
            .as_array()
            .map(|a| a.iter().map(|p| p["pid"].to_string()).collect())
            .unwrap_or_default();
        check(
            pids.contains(&svc_pid) && pids.contains(&client_pid),
            || format!("processes {pids:?} in JSON: {}", run.context()),
        )?;
        check(doc["stats"]["transactions"].as_u64() >= Some(3), || {
            run.context()
        })?;
    }
    client.send("exit")?;
    client.finish()?;
    svc.send("exit")?;
    svc.finish()
}

/// A call that is being handled shows in the dump's transactions, from the caller's thread to
/// the service's, with its code.
fn dump_shows_a_transaction_in_flight() -> Result<(), String> {
    let t = TestBinder::new("inflight")?;
    let mut svc = t.spawn("service", &[SERVICE])?;
    let svc_pid = fields(&svc.expect("READY")?)["pid"].clone();
    let mut holder = t.spawn("holder", &[SERVICE])?;
    let tid = fields(&holder.expect("CALLING")?)["tid"].clone();
    let from = format!("{}:{tid}", holder.pid());
    // `hold` is the second method: FIRST_CALL_TRANSACTION + 1.
    let code = format!("{:#x}", binder_rt::binder_impl::FIRST_CALL_TRANSACTION + 1);
    let mut last = None;
    let found = wait_until("the call shows in the dump", || {
        let Ok(run) = binder(t.device(), &["dump"]) else {
            return false;
        };
        let seen = run.status.success()
            && run
                .stdout
                .split("TRANSACTIONS IN FLIGHT")
                .nth(1)
                .is_some_and(|section| {
                    section.lines().any(|l| {
                        let cells: Vec<&str> = l.split_whitespace().collect();
                        cells.get(1) == Some(&from.as_str())
                            && cells.get(2).is_some_and(|to| to.starts_with(&svc_pid))
                            && cells.get(3) == Some(&code.as_str())
                    })
                });
        last = Some(run);
        seen
    });
    if found.is_err() && t.is_kernel() && last.as_ref().is_some_and(|r| !r.status.success()) {
        println!("kernel debugfs not readable here; the transaction cannot be seen");
    } else if let Err(e) = found {
        return Err(format!(
            "{e}: no transaction {from} -> {svc_pid} code {code}: {}",
            last.map_or_else(String::new, |r| r.context())
        ));
    }
    svc.send("release")?;
    holder.expect("RETURNED")?;
    holder.finish()?;
    svc.send("exit")?;
    svc.finish()
}

fn help_for_every_subcommand() -> Result<(), String> {
    let cases: [(&[&str], &str); 7] = [
        (&["--help"], "Usage: binder [OPTIONS] <COMMAND>"),
        (&["list", "--help"], "Usage: binder list"),
        (&["ping", "--help"], "Usage: binder ping [OPTIONS] <NAME>"),
        (&["dump", "--help"], "Usage: binder dump"),
        (&["driver", "--help"], "--no-servicemanager"),
        (
            &["servicemanager", "--help"],
            "Usage: binder servicemanager",
        ),
        (&["help", "dump"], "Usage: binder dump"),
    ];
    for (args, needle) in cases {
        let run = run_exe(BINDER, None, args)?.ok()?;
        check(run.stdout.contains(needle), || {
            format!("help lacks {needle:?}: {}", run.context())
        })?;
        check(run.stdout.contains("--device <DEVICE>"), || {
            format!("help lacks --device: {}", run.context())
        })?;
    }
    let run = run_exe(SERVICEMANAGER, None, &["--help"])?.ok()?;
    check(run.stdout.contains("Usage: servicemanager"), || {
        run.context()
    })?;
    // A usage error: clap's message and exit status 2, no panic.
    let run = run_exe(BINDER, None, &["frobnicate"])?;
    check(
        run.status.code() == Some(2) && run.stderr.contains("unrecognized subcommand"),
        || run.context(),
    )?;
    Ok(())
}

fn no_driver_running_is_reported_and_nothing_is_started() -> Result<(), String> {
    let name = format!("cli-absent-{}", std::process::id());
    let device = format!("userspace:{name}");
    let spec = DriverSpec::Userspace(name.clone());
    check(!spec.is_available(), || format!("{device} is running"))?;
    let expected = format!(
        "binder: no binder driver running (userspace instance \"{name}\"); start one with \"binder driver --instance {name}\" or run a binder program\n"
    );
    for args in [
        &["list"][..],
        &["list", "--json"],
        &["ping", SERVICE],
        &["dump"],
        &["dump", "--json"],
        &["servicemanager"],
    ] {
        let run = binder(&device, args)?.fails()?;
        check(run.stderr == expected, || {
            format!("expected {expected:?}: {}", run.context())
        })?;
        check(!spec.is_available(), || {
            format!("`{}` started a driver", run.what)
        })?;
    }
    // An auto-started driver would have been listening before the tool returned; look once more
    // in case one was still coming up.
    std::thread::sleep(Duration::from_millis(300));
    check(!spec.is_available(), || {
        format!("a driver for {device} got started")
    })?;
    let servicemanager = run_exe(SERVICEMANAGER, Some(&device), &[])?.fails()?;
    check(
        servicemanager.stderr == expected.replacen("binder:", "servicemanager:", 1),
        || servicemanager.context(),
    )?;

    // A device node that does not exist.
    let run = binder("/dev/cli-test-no-such-binder", &["list"])?.fails()?;
    check(
        run.stderr.starts_with(
            "binder: no binder driver running: /dev/cli-test-no-such-binder does not exist",
        ),
        || run.context(),
    )?;
    // A file that is not a binder device: opening it fails cleanly.
    let run = binder("/dev/null", &["ping", SERVICE])?.fails()?;
    check(
        run.stderr
            .starts_with("binder: cannot open binder device /dev/null: ")
            || run
                .stderr
                .starts_with("binder: permission denied opening /dev/null"),
        || run.context(),
    )?;
    Ok(())
}

/// Permission problems are one clear line: a device node the user cannot open, and (on Linux's
/// driver) debugfs, which only root can read.
fn permission_denied_is_reported() -> Result<(), String> {
    let root = nix::unistd::geteuid().is_root();
    // Root bypasses file modes: check as nobody then.
    let (mode, user) = if root {
        (0o600, Some(65534))
    } else {
        (0o000, None)
    };
    let node = format!("/tmp/cli-test-binder-{}", std::process::id());
    std::fs::write(&node, b"").map_err(|e| format!("create {node}: {e}"))?;
    std::fs::set_permissions(&node, std::os::unix::fs::PermissionsExt::from_mode(mode))
        .map_err(|e| e.to_string())?;
    let runs = ["list", "dump"]
        .iter()
        .map(|cmd| run_exe_as(BINDER, Some(&node), &[cmd], user))
        .collect::<Vec<_>>();
    let _ = std::fs::remove_file(&node);
    for run in runs {
        let run = run?.fails()?;
        check(
            run.stderr
                == format!(
                    "binder: permission denied opening {node} (it needs read and write access: run as root or get access to the device)\n"
                ),
            || run.context(),
        )?;
    }

    // debugfs, for the kernel driver: root only, or not there at all.
    let t = TestBinder::new("debugfs")?;
    if std::path::Path::new("/sys/kernel/debug/binder").exists() {
        if !t.is_kernel() || !root {
            return skip("the debugfs permission check needs the kernel driver and root");
        }
        let run = run_exe_as(BINDER, Some(t.device()), &["dump"], Some(65534))?.fails()?;
        check(
            run.stderr
                .starts_with("binder: cannot read the kernel binder driver's state: ")
                && run
                    .stderr
                    .contains("permission denied (debugfs is readable by root only)"),
            || run.context(),
        )?;
    } else {
        // Any device node passes for a kernel device here; the state is what is missing.
        let run = binder("/dev/null", &["dump"])?.fails()?;
        check(
            run.stderr.starts_with(
                "binder: cannot read the kernel binder driver's state: /sys/kernel/debug/binder/state does not exist: debugfs is not mounted",
            ),
            || run.context(),
        )?;
    }
    Ok(())
}

/// A service manager other than the device's: refused with a clear message.
fn second_service_manager_is_refused() -> Result<(), String> {
    let t = TestBinder::new("secondsm")?;
    // Make sure the device's own service manager is up (the userspace driver starts one with
    // its first process).
    let mut svc = t.spawn("service", &[SERVICE])?;
    svc.expect("READY")?;
    let run = binder(t.device(), &["servicemanager"])?.fails()?;
    check(
        run.stderr
            == format!(
                "binder: {} already has a context manager (another service manager is running)\n",
                t.device()
            ),
        || run.context(),
    )?;
    // The running one still serves.
    binder(t.device(), &["ping", SERVICE])?.ok()?;
    svc.send("exit")?;
    svc.finish()
}

/// `binder servicemanager` (and the `servicemanager` binary) on a device without one: on a
/// leased kernel device, or on a userspace driver started with --no-servicemanager.
fn servicemanager_serves_a_device_without_one() -> Result<(), String> {
    for exe in [BINDER, SERVICEMANAGER] {
        // Keeps the device (kernel) or driver (userspace) for this round.
        let (device, _lease, _driver, t);
        if kernel_driver() {
            let lease = binder_testkit::DeviceLease::acquire(Duration::from_secs(120))?;
            device = lease.device.clone();
            _lease = Some(lease);
            _driver = None;
            t = None;
        } else {
            let test = TestBinder::new("nosm")?;
            device = test.device().to_owned();
            _driver = Some(start_driver(&test, &["--no-servicemanager"])?);
            _lease = None;
            t = Some(test);
        }
        let _ = &t;

        // No service manager yet: list says so (and lists nothing), ping fails. (Once: on the
        // userspace driver each of these waits a few seconds for a service manager to start.)
        if exe == BINDER {
            let run = binder(&device, &["list"])?.ok()?;
            check(
                run.stdout.is_empty()
                    && run.stderr.starts_with("binder: no service manager on ")
                    && run.stderr.lines().count() == 1,
                || run.context(),
            )?;
            let run = binder(&device, &["list", "--json"])?.ok()?;
            check(run.stdout.trim() == "[]", || run.context())?;
            let run = binder(&device, &["ping", SERVICE])?.fails()?;
            check(
                run.stderr.starts_with("binder: no service manager on "),
                || run.context(),
            )?;
        }

        let args: &[&str] = if exe == BINDER {
            &["servicemanager"]
        } else {
            &[]
        };
        let mut sm = daemon(exe, Some(&device), args)?;
        sm.expect_stderr("service manager running")?;
        // It lists itself only, as "manager".
        let run = binder(&device, &["list"])?.ok()?;
        let sm_pid = sm.pid().to_string();
        check(
            run.stdout.lines().count() == 2
                && row(&run.stdout, "manager")
                    == Some(vec!["manager", SERVICE_MANAGER, sm_pid.as_str()])
                && run.stderr.is_empty(),
            || run.context(),
        )?;
        let run = binder(&device, &["ping", SERVICE])?.fails()?;
        check(
            run.stderr == format!("binder: no service named \"{SERVICE}\"\n"),
            || run.context(),
        )?;
        if let Some(t) = &t {
            // A program registers through it and is listed.
            let mut svc = t.spawn("service", &[SERVICE])?;
            let pid = fields(&svc.expect("READY")?)["pid"].clone();
            let run = binder(&device, &["list"])?.ok()?;
            check(
                row(&run.stdout, SERVICE) == Some(vec![SERVICE, DESCRIPTOR, pid.as_str()]),
                || run.context(),
            )?;
            let mut client = t.spawn("client", &[SERVICE])?;
            client.expect("ECHO")?;
            client.send("exit")?;
            client.finish()?;
            svc.send("exit")?;
            svc.finish()?;
        }
        sm.signal(nix::sys::signal::Signal::SIGTERM)?;
        sm.wait_exit(patience())?;
    }
    Ok(())
}

/// `binder driver --instance X` serves programs: one registers a service through it, another
/// looks it up and calls it; SIGTERM stops it.
fn driver_serves_programs_until_terminated() -> Result<(), String> {
    if kernel_driver() {
        return skip("`binder driver` runs the userspace driver; this run tests Linux's driver");
    }
    let t = TestBinder::new("driver")?;
    let mut driver = start_driver(&t, &[])?;
    let spec = DriverSpec::parse(t.device());
    let state = binder_rt::introspect::state(&spec).map_err(|e| e.to_string())?;
    check(state.driver_pid == driver.pid(), || {
        format!(
            "the driver answering is pid {}, not `binder driver` (pid {})",
            state.driver_pid,
            driver.pid()
        )
    })?;

    let mut svc = t.spawn("service", &[SERVICE])?;
    let svc_pid = fields(&svc.expect("READY")?)["pid"].clone();
    let mut client = t.spawn("client", &[SERVICE])?;
    client.expect("ECHO")?;
    let run = binder(t.device(), &["list"])?.ok()?;
    check(
        row(&run.stdout, SERVICE) == Some(vec![SERVICE, DESCRIPTOR, svc_pid.as_str()]),
        || run.context(),
    )?;
    // The service manager runs inside `binder driver` itself.
    let run = binder(t.device(), &["dump"])?.ok()?;
    check(
        run.stdout
            .contains(&format!("context manager: pid {}, ", driver.pid())),
        || run.context(),
    )?;

    // A second driver for the same instance is refused.
    let instance = instance_of(&t)?;
    let run = run_exe(BINDER, None, &["driver", "--instance", &instance])?.fails()?;
    check(
        run.stderr
            == format!(
                "binder: a userspace binder driver instance \"{instance}\" is already running\n"
            ),
        || run.context(),
    )?;

    driver.signal(nix::sys::signal::Signal::SIGTERM)?;
    let status = driver.wait_exit(patience())?;
    check(!status.success(), || {
        format!("driver exited with {status} on SIGTERM")
    })?;
    check(!spec.is_available(), || {
        "the instance still answers after SIGTERM".to_owned()
    })?;
    let log = driver.stderr_text();
    check(
        log.contains("binder driver listening") && log.contains("service manager running"),
        || format!("driver log:\n{log}"),
    )?;
    // Its programs see it gone: the service's process gets no more calls, the roles end.
    drop(client);
    drop(svc);
    Ok(())
}

/// `--idle-exit-secs`: the driver exits by itself once no program is connected (its own
/// service manager does not count), and `--device userspace:NAME` picks the instance.
fn driver_exits_when_idle() -> Result<(), String> {
    if kernel_driver() {
        return skip("`binder driver` runs the userspace driver; this run tests Linux's driver");
    }
    let t = TestBinder::new("idle")?;
    let mut driver = daemon(
        BINDER,
        None,
        &["--device", t.device(), "driver", "--idle-exit-secs", "1"],
    )?;
    driver.expect_stderr("binder driver listening")?;
    let spec = DriverSpec::parse(t.device());
    wait_until("the driver accepts connections", || spec.is_available())?;
    let mut svc = t.spawn("service", &[SERVICE])?;
    svc.expect("READY")?;
    // Busy while a program is connected.
    std::thread::sleep(Duration::from_millis(1500));
    check(driver.try_status().is_none(), || {
        format!(
            "driver exited with a program connected:\n{}",
            driver.stderr_text()
        )
    })?;
    svc.send("exit")?;
    svc.finish()?;
    let status = driver.wait_exit(patience())?;
    check(status.success(), || {
        format!("idle exit status {status}:\n{}", driver.stderr_text())
    })?;
    check(!spec.is_available(), || "still available".to_owned())
}

fn main() {
    binder_testkit::run(
        &[
            (
                "list_shows_services_with_descriptor_and_pid",
                list_shows_services_with_descriptor_and_pid,
            ),
            (
                "the_service_manager_is_listed_as_manager_and_answers",
                the_service_manager_is_listed_as_manager_and_answers,
            ),
            (
                "ping_times_a_service_and_rejects_unknown_names",
                ping_times_a_service_and_rejects_unknown_names,
            ),
            (
                "dump_shows_processes_and_counters",
                dump_shows_processes_and_counters,
            ),
            (
                "dump_shows_a_transaction_in_flight",
                dump_shows_a_transaction_in_flight,
            ),
            ("help_for_every_subcommand", help_for_every_subcommand),
            (
                "no_driver_running_is_reported_and_nothing_is_started",
                no_driver_running_is_reported_and_nothing_is_started,
            ),
            (
                "permission_denied_is_reported",
                permission_denied_is_reported,
            ),
            (
                "second_service_manager_is_refused",
                second_service_manager_is_refused,
            ),
            (
                "servicemanager_serves_a_device_without_one",
                servicemanager_serves_a_device_without_one,
            ),
            (
                "driver_serves_programs_until_terminated",
                driver_serves_programs_until_terminated,
            ),
            ("driver_exits_when_idle", driver_exits_when_idle),
        ],
        &[
            ("service", role_service),
            ("client", role_client),
            ("holder", role_holder),
        ],
    )
}
