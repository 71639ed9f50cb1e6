//! The conformance suite of async binder (`binder_rt::async_rt`, feature `tokio`): awaited calls
//! and async services across processes, on the userspace driver (default) and on Linux's driver
//! (`BINDER_TEST_DRIVER=kernel`, in scripts/kernel-tests). Each test gets its own driver
//! instance or kernel device and runs its processes as roles of this binary.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use binder_rt::async_rt::{self, call_threads};
use binder_rt::tokio::Tokio;
use binder_rt::{ProcessState, StatusCode, Strong, binder_interface};
use binder_testkit::{TestBinder, fields, next_command, report};

#[binder_interface(descriptor = "conformance.IAsyncService")]
pub trait IAsyncService {
    fn echo(&self, value: i32) -> binder_rt::Result<i32>;
    fn echo_bytes(&self, data: &[u8]) -> binder_rt::Result<Vec<u8>>;
    /// Sleeps on the runtime's timer, then answers `value`.
    fn sleep_then(&self, ms: i32, value: i32) -> binder_rt::Result<i32>;
    /// Calls `cb.tid()` from inside this call and answers what it said.
    fn call_back(&self, cb: &Strong<dyn IAsyncCallbackAsync>) -> binder_rt::Result<i32>;
    /// Waits (at most the test's patience) until `open_gate`; true if it opened.
    fn wait_gate(&self) -> binder_rt::Result<bool>;
    #[oneway]
    fn open_gate(&self) -> binder_rt::Result<()>;
    /// How many `wait_gate` calls arrived, and how many are waiting now.
    fn gate_calls(&self) -> binder_rt::Result<(i32, i32)>;
    #[oneway]
    fn record(&self, seq: i32) -> binder_rt::Result<()>;
    fn recorded(&self) -> binder_rt::Result<Vec<i32>>;
    /// The calling pid a two-way call sees.
    fn caller_pid(&self) -> binder_rt::Result<i32>;
    /// Records the calling pid a oneway call sees (its body runs on the runtime).
    #[oneway]
    fn record_caller(&self) -> binder_rt::Result<()>;
    fn recorded_callers(&self) -> binder_rt::Result<Vec<i32>>;
    /// Out-parameters: fills `values` (the caller's length) with `i * step`, appends "!" to
    /// `label`; returns how many values it got.
    fn fill(
        &self,
        step: i32,
        #[out] values: &mut Vec<i32>,
        #[inout] label: &mut String,
    ) -> binder_rt::Result<i32>;
}

#[binder_interface(descriptor = "conformance.IAsyncCallback")]
pub trait IAsyncCallback {
    /// The thread serving this call.
    fn tid(&self) -> binder_rt::Result<i32>;
}

const SERVICE: &str = "conformance.async";

fn st(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn check(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

fn gettid() -> i32 {
    nix::unistd::gettid().as_raw()
}

/// A runtime of two workers, as the tests ask.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

// ---- the service: an async implementation ----------------------------------------------------

struct Service {
    gate: tokio::sync::watch::Sender<bool>,
    gate_calls: AtomicI32,
    gate_waiting: AtomicI32,
    recorded: Mutex<Vec<i32>>,
    callers: Mutex<Vec<i32>>,
}

impl Service {
    fn new() -> Service {
        Service {
            gate: tokio::sync::watch::Sender::new(false),
            gate_calls: AtomicI32::new(0),
            gate_waiting: AtomicI32::new(0),
            recorded: Mutex::new(Vec::new()),
            callers: Mutex::new(Vec::new()),
        }
    }
}

impl IAsyncServiceAsyncServer for Service {
    async fn echo(&self, value: i32) -> binder_rt::Result<i32> {
        tokio::task::yield_now().await;
        Ok(value)
    }

    async fn echo_bytes(&self, data: &[u8]) -> binder_rt::Result<Vec<u8>> {
        Ok(data.to_vec())
    }

    async fn sleep_then(&self, ms: i32, value: i32) -> binder_rt::Result<i32> {
        tokio::time::sleep(Duration::from_millis(ms as u64)).await;
        Ok(value)
    }

    async fn call_back(&self, cb: &Strong<dyn IAsyncCallbackAsync>) -> binder_rt::Result<i32> {
        // A call future dropped before it is polled makes no call, nested or not.
        drop(cb.tid());
        // Awaited from inside a call: made from this binder thread, so that it reaches the
        // caller's waiting thread.
        cb.tid().await
    }

    async fn wait_gate(&self) -> binder_rt::Result<bool> {
        self.gate_calls.fetch_add(1, Ordering::SeqCst);
        self.gate_waiting.fetch_add(1, Ordering::SeqCst);
        let mut rx = self.gate.subscribe();
        let opened = tokio::time::timeout(binder_testkit::patience(), rx.wait_for(|open| *open))
            .await
            .is_ok();
        self.gate_waiting.fetch_sub(1, Ordering::SeqCst);
        Ok(opened)
    }

    async fn open_gate(&self) -> binder_rt::Result<()> {
        self.gate.send_replace(true);
        Ok(())
    }

    async fn gate_calls(&self) -> binder_rt::Result<(i32, i32)> {
        Ok((
            self.gate_calls.load(Ordering::SeqCst),
            self.gate_waiting.load(Ordering::SeqCst),
        ))
    }

    async fn record(&self, seq: i32) -> binder_rt::Result<()> {
        // Yields and sleeps a varying while: were oneway calls to one object let in before the
        // previous one ended, they would finish out of order.
        tokio::time::sleep(Duration::from_micros((seq % 5) as u64 * 200)).await;
        self.recorded.lock().unwrap().push(seq);
        Ok(())
    }

    async fn recorded(&self) -> binder_rt::Result<Vec<i32>> {
        Ok(self.recorded.lock().unwrap().clone())
    }

    async fn caller_pid(&self) -> binder_rt::Result<i32> {
        tokio::task::yield_now().await;
        Ok(binder_rt::calling_pid())
    }

    async fn record_caller(&self) -> binder_rt::Result<()> {
        tokio::task::yield_now().await;
        self.callers.lock().unwrap().push(binder_rt::calling_pid());
        Ok(())
    }

    async fn recorded_callers(&self) -> binder_rt::Result<Vec<i32>> {
        Ok(self.callers.lock().unwrap().clone())
    }

    async fn fill(
        &self,
        step: i32,
        values: &mut Vec<i32>,
        label: &mut String,
    ) -> binder_rt::Result<i32> {
        tokio::task::yield_now().await;
        for (i, v) in values.iter_mut().enumerate() {
            *v += i as i32 * step;
        }
        label.push('!');
        Ok(values.len() as i32)
    }
}

fn role_service(_: &[String]) -> Result<(), String> {
    let rt = runtime();
    let svc = BnAsyncService::new_async_binder(Service::new(), Tokio::from(rt.handle().clone()));
    ProcessState::start_thread_pool().map_err(st)?;
    binder_rt::add_service(SERVICE, svc.as_binder()).map_err(st)?;
    report(format!("READY pid={}", std::process::id()));
    while let Some(cmd) = next_command() {
        if cmd == "exit" {
            break;
        }
    }
    Ok(())
}

// ---- callbacks in the client ----------------------------------------------------------------

/// Counts its calls.
struct AsyncCallback(std::sync::Arc<AtomicI32>);

impl IAsyncCallbackAsyncServer for AsyncCallback {
    async fn tid(&self) -> binder_rt::Result<i32> {
        self.0.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        Ok(gettid())
    }
}

struct BlockingCallback(std::sync::Arc<AtomicI32>);

impl IAsyncCallback for BlockingCallback {
    fn tid(&self) -> binder_rt::Result<i32> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(gettid())
    }
}

async fn service() -> Result<Strong<dyn IAsyncServiceAsync>, String> {
    async_rt::get_interface::<dyn IAsyncServiceAsync>(SERVICE)
        .await
        .map_err(st)
}

// ---- client roles ---------------------------------------------------------------------------

/// Awaited calls of every kind, an async service from a blocking client, the runtime's timer
/// inside a service method.
fn role_round_trip(_: &[String]) -> Result<(), String> {
    runtime().block_on(async {
        let s = service().await?;
        check(s.echo(7).await.map_err(st)? == 7, || "echo".into())?;
        for size in [0usize, 1, 4096, 64 * 1024, 512 * 1024] {
            let data: Vec<u8> = (0..size).map(|i| (i * 7 + size) as u8).collect();
            let back = s.echo_bytes(&data).await.map_err(st)?;
            check(back == data, || format!("echo of {size} bytes differs"))?;
        }
        check(s.sleep_then(30, 9).await.map_err(st)? == 9, || {
            "sleep_then".into()
        })?;
        // The same service through the blocking interface, from a thread of its own.
        let blocking = tokio::task::spawn_blocking(|| {
            binder_rt::get_interface::<dyn IAsyncService>(SERVICE)?.echo(11)
        })
        .await
        .map_err(st)?
        .map_err(st)?;
        check(blocking == 11, || "blocking echo".into())?;
        // Out-parameters across processes, awaited and blocking.
        let (mut values, mut label) = (vec![100; 3], String::from("a"));
        let n = s.fill(2, &mut values, &mut label).await.map_err(st)?;
        check(n == 3 && values == [0, 2, 4] && label == "a!", || {
            format!("awaited fill: {n} {values:?} {label:?}")
        })?;
        let (values, label) = tokio::task::spawn_blocking(|| {
            let (mut values, mut label) = (vec![100; 2], String::from("b"));
            binder_rt::get_interface::<dyn IAsyncService>(SERVICE)?.fill(
                3,
                &mut values,
                &mut label,
            )?;
            Ok::<_, binder_rt::Status>((values, label))
        })
        .await
        .map_err(st)?
        .map_err(st)?;
        check(values == [0, 3] && label == "b!", || {
            format!("blocking fill: {values:?} {label:?}")
        })?;
        // The caller's identity, in a two-way body and in a oneway body run on the runtime
        // (where, as for any oneway call, the driver names no sender: pid 0).
        let me = std::process::id() as i32;
        let seen = s.caller_pid().await.map_err(st)?;
        check(seen == me, || {
            format!("two-way calling pid {seen}, caller {me}")
        })?;
        s.record_caller().await.map_err(st)?;
        let deadline = Instant::now() + binder_testkit::patience();
        let callers = loop {
            let c = s.recorded_callers().await.map_err(st)?;
            if !c.is_empty() || Instant::now() > deadline {
                break c;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        check(callers == vec![0], || {
            format!("oneway calling pids {callers:?}")
        })?;
        // The same service in this process: no driver orders its oneway calls, so they run
        // to completion in the caller, in order.
        let local = BnAsyncService::new_async_binder(Service::new(), Tokio::current());
        for i in 0..50 {
            local.record(i).await.map_err(st)?;
        }
        let got = local.recorded().await.map_err(st)?;
        check(got == (0..50).collect::<Vec<_>>(), || {
            format!("in-process oneway calls out of order: {got:?}")
        })?;
        check(local.caller_pid().await.map_err(st)? == me, || {
            "in-process calling pid".into()
        })?;
        Ok::<_, String>(())
    })?;
    report("OK");
    Ok(())
}

/// A thousand calls at once from one async client on two workers, each answered once with its
/// own value, on at most `max_call_threads` call threads.
fn role_thousand(_: &[String]) -> Result<(), String> {
    runtime().block_on(async {
        let s = service().await?;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..1000 {
            let s = s.clone();
            tasks.spawn(async move { (i, s.echo(i).await) });
        }
        let mut answered = vec![false; 1000];
        while let Some(joined) = tasks.join_next().await {
            let (i, got) = joined.map_err(st)?;
            let got = got.map_err(st)?;
            check(got == i, || format!("call {i} answered {got}"))?;
            check(!answered[i as usize], || format!("call {i} answered twice"))?;
            answered[i as usize] = true;
        }
        check(answered.iter().all(|a| *a), || {
            "a call was not answered".into()
        })?;
        let threads = call_threads();
        check(threads.threads <= async_rt::max_call_threads(), || {
            format!("{threads:?} beyond the limit")
        })?;
        Ok::<_, String>(())
    })?;
    report("OK");
    Ok(())
}

/// The service calls back into this process from inside a call: the callback must reach the
/// thread waiting for the reply (this process starts no thread pool, so no other thread could
/// take it). Async and blocking callbacks.
fn role_callback(_: &[String]) -> Result<(), String> {
    let rt = runtime();
    let runtime = Tokio::from(rt.handle().clone());
    let calls = std::sync::Arc::new(AtomicI32::new(0));
    rt.block_on(async {
        let s = service().await?;
        let async_cb = BnAsyncCallback::new_async_binder(AsyncCallback(calls.clone()), runtime);
        // A blocking implementation, reached through the async client trait.
        let blocking_cb = BnAsyncCallback::new_binder(BlockingCallback(calls.clone()));
        let blocking_cb =
            binder_rt::interface_cast::<dyn IAsyncCallbackAsync>(blocking_cb.as_binder())
                .map_err(st)?;
        for cb in [&async_cb, &blocking_cb] {
            for _ in 0..10 {
                let tid = s.call_back(cb).await.map_err(st)?;
                check(tid != 0 && tid != gettid(), || {
                    format!("callback ran on thread {tid}")
                })?;
            }
        }
        Ok::<_, String>(())
    })?;
    check(
        !binder_rt::ProcessState::get()
            .map_err(st)?
            .thread_pool_started(),
        || "the client started a thread pool".into(),
    )?;
    report("OK");
    Ok(())
}

/// A hundred calls in flight are dropped: the ones still waiting for a call thread are never
/// sent, the ones sent are answered into nothing, and no buffer stays allocated.
fn role_cancel(_: &[String]) -> Result<(), String> {
    const CALLS: usize = 100;
    // Fewer than the service's pool, so that it has threads left for `gate_calls` and
    // `open_gate` while the calls wait in `wait_gate`.
    const THREADS: usize = 8;
    async_rt::set_max_call_threads(THREADS);
    let blocking = binder_rt::get_interface::<dyn IAsyncService>(SERVICE).map_err(st)?;
    let rt = runtime();
    rt.block_on(async {
        let s = service().await?;
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..CALLS {
            let s = s.clone();
            tasks.spawn(async move { s.wait_gate().await });
        }
        // Until every call thread is busy and the service is inside some of the calls.
        let deadline = Instant::now() + binder_testkit::patience();
        loop {
            let busy = call_threads().busy;
            let (_, waiting) = blocking.gate_calls().map_err(st)?;
            if busy == THREADS && waiting > 0 {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("calls did not start: {:?}", call_threads()));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        Ok::<_, String>(())
    })?;
    blocking.open_gate().map_err(st)?;
    // The call threads get their replies, free them, and go idle.
    let deadline = Instant::now() + binder_testkit::patience();
    loop {
        let t = call_threads();
        if t.busy == 0 && t.queued == 0 {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("call threads still busy: {t:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let (arrived, waiting) = blocking.gate_calls().map_err(st)?;
    check(arrived <= THREADS as i32 && waiting == 0, || {
        format!("{arrived} of {CALLS} dropped calls reached the service ({waiting} still there)")
    })?;
    // The client still works.
    rt.block_on(async {
        let s = service().await?;
        check(s.echo(5).await.map_err(st)? == 5, || "echo after".into())
    })?;
    report(format!("DONE pid={} arrived={arrived}", std::process::id()));
    next_command();
    Ok(())
}

/// Oneway calls awaited one after another reach the async service's spawned tasks in order.
fn role_oneway(_: &[String]) -> Result<(), String> {
    const N: i32 = 200;
    runtime().block_on(async {
        let s = service().await?;
        for i in 0..N {
            s.record(i).await.map_err(st)?;
        }
        let deadline = Instant::now() + binder_testkit::patience();
        let got = loop {
            let got = s.recorded().await.map_err(st)?;
            if got.len() == N as usize || Instant::now() > deadline {
                break got;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        check(got == (0..N).collect::<Vec<_>>(), || {
            format!("oneway calls out of order or lost: {got:?}")
        })
    })?;
    report("OK");
    Ok(())
}

/// Waits for the service before it is registered, then for its death.
fn role_wait_and_death(_: &[String]) -> Result<(), String> {
    runtime().block_on(async {
        let wait = async_rt::wait_for_interface::<dyn IAsyncServiceAsync>(SERVICE);
        report("WAITING");
        let s = tokio::time::timeout(binder_testkit::patience(), wait)
            .await
            .map_err(|_| "the service did not appear".to_string())?
            .map_err(st)?;
        check(s.echo(3).await.map_err(st)? == 3, || "echo".into())?;
        let death = async_rt::death(&s.as_binder()).map_err(st)?;
        report("LINKED");
        tokio::time::timeout(binder_testkit::patience(), death)
            .await
            .map_err(|_| "no death notice".to_string())?;
        let after = s.echo(4).await;
        check(
            matches!(after, Err(ref e) if e.transaction_error() == StatusCode::DeadObject),
            || format!("call after death: {after:?}"),
        )
    })?;
    report("DIED");
    Ok(())
}

// ---- tests ----------------------------------------------------------------------------------

fn simple(name: &str, role: &str) -> Result<(), String> {
    TestBinder::new(name)?.server_and_client("service", role)
}

fn async_round_trip() -> Result<(), String> {
    simple("async_round_trip", "round_trip")
}

fn a_thousand_concurrent_calls_on_two_workers() -> Result<(), String> {
    simple("async_thousand", "thousand")
}

fn callbacks_reach_the_waiting_thread() -> Result<(), String> {
    simple("async_callback", "callback")
}

fn async_oneway_calls_run_in_order() -> Result<(), String> {
    simple("async_oneway", "oneway")
}

fn dropped_calls_leave_nothing_behind() -> Result<(), String> {
    let t = TestBinder::new("async_cancel")?;
    let mut svc = t.start_ready("service")?;
    let mut c = t.spawn("cancel", &[])?;
    let client_pid: u32 = fields(&c.expect("DONE")?)["pid"].parse().map_err(st)?;
    t.expect_buffers_freed(&[client_pid, svc.pid()])?;
    c.send("exit")?;
    c.finish()?;
    svc.send("exit")?;
    svc.finish()
}

fn waiting_for_a_service_and_its_death() -> Result<(), String> {
    let t = TestBinder::new("async_wait")?;
    let mut c = t.spawn("wait_and_death", &[])?;
    c.expect("WAITING")?;
    std::thread::sleep(Duration::from_millis(100));
    let mut svc = t.start_ready("service")?;
    c.expect("LINKED")?;
    svc.kill9()?;
    c.expect("DIED")?;
    c.finish()
}

fn main() {
    binder_testkit::run(
        &[
            ("async_round_trip", async_round_trip),
            (
                "a_thousand_concurrent_calls_on_two_workers",
                a_thousand_concurrent_calls_on_two_workers,
            ),
            (
                "callbacks_reach_the_waiting_thread",
                callbacks_reach_the_waiting_thread,
            ),
            (
                "async_oneway_calls_run_in_order",
                async_oneway_calls_run_in_order,
            ),
            (
                "dropped_calls_leave_nothing_behind",
                dropped_calls_leave_nothing_behind,
            ),
            (
                "waiting_for_a_service_and_its_death",
                waiting_for_a_service_and_its_death,
            ),
        ],
        &[
            ("service", role_service),
            ("round_trip", role_round_trip),
            ("thousand", role_thousand),
            ("callback", role_callback),
            ("cancel", role_cancel),
            ("oneway", role_oneway),
            ("wait_and_death", role_wait_and_death),
        ],
    )
}
