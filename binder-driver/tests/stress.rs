//! Many threads of several processes calling one server pool at once: every answer matches
//! its call, and everything is released at the end.

mod common;

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use binder_sys::ud::decode_ioctl_done;
use binder_sys::*;
use common::*;

const CLIENT_PROCS: usize = 3;
const THREADS_PER_CLIENT: usize = 2;
const CALLS: usize = 150;
const SERVER_THREADS: usize = 3;

/// A pool thread of the server: answers every call with the payload reversed, until its
/// connection ends.
fn serve(p: &Proc, t: Thread) -> usize {
    let mut pending = Cmds::new().enter_looper();
    let mut served = 0;
    loop {
        t.send_write_read(&pending.0, READ_SIZE);
        pending = Cmds::new();
        let (msg, _fds): (Vec<u8>, Vec<OwnedFd>) = t.take();
        if msg.is_empty() {
            return served;
        }
        let done = decode_ioctl_done(&msg).expect("OP_IOCTL_DONE");
        assert_eq!(done.ret, 0);
        for br in parse_br(done.read) {
            if let Br::Transaction(tr) = br {
                served += 1;
                if tr.flags & TF_ONE_WAY != 0 {
                    pending = pending.free_buffer(tr.data_buffer);
                    continue;
                }
                let mut data = p.read_area(tr.data_buffer, tr.data_size as usize);
                data.reverse();
                let r = t.write_read(
                    &Cmds::new()
                        .free_buffer(tr.data_buffer)
                        .reply(0, &data, &[])
                        .0,
                    READ_SIZE,
                );
                assert_eq!(r.ret, 0);
                assert!(r.br().contains(&Br::TransactionComplete), "{:?}", r.br());
            }
        }
    }
}

#[test]
fn concurrent_calls_from_many_threads() {
    concurrent_calls(Instance::start("stress"), Proc::new_thread);
}

/// The same through mailboxes, with the driver polling them (as on a machine with idle
/// cores; here the pollers compete for two cores, which they must survive).
#[test]
fn concurrent_calls_from_many_threads_through_polled_mailboxes() {
    let inst = Instance::start_with_config("stressmb", |c| {
        c.poll_window = Some(Duration::from_micros(200))
    });
    concurrent_calls(inst, Proc::new_mailbox_thread);
}

fn concurrent_calls(inst: Instance, new_thread: fn(&mut Proc) -> Thread) {
    let mut server = Proc::connect(&inst);
    let first = new_thread(&mut server);
    first.set_context_manager();
    assert_eq!(
        first.ioctl(BINDER_SET_MAX_THREADS, &0u32.to_le_bytes()).ret,
        0
    );
    let mut pool = vec![first];
    for _ in 1..SERVER_THREADS {
        let t = new_thread(&mut server);
        t.ioctl(BINDER_VERSION, &[0; 4]);
        pool.push(t);
    }
    let mut clients: Vec<(Proc, Vec<Thread>)> = (0..CLIENT_PROCS)
        .map(|_| {
            let mut p = Proc::connect(&inst);
            let ts = (0..THREADS_PER_CLIENT)
                .map(|_| {
                    let t = new_thread(&mut p);
                    t.ioctl(BINDER_VERSION, &[0; 4]);
                    t
                })
                .collect();
            (p, ts)
        })
        .collect();
    let served = std::thread::scope(|s| {
        let server = &server;
        let handles: Vec<_> = pool
            .into_iter()
            .map(|t| s.spawn(move || serve(server, t)))
            .collect();
        std::thread::scope(|s2| {
            for (ci, (p, ts)) in clients.iter_mut().enumerate() {
                let p = &*p;
                for (ti, t) in ts.drain(..).enumerate() {
                    s2.spawn(move || {
                        let mut free = Cmds::new();
                        for i in 0..CALLS {
                            let payload: Vec<u8> = (0..(i * 37 % 3000 + 1))
                                .map(|k| (k + i + ci * 7 + ti * 13) as u8)
                                .collect();
                            let oneway = i % 10 == 9;
                            let flags = if oneway { TF_ONE_WAY } else { 0 };
                            let cmds =
                                free.clone()
                                    .transaction(0, i as u32 + 1, flags, &payload, &[]);
                            free = Cmds::new();
                            let mut brs = t.write_read(&cmds.0, READ_SIZE).br();
                            if oneway {
                                assert_eq!(brs, [Br::Noop, Br::TransactionComplete]);
                                continue;
                            }
                            while !brs.iter().any(|b| matches!(b, Br::Reply(_))) {
                                brs = t.write_read(&[], READ_SIZE).br();
                            }
                            let reply = txn_of(&brs);
                            let mut expect = payload.clone();
                            expect.reverse();
                            assert_eq!(
                                p.read_area(reply.data_buffer, reply.data_size as usize),
                                expect
                            );
                            free = Cmds::new().free_buffer(reply.data_buffer);
                        }
                        t.write(&free.0);
                    });
                }
            }
        });
        // Oneway calls may still be queued: wait until the server has seen them all.
        inst.wait_state("all calls served", |st| {
            st.transactions.is_empty()
                && st
                    .processes
                    .iter()
                    .all(|p| p.buffers.iter().all(|b| b.delivered) && p.todo.is_empty())
        });
        let stats = inst.stats();
        assert_eq!(
            stats.transactions as usize,
            CLIENT_PROCS * THREADS_PER_CLIENT * CALLS
        );
        // Ending the server's process connection ends its pool threads' connections too.
        nix::sys::socket::shutdown(server.sock.as_raw_fd(), nix::sys::socket::Shutdown::Both)
            .unwrap();
        let served: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        served
    });
    assert_eq!(served, CLIENT_PROCS * THREADS_PER_CLIENT * CALLS);
    drop(clients);
    drop(server);
    let st = inst.wait_state("everyone gone", |st| st.processes.is_empty());
    assert!(st.dead_nodes.is_empty());
    let stats = inst.stats();
    for (kind, count) in &stats.objects {
        assert_eq!(count.active, 0, "{kind} objects left: {stats:?}");
    }
    assert_eq!(stats.failed, 0);
}

/// Processes die while payloads are being copied to or from them: every caller gets an
/// answer, nothing leaks, the driver keeps serving.
#[test]
fn deaths_during_copies() {
    deaths_during_copies_on(Instance::start("copydeath"), Proc::new_thread);
}

/// The same through mailboxes the driver polls: processes die while their driver threads poll
/// or sleep on their mailboxes, or in the middle of a hand-off.
#[test]
fn deaths_during_copies_through_polled_mailboxes() {
    let inst = Instance::start_with_config("copydeathmb", |c| {
        c.poll_window = Some(Duration::from_micros(500))
    });
    deaths_during_copies_on(inst, Proc::new_mailbox_thread);
}

fn deaths_during_copies_on(inst: Instance, new_thread: fn(&mut Proc) -> Thread) {
    let payload = vec![0xabu8; 900 * 1024];
    let mut client = Proc::connect(&inst);
    let ct = new_thread(&mut client);
    ct.ioctl(BINDER_VERSION, &[0; 4]);
    for round in 0..12 {
        // The target dies while the call is copied or queued.
        let mut server = Proc::connect(&inst);
        let st = new_thread(&mut server);
        st.set_context_manager();
        st.enter_looper();
        st.start_read();
        ct.send_write_read(
            &Cmds::new().transaction(0, round, 0, &payload, &[]).0,
            READ_SIZE,
        );
        if round % 2 == 0 {
            std::thread::sleep(std::time::Duration::from_micros(200 * round as u64));
        }
        drop(st);
        drop(server);
        let mut brs = ct.recv_ioctl().br();
        while !brs.contains(&Br::DeadReply) {
            assert!(!brs.iter().any(|b| matches!(b, Br::Reply(_))), "{brs:?}");
            brs = ct.write_read(&[], READ_SIZE).br();
        }
        inst.wait_state("server gone", |s| s.processes.len() == 1);
    }
    // The sender dies while its payload is copied.
    let mut server = Proc::connect(&inst);
    let st = new_thread(&mut server);
    st.set_context_manager();
    st.enter_looper();
    for round in 0..12u32 {
        let mut sender = Proc::connect(&inst);
        let t = new_thread(&mut sender);
        t.ioctl(BINDER_VERSION, &[0; 4]);
        t.send_write_read(
            &Cmds::new()
                .transaction(0, round, TF_ONE_WAY, &payload, &[])
                .0,
            READ_SIZE,
        );
        if round % 2 == 0 {
            std::thread::sleep(std::time::Duration::from_micros(150 * round as u64));
        }
        drop(t);
        drop(sender);
        inst.wait_state("sender gone", |s| s.processes.len() == 2);
        // Whatever arrived is a complete copy.
        let state = inst.state();
        for b in state.processes.iter().flat_map(|p| &p.buffers) {
            assert_eq!(b.data_size, payload.len() as u64);
            let tr = txn_of(&st.write_read(&[], READ_SIZE).br());
            assert_eq!(server.read_area(tr.data_buffer, 4096), vec![0xab; 4096]);
            st.write(&Cmds::new().free_buffer(tr.data_buffer).0);
        }
    }
    let state = inst.state();
    assert!(state.transactions.is_empty(), "{:?}", state.transactions);
    for p in &state.processes {
        assert!(p.buffers.is_empty(), "{:?}", p.buffers);
    }
    drop(ct);
    drop(client);
}

/// With a pause inside the unlocked copy, processes die at exactly that moment.
#[test]
fn deaths_in_the_middle_of_the_copy() {
    let inst = Instance::start_with("midcopy", |s| {
        s.set_test_copy_delay(std::time::Duration::from_millis(1000))
    });
    // 1. The target dies: the caller gets BR_DEAD_REPLY, no TRANSACTION_COMPLETE.
    let Pair {
        server,
        server_thread: st,
        client: c,
        client_thread: ct,
    } = pair(&inst);
    st.start_read();
    ct.send_write_read(
        &Cmds::new().transaction(0, 1, 0, b"payload", &[]).0,
        READ_SIZE,
    );
    std::thread::sleep(std::time::Duration::from_millis(100));
    drop(st);
    drop(server);
    assert_eq!(ct.recv_ioctl().br(), [Br::Noop, Br::DeadReply]);
    let state = inst.wait_state("target gone", |s| s.processes.len() == 1);
    assert!(state.transactions.is_empty());
    assert_eq!(
        inst.stats().objects["node"].active,
        0,
        "the target node went with its owner"
    );

    // 2. The sender dies: nothing is delivered, the buffer is given back.
    let mut server = Proc::connect(&inst);
    let st = server.new_thread();
    st.set_context_manager();
    st.enter_looper();
    st.start_read();
    let obj = flat(BINDER_TYPE_BINDER, 0x1, 0x2);
    ct.send_write_read(&Cmds::new().transaction(0, 2, 0, &obj, &[0]).0, READ_SIZE);
    std::thread::sleep(std::time::Duration::from_millis(100));
    drop(ct);
    drop(c);
    let state = inst.wait_state("sender gone", |s| {
        s.processes.len() == 1 && s.processes[0].buffers.is_empty()
    });
    assert!(state.transactions.is_empty());
    assert!(!readable_within(
        &st.sock,
        std::time::Duration::from_millis(1100)
    ));
    assert!(state.processes[0].refs.is_empty());

    // 3. The replier dies while its reply is copied: the caller gets BR_DEAD_REPLY.
    let mut c = Proc::connect(&inst);
    let ct = c.new_thread();
    ct.ioctl(BINDER_VERSION, &[0; 4]);
    ct.send_write_read(
        &Cmds::new().transaction(0, 3, 0, b"question", &[]).0,
        READ_SIZE,
    );
    let tr = txn_of(&st.recv_ioctl().br());
    st.send_write_read(
        &Cmds::new()
            .free_buffer(tr.data_buffer)
            .reply(0, b"answer", &[])
            .0,
        READ_SIZE,
    );
    std::thread::sleep(std::time::Duration::from_millis(100));
    drop(st);
    drop(server);
    let mut brs = ct.recv_ioctl().br();
    if !brs.contains(&Br::DeadReply) {
        brs.extend(ct.write_read(&[], READ_SIZE).br());
    }
    assert!(brs.contains(&Br::DeadReply), "{brs:?}");
    assert!(!brs.iter().any(|b| matches!(b, Br::Reply(_))), "{brs:?}");
    let state = inst.wait_state("replier gone", |s| s.processes.len() == 1);
    assert!(state.transactions.is_empty());
    assert!(state.processes[0].buffers.is_empty());
    let stats = inst.stats();
    for kind in ["transaction", "ref", "death", "transaction_complete"] {
        assert_eq!(stats.objects[kind].active, 0, "{kind}: {stats:?}");
    }
}

/// Round-trip latency of small calls (run with `--release --ignored --nocapture`).
#[test]
#[ignore]
fn round_trip_latency() {
    let inst = Instance::start("latency");
    let Pair {
        server: _s,
        server_thread: st,
        client: _c,
        client_thread: ct,
    } = pair(&inst);
    let server = std::thread::spawn(move || {
        let mut pending = Cmds::new();
        loop {
            let r = st.write_read(&pending.0, READ_SIZE);
            pending = Cmds::new();
            if r.ret != 0 {
                return;
            }
            for br in r.br() {
                if let Br::Transaction(tr) = br {
                    if tr.code == 0 {
                        return;
                    }
                    let r = st.write_read(
                        &Cmds::new()
                            .free_buffer(tr.data_buffer)
                            .reply(0, b"ok", &[])
                            .0,
                        READ_SIZE,
                    );
                    assert_eq!(r.ret, 0);
                }
            }
        }
    });
    let payload = vec![1u8; 64];
    let mut free = Cmds::new();
    let mut times = Vec::new();
    for i in 0..3000 {
        let start = std::time::Instant::now();
        let mut brs = ct
            .write_read(
                &free.clone().transaction(0, 1, 0, &payload, &[]).0,
                READ_SIZE,
            )
            .br();
        while !brs.iter().any(|b| matches!(b, Br::Reply(_))) {
            brs = ct.write_read(&[], READ_SIZE).br();
        }
        if i >= 200 {
            times.push(start.elapsed());
        }
        free = Cmds::new().free_buffer(txn_of(&brs).data_buffer);
    }
    times.sort();
    println!(
        "round trip p50 {:?} p90 {:?} p99 {:?}",
        times[times.len() / 2],
        times[times.len() * 9 / 10],
        times[times.len() * 99 / 100]
    );
    ct.write(&free.transaction(0, 0, TF_ONE_WAY, b"", &[]).0);
    server.join().unwrap();
}
