//! Async on tokio: a service written with `async fn` (its methods await tokio timers), and a
//! client on a two-worker tokio runtime that awaits many calls at once.
//!
//! The interface is written with `async fn`, so the trait [`IJobs`] is what the service
//! implements; the macro generates [`IJobsAsync`] for callers that await and [`IJobsBlocking`]
//! for blocking callers (and blocking implementations). The wire is the same for all of them.
//!
//! - A two-way call's future runs on the server's binder thread that received it (which must
//!   send the reply), with the tokio runtime's timers and I/O.
//! - A oneway call's future is spawned on the runtime: the binder thread is free at once.
//! - The client's awaited calls run on binder call threads, not on tokio's workers: ten calls
//!   of 200 ms each, awaited together from a runtime with two workers, take about 200 ms.
//!
//! ```text
//! jobs-server                     # registers "binder-examples.jobs"
//! jobs-client [COUNT] [MS]        # COUNT jobs of MS milliseconds at once (default 10, 200)
//! ```

use std::sync::Mutex;
use std::time::{Duration, Instant};

use binder_rt::async_rt;
use binder_rt::tokio::Tokio;
use binder_rt::{Strong, binder_interface};

use crate::support::{Serve, arg, check, fmt_duration, pid, say, st};

/// The name the server registers with the service manager.
pub const SERVICE_NAME: &str = "binder-examples.jobs";

/// The service's interface, written the async way.
#[binder_interface(descriptor = "binder_examples.IJobs")]
pub trait IJobs {
    /// Runs job `name` for `ms` milliseconds (a tokio timer: no thread sleeps) and says when
    /// it ended.
    async fn run(&self, name: &str, ms: i32) -> binder_rt::Result<String>;
    /// Notes a line, without waiting for it to be noted.
    #[oneway]
    async fn note(&self, line: &str) -> binder_rt::Result<()>;
    /// The lines noted so far.
    async fn notes(&self) -> binder_rt::Result<Vec<String>>;
    /// The most `run` calls that were in progress at once.
    async fn peak(&self) -> binder_rt::Result<i32>;
}

/// The server's implementation.
#[derive(Default, Debug)]
pub struct Jobs {
    notes: Mutex<Vec<String>>,
    started: Mutex<Option<Instant>>,
    /// `run` calls in progress now, and the most at once.
    running: Mutex<(i32, i32)>,
}

impl IJobs for Jobs {
    async fn run(&self, name: &str, ms: i32) -> binder_rt::Result<String> {
        let from = binder_rt::calling_pid();
        let t0 = *self
            .started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(Instant::now);
        self.count_running(1);
        tokio::time::sleep(Duration::from_millis(ms.max(0) as u64)).await;
        self.count_running(-1);
        let done = format!("{name} done at +{}", fmt_duration(t0.elapsed()));
        say(format!("call: run({name:?}, {ms}) from pid {from}: {done}"));
        Ok(done)
    }

    async fn note(&self, line: &str) -> binder_rt::Result<()> {
        // Spawned on the runtime: this runs after the binder thread went back to its pool.
        tokio::task::yield_now().await;
        say(format!(
            "call: note({line:?}) (oneway, on the tokio runtime)"
        ));
        self.notes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line.to_owned());
        Ok(())
    }

    async fn notes(&self) -> binder_rt::Result<Vec<String>> {
        Ok(self.notes.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    async fn peak(&self) -> binder_rt::Result<i32> {
        Ok(self.running.lock().unwrap_or_else(|e| e.into_inner()).1)
    }
}

impl Jobs {
    fn count_running(&self, delta: i32) {
        let mut r = self.running.lock().unwrap_or_else(|e| e.into_inner());
        r.0 += delta;
        r.1 = r.1.max(r.0);
    }
}

/// A tokio runtime of two workers, as a small service or client would have.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(st)
}

/// The server: registers a [`Jobs`] whose methods run on a tokio runtime, and serves.
pub fn server(_args: &[String], serve: Serve) -> Result<(), String> {
    let rt = runtime()?;
    let service = BnJobs::new_async_binder(Jobs::default(), Tokio::from(rt.handle().clone()));
    crate::support::register_and_serve(SERVICE_NAME, service.as_binder(), serve)
}

/// The client: `jobs-client [COUNT] [MS]` (default 10 jobs of 200 ms).
pub fn client(args: &[String]) -> Result<(), String> {
    let count: i32 = arg(args, 0, "count", 10)?;
    let ms: i32 = arg(args, 1, "milliseconds", 200)?;
    let most = async_rt::max_call_threads() as i32;
    check((1..=most).contains(&count) && ms >= 0, || {
        format!("COUNT must be 1..={most} (the call threads) and MS not negative")
    })?;
    runtime()?.block_on(async {
        let t0 = Instant::now();
        let jobs: Strong<dyn IJobsAsync> =
            async_rt::wait_for_interface::<dyn IJobsAsync>(SERVICE_NAME)
                .await
                .map_err(st)?;
        say(format!(
            "found: {SERVICE_NAME:?} in {} (awaited; pid {})",
            fmt_duration(t0.elapsed()),
            pid()
        ));
        jobs.note("the client starts its jobs").await.map_err(st)?;
        let t0 = Instant::now();
        let mut running = tokio::task::JoinSet::new();
        for i in 0..count {
            let jobs = jobs.clone();
            running.spawn(async move { jobs.run(&format!("job {i}"), ms).await });
        }
        let mut done = 0;
        while let Some(result) = running.join_next().await {
            result.map_err(st)?.map_err(st)?;
            done += 1;
        }
        let took = t0.elapsed();
        let peak = jobs.peak().await.map_err(st)?;
        say(format!(
            "awaited: {done} jobs of {ms} ms at once took {} on a runtime of 2 workers; up to {peak} ran in the server at once ({} binder call threads sent them)",
            fmt_duration(took),
            async_rt::call_threads().threads
        ));
        // Awaiting a call holds no tokio worker: more calls were in flight than workers.
        check(count < 3 || peak > 2, || {
            format!("at most {peak} of {count} jobs ran at once: awaited calls held the workers")
        })?;
        // The blocking interface of the same service, from a thread that may block.
        let notes = tokio::task::spawn_blocking(|| {
            binder_rt::get_interface::<dyn IJobsBlocking>(SERVICE_NAME)?.notes()
        })
        .await
        .map_err(st)?
        .map_err(st)?;
        check(notes.iter().any(|n| n == "the client starts its jobs"), || {
            format!("the oneway note is missing: {notes:?}")
        })?;
        say(format!(
            "blocking: notes() through IJobsBlocking answered {notes:?}"
        ));
        say(format!(
            "done: {done} awaited calls in {}, {}x faster than one after another",
            fmt_duration(took),
            ((count as u128 * ms as u128 * 1000) / took.as_micros().max(1)).max(1)
        ));
        Ok(())
    })
}
