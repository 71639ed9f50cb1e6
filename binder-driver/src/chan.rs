//! Thread connections as the rest of the driver sees them: a socket, and for a mailbox
//! connection the thread's shared-memory mailbox (`binder_sys::ud::mailbox`); and the watcher
//! that notices the end of file of mailbox connections, whose driver threads sleep on a futex
//! rather than in `recvmsg`.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use binder_sys::ud::mailbox::{Mailbox, Slot};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::socket::MsgFlags;

use crate::sys;

/// One thread connection's way back to its thread.
#[derive(Debug)]
pub struct Chan {
    pub sock: OwnedFd,
    pub mailbox: Option<Mailbox>,
    /// The connection ended (the driver dropped it, its process died, or the thread closed its
    /// end). The driver's own flag: nothing the process writes changes it.
    closed: AtomicBool,
}

impl Chan {
    pub fn socket(sock: OwnedFd) -> Chan {
        Chan {
            sock,
            mailbox: None,
            closed: AtomicBool::new(false),
        }
    }

    pub fn with_mailbox(sock: OwnedFd, mailbox: Mailbox) -> Chan {
        Chan {
            sock,
            mailbox: Some(mailbox),
            closed: AtomicBool::new(false),
        }
    }

    /// Sends one answer (the bytes of an `OP_IOCTL_DONE` or `OP_REPLY` datagram) with its
    /// files; never blocks.
    pub fn send(&self, bytes: &[u8], fds: &[OwnedFd]) -> io::Result<()> {
        let Some(mailbox) = &self.mailbox else {
            return sys::send_datagram(&self.sock, bytes, fds, true);
        };
        let raw: Vec<RawFd> = fds.iter().map(AsRawFd::as_raw_fd).collect();
        mailbox.post_with_files(
            Slot::Answer,
            &self.sock,
            bytes,
            &raw,
            MsgFlags::MSG_DONTWAIT,
        )
    }

    /// Ends the connection from the driver's side: its driver thread stops, the thread sees
    /// end of file (and, on a mailbox, the closed mark).
    pub fn shutdown(&self) {
        self.closed.store(true, Ordering::SeqCst);
        sys::shutdown(&self.sock);
        if let Some(m) = &self.mailbox {
            m.close();
            m.wake_all(Slot::Request);
        }
    }

    /// The thread closed its end: the driver thread sleeping on the mailbox is told.
    fn peer_closed(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Some(m) = &self.mailbox {
            m.wake_all(Slot::Request);
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}

/// Watches the sockets of mailbox connections for end of file (`EPOLLRDHUP`) in one thread of
/// its own, started with the first of them; it marks the connection closed and wakes its driver
/// thread. It exits once the driver that owns it is gone.
#[derive(Debug, Default)]
pub struct Watcher {
    inner: OnceLock<Arc<WatcherInner>>,
}

#[derive(Debug)]
struct WatcherInner {
    epoll: Epoll,
    chans: Mutex<HashMap<u64, Weak<Chan>>>,
    next: AtomicU64,
}

/// How often the watcher thread checks whether its driver is gone.
const WATCHER_TICK_MS: u16 = 1000;

impl Watcher {
    fn inner(&self) -> io::Result<&Arc<WatcherInner>> {
        if let Some(inner) = self.inner.get() {
            return Ok(inner);
        }
        let inner = Arc::new(WatcherInner {
            epoll: Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?,
            chans: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
        });
        // Kept only once its thread runs, so that a failed start is tried again by the next
        // connection (which is refused meanwhile) instead of leaving nobody watching. Of two
        // racing starts the loser's thread sees its state dropped and exits at its next tick.
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new()
            .name("binderd-watch".into())
            .stack_size(64 * 1024)
            .spawn(move || watch(&weak))?;
        let _ = self.inner.set(inner);
        Ok(self.inner.get().expect("set above or by a racing start"))
    }

    /// Starts watching `chan`; returns the key to [`Watcher::remove`] it with.
    pub fn add(&self, chan: &Arc<Chan>) -> io::Result<u64> {
        let inner = self.inner()?;
        let key = inner.next.fetch_add(1, Ordering::Relaxed);
        lock(&inner.chans).insert(key, Arc::downgrade(chan));
        let event = EpollEvent::new(EpollFlags::EPOLLRDHUP, key);
        if let Err(e) = inner.epoll.add(chan.sock.as_fd(), event) {
            lock(&inner.chans).remove(&key);
            return Err(e.into());
        }
        Ok(key)
    }

    /// Stops watching the connection added under `key`.
    pub fn remove(&self, key: u64, chan: &Chan) {
        if let Some(inner) = self.inner.get() {
            let _ = inner.epoll.delete(chan.sock.as_fd());
            lock(&inner.chans).remove(&key);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn watch(inner: &Weak<WatcherInner>) {
    let mut events = [EpollEvent::empty(); 64];
    loop {
        let Some(w) = inner.upgrade() else {
            return;
        };
        let n = match w
            .epoll
            .wait(&mut events, EpollTimeout::from(WATCHER_TICK_MS))
        {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => 0,
            Err(e) => {
                tracing::error!("the mailbox watcher failed: {e}");
                return;
            }
        };
        for ev in &events[..n] {
            let chan = lock(&w.chans).remove(&ev.data());
            if let Some(chan) = chan.and_then(|c| c.upgrade()) {
                // Level-triggered: stop watching it before it fires again.
                let _ = w.epoll.delete(chan.sock.as_fd());
                chan.peer_closed();
            }
        }
    }
}
