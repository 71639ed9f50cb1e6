//! Mailbox thread connections (`OP_NEW_THREAD_MAILBOX`): the same ioctls as on a socket,
//! through shared memory the process can write at any time. A process that scribbles over its
//! mailbox or floods it is refused or contained and nobody else notices; a process whose
//! threads go away while the driver polls or sleeps on their mailboxes is released whole; one
//! process may have a thousand of them.

mod common;

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use binder_sys::ud::mailbox::{FLAG_FILES, MAILBOX_SIZE, files_head};
use binder_sys::ud::{MAX_MESSAGE, OP_IOCTL_DONE, decode_ioctl_done, decode_reply};
use binder_sys::*;
use common::*;

/// Offsets of the request slot's words and bytes (`binder_sys::ud::mailbox`'s layout).
const REQ_SEQ: usize = 0;
const REQ_LEN: usize = 256;
const REQ_DATA: usize = 4096;

/// A mailbox server pair: a context manager with one looper thread, a client with one thread.
fn mailbox_pair(inst: &Instance) -> Pair {
    pair_of(inst, 0, Proc::new_mailbox_thread)
}

/// One call from the pair's client, answered with the payload reversed.
fn call(pair: &Pair, code: u32, payload: &[u8]) {
    let (ct, st) = (&pair.client_thread, &pair.server_thread);
    ct.send_write_read(
        &Cmds::new().transaction(0, code, 0, payload, &[]).0,
        READ_SIZE,
    );
    let tr = txn_of(&st.read());
    assert_eq!(tr.code, code);
    let mut back = pair.server.read_area(tr.data_buffer, tr.data_size as usize);
    assert_eq!(back, payload);
    back.reverse();
    st.reply(&Cmds::new().free_buffer(tr.data_buffer).reply(0, &back, &[]));
    let mut brs = ct.recv_ioctl().br();
    while !brs.iter().any(|b| matches!(b, Br::Reply(_))) {
        brs = ct.write_read(&[], READ_SIZE).br();
    }
    let reply = txn_of(&brs);
    assert_eq!(
        pair.client
            .read_area(reply.data_buffer, reply.data_size as usize),
        back
    );
    ct.write(&Cmds::new().free_buffer(reply.data_buffer).0);
}

/// Writes `bytes` into the request slot of `t`'s mailbox by hand, with `len` as its length
/// word and `flags`, and moves the sequence: what a process that ignores the protocol does.
fn scribble(t: &Thread, bytes: &[u8], len: u32, flags: u32) {
    let file = t.mailbox_file.as_ref().expect("a mailbox thread");
    let m = Mapping::map(file, MAILBOX_SIZE, true).unwrap();
    m.write(REQ_DATA, bytes);
    m.write(REQ_LEN, &len.to_le_bytes());
    m.write(REQ_LEN + 4, &flags.to_le_bytes());
    let seq = u32::from_le_bytes(m.read(REQ_SEQ, 4).try_into().unwrap());
    m.write(REQ_SEQ, &seq.wrapping_add(2).to_le_bytes());
    if let Some(mb) = &t.mailbox {
        // Our own hand-written sequence does not wake the driver; a real post does.
        mb.wake_all(binder_sys::ud::mailbox::Slot::Request);
    }
}

#[test]
fn calls_and_ioctls_through_mailboxes_and_sockets_alike() {
    let inst = Instance::start("mbcalls");
    let pair = mailbox_pair(&inst);
    for i in 0..50u32 {
        let len = (i as usize * 997) % 6000;
        let payload: Vec<u8> = (0..len).map(|k| (k as u32 + i) as u8).collect();
        call(&pair, i + 1, &payload);
    }
    // A socket thread of the same client process talks to the same mailbox server.
    let mut client = pair.client;
    let socket_thread = client.new_thread();
    assert_eq!(socket_thread.ioctl(BINDER_VERSION, &[0; 4]).ret, 0);
    let pair = Pair {
        client,
        client_thread: socket_thread,
        ..pair
    };
    call(&pair, 99, b"from a socket thread");
    let stats = inst.stats();
    assert_eq!(stats.transactions, 51);
    // Each call takes the state lock several times (the counters say how often it was
    // contended; here one thread at a time calls).
    assert!(stats.lock_acquisitions >= 4 * 51, "{stats:?}");
    assert!(stats.lock_contended <= stats.lock_acquisitions);
}

#[test]
fn a_scribbled_mailbox_is_refused_and_others_go_on() {
    let inst = Instance::start("mbscribble");
    let pair = mailbox_pair(&inst);
    let mut vandal = Proc::connect(&inst);
    let v = vandal.new_mailbox_thread();
    assert_eq!(v.ioctl(BINDER_VERSION, &[0; 4]).ret, 0);

    // A length far beyond the slot: refused before anything is copied.
    scribble(&v, b"", u32::MAX, 0);
    let (answer, _) = v.take();
    assert_eq!(decode_reply(&answer).unwrap().0, -libc::EMSGSIZE);
    scribble(&v, b"", MAX_MESSAGE as u32 + 1, 0);
    assert_eq!(decode_reply(&v.take().0).unwrap().0, -libc::EMSGSIZE);
    // Garbage of a plausible length: not a request.
    scribble(&v, &[0x5a; 300], 300, 0);
    assert_eq!(decode_reply(&v.take().0).unwrap().0, -libc::EINVAL);
    // A request that says files came with it, when none did.
    let mut ioctl = Vec::new();
    binder_sys::ud::encode_ioctl(BINDER_VERSION, &[0; 4], &mut ioctl);
    scribble(&v, &ioctl, ioctl.len() as u32, FLAG_FILES);
    let (answer, _) = v.take();
    assert_eq!(decode_ioctl_done(&answer).unwrap().ret, -libc::EINVAL);
    // A files datagram whose count lies about the files attached.
    let (r, _w) = nix::unistd::pipe().unwrap();
    let head = files_head(2);
    send(&v.sock, &head, &[r.as_raw_fd()]);
    scribble(&v, &ioctl, ioctl.len() as u32, FLAG_FILES);
    assert_eq!(decode_ioctl_done(&v.take().0).unwrap().ret, -libc::EINVAL);
    // The thread still works when it follows the protocol again.
    assert_eq!(v.ioctl(BINDER_VERSION, &[0; 4]).ret, 0);
    call(&pair, 1, b"unaffected");

    // The driver's own answer sent back as a request: the connection ends, as on a socket.
    let mut fake = Vec::new();
    binder_sys::ud::encode_ioctl_done(0, 0, &[], &[], &mut fake);
    assert_eq!(fake[..4], OP_IOCTL_DONE.to_le_bytes());
    scribble(&v, &fake, fake.len() as u32, 0);
    assert!(v.take().0.is_empty(), "the connection ends");
    inst.wait_state("the vandal's thread is gone", |st| {
        st.processes
            .iter()
            .any(|p| p.pid == std::process::id() && p.threads.is_empty())
    });
    call(&pair, 2, b"still unaffected");
    assert_eq!(inst.stats().failed, 0);
}

#[test]
fn a_flooding_thread_does_not_stall_other_processes() {
    let inst = Instance::start_with_config("mbflood", |c| {
        c.poll_window = Some(Duration::from_micros(100))
    });
    let pair = mailbox_pair(&inst);
    let mut flooder = Proc::connect(&inst);
    let f = flooder.new_mailbox_thread();
    assert_eq!(f.ioctl(BINDER_VERSION, &[0; 4]).ret, 0);
    let stop = AtomicBool::new(false);
    let mut ioctl = Vec::new();
    binder_sys::ud::encode_ioctl(BINDER_VERSION, &[0; 4], &mut ioctl);
    let started = Instant::now();
    let posted = std::thread::scope(|s| {
        let flood = s.spawn(|| {
            // Requests posted as fast as the thread can, never waiting for an answer, and
            // files datagrams no request names, until the socket is full.
            let mut posted = 0u64;
            let (r, _w) = nix::unistd::pipe().unwrap();
            let head = files_head(1);
            let mut socket_full = false;
            while !stop.load(Ordering::Relaxed) {
                let mb = f.mailbox.as_ref().unwrap();
                mb.post(binder_sys::ud::mailbox::Slot::Request, &ioctl, 0)
                    .unwrap();
                posted += 1;
                if !socket_full {
                    socket_full = binder_sys::ud::sock::send(
                        &f.sock,
                        &head,
                        &[r.as_raw_fd()],
                        nix::sys::socket::MsgFlags::MSG_DONTWAIT,
                    )
                    .is_err();
                }
            }
            posted
        });
        for i in 0..100u32 {
            call(&pair, i + 1, &vec![i as u8; (i as usize * 131) % 4096]);
        }
        stop.store(true, Ordering::Relaxed);
        flood.join().unwrap()
    });
    assert!(posted > 100, "the flood ran ({posted} posts)");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "100 calls beside the flood took {:?}",
        started.elapsed()
    );
    // The flooder goes away: its connection, files and thread are all released.
    drop(f);
    drop(flooder);
    let st = inst.wait_state("the flooder is gone", |st| st.processes.len() == 2);
    assert!(st.transactions.is_empty());
    call(&pair, 1000, b"after the flood");
}

#[test]
fn threads_gone_while_the_driver_polls_or_sleeps_are_released() {
    let inst =
        Instance::start_with_config("mbgone", |c| c.poll_window = Some(Duration::from_millis(2)));
    let pair = mailbox_pair(&inst);
    for round in 0..20u32 {
        let mut p = Proc::connect(&inst);
        let t = p.new_mailbox_thread();
        assert_eq!(t.ioctl(BINDER_VERSION, &[0; 4]).ret, 0);
        let mut held = None;
        match round % 4 {
            // Right after an answer: its driver thread is polling for the next request.
            0 => {}
            // Asleep on the mailbox.
            1 => std::thread::sleep(Duration::from_millis(20)),
            // A read pending in the driver.
            2 => t.start_read(),
            // Mid hand-off: its call is at the server, whose reply will find it gone.
            _ => {
                t.send_write_read(
                    &Cmds::new().transaction(0, round, 0, b"call", &[]).0,
                    READ_SIZE,
                );
                held = Some(txn_of(&pair.server_thread.read()));
            }
        }
        drop(t);
        drop(p);
        inst.wait_state("the process is released", |st| st.processes.len() == 2);
        if let Some(tr) = held {
            let st = &pair.server_thread;
            st.reply(
                &Cmds::new()
                    .free_buffer(tr.data_buffer)
                    .reply(0, b"late", &[]),
            );
        }
    }
    let st = inst.state();
    assert!(st.transactions.is_empty(), "{:?}", st.transactions);
    for p in &st.processes {
        assert!(p.buffers.is_empty(), "buffers left: {:?}", p.buffers);
    }
    call(&pair, 7, b"still serving");
}

#[test]
fn a_thousand_mailbox_threads_of_one_process() {
    const THREADS: usize = 1000;
    let inst = Instance::start("mbthousand");
    let pair = mailbox_pair(&inst);
    let mut p = Proc::connect(&inst);
    let mut threads: Vec<Thread> = (0..THREADS).map(|_| p.new_mailbox_thread()).collect();
    for t in &threads {
        assert_eq!(t.ioctl(BINDER_VERSION, &[0; 4]).ret, 0);
    }
    let count = |st: &binder_sys::ud::state::DriverState| {
        st.processes
            .iter()
            .map(|p| p.threads.len())
            .max()
            .unwrap_or(0)
    };
    assert_eq!(count(&inst.state()), THREADS);
    // All of them at once: each calls the server through its own mailbox.
    std::thread::scope(|s| {
        let server = s.spawn(|| {
            for _ in 0..THREADS {
                let st = &pair.server_thread;
                let tr = txn_of(&st.read());
                st.write(&Cmds::new().free_buffer(tr.data_buffer).0);
            }
        });
        for chunk in threads.chunks(THREADS / 8) {
            s.spawn(move || {
                for t in chunk {
                    let r = t.write_read(
                        &Cmds::new()
                            .transaction(0, t.tid, TF_ONE_WAY, &t.tid.to_le_bytes(), &[])
                            .0,
                        0,
                    );
                    assert_eq!(r.ret, 0);
                    assert_eq!(r.bwr().write_consumed, r.bwr().write_size);
                }
            });
        }
        server.join().unwrap();
    });
    threads.truncate(THREADS / 2);
    inst.wait_state("half the threads are gone", |st| count(st) == THREADS / 2);
    drop(threads);
    drop(p);
    inst.wait_state("the process is gone", |st| st.processes.len() == 2);
    call(&pair, 1, b"after a thousand threads");
}

/// A process sends files on its thread socket that no request ever claims, among them its own
/// thread socket and process connection, then exits: as long as the driver's end holds them
/// queued, neither connection can reach end of file. The driver ends such a connection after
/// two quiet ticks, and the process is released.
#[test]
fn files_no_request_claims_do_not_keep_a_dead_process_alive() {
    let inst = Instance::start("mbunclaimed");
    let pair = mailbox_pair(&inst);
    let mut p = Proc::connect(&inst);
    let t = p.new_mailbox_thread();
    assert_eq!(t.ioctl(BINDER_VERSION, &[0; 4]).ret, 0);
    let head = files_head(2);
    send(&t.sock, &head, &[t.sock.as_raw_fd(), p.sock.as_raw_fd()]);
    drop(t);
    drop(p);
    let started = Instant::now();
    inst.wait_state("the process is released", |st| st.processes.len() == 2);
    assert!(started.elapsed() < Duration::from_secs(8));
    call(&pair, 1, b"unaffected");
}

/// A process keeps writing back the request sequence its driver thread last saw, so that the
/// wake-up meant to stop that thread may be undone before it sleeps; its connection ends (the
/// socket closes) all the same and the thread is released within a couple of seconds.
#[test]
fn a_process_cannot_undo_the_wake_up_that_stops_its_driver_thread() {
    let inst = Instance::start("mbundo");
    let _pair = mailbox_pair(&inst);
    let mut p = Proc::connect(&inst);
    for _ in 0..10 {
        let t = p.new_mailbox_thread();
        assert_eq!(t.ioctl(BINDER_VERSION, &[0; 4]).ret, 0);
        let file = t.mailbox_file.as_ref().unwrap();
        let m = Mapping::map(file, MAILBOX_SIZE, true).unwrap();
        let seen = m.read(REQ_SEQ, 4);
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    m.write(REQ_SEQ, &seen);
                }
            });
            let Thread { sock, .. } = t;
            drop(sock);
            let started = Instant::now();
            // The pair's two threads are all that remain.
            inst.wait_state("the thread is released", |st| {
                st.processes.iter().map(|p| p.threads.len()).sum::<usize>() == 2
            });
            stop.store(true, Ordering::Relaxed);
            assert!(started.elapsed() < Duration::from_secs(5));
        });
    }
}
