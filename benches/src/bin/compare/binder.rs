//! binder-rs as a user gets it: a `#[binder_interface]` trait, its generated proxy and stub, on
//! whichever driver `BINDER_DEVICE` names (a userspace driver instance or a kernel device).

use std::time::{Duration, Instant};

use binder_rt::tokio::Tokio;
use binder_rt::{ProcessState, async_rt, binder_interface};

use crate::measure::{Link, answer};

#[binder_interface(descriptor = "compare.IBench")]
pub trait IBench {
    /// Reads `data` in place in the receive mapping and answers [`answer`] of it.
    fn send(&self, data: &[u8]) -> binder_rt::Result<i64>;
}

struct Bench;

impl IBench for Bench {
    fn send(&self, data: &[u8]) -> binder_rt::Result<i64> {
        Ok(answer(data) as i64)
    }
}

pub const SERVICE: &str = "compare.bench";

/// Binder threads of the server: enough that 64 clients are not queued behind a few threads
/// more than a socket server's thread per connection would be.
const SERVER_THREADS: u32 = 32;

pub fn serve() -> Result<(), String> {
    let service = BnBench::new_binder(Bench);
    ProcessState::set_thread_pool_max_thread_count(SERVER_THREADS).map_err(|e| e.to_string())?;
    binder_rt::add_service(SERVICE, service.as_binder()).map_err(|e| e.to_string())?;
    ProcessState::start_thread_pool().map_err(|e| e.to_string())?;
    crate::ready(SERVICE);
    ProcessState::join_thread_pool().map_err(|e| e.to_string())
}

/// The same service implemented with `async fn`, on a tokio runtime of two workers (a
/// two-way call's future runs on the binder thread that received it).
pub fn serve_async() -> Result<(), String> {
    let rt = runtime()?;
    let service = BnBench::new_async_binder(Bench, Tokio::from(rt.handle().clone()));
    ProcessState::set_thread_pool_max_thread_count(SERVER_THREADS).map_err(|e| e.to_string())?;
    binder_rt::add_service(SERVICE, service.as_binder()).map_err(|e| e.to_string())?;
    ProcessState::start_thread_pool().map_err(|e| e.to_string())?;
    crate::ready(SERVICE);
    ProcessState::join_thread_pool().map_err(|e| e.to_string())
}

impl IBenchAsyncServer for Bench {
    async fn send(&self, data: &[u8]) -> binder_rt::Result<i64> {
        Ok(answer(data) as i64)
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

pub struct BinderLink(binder_rt::Strong<dyn IBench>);

impl BinderLink {
    pub fn connect(name: &str) -> Result<BinderLink, String> {
        binder_rt::get_interface::<dyn IBench>(name)
            .map(BinderLink)
            .map_err(|e| format!("get_interface {name}: {e}"))
    }
}

impl Link for BinderLink {
    fn call(&mut self, payload: &[u8]) -> Result<u64, String> {
        self.0
            .send(payload)
            .map(|v| v as u64)
            .map_err(|e| e.to_string())
    }
}

/// Awaited calls: each round trip is one `send(..).await` on a tokio runtime of two workers.
pub struct AsyncLink {
    rt: tokio::runtime::Runtime,
    bench: binder_rt::Strong<dyn IBenchAsync>,
}

impl AsyncLink {
    pub fn connect(name: &str) -> Result<AsyncLink, String> {
        let rt = runtime()?;
        let bench = rt
            .block_on(async_rt::get_interface::<dyn IBenchAsync>(name))
            .map_err(|e| format!("get_interface {name}: {e}"))?;
        Ok(AsyncLink { rt, bench })
    }
}

impl Link for AsyncLink {
    fn call(&mut self, payload: &[u8]) -> Result<u64, String> {
        self.rt
            .block_on(self.bench.send(payload))
            .map(|v| v as u64)
            .map_err(|e| e.to_string())
    }
}

/// `lanes` calls at once from this one process, each lane making `calls` empty calls one after
/// another: blocking calls on a thread per lane, or awaited ones in a task per lane on a
/// runtime of two workers. Returns the time the timed calls took (after one call per lane).
pub fn concurrent(
    name: &str,
    asynchronous: bool,
    lanes: usize,
    calls: usize,
) -> Result<Duration, String> {
    let failed = |e: binder_rt::Status| e.to_string();
    if asynchronous {
        let rt = runtime()?;
        return rt.block_on(async {
            let bench = async_rt::get_interface::<dyn IBenchAsync>(name)
                .await
                .map_err(failed)?;
            let lane = |n: usize| {
                let bench = bench.clone();
                async move {
                    for _ in 0..n {
                        bench.send(&[]).await?;
                    }
                    Ok::<(), binder_rt::Status>(())
                }
            };
            let mut warm = tokio::task::JoinSet::new();
            (0..lanes).for_each(|_| drop(warm.spawn(lane(1))));
            while let Some(r) = warm.join_next().await {
                r.map_err(|e| e.to_string())?.map_err(failed)?;
            }
            let t0 = Instant::now();
            let mut timed = tokio::task::JoinSet::new();
            (0..lanes).for_each(|_| drop(timed.spawn(lane(calls))));
            while let Some(r) = timed.join_next().await {
                r.map_err(|e| e.to_string())?.map_err(failed)?;
            }
            Ok(t0.elapsed())
        });
    }
    let bench = binder_rt::get_interface::<dyn IBench>(name).map_err(failed)?;
    let start = std::sync::Barrier::new(lanes + 1);
    let end = std::sync::Barrier::new(lanes + 1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..lanes)
            .map(|_| {
                let (bench, start, end) = (bench.clone(), &start, &end);
                s.spawn(move || {
                    let warm = bench.send(&[]).map(drop);
                    start.wait();
                    let timed = (0..calls).try_for_each(|_| bench.send(&[]).map(drop));
                    end.wait();
                    warm.and(timed)
                })
            })
            .collect();
        start.wait();
        let t0 = Instant::now();
        end.wait();
        let took = t0.elapsed();
        for h in handles {
            h.join().map_err(|_| "a lane panicked")?.map_err(failed)?;
        }
        Ok(took)
    })
}
