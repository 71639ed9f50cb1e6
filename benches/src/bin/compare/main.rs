//! `compare`: binder-rs against the limits and against what users pick instead, in one run.
//!
//! ```sh
//! cargo run --release -p binder-benches --bin compare -- [--cpus 0] [--json out.json] [--svg out.svg]
//! cargo run --release -p binder-benches --bin compare -- --quick   # CI: every transport answers
//! ```
//!
//! Each transport's server runs in its own process and so does its client (the same binary,
//! re-executed as a role), so every row pays the same process boundaries. A client makes
//! `--warmup` unmeasured calls, then `--rounds` timed round trips per payload size, and checks
//! every answer (the server answers the request's length plus its first and last byte, which
//! change every call). With `--cpus`, a pass runs with every process restricted to those CPUs
//! (one CPU: all on one core); a second pass always runs unpinned, the case users get.
//! Throughput: N client processes × M calls against one server.

mod binder;
mod kernel_raw;
mod limits;
mod measure;
mod others;
mod report;
mod sockets;
mod transport;

use std::path::Path;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::measure::Summary;
use crate::report::Row;
use crate::transport::{Kind, Running};

/// The largest request any transport is asked to carry.
pub const MAX_PAYLOAD: usize = 512 * 1024;

/// Says, from a server role, that it listens (and where).
pub fn ready(address: impl std::fmt::Display) {
    binder_testkit::report(format!("READY {address}"));
}

#[derive(Parser, Debug)]
#[command(about = "Round trips and throughput: binder-rs against the limits and the alternatives")]
struct Args {
    /// Request sizes in bytes.
    #[arg(long, value_delimiter = ',', default_values_t = [0, 4096, 65536, 524288])]
    sizes: Vec<usize>,
    /// Timed round trips per size.
    #[arg(long, default_value_t = 2000)]
    rounds: usize,
    /// Unmeasured calls before them.
    #[arg(long, default_value_t = 200)]
    warmup: usize,
    /// Also run a pass with every process restricted to these CPUs (e.g. `0`: all on one core).
    #[arg(long, value_delimiter = ',')]
    cpus: Option<Vec<usize>>,
    /// Skip the unpinned pass (only with --cpus).
    #[arg(long, requires = "cpus")]
    pinned_only: bool,
    /// Transports to run (default: every one this machine has).
    #[arg(long, value_delimiter = ',')]
    transports: Option<Vec<Kind>>,
    /// Client processes for the throughput runs (empty: none).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 4, 16, 64])]
    clients: Vec<usize>,
    /// Calls per client in the throughput runs.
    #[arg(long, default_value_t = 2000)]
    calls: usize,
    /// Calls at once from one process, blocking (a thread each) and awaited (a task each on
    /// two tokio workers), each making `--calls` calls (0: not measured).
    #[arg(long, default_value_t = 64)]
    concurrent: usize,
    /// Writes the rows as JSON.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Draws round trip against payload, one line per transport, as SVG.
    #[arg(long)]
    svg: Option<std::path::PathBuf>,
    /// A short run that checks every transport answers correctly (for CI).
    #[arg(long)]
    quick: bool,
    /// After a burst of `--calls` calls, measures for this many seconds the CPU that the idle
    /// server, client and userspace driver use (0: not measured).
    #[arg(long, default_value_t = 0)]
    idle: u64,
}

fn main() {
    binder_testkit::dispatch_role(&[
        ("server", role_server),
        ("broker-server", role_broker_server),
        ("client", role_client),
    ]);
    let mut args = Args::parse();
    if std::env::var_os(binder_rt::driver::BINDERD_ENV).is_none() {
        // SAFETY: no other thread runs yet. Every userspace driver instance this run starts is
        // the one built into this binary, never an older binderd found beside it or on PATH.
        unsafe { std::env::set_var(binder_rt::driver::BINDERD_ENV, "embedded") };
    }
    if args.quick {
        args.rounds = args.rounds.min(20);
        args.warmup = args.warmup.min(3);
        args.calls = args.calls.min(20);
        args.clients.retain(|&n| n <= 4);
        args.concurrent = args.concurrent.min(8);
    }
    if let Err(e) = run(&args) {
        eprintln!("compare: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), String> {
    if let Some(&big) = args.sizes.iter().max().filter(|&&s| s > MAX_PAYLOAD) {
        return Err(format!(
            "--sizes: {big} is over the maximum of {MAX_PAYLOAD}"
        ));
    }
    let kinds: Vec<Kind> = match &args.transports {
        Some(k) => k.clone(),
        None => Kind::ALL
            .iter()
            .copied()
            .filter(|k| k.available())
            .collect(),
    };
    let mut passes: Vec<Option<&[usize]>> = Vec::new();
    if let Some(cpus) = &args.cpus {
        passes.push(Some(cpus));
    }
    if !args.pinned_only {
        passes.push(None);
    }
    let mut rows = Vec::new();
    let mut idle_lines = Vec::new();
    let mut lock_lines = Vec::new();
    let mut concurrent_lines = Vec::new();
    let mut failures = Vec::new();
    for cpus in passes {
        measure::pin(cpus)?;
        let pinned = cpus.map(|c| {
            c.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        });
        eprintln!(
            "compare: pass {}",
            pinned
                .as_deref()
                .map_or("unpinned".into(), |c| format!("pinned to CPU {c}"))
        );
        for &kind in &kinds {
            match latency_rows(kind, args, pinned.as_deref()) {
                Ok(r) => rows.extend(r),
                Err(e) => failures.push(format!(
                    "{} ({}): {e}",
                    kind.name(),
                    pinned.as_deref().unwrap_or("unpinned")
                )),
            }
        }
        for &kind in kinds.iter().filter(|k| k.throughput()) {
            for &n in &args.clients {
                match throughput_row(kind, args, n, pinned.as_deref()) {
                    Ok((r, lock)) => {
                        rows.push(r);
                        lock_lines.extend(lock.map(|l| {
                            format!(
                                "{}, {n} clients, {}: {l}",
                                kind.name(),
                                pinned
                                    .as_deref()
                                    .map_or("unpinned".into(), |c| format!("CPU {c}"))
                            )
                        }));
                    }
                    Err(e) => failures.push(format!("{} × {n} clients: {e}", kind.name())),
                }
            }
        }
        for &kind in kinds.iter().filter(|k| {
            matches!(k, Kind::BinderUserspace | Kind::BinderUserspaceAsync) && args.concurrent > 0
        }) {
            let place = pinned
                .as_deref()
                .map_or("unpinned".into(), |c| format!("CPU {c}"));
            match concurrent_rate(kind, args) {
                Ok(rate) => {
                    concurrent_lines.push(format!("{}, {place}: {rate:.0} calls/s", kind.name()))
                }
                Err(e) => failures.push(format!("{} concurrent: {e}", kind.name())),
            }
        }
        for &kind in kinds.iter().filter(|k| k.userspace_driver()) {
            if args.idle == 0 {
                break;
            }
            match idle_cpu(kind, args) {
                Ok(line) => idle_lines.push(format!(
                    "{}, {}: {line}",
                    kind.name(),
                    pinned
                        .as_deref()
                        .map_or("unpinned".into(), |c| format!("CPU {c}"))
                )),
                Err(e) => failures.push(format!("{} idle: {e}", kind.name())),
            }
        }
    }
    measure::pin(None)?;
    let machine = report::Machine::this();
    report::print_table(&machine, &rows);
    if !lock_lines.is_empty() {
        println!("\nthe userspace driver's state lock during the throughput runs");
        for line in &lock_lines {
            println!("{line}");
        }
    }
    if !concurrent_lines.is_empty() {
        println!(
            "\n{} calls at once from one process ({} each; blocking: a thread per call, async: a task per call on 2 tokio workers)",
            args.concurrent, args.calls
        );
        for line in &concurrent_lines {
            println!("{line}");
        }
    }
    if !idle_lines.is_empty() {
        println!(
            "\nidle after a burst of {} calls, measured over {} s: % of one core",
            args.calls, args.idle
        );
        for line in &idle_lines {
            println!("{line}");
        }
    }
    if let Some(path) = &args.json {
        report::write_json(path, &machine, &rows)?;
    }
    if let Some(path) = &args.svg {
        report::write_svg(path, &machine, &rows)?;
    }
    if failures.is_empty() {
        eprintln!("compare: every transport answered every call correctly");
        Ok(())
    } else {
        Err(format!(
            "{} failed:\n  {}",
            failures.len(),
            failures.join("\n  ")
        ))
    }
}

fn latency_rows(kind: Kind, args: &Args, pinned: Option<&str>) -> Result<Vec<Row>, String> {
    let sizes: Vec<usize> = args
        .sizes
        .iter()
        .copied()
        .filter(|&s| kind.carries(s))
        .collect();
    if sizes.is_empty() {
        return Ok(Vec::new());
    }
    let summaries: Vec<(usize, Summary)> = if kind == Kind::Memcpy {
        sizes
            .iter()
            .map(|&s| Ok((s, limits::memcpy(s, args.warmup, args.rounds)?)))
            .collect::<Result<_, String>>()?
    } else {
        let running = Running::start(kind)?;
        let sizes_arg = sizes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut client = running.spawn_client(&[
            "latency",
            &sizes_arg,
            &args.warmup.to_string(),
            &args.rounds.to_string(),
        ])?;
        let mut out = Vec::new();
        for _ in &sizes {
            let line = client.expect_within("ROW", deadline(args, sizes.len()))?;
            out.push(
                Summary::from_fields(&binder_testkit::fields(&line))
                    .ok_or_else(|| format!("a row that does not parse: {line}"))?,
            );
        }
        client.finish()?;
        out
    };
    Ok(summaries
        .into_iter()
        .map(|(payload, s)| Row::latency(kind, payload, pinned, s))
        .collect())
}

/// How long a client may take: generous, since unpinned cross-core runs on a loaded machine
/// and the emulated kernel are slow.
fn deadline(args: &Args, sizes: usize) -> Duration {
    Duration::from_secs(60)
        + Duration::from_millis((args.rounds + args.warmup) as u64 * sizes as u64)
}

/// A throughput row, and for the userspace driver how its lock was taken during the run.
fn throughput_row(
    kind: Kind,
    args: &Args,
    clients: usize,
    pinned: Option<&str>,
) -> Result<(Row, Option<String>), String> {
    let running = Running::start(kind)?;
    let lock_counts = || {
        let spec = binder_rt::DriverSpec::parse(running.device());
        kind.userspace_driver()
            .then(|| binder_rt::introspect::stats(&spec).ok())
            .flatten()
            .map(|s| (s.lock_acquisitions, s.lock_contended))
    };
    let size = 0;
    let mut procs = Vec::with_capacity(clients);
    for _ in 0..clients {
        procs.push(running.spawn_client(&["burst", &size.to_string(), &args.calls.to_string()])?);
    }
    for p in &mut procs {
        p.expect_within("CONNECTED", deadline(args, 1))?;
    }
    let before = lock_counts();
    let t0 = Instant::now();
    for p in &mut procs {
        p.send("go")?;
    }
    for p in &mut procs {
        p.expect_within("DONE", deadline(args, clients))?;
    }
    let wall = t0.elapsed();
    let calls = (clients * args.calls) as f64;
    let lock = before.zip(lock_counts()).map(|((a0, c0), (a1, c1))| {
        let (taken, waited) = (a1.saturating_sub(a0), c1.saturating_sub(c0));
        format!(
            "taken {:.1} times per call, {:.1}% of them contended",
            taken as f64 / calls,
            100.0 * waited as f64 / (taken.max(1)) as f64
        )
    });
    for p in procs {
        p.finish()?;
    }
    Ok((
        Row::throughput(kind, size, pinned, clients, calls / wall.as_secs_f64()),
        lock,
    ))
}

/// Calls per second of `--concurrent` calls at once from one client process.
fn concurrent_rate(kind: Kind, args: &Args) -> Result<f64, String> {
    let running = Running::start(kind)?;
    let mut client = running.spawn_client(&[
        "concurrent",
        &args.concurrent.to_string(),
        &args.calls.to_string(),
    ])?;
    let done = client.expect_within("DONE", deadline(args, args.concurrent))?;
    client.finish()?;
    let ns: f64 = binder_testkit::fields(&done)
        .get("ns")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("bad DONE line {done:?}"))?;
    Ok((args.concurrent * args.calls) as f64 / (ns.max(1.0) / 1e9))
}

/// CPU time of every thread of `pid` so far, in nanoseconds (`/proc/PID/task/*/schedstat`).
fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// One client makes a burst of calls and stays connected, idle; over `--idle` seconds, the CPU
/// used by the server, the client and the driver (with its service manager).
fn idle_cpu(kind: Kind, args: &Args) -> Result<String, String> {
    let running = Running::start(kind)?;
    let calls = args.calls.to_string();
    let mut client = running.spawn_client(&["idle", "0", &calls])?;
    client.expect_within("IDLE", deadline(args, 1))?;
    let spec = binder_rt::DriverSpec::parse(running.device());
    let state = binder_rt::introspect::state(&spec).map_err(|e| e.to_string())?;
    let client_pid = client.pid();
    let driver_pid = state.driver_pid;
    let server_pids: Vec<u32> = state
        .processes
        .iter()
        .map(|p| p.pid)
        .filter(|&p| p != client_pid && p != driver_pid)
        .collect();
    let groups = [
        ("server", server_pids),
        ("client", vec![client_pid]),
        ("driver", vec![driver_pid]),
    ];
    let total = |pids: &[u32]| pids.iter().map(|&p| cpu_ns(p)).sum::<u64>();
    let before: Vec<u64> = groups.iter().map(|(_, p)| total(p)).collect();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(args.idle));
    let wall = t0.elapsed().as_nanos() as f64;
    let parts: Vec<String> = groups
        .iter()
        .zip(before)
        .map(|((name, pids), b)| {
            let used = total(pids).saturating_sub(b) as f64;
            format!("{name} {:.3}%", 100.0 * used / wall)
        })
        .collect();
    client.send("go")?;
    client.finish()?;
    Ok(parts.join(", "))
}

// ---- roles --------------------------------------------------------------------------------------

fn role_server(args: &[String]) -> Result<(), String> {
    let [kind, place] = args else {
        return Err("server KIND PLACE".into());
    };
    let kind: Kind = kind.parse()?;
    transport::serve(kind, Path::new(place))
}

fn role_broker_server(args: &[String]) -> Result<(), String> {
    let [dir] = args else {
        return Err("broker-server DIR".into());
    };
    limits::serve_broker_server(dir)
}

/// `client KIND ADDRESS latency SIZES WARMUP ROUNDS` or `client KIND ADDRESS burst SIZE CALLS`.
fn role_client(args: &[String]) -> Result<(), String> {
    let parse = |s: &String| s.parse::<usize>().map_err(|_| format!("not a number: {s}"));
    match args {
        [kind, address, mode, sizes, warmup, rounds] if mode == "latency" => {
            let mut link = transport::connect(kind.parse()?, address)?;
            for size in sizes.split(',') {
                let size = size.parse().map_err(|_| format!("bad size {size}"))?;
                let s = measure::latency(link.as_mut(), size, parse(warmup)?, parse(rounds)?)?;
                binder_testkit::report(s.to_line(size));
            }
            Ok(())
        }
        [kind, address, mode, size, calls] if mode == "idle" => {
            let mut link = transport::connect(kind.parse()?, address)?;
            measure::burst(link.as_mut(), parse(size)?, parse(calls)?)?;
            binder_testkit::report("IDLE");
            if binder_testkit::next_command().as_deref() != Some("go") {
                return Err("expected go".into());
            }
            Ok(())
        }
        [kind, address, mode, size, calls] if mode == "burst" => {
            let mut link = transport::connect(kind.parse()?, address)?;
            // One call before the clock starts: every connection is set up.
            measure::burst(link.as_mut(), parse(size)?, 1)?;
            binder_testkit::report("CONNECTED");
            if binder_testkit::next_command().as_deref() != Some("go") {
                return Err("expected go".into());
            }
            measure::burst(link.as_mut(), parse(size)?, parse(calls)?)?;
            binder_testkit::report("DONE");
            Ok(())
        }
        [kind, address, mode, lanes, calls] if mode == "concurrent" => {
            let asynchronous = kind.parse::<Kind>()? == Kind::BinderUserspaceAsync;
            let took = binder::concurrent(address, asynchronous, parse(lanes)?, parse(calls)?)?;
            binder_testkit::report(format!("DONE ns={}", took.as_nanos()));
            Ok(())
        }
        _ => Err(format!("bad client arguments {args:?}")),
    }
}
