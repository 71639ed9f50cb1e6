//! Death notifications: the client links a `DeathRecipient` to the server's binder; when the
//! server's process dies — `kill -9` included, it gets no chance to say goodbye — the driver
//! tells every process that asked, and the recipient runs on the client's thread pool.
//!
//! ```text
//! deathwatch-server                # registers "binder-examples.deathwatch"
//! deathwatch-client [SECONDS]      # links, then waits (forever by default) for the server to die
//! kill -9 <server pid>             # from another terminal
//! ```

use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use binder_rt::{DeathRecipient, ProcessState, binder_interface};

use crate::support::{Serve, arg, check, find, fmt_duration, gettid, is_dead_object, say, st};

/// The name the server registers with the service manager.
pub const SERVICE_NAME: &str = "binder-examples.deathwatch";

/// The watched server's interface.
#[binder_interface(descriptor = "binder_examples.IWatched")]
pub trait IWatched {
    /// The server's process id (so the client can say whom it watches).
    fn pid(&self) -> binder_rt::Result<i32>;
}

/// The server's implementation.
#[derive(Default, Debug)]
pub struct Watched;

impl IWatched for Watched {
    fn pid(&self) -> binder_rt::Result<i32> {
        say(format!("call: pid() from pid {}", binder_rt::calling_pid()));
        Ok(std::process::id() as i32)
    }
}

/// The server: registers a [`Watched`] and serves until it is killed (or, as a role, until
/// stdin closes).
pub fn server(_args: &[String], serve: Serve) -> Result<(), String> {
    let service = BnWatched::new_binder(Watched);
    crate::support::register_and_serve(SERVICE_NAME, service.as_binder(), serve)
}

/// The client: `deathwatch-client [SECONDS]`: links to the server's death and waits for it,
/// forever or at most SECONDS.
pub fn client(args: &[String]) -> Result<(), String> {
    let seconds: u64 = arg(args, 0, "seconds", 0)?;
    let timeout = (seconds > 0).then(|| Duration::from_secs(seconds));
    let watched = find::<dyn IWatched>(SERVICE_NAME, "deathwatch-server")?;
    // Death notifications arrive as driver commands that a looper thread reads: without a
    // thread pool nobody would be reading while the main thread waits.
    ProcessState::start_thread_pool().map_err(st)?;
    let server_pid = watched.pid().map_err(|e| format!("pid() failed: {e}"))?;

    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let recipient = DeathRecipient::new(move || {
        let _ = tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send((Instant::now(), gettid()));
    });
    let binder = watched.as_binder();
    binder
        .link_to_death(&recipient)
        .map_err(|e| format!("link_to_death failed: {e}"))?;
    let linked_at = Instant::now();
    say(format!(
        "linked: a death recipient watches deathwatch-server (pid {server_pid}); waiting {} for it to die (kill -9 {server_pid})",
        timeout.map_or("as long as it takes".to_owned(), |t| format!(
            "up to {}",
            fmt_duration(t)
        ))
    ));

    let (died_at, tid) = match timeout {
        Some(t) => rx.recv_timeout(t).map_err(|_| {
            format!(
                "no death notification within {}: is deathwatch-server (pid {server_pid}) still alive?",
                fmt_duration(t)
            )
        })?,
        None => rx
            .recv()
            .map_err(|_| "the death recipient is gone".to_owned())?,
    };
    say(format!(
        "notified: deathwatch-server (pid {server_pid}) died; the recipient ran on pool thread {tid} (main thread is {}), {} after linking",
        gettid(),
        fmt_duration(died_at - linked_at)
    ));
    check(!binder.is_binder_alive(), || {
        "the proxy still looks alive after the notification".into()
    })?;
    let after = watched.pid();
    check(matches!(&after, Err(e) if is_dead_object(e)), || {
        format!("a call after the death returned {after:?}, expected DEAD_OBJECT")
    })?;
    say("after death: the proxy is marked dead and a call fails with DEAD_OBJECT");
    say("done: the client learned of the server's death without polling");
    Ok(())
}
