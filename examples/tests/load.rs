//! Load: many client processes call one server process at once; every call must be answered
//! exactly once, and the driver must hold nothing afterwards.
//!
//! Each call carries (client, seq). The server keeps, per client, which sequence numbers it has
//! seen and answers with how many calls of that client it has counted; each client checks every
//! answer (its own client and seq back, and a count of seq + 1: nothing lost or doubled before
//! it). At the end the server reports its totals, the test checks that the driver holds no
//! buffer for any of the processes (and, on the userspace driver, no transaction left in its
//! state), and prints the throughput.
//!
//! `BINDER_LOAD_CLIENTS` (default 64) and `BINDER_LOAD_CALLS` (default 1000 per client) scale
//! it. `cargo test -p binder-examples --test load -- --nocapture` shows the numbers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use binder_rt::{DriverSpec, ProcessState, Status, introspect};
use binder_testkit::{Process, TestBinder, fields, next_command, patience, report};

const SERVICE: &str = "binder-examples.load";

#[binder_rt::binder_interface(descriptor = "binder_examples.load.ICounter")]
pub trait ICounter {
    /// Call `seq` of client `client`: answers (client, seq, calls of this client counted so far).
    fn call(&self, client: i32, seq: i32) -> binder_rt::Result<(i32, i32, i32)>;
}

/// What the server knows of one client.
#[derive(Default)]
struct PerClient {
    seen: Vec<bool>,
    counted: u32,
    duplicates: u32,
    out_of_range: u32,
}

/// The server's counts, shared between the binder object and the role that reports them.
#[derive(Default)]
struct Counts {
    clients: Vec<Mutex<PerClient>>,
    unknown_clients: Mutex<u32>,
}

struct Counter(Arc<Counts>);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ICounter for Counter {
    fn call(&self, client: i32, seq: i32) -> binder_rt::Result<(i32, i32, i32)> {
        let Some(slot) = usize::try_from(client)
            .ok()
            .and_then(|c| self.0.clients.get(c))
        else {
            *lock(&self.0.unknown_clients) += 1;
            return Err(Status::new_service_specific_error(
                1,
                format!("unknown client {client}"),
            ));
        };
        let mut c = lock(slot);
        c.counted += 1;
        match usize::try_from(seq)
            .ok()
            .and_then(|s| c.seen.get(s).copied())
        {
            Some(false) => c.seen[seq as usize] = true,
            Some(true) => c.duplicates += 1,
            None => c.out_of_range += 1,
        }
        Ok((client, seq, c.counted as i32))
    }
}

fn st(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn arg(args: &[String], i: usize) -> Result<usize, String> {
    args.get(i)
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("argument {i} missing or bad: {args:?}"))
}

/// The server: `server CLIENTS CALLS`. Commands on stdin: `report` (sends the commands it has
/// queued for the driver, such as freed buffers, then reports its totals), `exit`.
fn role_server(args: &[String]) -> Result<(), String> {
    let (clients, calls) = (arg(args, 0)?, arg(args, 1)?);
    let counts = Arc::new(Counts {
        clients: (0..clients)
            .map(|_| {
                Mutex::new(PerClient {
                    seen: vec![false; calls],
                    ..PerClient::default()
                })
            })
            .collect(),
        unknown_clients: Mutex::new(0),
    });
    let service = BnCounter::new_binder(Counter(counts.clone()));
    ProcessState::start_thread_pool().map_err(st)?;
    binder_rt::add_service(SERVICE, service.as_binder()).map_err(st)?;
    report(format!("READY pid={}", std::process::id()));
    while let Some(cmd) = next_command() {
        match cmd.as_str() {
            "report" => {
                binder_rt::flush_commands().map_err(st)?;
                let (mut total, mut complete, mut duplicates, mut missing, mut out_of_range) =
                    (0u64, 0, 0u64, 0u64, 0u64);
                for c in &counts.clients {
                    let c = lock(c);
                    let distinct = c.seen.iter().filter(|s| **s).count();
                    total += u64::from(c.counted);
                    duplicates += u64::from(c.duplicates);
                    out_of_range += u64::from(c.out_of_range);
                    missing += (calls - distinct) as u64;
                    if distinct == calls && c.counted as usize == calls {
                        complete += 1;
                    }
                }
                report(format!(
                    "REPORT total={total} complete_clients={complete} duplicates={duplicates} missing={missing} out_of_range={out_of_range} unknown_clients={}",
                    *lock(&counts.unknown_clients)
                ));
            }
            "exit" => break,
            _ => {}
        }
    }
    Ok(())
}

/// A client: `client ID CALLS`. Finds the server, says READY, waits for `go`, makes its calls
/// one after the other, checking each answer and saying PROGRESS every tenth of the way, then
/// says DONE and exits.
fn role_client(args: &[String]) -> Result<(), String> {
    let (id, calls) = (arg(args, 0)? as i32, arg(args, 1)?);
    let counter = binder_rt::get_interface::<dyn ICounter>(SERVICE).map_err(st)?;
    report("READY");
    if next_command().as_deref() != Some("go") {
        return Err("no go".into());
    }
    let t0 = Instant::now();
    let step = (calls / 10).max(1) as i32;
    for seq in 0..calls as i32 {
        if seq > 0 && seq % step == 0 {
            report(format!("PROGRESS {seq}"));
        }
        let answer = counter
            .call(id, seq)
            .map_err(|e| format!("client {id}: call {seq} failed: {e}"))?;
        if answer != (id, seq, seq + 1) {
            return Err(format!(
                "client {id}: call {seq} was answered with {answer:?}, expected {:?}",
                (id, seq, seq + 1)
            ));
        }
    }
    report(format!(
        "DONE calls={calls} secs={:.6}",
        t0.elapsed().as_secs_f64()
    ));
    Ok(())
}

fn env_count(name: &str, default: usize) -> Result<usize, String> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{name}={v:?} is not a positive number")),
        Err(_) => Ok(default),
    }
}

fn check(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

/// Waits for a client's DONE line and returns it. A client that makes progress is waited for as
/// long as it takes (the testkit's patience applies to each line, and PROGRESS lines come
/// every tenth of its calls).
fn wait_until_done(c: &mut Process) -> Result<String, String> {
    loop {
        let line = c.expect("")?;
        if line.starts_with("DONE") {
            return Ok(line);
        }
    }
}

/// Waits until the driver holds no buffer for `pids`.
fn wait_for_no_buffers(device: &str, pids: &[u32]) -> Result<(), String> {
    let deadline = Instant::now() + patience();
    loop {
        let held = introspect::buffers_in_use(device, pids).map_err(st)?;
        if held == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the driver still holds {held} buffer(s) for the server and clients"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// On the userspace driver: nothing of the run is left in the driver's state.
fn check_userspace_state(spec: &DriverSpec, server: u32, clients: &[u32]) -> Result<(), String> {
    let state = introspect::state(spec).map_err(st)?;
    check(state.transactions.is_empty(), || {
        format!("transactions left in the driver: {:?}", state.transactions)
    })?;
    let leftover: Vec<u32> = state
        .processes
        .iter()
        .map(|p| p.pid)
        .filter(|p| clients.contains(p))
        .collect();
    check(leftover.is_empty(), || {
        format!("exited clients still known to the driver: {leftover:?}")
    })?;
    let p = state
        .processes
        .iter()
        .find(|p| p.pid == server)
        .ok_or("the server is not in the driver's state")?;
    check(
        p.buffers.is_empty() && p.counts.outstanding_transactions == 0,
        || {
            format!(
                "server: {} buffers, {} outstanding transactions",
                p.buffers.len(),
                p.counts.outstanding_transactions
            )
        },
    )?;
    for t in &p.threads {
        check(t.transaction_stack.is_empty() && t.todo.is_empty(), || {
            format!(
                "server thread {}: stack {:?}, todo {:?}",
                t.tid, t.transaction_stack, t.todo
            )
        })?;
    }
    let area = p.area.as_ref().ok_or("the server has no receive area")?;
    check(
        area.buffers_in_use == 0
            && area.free_bytes == area.size
            && area.largest_free_chunk == area.size
            && area.free_async_space == area.size / 2,
        || format!("the server's receive area is not back to fully free: {area:?}"),
    )?;
    println!(
        "load: driver state: no transactions, the server's {} KiB area fully free ({} threads)",
        area.size / 1024,
        p.threads.len()
    );
    Ok(())
}

fn every_call_answered_once_and_nothing_leaks() -> Result<(), String> {
    let clients = env_count("BINDER_LOAD_CLIENTS", 64)?;
    let calls = env_count("BINDER_LOAD_CALLS", 1000)?;
    let total = (clients * calls) as u64;
    let t = TestBinder::new("load")?;
    let spec = DriverSpec::parse(t.device());
    let mut server = t.spawn("server", &[&clients.to_string(), &calls.to_string()])?;
    let server_pid = server.pid();
    server.expect("READY")?;

    let started = Instant::now();
    let mut procs = Vec::with_capacity(clients);
    for id in 0..clients {
        procs.push(t.spawn("client", &[&id.to_string(), &calls.to_string()])?);
    }
    for c in &mut procs {
        c.expect("READY")?;
    }
    let startup = started.elapsed();
    let before = (!t.is_kernel())
        .then(|| introspect::stats(&spec))
        .transpose()
        .map_err(st)?;

    let t0 = Instant::now();
    for c in &mut procs {
        c.send("go")?;
    }
    let mut slowest = 0f64;
    for c in &mut procs {
        let f = fields(&wait_until_done(c)?);
        let secs: f64 = f
            .get("secs")
            .and_then(|s| s.parse().ok())
            .ok_or("DONE without secs")?;
        slowest = slowest.max(secs);
    }
    let wall = t0.elapsed();
    let client_pids: Vec<u32> = procs.iter().map(|c| c.pid()).collect();
    for c in procs {
        c.finish()?;
    }

    server.send("report")?;
    let f = fields(&server.expect("REPORT")?);
    let get = |k: &str| -> Result<u64, String> {
        f.get(k)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("REPORT without {k}: {f:?}"))
    };
    check(
        get("total")? == total
            && get("complete_clients")? == clients as u64
            && get("duplicates")? == 0
            && get("missing")? == 0
            && get("out_of_range")? == 0
            && get("unknown_clients")? == 0,
        || {
            format!(
                "the server counted {f:?}; expected total={total}, complete_clients={clients}, nothing else"
            )
        },
    )?;
    println!(
        "load: {clients} client processes x {calls} calls = {total} calls, each answered exactly once, in {:.2} s: {:.0} calls/s (slowest client {:.2} s; {clients} clients started in {:.2} s) on {}",
        wall.as_secs_f64(),
        total as f64 / wall.as_secs_f64(),
        slowest,
        startup.as_secs_f64(),
        if t.is_kernel() {
            "the kernel driver"
        } else {
            "the userspace driver"
        }
    );

    let mut pids = client_pids.clone();
    pids.push(server_pid);
    wait_for_no_buffers(t.device(), &pids)?;
    println!("load: the driver holds no buffer for the server or any client");
    if let Some(before) = before {
        let after = introspect::stats(&spec).map_err(st)?;
        let transactions = after.transactions - before.transactions;
        let failed = after.failed - before.failed;
        check(transactions >= total && failed == 0, || {
            format!(
                "driver counted {transactions} transactions and {failed} failures for {total} calls"
            )
        })?;
        check_userspace_state(&spec, server_pid, &client_pids)?;
    }
    server.send("exit")?;
    server.finish()
}

fn main() {
    binder_testkit::run(
        &[(
            "every_call_answered_once_and_nothing_leaks",
            every_call_answered_once_and_nothing_leaks,
        )],
        &[("server", role_server), ("client", role_client)],
    )
}
