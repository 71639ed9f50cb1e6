//! The example pairs across processes, and the demo.
//!
//! Each test gets its own binder device from the testkit (a fresh userspace driver instance, or
//! with `BINDER_TEST_DRIVER=kernel` a leased kernel device with a service manager) and runs the
//! library's server and client roles as separate processes of this binary, then checks what the
//! client (and the server) reported. The demo tests run the `demo` binary itself.

use std::time::Duration;

use binder_examples::{calculator, fileshare};
use binder_testkit::{DeviceLease, Launcher, Process, TestBinder, fields, kernel_driver, patience};

fn check(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

fn check_eq<T: PartialEq + std::fmt::Debug>(got: T, expected: T, what: &str) -> Result<(), String> {
    check(got == expected, || {
        format!("{what}: got {got:?}, expected {expected:?}")
    })
}

/// The number right after `marker` in `line`.
fn number_after(line: &str, marker: &str) -> Result<i64, String> {
    let rest = line
        .split_once(marker)
        .ok_or_else(|| format!("no {marker:?} in {line:?}"))?
        .1;
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits
        .parse()
        .map_err(|_| format!("no number after {marker:?} in {line:?}"))
}

/// A server role, registered and serving.
fn start_server(t: &TestBinder, role: &str) -> Result<Process, String> {
    let mut server = t.spawn(role, &[])?;
    server.expect("ready:")?;
    Ok(server)
}

fn stop_server(mut server: Process) -> Result<(), String> {
    server.send("exit")?;
    server.finish()
}

/// Operands the client cannot know in advance (they change with every run).
fn operands() -> (i64, i64) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos()) as i64;
    (1000 + nanos % 90_000, -(3 + (nanos / 7) % 500))
}

fn calculator_pair() -> Result<(), String> {
    let t = TestBinder::new("calculator")?;
    let mut server = start_server(&t, "calculator-server")?;
    let (a, b) = operands();
    let mut client = t.spawn("calculator-client", &[&a.to_string(), &b.to_string()])?;
    let client_pid = client.pid();
    for (op, expected) in [("add", a + b), ("multiply", a * b), ("divide", a / b)] {
        let line = client.expect(&format!("{op}({a}, {b}) = "))?;
        let got: i64 = line
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("no result in {line:?}"))?;
        check_eq(got, expected, op)?;
    }
    // The service-specific errors arrive with their codes and messages.
    check_eq(
        client.expect(&format!("divide({a}, 0) failed: "))?,
        format!(
            "service-specific error code={} message=\"division by zero\"",
            calculator::ERROR_DIVISION_BY_ZERO
        ),
        "division by zero",
    )?;
    let max = i64::MAX;
    check_eq(
        client.expect(&format!("multiply({max}, 2) failed: "))?,
        format!(
            "service-specific error code={} message=\"multiply({max}, 2) does not fit in 64 bits\"",
            calculator::ERROR_OVERFLOW
        ),
        "overflow",
    )?;
    // The oneway note returned at once and was delivered.
    let note = format!("client pid {client_pid} was here");
    client.expect(&format!("oneway: note({note:?}) returned after"))?;
    client.expect(&format!("oneway: delivered; notes() lists {note:?}"))?;
    client.expect("done:")?;
    client.finish()?;

    // The server saw each call from the client, and the note without a sender.
    for (op, x, y, answer) in [
        ("add", a, b, (a + b).to_string()),
        ("multiply", a, b, (a * b).to_string()),
        ("divide", a, b, (a / b).to_string()),
    ] {
        server.expect(&format!(
            "call: {op}({x}, {y}) from pid {client_pid} -> {answer}"
        ))?;
    }
    server.expect(&format!(
        "call: divide({a}, 0) from pid {client_pid} -> refused: Service-specific error 1: division by zero"
    ))?;
    server.expect(&format!("call: note({note:?}) (oneway;"))?;
    stop_server(server)
}

fn callbacks_nested_calls_stay_on_the_waiting_threads() -> Result<(), String> {
    let t = TestBinder::new("callbacks")?;
    let mut server = start_server(&t, "callbacks-server")?;
    let count = 4;
    let mut client = t.spawn("callbacks-client", &[&count.to_string()])?;
    let client_pid = client.pid() as i64;
    let waiting = number_after(
        &client.expect(&format!("publish: calling publish(listener, {count})"))?,
        "client thread ",
    )?;
    // The client calls publish from its main thread, whose id is the process id.
    check_eq(waiting, client_pid, "thread calling publish")?;
    let mut nested_tids = Vec::new();
    for seq in 1..=count {
        let line = client.expect(&format!("callback {seq}: "))?;
        check_eq(
            number_after(&line, "ran on client thread ")?,
            waiting,
            &format!("thread of callback {seq}"),
        )?;
        nested_tids.push(number_after(&line, "ran on server thread ")?);
    }
    let publish_tid = number_after(&client.expect("publish: returned after")?, "server thread ")?;
    for (i, tid) in nested_tids.iter().enumerate() {
        check_eq(
            *tid,
            publish_tid,
            &format!("server thread of nested call {}", i + 1),
        )?;
    }
    client.expect("nested: every callback ran on client thread")?;
    client.expect("done:")?;
    client.finish()?;

    // The server's view agrees: publish and every nested call on one thread.
    let line = server.expect(&format!("publish: {count} events"))?;
    check_eq(
        number_after(&line, "from pid ")?,
        client_pid,
        "publish caller",
    )?;
    check_eq(
        number_after(&line, "server thread ")?,
        publish_tid,
        "publish thread",
    )?;
    for seq in 1..=count {
        check_eq(
            server.expect("where_am_i: ")?,
            format!(
                "from pid {client_pid}, on server thread {publish_tid}, the one inside publish"
            ),
            &format!("nested call {seq} on the server"),
        )?;
    }
    stop_server(server)
}

fn fileshare_fd_and_payload_copied_once() -> Result<(), String> {
    let t = TestBinder::new("fileshare")?;
    let server = start_server(&t, "fileshare-server")?;
    let seed = (std::process::id() % 10_000) as i32;
    let mut client = t.spawn("fileshare-client", &[&seed.to_string()])?;
    let file = client.expect("file: got fd ")?;
    check(
        file.contains(&format!(
            "{} bytes, content as expected",
            fileshare::FILE_LEN
        )) && file.contains("memfd:binder-examples-fileshare")
            && file.contains("sealed against write, grow, shrink, seal, so a write fails"),
        || format!("file line: {file:?}"),
    )?;
    let payload = client.expect("payload: ")?;
    check(
        payload.starts_with(&format!("{} bytes in ", fileshare::PAYLOAD_LEN))
            && payload.contains("content as expected, read in place at offset"),
        || format!("payload line: {payload:?}"),
    )?;
    if t.is_kernel() {
        client.expect(
            "copied: not measurable here: the kernel binder driver keeps no byte counters",
        )?;
    } else {
        // The driver's byte counter moved by exactly the two Parcels' size: one copy each.
        let f = fields(&client.expect("copied: ")?);
        let f = |k: &str| -> Result<u64, String> {
            f.get(k)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("no {k}= in {f:?}"))
        };
        check_eq(f("transfers")?, 2, "transfers")?;
        check(f("reply")? > fileshare::PAYLOAD_LEN as u64, || {
            "the reply is smaller than the payload".into()
        })?;
        check_eq(
            f("driver_copied")?,
            f("request")? + f("reply")?,
            "bytes copied",
        )?;
        client.expect("copied: exactly once")?;
    }
    let buffers = client.expect("buffers: ")?;
    check_eq(
        buffers.as_str(),
        "this process holds 1 driver buffer(s) while the payload is alive, 0 after dropping it",
        "driver buffers",
    )?;
    client.expect("done:")?;
    client.finish()?;
    stop_server(server)
}

fn deathwatch_notified_after_kill_9() -> Result<(), String> {
    let t = TestBinder::new("deathwatch")?;
    let mut server = start_server(&t, "deathwatch-server")?;
    let server_pid = server.pid();
    let mut client = t.spawn("deathwatch-client", &[&patience().as_secs().to_string()])?;
    let linked = client.expect("linked:")?;
    check(linked.contains(&format!("(pid {server_pid})")), || {
        format!("linked to the wrong process: {linked:?}")
    })?;
    server.kill9()?;
    let notified = client.expect("notified:")?;
    check(
        notified.starts_with(&format!("deathwatch-server (pid {server_pid}) died")),
        || format!("notification: {notified:?}"),
    )?;
    client.expect("after death: the proxy is marked dead and a call fails with DEAD_OBJECT")?;
    client.expect("done:")?;
    client.finish()
}

/// The async pair: a service written with `async fn` on tokio, ten calls awaited at once from
/// a runtime of two workers; the server ran more of them at once than the client has workers.
fn jobs_async_calls_do_not_hold_workers() -> Result<(), String> {
    let t = TestBinder::new("jobs")?;
    let mut server = start_server(&t, "jobs-server")?;
    let mut client = t.spawn("jobs-client", &["10", "200"])?;
    let client_pid = client.pid();
    let awaited = client.expect("awaited: 10 jobs of 200 ms at once took ")?;
    let peak = number_after(&awaited, "up to ")?;
    check(peak > 2, || {
        format!("only {peak} jobs ran at once: {awaited:?}")
    })?;
    client.expect(
        "blocking: notes() through IJobsBlocking answered [\"the client starts its jobs\"]",
    )?;
    client.expect("done:")?;
    client.finish()?;
    server.send("exit")?;
    server.wait_exit(patience())?;
    // The jobs end in any order.
    let lines = server.lines().to_vec();
    let mut wanted: Vec<String> = (0..10)
        .map(|i| format!("call: run(\"job {i}\", 200) from pid {client_pid}: job {i} done"))
        .collect();
    wanted.push("call: note(\"the client starts its jobs\") (oneway, on the tokio runtime)".into());
    for w in &wanted {
        check(lines.iter().any(|l| l.starts_with(w.as_str())), || {
            format!("the server did not report {w:?}: {lines:#?}")
        })?;
    }
    Ok(())
}

/// The stand-alone pair a newcomer reads first: `hello-server`, then `hello-client NAME`.
fn hello_pair() -> Result<(), String> {
    let t = TestBinder::new("hello")?;
    let mut server = Launcher::new(env!("CARGO_BIN_EXE_hello-server"))
        .device(Some(t.device()))
        .start()?;
    server.expect("registered \"binder-examples.hello\"")?;
    let client = Launcher::new(env!("CARGO_BIN_EXE_hello-client"))
        .args(["Ada"])
        .device(Some(t.device()))
        .output(patience())?;
    check(client.status.success(), || {
        format!("hello-client: {client:?}")
    })?;
    check_eq(
        client.stdout.as_str(),
        "Hello, Ada!\n",
        "hello-client's output",
    )?;
    let call = server.expect("say_hello(\"Ada\") from pid ")?;
    check(call.parse::<u32>().is_ok(), || {
        format!("caller pid {call:?}")
    })?;
    // It serves until killed.
    check(server.try_status().is_none(), || server.context())?;
    server.kill9()
}

/// Runs the demo with `BINDER_DEVICE=device`; returns (success, stdout, stderr).
fn run_demo(device: &str) -> Result<(bool, String, String), String> {
    let out = Launcher::new(env!("CARGO_BIN_EXE_demo"))
        .device(Some(device))
        .output(patience() * 6)
        .map_err(|e| format!("the demo: {e}"))?;
    Ok((out.status.success(), out.stdout, out.stderr))
}

fn demo_runs_every_pair() -> Result<(), String> {
    // On the kernel, a device of our own without a service manager: the demo starts one.
    let (device, _lease) = if kernel_driver() {
        let lease = DeviceLease::acquire(Duration::from_secs(120))?;
        (lease.device.clone(), Some(lease))
    } else {
        (format!("userspace:ex-demo-{}", std::process::id()), None)
    };
    let (ok, out, err) = run_demo(&device)?;
    let context = || format!("demo stdout:\n{out}\ndemo stderr:\n{err}");
    check(ok, || format!("the demo failed\n{}", context()))?;
    // The driver, the five pairs and, on the kernel, stopping the service manager it started.
    let steps = if kernel_driver() { 7 } else { 6 };
    let mut expected = vec![
        format!("demo: all {steps} steps succeeded"),
        format!("binder device: {device} (from BINDER_DEVICE)"),
    ];
    for pair in ["calculator", "callbacks", "fileshare", "deathwatch", "jobs"] {
        expected.push(format!("✓ {pair} succeeded in"));
        expected.push(format!("| ready: registered \"binder-examples.{pair}\""));
        expected.push(format!("{pair}-client["));
    }
    expected.push("| kill -9 ".into());
    expected.push("| notified: deathwatch-server".into());
    if kernel_driver() {
        expected.push("no service manager answers".into());
        expected.push("stopping the service manager this demo started".into());
        expected.push("✓ stop the service manager".into());
    } else {
        expected.push("| copied: exactly once".into());
    }
    for e in &expected {
        check(out.contains(e.as_str()), || {
            format!("the demo's output lacks {e:?}\n{}", context())
        })?;
    }
    Ok(())
}

fn demo_fails_clearly_without_a_driver() -> Result<(), String> {
    let (ok, out, err) = run_demo("/nonexistent/binder")?;
    check(!ok, || {
        format!("the demo succeeded without a driver:\n{out}")
    })?;
    check(
        err.contains("demo: FAILED: cannot open the binder driver")
            && err.contains("/nonexistent/binder"),
        || format!("unclear failure message:\n{err}"),
    )?;
    check(
        out.contains("✗ FAILED: cannot open the binder driver"),
        || format!("the narrative does not show the failure:\n{out}"),
    )
}

fn main() {
    binder_testkit::run(
        &[
            ("hello_pair", hello_pair),
            ("calculator_pair", calculator_pair),
            (
                "callbacks_nested_calls_stay_on_the_waiting_threads",
                callbacks_nested_calls_stay_on_the_waiting_threads,
            ),
            (
                "fileshare_fd_and_payload_copied_once",
                fileshare_fd_and_payload_copied_once,
            ),
            (
                "deathwatch_notified_after_kill_9",
                deathwatch_notified_after_kill_9,
            ),
            (
                "jobs_async_calls_do_not_hold_workers",
                jobs_async_calls_do_not_hold_workers,
            ),
            ("demo_runs_every_pair", demo_runs_every_pair),
            (
                "demo_fails_clearly_without_a_driver",
                demo_fails_clearly_without_a_driver,
            ),
        ],
        binder_examples::ROLES,
    )
}
