//! `demo`: runs every example pair as separate processes and tells what happens, step by step.
//!
//! ```text
//! cargo run --release -p binder-examples --bin demo
//! ```
//!
//! Each server and client is this binary re-executed with `--role NAME`, so `cargo run` needs to
//! build only this one binary. The binder device is `BINDER_DEVICE` when set; else the kernel's
//! binder device when there is one; else a fresh userspace driver instance for this run
//! (`userspace:demo-<pid>`), which the first binder use starts together with its service
//! manager. On a kernel device without a service manager, the demo starts one and stops it at
//! the end. The exit status is 0 only when every step succeeded.

mod children;

use std::process::exit;
use std::time::{Duration, Instant};

use binder_examples::support::{SERVICE_MANAGER_ROLE, fmt_duration};
use binder_examples::{calculator, callbacks, deathwatch, fileshare, jobs};
use binder_rt::introspect::{DriverStats, IntrospectError};
use binder_rt::{DriverSpec, ProcessState};
use children::{ChildId, Children};

/// The longest the demo waits for any one thing (a line, an exit, the service manager).
const WAIT: Duration = Duration::from_secs(60);

type PairFn = fn(&mut Demo) -> Result<(), String>;

/// The example pairs, in the order they run.
const PAIRS: &[(&str, &str, PairFn)] = &[
    (
        "calculator",
        "plain calls, a oneway call, a service-specific error",
        calculator_pair,
    ),
    (
        "callbacks",
        "a listener called back by the server, with a nested call from inside the callback",
        callbacks_pair,
    ),
    (
        "fileshare",
        "a sealed memfd and a 512 KiB payload, read in place and copied once",
        fileshare_pair,
    ),
    (
        "deathwatch",
        "a death notification after kill -9 of the server",
        deathwatch_pair,
    ),
    (
        "jobs",
        "async on tokio: a service written with async fn, ten calls awaited at once",
        jobs_pair,
    ),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {}
        Some("--role") => {
            let Some(role) = args.get(1) else {
                eprintln!("demo: --role needs a role name");
                exit(2);
            };
            exit(binder_examples::run_role(role, &args[2..]));
        }
        Some(_) => {
            eprintln!(
                "usage: demo\n\nRuns every example pair (calculator, callbacks, fileshare, deathwatch, jobs) as separate\nprocesses and narrates what happens. BINDER_DEVICE picks the binder device."
            );
            exit(2);
        }
    }
    match run() {
        Ok(()) => exit(0),
        Err(e) => {
            eprintln!("demo: FAILED: {e}");
            exit(1);
        }
    }
}

struct Demo {
    c: Children,
    kernel: bool,
}

/// The device to use and why.
fn choose_driver() -> (DriverSpec, String) {
    if let Ok(v) = std::env::var("BINDER_DEVICE")
        && !v.is_empty()
    {
        return (DriverSpec::parse(&v), "from BINDER_DEVICE".into());
    }
    match DriverSpec::from_env() {
        spec @ DriverSpec::Kernel(_) => (spec, "the kernel's binder driver".into()),
        DriverSpec::Userspace(_) => (
            DriverSpec::Userspace(format!("demo-{}", std::process::id())),
            "this kernel has no binder device: a fresh userspace driver instance for this run"
                .into(),
        ),
    }
}

fn run() -> Result<(), String> {
    let (spec, why) = choose_driver();
    let kernel = matches!(spec, DriverSpec::Kernel(_));
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let mut demo = Demo {
        c: Children::new(exe, spec.to_string()),
        kernel,
    };
    println!(
        "binder-examples demo: every example pair runs as a server process and a client process\n\
         (this binary re-executed with --role). Each line shows the time since the start and the\n\
         process that printed it: demo[pid] is this process, the others are the examples."
    );

    demo.c
        .heading("== 0: the binder driver and the service manager");
    let t = Instant::now();
    demo.c.say(format!("binder device: {spec} ({why})"));
    let service_manager = match start_driver(&mut demo.c, &spec) {
        Ok(sm) => sm,
        Err(e) => {
            demo.c.say(format!("✗ FAILED: {e}"));
            return Err(e);
        }
    };
    let mut results: Vec<(&str, Duration, Result<(), String>)> =
        vec![("driver and service manager", t.elapsed(), Ok(()))];
    demo.c.say("✓ the driver and its service manager are up");

    for (i, (name, what, pair)) in PAIRS.iter().enumerate() {
        demo.c
            .heading(format!("== {}/{}: {name}: {what}", i + 1, PAIRS.len()));
        let before = binder_rt::driver_stats();
        let t = Instant::now();
        let result = pair(&mut demo);
        let elapsed = t.elapsed();
        // A failed step may leave its processes running: they go now.
        demo.c.kill_all_except(service_manager);
        demo.c.pump_for(Duration::from_millis(10));
        demo.report_counters(before);
        match &result {
            Ok(()) => demo
                .c
                .say(format!("✓ {name} succeeded in {}", fmt_duration(elapsed))),
            Err(e) => demo.c.say(format!("✗ {name} FAILED: {e}")),
        }
        results.push((name, elapsed, result));
    }

    demo.c.heading("== the end");
    if let Some(sm) = service_manager {
        demo.c.say(format!(
            "stopping the service manager this demo started (pid {})",
            demo.c.pid(sm)
        ));
        let t = Instant::now();
        let stopped = demo.c.signal(sm, nix::sys::signal::Signal::SIGTERM);
        results.push(("stop the service manager", t.elapsed(), stopped));
    } else if !kernel {
        demo.c.say(format!(
            "the userspace driver instance {spec} and its service manager exit by themselves a few seconds after this process, the last one connected, exits"
        ));
    }

    demo.c.heading("== summary");
    let mut failed = Vec::new();
    for (name, elapsed, result) in &results {
        match result {
            Ok(()) => println!("  ✓ {name:<28} {}", fmt_duration(*elapsed)),
            Err(e) => {
                println!("  ✗ {name:<28} FAILED: {e}");
                failed.push(format!("{name}: {e}"));
            }
        }
    }
    if failed.is_empty() {
        println!("demo: all {} steps succeeded", results.len());
        Ok(())
    } else {
        Err(format!(
            "{} of {} steps failed ({})",
            failed.len(),
            results.len(),
            failed.join("; ")
        ))
    }
}

/// Opens the driver (starting a userspace instance with its service manager if needed) and
/// makes sure a service manager answers, starting one on a kernel device that has none.
/// Returns the service manager process the demo started, if any.
fn start_driver(c: &mut Children, spec: &DriverSpec) -> Result<Option<ChildId>, String> {
    let kernel = matches!(spec, DriverSpec::Kernel(_));
    if !kernel {
        if spec.is_available() {
            c.say("a userspace driver instance of that name is running already: using it");
        } else {
            c.say(
                "no userspace driver instance of that name is running: the first process that opens it starts it (binder-rt re-executes that process's binary as the driver, with the service manager beside it); this process is the first",
            );
        }
    }
    let t = Instant::now();
    ProcessState::init_with_driver(spec.clone())
        .map_err(|e| format!("cannot open the binder driver: {e}"))?;
    c.say(format!("opened {spec} in {}", fmt_duration(t.elapsed())));

    let t = Instant::now();
    match binder_rt::service_manager::service_manager() {
        Ok(_) => {
            c.say(format!(
                "the service manager (handle 0) answers, after {}{}",
                fmt_duration(t.elapsed()),
                if kernel {
                    ": one runs on this device already"
                } else {
                    ": it started with the driver"
                }
            ));
            return Ok(None);
        }
        Err(e) if !kernel => {
            return Err(format!(
                "the userspace driver's service manager does not answer: {e}"
            ));
        }
        Err(e) => c.say(format!(
            "no service manager answers on {spec} ({e}): starting one"
        )),
    }
    let sm = c.spawn(SERVICE_MANAGER_ROLE, &[])?;
    let t = Instant::now();
    loop {
        c.pump_for(Duration::from_millis(20));
        if binder_rt::service_manager::service_manager().is_ok() {
            break;
        }
        if !c.is_running(sm) {
            return Err("the service manager this demo started exited".into());
        }
        if t.elapsed() > WAIT {
            return Err(format!(
                "the service manager this demo started does not answer after {} s",
                WAIT.as_secs()
            ));
        }
    }
    c.say(format!(
        "the service manager (pid {}) answers as the context manager after {}",
        c.pid(sm),
        fmt_duration(t.elapsed())
    ));
    Ok(Some(sm))
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

impl Demo {
    /// What the driver counted during a step.
    fn report_counters(&self, before: Result<DriverStats, IntrospectError>) {
        let after = binder_rt::driver_stats();
        let (b, a) = match (before, after) {
            (Ok(b), Ok(a)) => (b, a),
            (Err(e), _) | (_, Err(e)) => {
                self.c.say(format!("driver counters: not available ({e})"));
                return;
            }
        };
        if self.kernel {
            self.c.say(format!(
                "kernel driver counters (debugfs, whole system): {} transactions, {} replies, {} failed; the kernel keeps no byte counters",
                a.transactions - b.transactions,
                a.replies - b.replies,
                a.failed - b.failed
            ));
        } else {
            self.c.say(format!(
                "driver counters for this step: {} transactions ({} oneway), {} replies, {} failed, {} bytes copied, {} fds passed",
                a.transactions - b.transactions,
                a.oneway - b.oneway,
                a.replies - b.replies,
                a.failed - b.failed,
                thousands(a.bytes_copied - b.bytes_copied),
                a.fds_passed - b.fds_passed
            ));
        }
    }

    /// Starts a server role, waits until it is registered, and checks that the service
    /// manager lists its service.
    fn start_server(&mut self, role: &str, service: &str) -> Result<ChildId, String> {
        let server = self.c.spawn(role, &[])?;
        self.c.wait_line(server, "ready:", WAIT)?;
        let names = binder_rt::list_services().map_err(|e| format!("list_services failed: {e}"))?;
        self.c.say(format!(
            "the service manager lists {} service(s): {}",
            names.len(),
            names.join(", ")
        ));
        if !names.iter().any(|n| n == service) {
            return Err(format!(
                "{service:?} is not listed after {role} said it registered it"
            ));
        }
        Ok(server)
    }

    /// The common shape: a server, a client that must print `done:` and exit 0, then the
    /// server is asked to exit; the server must have reported the client's calls.
    fn pair(
        &mut self,
        server: &str,
        service: &str,
        client: &str,
        args: &[&str],
    ) -> Result<(), String> {
        let s = self.start_server(server, service)?;
        let cl = self.c.spawn(client, args)?;
        self.c.wait_line(cl, "done:", WAIT)?;
        self.c.expect_success(cl, WAIT)?;
        self.c.stop(s, WAIT)?;
        let from = format!("from pid {}", self.c.pid(cl));
        let served = self.c.lines(s).iter().filter(|l| l.contains(&from)).count();
        if served == 0 {
            return Err(format!("{server} reported no call {from}"));
        }
        self.c.say(format!(
            "{server} reported {served} call(s) {from} ({client})"
        ));
        Ok(())
    }
}

fn calculator_pair(d: &mut Demo) -> Result<(), String> {
    let service = calculator::SERVICE_NAME;
    d.pair(
        "calculator-server",
        service,
        "calculator-client",
        &["1234", "56"],
    )
}

fn callbacks_pair(d: &mut Demo) -> Result<(), String> {
    let service = callbacks::SERVICE_NAME;
    d.pair("callbacks-server", service, "callbacks-client", &["3"])
}

fn fileshare_pair(d: &mut Demo) -> Result<(), String> {
    let service = fileshare::SERVICE_NAME;
    d.pair("fileshare-server", service, "fileshare-client", &["7"])
}

fn jobs_pair(d: &mut Demo) -> Result<(), String> {
    d.pair(
        "jobs-server",
        jobs::SERVICE_NAME,
        "jobs-client",
        &["10", "200"],
    )
}

fn deathwatch_pair(d: &mut Demo) -> Result<(), String> {
    let server = d.start_server("deathwatch-server", deathwatch::SERVICE_NAME)?;
    let client =
        d.c.spawn("deathwatch-client", &[&WAIT.as_secs().to_string()])?;
    d.c.wait_line(client, "linked:", WAIT)?;
    let pid = d.c.pid(server);
    d.c.say(format!(
        "kill -9 {pid}: deathwatch-server gets no chance to clean up or say goodbye"
    ));
    let killed = Instant::now();
    d.c.kill(server)?;
    d.c.wait_line(client, "notified:", WAIT)?;
    d.c.say(format!(
        "the client was notified {} after the kill",
        fmt_duration(killed.elapsed())
    ));
    d.c.expect_success(client, WAIT)?;
    // The service manager watches its services' deaths too.
    let deadline = Instant::now() + WAIT;
    loop {
        match binder_rt::check_service(deathwatch::SERVICE_NAME) {
            Ok(None) => break,
            Ok(Some(_)) if Instant::now() < deadline => {
                d.c.pump_for(Duration::from_millis(5));
            }
            Ok(Some(_)) => {
                return Err(format!(
                    "the service manager still lists {:?} after its server died",
                    deathwatch::SERVICE_NAME
                ));
            }
            Err(e) => return Err(format!("check_service failed: {e}")),
        }
    }
    d.c.say(format!(
        "the service manager dropped {:?} as well ({} after the kill): it watches the death of every service it lists",
        deathwatch::SERVICE_NAME,
        fmt_duration(killed.elapsed())
    ));
    Ok(())
}
