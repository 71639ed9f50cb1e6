//! Callbacks: the client hands the server a listener object (`Strong<dyn IListener>`); the
//! server calls it back before answering; and from inside the callback the client calls the
//! server again.
//!
//! Binder keeps such a nested chain on the threads already involved: the callback runs on the
//! client thread that is waiting for `publish` to return, and the nested call runs on the server
//! thread that is waiting for the callback to return. Both sides check it with thread ids, with
//! a thread pool started so that the driver could get it wrong.
//!
//! ```text
//! callbacks-server                 # registers "binder-examples.callbacks"
//! callbacks-client [COUNT]         # one publish with COUNT callbacks (default 3)
//! ```

use std::cell::Cell;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use binder_rt::{Parcelable, ProcessState, Status, Strong, binder_interface};

use crate::support::{Serve, arg, check, find, fmt_duration, gettid, pid, say, st};

/// The name the server registers with the service manager.
pub const SERVICE_NAME: &str = "binder-examples.callbacks";

/// Where a call ran.
#[derive(Parcelable, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ThreadInfo {
    /// The process.
    pub pid: i32,
    /// The thread (its kernel thread id).
    pub tid: i32,
    /// Whether this thread was inside `publish` (waiting for a callback) when the call ran.
    pub inside_publish: bool,
}

/// What `publish` returns.
#[derive(Parcelable, Debug, Clone, PartialEq, Eq, Default)]
pub struct PublishReport {
    /// The server thread that ran `publish`.
    pub thread: ThreadInfo,
    /// The listener's answer to each event.
    pub answers: Vec<String>,
}

/// The client's listener, called back by the server.
#[binder_interface(descriptor = "binder_examples.IListener")]
pub trait IListener {
    /// An event from the server; the answer goes back to it.
    fn on_event(&self, seq: i32, text: &str) -> binder_rt::Result<String>;
}

/// The server's interface.
#[binder_interface(descriptor = "binder_examples.IPublisher")]
pub trait IPublisher {
    /// Calls `listener.on_event` `count` times, then returns the answers.
    fn publish(
        &self,
        listener: &Strong<dyn IListener>,
        count: i32,
    ) -> binder_rt::Result<PublishReport>;
    /// Where this call runs. The listener calls it from inside `on_event`.
    fn where_am_i(&self) -> binder_rt::Result<ThreadInfo>;
}

thread_local! {
    /// Set while this server thread runs `publish`.
    static IN_PUBLISH: Cell<bool> = const { Cell::new(false) };
}

/// The server's implementation.
#[derive(Default, Debug)]
pub struct Publisher;

fn here(inside_publish: bool) -> ThreadInfo {
    ThreadInfo {
        pid: pid(),
        tid: gettid(),
        inside_publish,
    }
}

impl IPublisher for Publisher {
    fn publish(
        &self,
        listener: &Strong<dyn IListener>,
        count: i32,
    ) -> binder_rt::Result<PublishReport> {
        let me = here(true);
        say(format!(
            "publish: {count} events for the caller's listener (call from pid {}), on server thread {}",
            binder_rt::calling_pid(),
            me.tid
        ));
        IN_PUBLISH.with(|c| c.set(true));
        let mut answers = Vec::new();
        let result = (1..=count).try_for_each(|seq| {
            let text = format!("event {seq} of {count}");
            let answer = listener.on_event(seq, &text)?;
            say(format!("publish: on_event({seq}) answered {answer:?}"));
            answers.push(answer);
            Ok::<(), Status>(())
        });
        IN_PUBLISH.with(|c| c.set(false));
        result?;
        Ok(PublishReport {
            thread: me,
            answers,
        })
    }

    fn where_am_i(&self) -> binder_rt::Result<ThreadInfo> {
        let me = here(IN_PUBLISH.with(Cell::get));
        say(format!(
            "where_am_i: from pid {}, on server thread {}{}",
            binder_rt::calling_pid(),
            me.tid,
            if me.inside_publish {
                ", the one inside publish"
            } else {
                ", NOT inside publish"
            }
        ));
        Ok(me)
    }
}

/// The server: registers a [`Publisher`] and serves.
pub fn server(_args: &[String], serve: Serve) -> Result<(), String> {
    let service = BnPublisher::new_binder(Publisher);
    crate::support::register_and_serve(SERVICE_NAME, service.as_binder(), serve)
}

/// Where one callback and its nested call ran.
#[derive(Debug, Clone, Copy)]
struct CallbackRecord {
    seq: i32,
    /// The client thread `on_event` ran on.
    tid: i32,
    /// Where the nested `where_am_i` ran.
    nested: ThreadInfo,
}

/// The client's listener: records where each callback and its nested call ran.
struct Listener {
    publisher: Strong<dyn IPublisher>,
    /// The client thread that calls `publish` (and so waits while the callbacks run).
    waiting_tid: i32,
    seen: Arc<Mutex<Vec<CallbackRecord>>>,
}

impl IListener for Listener {
    fn on_event(&self, seq: i32, text: &str) -> binder_rt::Result<String> {
        let tid = gettid();
        // The nested call: client → server while the server waits for this callback.
        let nested = self.publisher.where_am_i()?;
        say(format!(
            "callback {seq}: on_event({text:?}) ran on client thread {tid} ({}); nested where_am_i() ran on server thread {} ({})",
            if tid == self.waiting_tid {
                "the one waiting in publish"
            } else {
                "NOT the one waiting in publish"
            },
            nested.tid,
            if nested.inside_publish {
                "the one inside publish"
            } else {
                "NOT inside publish"
            }
        ));
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(CallbackRecord { seq, tid, nested });
        Ok(format!("ack {seq} from thread {tid}"))
    }
}

/// The client: `callbacks-client [COUNT]` (default 3).
pub fn client(args: &[String]) -> Result<(), String> {
    let count: i32 = arg(args, 0, "count", 3)?;
    check(count > 0, || "COUNT must be positive".into())?;
    let publisher = find::<dyn IPublisher>(SERVICE_NAME, "callbacks-server")?;
    // With a pool, the driver could hand a callback to another thread: it must not.
    ProcessState::start_thread_pool().map_err(st)?;
    let me = gettid();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listener = BnListener::new_binder(Listener {
        publisher: publisher.clone(),
        waiting_tid: me,
        seen: seen.clone(),
    });
    say(format!(
        "publish: calling publish(listener, {count}) from client thread {me}"
    ));
    let t0 = Instant::now();
    let report = publisher
        .publish(&listener, count)
        .map_err(|e| format!("publish failed: {e}"))?;
    say(format!(
        "publish: returned after {} with {} answers; it ran on server thread {}",
        fmt_duration(t0.elapsed()),
        report.answers.len(),
        report.thread.tid
    ));

    let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    check(seen.len() == count as usize, || {
        format!("{} callbacks ran, expected {count}", seen.len())
    })?;
    for (i, CallbackRecord { seq, tid, nested }) in seen.iter().enumerate() {
        check(*seq == i as i32 + 1, || {
            format!("callback {seq} out of order")
        })?;
        check(*tid == me, || {
            format!("callback {seq} ran on client thread {tid}, not on {me} which waits in publish")
        })?;
        check(*nested == report.thread, || {
            format!(
                "the nested call of callback {seq} ran at {nested:?}, not on the server thread that waits for the callback ({:?})",
                report.thread
            )
        })?;
        let expected = format!("ack {seq} from thread {tid}");
        check(report.answers.get(i) == Some(&expected), || {
            format!(
                "answer {i} is {:?}, expected {expected:?}",
                report.answers.get(i)
            )
        })?;
    }
    say(format!(
        "nested: every callback ran on client thread {me} and every nested call on server thread {}: the threads already waiting for each other",
        report.thread.tid
    ));
    say("done: callbacks and nested calls stayed on the waiting threads");
    Ok(())
}
