//! The conformance suite: binder behaviour across processes, written against the public API
//! only, so that it runs unchanged on the userspace driver (default) and on Linux's driver
//! (`BINDER_TEST_DRIVER=kernel`, see scripts/kernel-tests). Each test gets its own driver
//! instance or kernel device and runs its processes as roles of this binary.

use std::io::{Read, Seek, Write};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use binder_rt::{
    DeathRecipient, ParcelFileDescriptor, Payload, ProcessState, SpIBinder, Status, StatusCode,
    Strong, binder_interface,
};
use binder_testkit::{TestBinder, fields, next_command, report};

#[binder_interface(descriptor = "conformance.IService")]
pub trait IService {
    fn echo(&self, data: &[u8]) -> binder_rt::Result<Payload>;
    fn caller(&self) -> binder_rt::Result<(i32, i32)>;
    #[oneway]
    fn record(&self, seq: i32) -> binder_rt::Result<()>;
    #[oneway]
    fn record_caller(&self) -> binder_rt::Result<()>;
    fn recorded(&self) -> binder_rt::Result<Vec<i32>>;
    fn oneway_callers(&self) -> binder_rt::Result<Vec<i32>>;
    fn call_back(&self, cb: &Strong<dyn ICallback>) -> binder_rt::Result<i32>;
    fn call_back_nested(&self, cb: &Strong<dyn ICallback>) -> binder_rt::Result<bool>;
    fn thread_id(&self) -> binder_rt::Result<i32>;
    fn hold(&self, obj: &SpIBinder) -> binder_rt::Result<()>;
    fn held(&self) -> binder_rt::Result<Option<SpIBinder>>;
    fn drop_held(&self) -> binder_rt::Result<()>;
    fn open_file(&self, content: &str) -> binder_rt::Result<ParcelFileDescriptor>;
    fn read_fd(&self, fd: OwnedFd) -> binder_rt::Result<String>;
    fn crash(&self) -> binder_rt::Result<()>;
    fn fail(&self, code: i32) -> binder_rt::Result<()>;
    /// Returns true once `n` calls are inside this method at the same time (false after a
    /// timeout): only a thread pool that grew to `n` threads can answer true.
    fn rendezvous(&self, n: i32) -> binder_rt::Result<bool>;
    /// Keeps `data` (a buffer in the service's receive area) for a worker thread to drop later.
    #[oneway]
    fn keep(&self, data: Payload) -> binder_rt::Result<()>;
}

#[binder_interface(descriptor = "conformance.ICallback")]
pub trait ICallback {
    fn tid(&self) -> binder_rt::Result<i32>;
    fn pid(&self) -> binder_rt::Result<i32>;
    /// Calls the service's `thread_id` from inside a callback (A → B → A → B).
    fn service_tid(&self) -> binder_rt::Result<i32>;
}

fn gettid() -> i32 {
    nix::unistd::gettid().as_raw()
}

fn pid() -> i32 {
    std::process::id() as i32
}

fn st(e: impl std::fmt::Display) -> String {
    e.to_string()
}

const SERVICE: &str = "conformance.service";

/// The test's service, from the service manager (it was registered before clients start).
fn service() -> Result<Strong<dyn IService>, String> {
    binder_rt::get_interface::<dyn IService>(SERVICE).map_err(st)
}

// ---- the service (context manager) -----------------------------------------------------------

#[derive(Default)]
struct Service {
    recorded: Mutex<Vec<i32>>,
    oneway_callers: Mutex<Vec<i32>>,
    held: Mutex<Option<SpIBinder>>,
    inside: Mutex<i32>,
    arrived: std::sync::Condvar,
    kept: Arc<Mutex<Vec<Payload>>>,
    kept_total: std::sync::atomic::AtomicI32,
}

impl IService for Service {
    fn echo(&self, data: &[u8]) -> binder_rt::Result<Payload> {
        Ok(Payload::from(data))
    }
    fn caller(&self) -> binder_rt::Result<(i32, i32)> {
        Ok((binder_rt::calling_pid(), binder_rt::calling_uid() as i32))
    }
    fn record(&self, seq: i32) -> binder_rt::Result<()> {
        self.recorded.lock().unwrap().push(seq);
        Ok(())
    }
    fn record_caller(&self) -> binder_rt::Result<()> {
        self.oneway_callers
            .lock()
            .unwrap()
            .push(binder_rt::calling_pid());
        Ok(())
    }
    fn recorded(&self) -> binder_rt::Result<Vec<i32>> {
        Ok(self.recorded.lock().unwrap().clone())
    }
    fn oneway_callers(&self) -> binder_rt::Result<Vec<i32>> {
        Ok(self.oneway_callers.lock().unwrap().clone())
    }
    fn call_back(&self, cb: &Strong<dyn ICallback>) -> binder_rt::Result<i32> {
        cb.tid()
    }
    fn call_back_nested(&self, cb: &Strong<dyn ICallback>) -> binder_rt::Result<bool> {
        let mine = gettid();
        Ok(cb.service_tid()? == mine)
    }
    fn thread_id(&self) -> binder_rt::Result<i32> {
        Ok(gettid())
    }
    fn hold(&self, obj: &SpIBinder) -> binder_rt::Result<()> {
        *self.held.lock().unwrap() = Some(obj.clone());
        Ok(())
    }
    fn held(&self) -> binder_rt::Result<Option<SpIBinder>> {
        Ok(self.held.lock().unwrap().clone())
    }
    fn drop_held(&self) -> binder_rt::Result<()> {
        self.held.lock().unwrap().take();
        Ok(())
    }
    fn open_file(&self, content: &str) -> binder_rt::Result<ParcelFileDescriptor> {
        let mut f = tempfile().map_err(|e| Status::new_service_specific_error(1, e))?;
        f.write_all(content.as_bytes())
            .and_then(|_| f.rewind())
            .map_err(|e| Status::new_service_specific_error(2, e.to_string()))?;
        Ok(ParcelFileDescriptor::new(f.into()))
    }
    fn read_fd(&self, fd: OwnedFd) -> binder_rt::Result<String> {
        let mut s = String::new();
        std::fs::File::from(fd)
            .read_to_string(&mut s)
            .map_err(|e| Status::new_service_specific_error(3, e.to_string()))?;
        Ok(s)
    }
    fn crash(&self) -> binder_rt::Result<()> {
        std::process::exit(7);
    }
    fn fail(&self, code: i32) -> binder_rt::Result<()> {
        Err(Status::new_service_specific_error(
            code,
            format!("failed with {code}"),
        ))
    }
    fn rendezvous(&self, n: i32) -> binder_rt::Result<bool> {
        let mut inside = self.inside.lock().unwrap();
        *inside += 1;
        self.arrived.notify_all();
        let (inside, _) = self
            .arrived
            .wait_timeout_while(inside, binder_testkit::patience(), |c| *c < n)
            .unwrap();
        Ok(*inside >= n)
    }
    fn keep(&self, data: Payload) -> binder_rt::Result<()> {
        self.kept.lock().unwrap().push(data);
        let n = self.kept_total.fetch_add(1, Ordering::SeqCst) + 1;
        report(format!("KEPT {n}"));
        Ok(())
    }
}

fn tempfile() -> Result<std::fs::File, String> {
    let fd = nix::sys::memfd::memfd_create(c"conformance", nix::sys::memfd::MFdFlags::MFD_CLOEXEC)
        .map_err(st)?;
    Ok(std::fs::File::from(fd))
}

/// The service process: registers with the service manager, serves on its thread pool, then
/// waits for "exit" or end of input.
fn role_service(_: &[String]) -> Result<(), String> {
    let service = Service::default();
    // Drops what `keep` kept, a little later, on a thread that never talks to the driver.
    let kept = service.kept.clone();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(20));
            drop(std::mem::take(&mut *kept.lock().unwrap()));
        }
    });
    let svc = BnService::new_binder(service);
    ProcessState::start_thread_pool().map_err(st)?;
    binder_rt::add_service(SERVICE, svc.as_binder()).map_err(st)?;
    report(format!("READY pid={}", pid()));
    while let Some(cmd) = next_command() {
        if cmd == "exit" {
            break;
        }
    }
    Ok(())
}

struct Callback {
    service: Option<Strong<dyn IService>>,
    dropped: Option<&'static str>,
}

impl ICallback for Callback {
    fn tid(&self) -> binder_rt::Result<i32> {
        Ok(gettid())
    }
    fn pid(&self) -> binder_rt::Result<i32> {
        Ok(pid())
    }
    fn service_tid(&self) -> binder_rt::Result<i32> {
        self.service
            .as_ref()
            .ok_or_else(|| Status::from(StatusCode::NoInit))?
            .thread_id()
    }
}

impl Drop for Callback {
    fn drop(&mut self) {
        if let Some(what) = self.dropped {
            report(format!("DROPPED {what}"));
        }
    }
}

// ---- client roles -----------------------------------------------------------------------------

fn check(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

fn role_round_trip(_: &[String]) -> Result<(), String> {
    let s = service()?;
    for size in [0usize, 1, 3, 4096, 64 * 1024, 512 * 1024] {
        let data: Vec<u8> = (0..size).map(|i| (i * 7 + size) as u8).collect();
        let back = s.echo(&data).map_err(st)?;
        check(back.as_slice() == &data[..], || {
            format!("echo of {size} bytes differs")
        })?;
        check(back.is_in_place(), || {
            "the reply is not read in place from the mapping".into()
        })?;
    }
    let err = s.fail(42).expect_err("fail must fail");
    check(
        err.service_specific_error() == 42 && err.message() == "failed with 42",
        || format!("{err:?}"),
    )?;
    s.as_binder().ping_binder().map_err(st)?;
    check(
        s.as_binder().interface_descriptor().map_err(st)? == "conformance.IService",
        || "descriptor".into(),
    )?;
    report("OK");
    Ok(())
}

fn role_nested(_: &[String]) -> Result<(), String> {
    let s = service()?;
    // A pool exists, so a nested call could land on another thread if the driver got it wrong.
    ProcessState::start_thread_pool().map_err(st)?;
    let cb = BnCallback::new_binder(Callback {
        service: Some(s.clone()),
        dropped: None,
    });
    for _ in 0..20 {
        let handler = s.call_back(&cb).map_err(st)?;
        check(handler == gettid(), || {
            format!(
                "nested call ran on thread {handler}, caller is {}",
                gettid()
            )
        })?;
        check(s.call_back_nested(&cb).map_err(st)?, || {
            "A→B→A→B did not land on B's waiting thread".into()
        })?;
    }
    report("OK");
    Ok(())
}

fn role_oneway(_: &[String]) -> Result<(), String> {
    let s = service()?;
    const N: i32 = 300;
    for i in 0..N {
        s.record(i).map_err(st)?;
    }
    s.record_caller().map_err(st)?;
    let deadline = Instant::now() + binder_testkit::patience();
    let got = loop {
        let got = s.recorded().map_err(st)?;
        if got.len() == N as usize || Instant::now() > deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    check(got == (0..N).collect::<Vec<_>>(), || {
        format!("oneway calls out of order or lost: {got:?}")
    })?;
    let callers = loop {
        let c = s.oneway_callers().map_err(st)?;
        if !c.is_empty() || Instant::now() > deadline {
            break c;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // As the kernel: a oneway transaction does not name its sender.
    check(callers == vec![0], || {
        format!("oneway calling pid {callers:?}")
    })?;
    report("OK");
    Ok(())
}

/// Several threads call at once; the service's pool must grow to serve them together
/// (`BR_SPAWN_LOOPER`).
fn role_concurrent(_: &[String]) -> Result<(), String> {
    let s = service()?;
    const N: i32 = 4;
    let handles: Vec<_> = (0..N)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || s.rendezvous(N))
        })
        .collect();
    for h in handles {
        let met = h
            .join()
            .map_err(|_| "caller thread panicked")?
            .map_err(st)?;
        check(met, || {
            format!("{N} concurrent calls were not served at the same time")
        })?;
    }
    report("OK");
    Ok(())
}

/// A thousand threads of one process call at once, each through its own thread connection
/// (its own mailbox on the userspace driver); every answer is its own.
fn role_thousand_threads(_: &[String]) -> Result<(), String> {
    const THREADS: usize = 1000;
    let s = service()?;
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let s = s.clone();
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || -> Result<(), String> {
                    let data = (i as u32).to_le_bytes().repeat(1 + i % 7);
                    let back = s.echo(&data).map_err(st)?;
                    check(back[..] == data[..], || {
                        format!("thread {i} got another's answer")
                    })
                })
                .map_err(st)
        })
        .collect::<Result<_, String>>()?;
    for h in handles {
        h.join().map_err(|_| "caller thread panicked")??;
    }
    report("OK");
    Ok(())
}

/// Oneway calls whose buffers the service keeps for a while: each next one is delivered only
/// once the previous buffer is freed, by a thread that is not a binder thread.
fn role_keep(_: &[String]) -> Result<(), String> {
    let s = service()?;
    for i in 0..3u8 {
        s.keep(Payload::from(vec![i; 1000])).map_err(st)?;
    }
    report("SENT");
    Ok(())
}

fn role_identity(_: &[String]) -> Result<(), String> {
    let s = service()?;
    let (p, u) = s.caller().map_err(st)?;
    let euid = nix::unistd::geteuid().as_raw() as i32;
    check(p == pid() && u == euid, || {
        format!("caller ({p}, {u}), expected ({}, {euid})", pid())
    })?;
    check(binder_rt::calling_pid() == pid(), || {
        "outside a call, calling_pid is our own".into()
    })?;
    report("OK");
    Ok(())
}

/// Provider of an object: hands it to the service, drops its own references, reports when the
/// driver's references are gone too.
fn role_provider(_: &[String]) -> Result<(), String> {
    let s = service()?;
    ProcessState::start_thread_pool().map_err(st)?;
    {
        let obj = BnCallback::new_binder(Callback {
            service: None,
            dropped: Some("object"),
        });
        s.hold(&obj.as_binder()).map_err(st)?;
        // Sent back to its owner, a handle becomes the local object again.
        let back = s.held().map_err(st)?.ok_or("nothing held")?;
        check(back.is_local() && back == obj.as_binder(), || {
            "handle sent back to its owner is not the local object".into()
        })?;
    }
    report(format!("HELD pid={}", pid()));
    while let Some(cmd) = next_command() {
        if cmd == "exit" {
            break;
        }
    }
    Ok(())
}

/// A third process uses the provider's object, which it got from the service.
fn role_consumer(args: &[String]) -> Result<(), String> {
    let provider: i32 = args
        .first()
        .and_then(|a| a.parse().ok())
        .ok_or("provider pid")?;
    let s = service()?;
    let obj = s.held().map_err(st)?.ok_or("nothing held")?;
    check(obj.is_remote(), || {
        "a third process must see a proxy".into()
    })?;
    let cb = binder_rt::interface_cast::<dyn ICallback>(obj).map_err(st)?;
    let p = cb.pid().map_err(st)?;
    check(p == provider, || {
        format!("object answered from pid {p}, provider is {provider}")
    })?;
    report("OK");
    Ok(())
}

fn role_fds(_: &[String]) -> Result<(), String> {
    let s = service()?;
    let pfd = s.open_file("hello from the service").map_err(st)?;
    let mut text = String::new();
    std::fs::File::from(pfd.into_inner())
        .read_to_string(&mut text)
        .map_err(st)?;
    check(text == "hello from the service", || {
        format!("read {text:?}")
    })?;
    let (r, w) = nix::unistd::pipe().map_err(st)?;
    std::fs::File::from(w)
        .write_all(b"hello from the client")
        .map_err(st)?;
    let got = s.read_fd(r).map_err(st)?;
    check(got == "hello from the client", || {
        format!("service read {got:?}")
    })?;
    report("OK");
    Ok(())
}

fn role_watch_death(_: &[String]) -> Result<(), String> {
    let s = service()?;
    ProcessState::start_thread_pool().map_err(st)?;
    let died = Arc::new(AtomicBool::new(false));
    let flag = died.clone();
    let recipient = DeathRecipient::new(move || {
        flag.store(true, Ordering::SeqCst);
        report("DIED");
    });
    s.as_binder().link_to_death(&recipient).map_err(st)?;
    report("LINKED");
    let deadline = Instant::now() + binder_testkit::patience();
    while !died.load(Ordering::SeqCst) {
        if Instant::now() > deadline {
            return Err("no death notification".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let after = s.thread_id();
    check(
        matches!(after, Err(ref e) if e.transaction_error() == StatusCode::DeadObject),
        || format!("call after death: {after:?}"),
    )?;
    Ok(())
}

fn role_dead_reply(_: &[String]) -> Result<(), String> {
    let s = service()?;
    let r = s.crash();
    check(
        matches!(r, Err(ref e) if e.transaction_error() == StatusCode::DeadObject),
        || format!("crash returned {r:?}"),
    )?;
    let again = s.thread_id();
    check(
        matches!(again, Err(ref e) if e.transaction_error() == StatusCode::DeadObject),
        || format!("then {again:?}"),
    )?;
    report("OK");
    Ok(())
}

fn role_too_large(_: &[String]) -> Result<(), String> {
    let s = service()?;
    let big = vec![1u8; 2 * 1024 * 1024];
    let err = match s.echo(&big) {
        Err(e) => e,
        Ok(p) => return Err(format!("a 2 MiB echo returned {} bytes", p.len())),
    };
    check(
        err.transaction_error() == StatusCode::FailedTransaction,
        || format!("2 MiB echo gave {err}"),
    )?;
    // ...with the reason, from the driver.
    check(
        err.message()
            .contains("does not fit in the receiver's buffer"),
        || format!("2 MiB echo gave {err}"),
    )?;
    // Oneway transactions may use only half the receiver's area.
    let half = vec![2u8; 600 * 1024];
    let r = s.echo(&half).map(|p| p.len());
    check(r == Ok(half.len()), || {
        format!("600 KiB two-way call gave {r:?}")
    })?;
    let oneway = oneway_blob(&s, &half);
    check(oneway == Err(StatusCode::FailedTransaction), || {
        format!("600 KiB oneway call gave {oneway:?}")
    })?;
    // The failures left nothing behind.
    let r = s.echo(b"small").map_err(st)?;
    check(r.as_slice() == b"small", || "later call".into())?;
    report("OK");
    Ok(())
}

/// Sends a oneway transaction of `payload` with the raw binder API.
fn oneway_blob(s: &Strong<dyn IService>, payload: &[u8]) -> Result<(), StatusCode> {
    let b = s.as_binder();
    let mut data = b.prepare_transact();
    data.write_interface_token("conformance.IService")?;
    data.write(payload)?;
    b.submit_transact(
        BnService::TRANSACTION_RECORD,
        data,
        binder_rt::binder_impl::FLAG_ONEWAY,
    )
    .map(|_| ())
}

/// Makes calls, frees every reply, and reports its pid so the test can check that the driver
/// holds no buffer for it or the service.
fn role_buffers(_: &[String]) -> Result<(), String> {
    let s = service()?;
    for i in 0..50usize {
        let data = vec![i as u8; 1000 * i];
        let r = s.echo(&data).map_err(st)?;
        check(r.len() == data.len(), || "echo".into())?;
    }
    binder_rt::flush_commands().map_err(st)?;
    report(format!("DONE pid={}", pid()));
    while let Some(cmd) = next_command() {
        if cmd == "exit" {
            break;
        }
    }
    Ok(())
}

/// Sends one `echo` of `size` payload bytes with the raw API, between two snapshots of the
/// driver's counters, and reports what the driver copied against the Parcel sizes.
fn role_bytes_copied(args: &[String]) -> Result<(), String> {
    let size: usize = args.first().and_then(|a| a.parse().ok()).ok_or("size")?;
    let s = service()?;
    s.as_binder().ping_binder().map_err(st)?;
    binder_rt::flush_commands().map_err(st)?;
    let b = s.as_binder();
    let mut data = b.prepare_transact();
    data.write_interface_token("conformance.IService")
        .map_err(st)?;
    data.write(&vec![0x5au8; size]).map_err(st)?;
    let data_size = data.data_size();
    let before = binder_rt::driver_stats().map_err(st)?;
    let reply = b
        .submit_transact(BnService::TRANSACTION_ECHO, data, 0)
        .map_err(st)?;
    let after = binder_rt::driver_stats().map_err(st)?;
    report(format!(
        "COPIED transactions={} bytes={} payload={} arena={}",
        after.transactions + after.replies - before.transactions - before.replies,
        after.bytes_copied - before.bytes_copied,
        data_size + reply.data_size(),
        after.bytes_copied_arena - before.bytes_copied_arena
    ));
    // A call carrying a binder object: its offsets array comes from the arena too.
    let obj = BnCallback::new_binder(Callback {
        service: None,
        dropped: None,
    });
    let before = binder_rt::driver_stats().map_err(st)?;
    s.hold(&obj.as_binder()).map_err(st)?;
    let after = binder_rt::driver_stats().map_err(st)?;
    report(format!(
        "OBJECTS bytes={} arena={}",
        after.bytes_copied - before.bytes_copied,
        after.bytes_copied_arena - before.bytes_copied_arena
    ));
    Ok(())
}

// ---- tests ----------------------------------------------------------------------------------

fn start_service(t: &TestBinder) -> Result<binder_testkit::Process, String> {
    t.start_ready("service")
}

fn simple(name: &str, role: &str) -> Result<(), String> {
    TestBinder::new(name)?.server_and_client("service", role)
}

fn round_trip() -> Result<(), String> {
    simple("round_trip", "round_trip")
}

fn nested_calls_land_on_the_waiting_thread() -> Result<(), String> {
    simple("nested", "nested")
}

fn oneway_calls_arrive_in_order() -> Result<(), String> {
    simple("oneway", "oneway")
}

fn the_thread_pool_grows_for_concurrent_calls() -> Result<(), String> {
    simple("concurrent", "concurrent")
}

fn oneway_buffers_freed_by_other_threads_let_the_next_call_in() -> Result<(), String> {
    let t = TestBinder::new("keep")?;
    let mut svc = start_service(&t)?;
    let mut c = t.spawn("keep", &[])?;
    c.expect("SENT")?;
    c.finish()?;
    svc.expect("KEPT 3")?;
    svc.send("exit")?;
    svc.finish()
}

fn a_thousand_threads_of_one_process() -> Result<(), String> {
    simple("thousand", "thousand_threads")
}

fn calling_pid_and_uid() -> Result<(), String> {
    simple("identity", "identity")
}

fn fd_passing() -> Result<(), String> {
    simple("fds", "fds")
}

fn too_large_transactions_fail_cleanly() -> Result<(), String> {
    simple("too_large", "too_large")
}

fn objects_across_three_processes_and_release() -> Result<(), String> {
    let t = TestBinder::new("three")?;
    let mut svc = start_service(&t)?;
    let mut provider = t.spawn("provider", &[])?;
    let provider_pid = fields(&provider.expect("HELD")?)["pid"].clone();
    let mut consumer = t.spawn("consumer", &[&provider_pid])?;
    consumer.expect("OK")?;
    consumer.finish()?;
    // The only reference left is the service's: when it lets go, the owner sees its object go.
    let s_pid = svc.pid();
    let mut dropper = t.spawn("drop_held", &[])?;
    dropper.expect("OK")?;
    dropper.finish()?;
    provider
        .expect("DROPPED object")
        .map_err(|e| format!("owner never saw the release (service {s_pid}): {e}"))?;
    provider.send("exit")?;
    provider.finish()?;
    svc.send("exit")?;
    svc.finish()
}

/// Holds the only reference to the provider's object, then drops it on its main thread (not a
/// binder thread) and stays alive: the owner must still hear of the release.
fn role_last_holder(_: &[String]) -> Result<(), String> {
    let s = service()?;
    let obj = s.held().map_err(st)?.ok_or("nothing held")?;
    s.drop_held().map_err(st)?;
    drop(obj);
    report("RELEASED");
    while let Some(cmd) = next_command() {
        if cmd == "exit" {
            break;
        }
    }
    Ok(())
}

fn releases_from_a_non_binder_thread_reach_the_owner() -> Result<(), String> {
    let t = TestBinder::new("last_holder")?;
    let svc = start_service(&t)?;
    let mut provider = t.spawn("provider", &[])?;
    provider.expect("HELD")?;
    let mut holder = t.spawn("last_holder", &[])?;
    holder.expect("RELEASED")?;
    provider.expect("DROPPED object")?;
    for mut p in [holder, provider, svc] {
        p.send("exit")?;
        p.finish()?;
    }
    Ok(())
}

fn role_drop_held(_: &[String]) -> Result<(), String> {
    service()?.drop_held().map_err(st)?;
    report("OK");
    Ok(())
}

fn death_notification_after_kill_9() -> Result<(), String> {
    let t = TestBinder::new("death")?;
    let mut svc = start_service(&t)?;
    let mut watcher = t.spawn("watch_death", &[])?;
    watcher.expect("LINKED")?;
    svc.kill9()?;
    watcher.expect("DIED")?;
    watcher.finish()
}

fn dead_reply_when_the_target_dies_during_a_call() -> Result<(), String> {
    simple("dead_reply", "dead_reply")
}

fn buffers_are_all_freed_after_a_run() -> Result<(), String> {
    let t = TestBinder::new("buffers")?;
    let mut svc = start_service(&t)?;
    let mut c = t.spawn("buffers", &[])?;
    let client_pid: u32 = fields(&c.expect("DONE")?)["pid"].parse().map_err(st)?;
    t.expect_buffers_freed(&[client_pid, svc.pid()])?;
    c.send("exit")?;
    c.finish()?;
    svc.send("exit")?;
    svc.finish()
}

fn bytes_copied_equal_payload_bytes() -> Result<(), String> {
    let t = TestBinder::new("bytes")?;
    let _svc = start_service(&t)?;
    for size in [0usize, 4096, 300_000] {
        let mut c = t.spawn("bytes_copied", &[&size.to_string()])?;
        let f = fields(&c.expect("COPIED")?);
        let o = fields(&c.expect("OBJECTS")?);
        c.finish()?;
        check(o["bytes"] != "0" && o["arena"] == o["bytes"], || {
            format!("{o:?}: a call with an object was not all copied from the arena")
        })?;
        check(f["transactions"] == "2", || {
            format!("{f:?}: expected the call and its reply")
        })?;
        check(f["bytes"] == f["payload"], || {
            format!("{f:?}: bytes copied differ from payload bytes")
        })?;
    }
    Ok(())
}

fn main() {
    let mut tests: Vec<(&'static str, binder_testkit::TestFn)> = vec![
        ("round_trip", round_trip),
        (
            "nested_calls_land_on_the_waiting_thread",
            nested_calls_land_on_the_waiting_thread,
        ),
        ("oneway_calls_arrive_in_order", oneway_calls_arrive_in_order),
        ("calling_pid_and_uid", calling_pid_and_uid),
        (
            "oneway_buffers_freed_by_other_threads_let_the_next_call_in",
            oneway_buffers_freed_by_other_threads_let_the_next_call_in,
        ),
        (
            "the_thread_pool_grows_for_concurrent_calls",
            the_thread_pool_grows_for_concurrent_calls,
        ),
        ("fd_passing", fd_passing),
        (
            "a_thousand_threads_of_one_process",
            a_thousand_threads_of_one_process,
        ),
        (
            "too_large_transactions_fail_cleanly",
            too_large_transactions_fail_cleanly,
        ),
        (
            "objects_across_three_processes_and_release",
            objects_across_three_processes_and_release,
        ),
        (
            "death_notification_after_kill_9",
            death_notification_after_kill_9,
        ),
        (
            "releases_from_a_non_binder_thread_reach_the_owner",
            releases_from_a_non_binder_thread_reach_the_owner,
        ),
        (
            "dead_reply_when_the_target_dies_during_a_call",
            dead_reply_when_the_target_dies_during_a_call,
        ),
        (
            "buffers_are_all_freed_after_a_run",
            buffers_are_all_freed_after_a_run,
        ),
    ];
    // The kernel keeps no byte counter; on it this property is checked by construction (its
    // copy_from_user is the only copy) and not measurable from userspace.
    if !binder_testkit::kernel_driver() {
        tests.push((
            "bytes_copied_equal_payload_bytes",
            bytes_copied_equal_payload_bytes,
        ));
    }
    binder_testkit::run(
        &tests,
        &[
            ("service", role_service),
            ("round_trip", role_round_trip),
            ("nested", role_nested),
            ("oneway", role_oneway),
            ("identity", role_identity),
            ("keep", role_keep),
            ("concurrent", role_concurrent),
            ("thousand_threads", role_thousand_threads),
            ("provider", role_provider),
            ("consumer", role_consumer),
            ("drop_held", role_drop_held),
            ("last_holder", role_last_holder),
            ("fds", role_fds),
            ("watch_death", role_watch_death),
            ("dead_reply", role_dead_reply),
            ("too_large", role_too_large),
            ("buffers", role_buffers),
            ("bytes_copied", role_bytes_copied),
        ],
    )
}
