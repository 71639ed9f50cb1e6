//! Ioctls, round trips, the allocator, oneway ordering, spawning loopers, nested calls.

mod common;

use binder_sys::*;
use common::*;

#[test]
fn version_and_unknown_ioctls() {
    let inst = Instance::start("version");
    let mut p = Proc::connect(&inst);
    let t = p.new_thread();
    let r = t.ioctl(BINDER_VERSION, &[0; 4]);
    assert_eq!(r.ret, 0);
    assert_eq!(r.arg, BINDER_CURRENT_PROTOCOL_VERSION.to_le_bytes());
    assert_eq!(t.ioctl(BINDER_SET_IDLE_TIMEOUT, &[0; 8]).ret, -libc::EINVAL);
    assert_eq!(t.ioctl(0xdead_beef, &[]).ret, -libc::EINVAL);
    assert_eq!(t.ioctl(BINDER_SET_MAX_THREADS, &4u32.to_le_bytes()).ret, 0);
    let st = inst.state();
    assert_eq!(st.processes.len(), 1);
    assert_eq!(st.processes[0].pid, std::process::id());
    assert_eq!(st.processes[0].counts.max_threads, 4);
    assert_eq!(st.processes[0].threads.len(), 1);
}

#[test]
fn context_manager_is_unique_and_reachable_by_handle_zero() {
    let inst = Instance::start("ctxmgr");
    let mut a = Proc::connect(&inst);
    let ta = a.new_thread();
    ta.set_context_manager();
    let mut b = Proc::connect(&inst);
    let tb = b.new_thread();
    assert_eq!(
        tb.ioctl(BINDER_SET_CONTEXT_MGR, &0i32.to_le_bytes()).ret,
        -libc::EBUSY
    );
    // The context manager cannot take a ref on itself through handle 0.
    assert_eq!(
        ta.write_read(&Cmds::new().acquire(0).0, 0).ret,
        -libc::EINVAL
    );
    // Another process gets desc 0 for it.
    tb.write(&Cmds::new().increfs(0).acquire(0).0);
    let st = inst.state();
    let pb = st
        .processes
        .iter()
        .find(|p| p.refs.len() == 1)
        .expect("b has a ref");
    assert_eq!(pb.refs[0].desc, 0);
    assert_eq!((pb.refs[0].counts.strong, pb.refs[0].counts.weak), (1, 1));
    let ctx = st.context_manager.expect("context manager");
    assert_eq!(ctx.node, pb.refs[0].node);
}

#[test]
fn round_trip_lands_in_the_receivers_mapping() {
    let inst = Instance::start("roundtrip");
    let Pair {
        server,
        server_thread,
        client,
        client_thread,
    } = pair(&inst);
    server_thread.start_read();

    let payload: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
    client_thread.send_write_read(
        &Cmds::new()
            .transaction(0, 42, TF_ACCEPT_FDS, &payload, &[])
            .0,
        READ_SIZE,
    );

    let brs = server_thread.recv_ioctl().br();
    assert_eq!(brs[0], Br::Noop);
    let tr = txn_of(&brs);
    assert!(matches!(brs[1], Br::Transaction(_)), "{brs:?}");
    assert_eq!(tr.code, 42);
    assert_eq!(tr.sender_pid, std::process::id() as i32);
    assert_eq!(tr.sender_euid, nix::unistd::geteuid().as_raw());
    assert_eq!(tr.data_size, 1000);
    assert!(
        server.in_area(tr.data_buffer, tr.data_size),
        "buffer {:#x} outside the receiver's area",
        tr.data_buffer
    );
    assert_eq!(tr.data_offsets, tr.data_buffer + 1000);
    assert_eq!(server.read_area(tr.data_buffer, 1000), payload);

    // The caller has nothing to read until the reply: TRANSACTION_COMPLETE is deferred.
    assert!(!readable_within(
        &client_thread.sock,
        std::time::Duration::from_millis(100)
    ));

    let answer = b"pong!".to_vec();
    server_thread.send_write_read(
        &Cmds::new()
            .free_buffer(tr.data_buffer)
            .reply(0, &answer, &[])
            .0,
        READ_SIZE,
    );
    let brs = client_thread.recv_ioctl().br();
    assert_eq!(brs[..2], [Br::Noop, Br::TransactionComplete]);
    let reply = txn_of(&brs);
    assert!(matches!(brs[2], Br::Reply(_)));
    assert_eq!(reply.sender_pid, 0);
    assert!(client.in_area(reply.data_buffer, 5));
    assert_eq!(client.read_area(reply.data_buffer, 5), answer);
    // The server got its own TRANSACTION_COMPLETE for the reply at once.
    let brs = server_thread.recv_ioctl().br();
    assert!(brs.contains(&Br::TransactionComplete), "{brs:?}");

    client_thread.write(&Cmds::new().free_buffer(reply.data_buffer).0);
    let st = inst.state();
    for p in &st.processes {
        assert!(p.buffers.is_empty(), "buffers left: {:?}", p.buffers);
        let area = p.area.as_ref().unwrap();
        assert_eq!(area.free_bytes, area.size);
    }
    let stats = inst.stats();
    assert_eq!(stats.transactions, 1);
    assert_eq!(stats.replies, 1);
    assert_eq!(stats.bytes_copied, 1005);
    assert_eq!(stats.bytes_copied_vm, 1005);
    assert_eq!(stats.objects["transaction"].active, 0);
}

#[test]
fn a_process_may_go_without_the_completion_of_its_replies() {
    let inst = Instance::start("noreplytc");
    // The processes live as long as their connections: keep them.
    let Pair {
        server: _server,
        server_thread,
        client: _client,
        client_thread,
    } = pair_with(&inst, binder_sys::ud::HELLO_FLAG_NO_REPLY_COMPLETE);
    server_thread.start_read();
    for round in 0..3 {
        client_thread.send_write_read(
            &Cmds::new().transaction(0, 7, TF_ACCEPT_FDS, b"ping", &[]).0,
            READ_SIZE,
        );
        let brs = server_thread.recv_ioctl().br();
        assert!(
            !brs.contains(&Br::TransactionComplete),
            "round {round}: {brs:?}"
        );
        let tr = txn_of(&brs);
        // The reply goes out with the read for the next work, and nothing wakes the server for
        // it: no BR_TRANSACTION_COMPLETE.
        server_thread.send_write_read(
            &Cmds::new()
                .free_buffer(tr.data_buffer)
                .reply(0, b"pong", &[])
                .0,
            READ_SIZE,
        );
        let brs = client_thread.recv_ioctl().br();
        assert_eq!(
            brs[..2],
            [Br::Noop, Br::TransactionComplete],
            "the caller still gets its own"
        );
        let reply = txn_of(&brs);
        client_thread.write(&Cmds::new().free_buffer(reply.data_buffer).0);
        assert!(!readable_within(
            &server_thread.sock,
            std::time::Duration::from_millis(50)
        ));
    }
    // A reply carrying an object still gets its completion (the replier holds the object's
    // references until then).
    client_thread.send_write_read(
        &Cmds::new().transaction(0, 8, TF_ACCEPT_FDS, b"obj?", &[]).0,
        READ_SIZE,
    );
    let tr = txn_of(&server_thread.recv_ioctl().br());
    let obj = flat(binder_sys::BINDER_TYPE_BINDER, 0x5000, 0x5000);
    server_thread.send_write_read(
        &Cmds::new()
            .free_buffer(tr.data_buffer)
            .reply(0, &obj, &[0])
            .0,
        READ_SIZE,
    );
    let brs = server_thread.recv_ioctl().br();
    assert!(brs.contains(&Br::TransactionComplete), "{brs:?}");
    let reply = txn_of(&client_thread.recv_ioctl().br());
    assert_eq!(reply.offsets_size, 8);
    let stats = inst.stats();
    assert_eq!(stats.objects["transaction_complete"].active, 0);
}

/// Serves one call on `t`: returns the transaction after reading it.
fn recv_call(t: &Thread) -> binder_sys::TransactionData {
    let brs = t.recv_ioctl().br();
    txn_of(&brs)
}

#[test]
fn allocator_rejects_what_does_not_fit_and_recovers_after_free() {
    let inst = Instance::start("alloc");
    let mut server = Proc::connect_with_area(&inst, 64 * 1024);
    let st = server.new_thread();
    st.set_context_manager();
    st.enter_looper();
    let mut client = Proc::connect(&inst);
    let ct = client.new_thread();
    ct.ioctl(BINDER_VERSION, &[0; 4]);

    // Larger than the whole area: the sender gets BR_FAILED_REPLY, the target nothing.
    let huge = vec![1u8; 128 * 1024];
    st.start_read();
    let r = ct.write_read(&Cmds::new().transaction(0, 1, 0, &huge, &[]).0, READ_SIZE);
    assert_eq!(r.br(), [Br::Noop, Br::FailedReply]);

    // 40 KiB fits once; while that buffer is held, a second one does not.
    let big = vec![2u8; 40 * 1024];
    ct.send_write_read(&Cmds::new().transaction(0, 2, 0, &big, &[]).0, READ_SIZE);
    let first = recv_call(&st);
    assert_eq!(first.data_size, 40 * 1024);
    st.send_write_read(&Cmds::new().reply(0, &[], &[]).0, READ_SIZE);
    let brs = ct.recv_ioctl().br();
    let reply = txn_of(&brs);
    ct.write(&Cmds::new().free_buffer(reply.data_buffer).0);
    let brs = st.recv_ioctl().br();
    assert_eq!(brs, [Br::Noop, Br::TransactionComplete]);

    let r = ct.write_read(&Cmds::new().transaction(0, 3, 0, &big, &[]).0, READ_SIZE);
    assert_eq!(r.br(), [Br::Noop, Br::FailedReply]);
    let state = inst.state();
    let sp = state
        .processes
        .iter()
        .find(|p| p.area.as_ref().unwrap().size == 64 * 1024)
        .unwrap();
    assert_eq!(sp.buffers.len(), 1);
    assert_eq!(sp.buffers[0].data_size, 40 * 1024);

    // Freeing the held buffer makes room again, and the area is whole once all are freed.
    st.write(&Cmds::new().free_buffer(first.data_buffer).0);
    st.start_read();
    ct.send_write_read(&Cmds::new().transaction(0, 4, 0, &big, &[]).0, READ_SIZE);
    let second = recv_call(&st);
    assert_eq!(second.code, 4);
    assert_eq!(server.read_area(second.data_buffer, 16), vec![2u8; 16]);
    st.send_write_read(
        &Cmds::new()
            .free_buffer(second.data_buffer)
            .reply(0, &[], &[])
            .0,
        READ_SIZE,
    );
    let reply = txn_of(&ct.recv_ioctl().br());
    ct.write(&Cmds::new().free_buffer(reply.data_buffer).0);
    assert_eq!(st.recv_ioctl().br(), [Br::Noop, Br::TransactionComplete]);
    let state = inst.state();
    for p in &state.processes {
        let area = p.area.as_ref().unwrap();
        assert!(p.buffers.is_empty());
        assert_eq!(
            (area.free_bytes, area.largest_free_chunk),
            (area.size, area.size)
        );
        assert_eq!(area.free_async_space, area.size / 2);
    }
    assert_eq!(inst.stats().failed, 2);
}

#[test]
fn oneway_calls_are_delivered_one_at_a_time_in_order() {
    let inst = Instance::start("oneway");
    let Pair {
        server,
        server_thread: st,
        client: _client,
        client_thread: ct,
    } = pair(&inst);
    st.start_read();
    let payloads: Vec<Vec<u8>> = (1..=3u8).map(|i| vec![i; 100 * i as usize]).collect();
    for (i, p) in payloads.iter().enumerate() {
        // Oneway: TRANSACTION_COMPLETE comes back at once.
        let r = ct.write_read(
            &Cmds::new()
                .transaction(0, i as u32 + 1, TF_ONE_WAY, p, &[])
                .0,
            READ_SIZE,
        );
        assert_eq!(r.br(), [Br::Noop, Br::TransactionComplete]);
    }
    let first = recv_call(&st);
    assert_eq!(first.code, 1);
    assert_eq!(first.flags & TF_ONE_WAY, TF_ONE_WAY);
    assert_eq!(
        first.sender_pid, 0,
        "oneway transactions carry no sender pid"
    );
    // The next one waits on the node until the first buffer is freed.
    st.start_read();
    assert!(!readable_within(
        &st.sock,
        std::time::Duration::from_millis(150)
    ));
    let state = inst.state();
    let node = state
        .processes
        .iter()
        .flat_map(|p| &p.nodes)
        .next()
        .unwrap();
    assert!(node.has_async_transaction);
    assert_eq!(
        node.async_todo.iter().map(|t| t.code).collect::<Vec<_>>(),
        [2, 3]
    );
    // A thread may not send while its read is blocked: use a second thread to free.
    let mut server = server;
    let st2 = server.new_thread();
    st2.write(&Cmds::new().free_buffer(first.data_buffer).0);
    let second = recv_call(&st);
    assert_eq!(second.code, 2);
    assert_eq!(server.read_area(second.data_buffer, 200), payloads[1]);
    st.send_write_read(&Cmds::new().free_buffer(second.data_buffer).0, READ_SIZE);
    let third = recv_call(&st);
    assert_eq!(third.code, 3);
    st.send_write_read(&Cmds::new().free_buffer(third.data_buffer).0, READ_SIZE);
    inst.wait_state("all oneway buffers freed", |s| {
        s.processes.iter().all(|p| p.buffers.is_empty())
    });
    let stats = inst.stats();
    assert_eq!((stats.transactions, stats.oneway), (3, 3));
}

#[test]
fn oneway_calls_may_use_only_half_the_area() {
    let inst = Instance::start("asyncspace");
    let mut server = Proc::connect_with_area(&inst, 64 * 1024);
    let st = server.new_thread();
    st.set_context_manager();
    st.enter_looper();
    let mut client = Proc::connect(&inst);
    let ct = client.new_thread();
    ct.ioctl(BINDER_VERSION, &[0; 4]);
    let chunk = vec![7u8; 20 * 1024];
    st.start_read();
    let r = ct.write_read(
        &Cmds::new().transaction(0, 1, TF_ONE_WAY, &chunk, &[]).0,
        READ_SIZE,
    );
    assert_eq!(r.br(), [Br::Noop, Br::TransactionComplete]);
    let first = recv_call(&st);
    // 20 KiB more would pass the 32 KiB of async space.
    let r = ct.write_read(
        &Cmds::new().transaction(0, 2, TF_ONE_WAY, &chunk, &[]).0,
        READ_SIZE,
    );
    assert_eq!(r.br(), [Br::Noop, Br::FailedReply]);
    // A two-way call of the same size still fits.
    st.start_read();
    ct.send_write_read(&Cmds::new().transaction(0, 3, 0, &chunk, &[]).0, READ_SIZE);
    let call = recv_call(&st);
    assert_eq!(call.code, 3);
    st.send_write_read(
        &Cmds::new()
            .free_buffer(first.data_buffer)
            .free_buffer(call.data_buffer)
            .reply(0, &[], &[])
            .0,
        READ_SIZE,
    );
    let reply = txn_of(&ct.recv_ioctl().br());
    ct.write(&Cmds::new().free_buffer(reply.data_buffer).0);
    // Space is back: another oneway call of 20 KiB goes through.
    assert_eq!(st.recv_ioctl().br(), [Br::Noop, Br::TransactionComplete]);
    st.start_read();
    let r = ct.write_read(
        &Cmds::new().transaction(0, 4, TF_ONE_WAY, &chunk, &[]).0,
        READ_SIZE,
    );
    assert_eq!(r.br(), [Br::Noop, Br::TransactionComplete]);
    assert_eq!(recv_call(&st).code, 4);
}

#[test]
fn spawn_looper_until_max_threads() {
    let inst = Instance::start("spawn");
    let Pair {
        mut server,
        server_thread: t1,
        client: _c,
        client_thread: ct,
    } = pair(&inst);
    assert_eq!(t1.ioctl(BINDER_SET_MAX_THREADS, &1u32.to_le_bytes()).ret, 0);
    t1.start_read();
    ct.send_write_read(&Cmds::new().transaction(0, 1, 0, b"a", &[]).0, READ_SIZE);
    let brs = t1.recv_ioctl().br();
    // No thread left waiting and fewer than max_threads started: ask for one.
    assert_eq!(brs[0], Br::SpawnLooper, "{brs:?}");
    let first = txn_of(&brs);
    // The server's process (the one whose max_threads is 1), as the driver dumps it.
    let server_proc = || {
        let st = inst.state();
        st.processes
            .into_iter()
            .find(|p| p.counts.max_threads == 1)
            .unwrap()
    };
    let c = server_proc().counts;
    assert_eq!((c.requested_threads, c.requested_threads_started), (1, 0));

    let t2 = server.new_thread();
    let r = t2.write_read(&Cmds::new().register_looper().0, READ_SIZE);
    assert_eq!(
        r.br(),
        [Br::Noop],
        "a new thread's first read returns at once"
    );
    let sp = server_proc();
    let c = sp.counts;
    assert_eq!((c.requested_threads, c.requested_threads_started), (0, 1));
    assert_eq!(
        sp.threads
            .iter()
            .find(|t| t.tid == t2.tid)
            .unwrap()
            .looper_flags,
        ["registered"]
    );

    // A second client thread calls while t1 is busy: t2 takes it, and no more loopers are
    // requested (max reached).
    t2.start_read();
    let mut client2 = Proc::connect(&inst);
    let ct2 = client2.new_thread();
    ct2.ioctl(BINDER_VERSION, &[0; 4]);
    ct2.send_write_read(&Cmds::new().transaction(0, 2, 0, b"b", &[]).0, READ_SIZE);
    let brs = t2.recv_ioctl().br();
    assert_eq!(brs[0], Br::Noop, "{brs:?}");
    assert_eq!(txn_of(&brs).code, 2);
    for (t, call, c) in [(&t1, first, &ct), (&t2, txn_of(&brs), &ct2)] {
        t.send_write_read(
            &Cmds::new()
                .free_buffer(call.data_buffer)
                .reply(0, &[], &[])
                .0,
            0,
        );
        let r = t.recv_ioctl();
        assert_eq!(r.ret, 0);
        let reply = txn_of(&c.recv_ioctl().br());
        c.write(&Cmds::new().free_buffer(reply.data_buffer).0);
    }
}

#[test]
fn nested_call_lands_on_the_waiting_thread() {
    let inst = Instance::start("nested");
    let Pair {
        server: _a,
        server_thread: s,
        client: mut b,
        client_thread: t1,
    } = pair(&inst);
    // B has a second thread waiting in the pool; the nested call must not go there.
    let t2 = b.new_thread();
    t2.enter_looper();
    t2.start_read();
    s.start_read();

    // T1 calls A and hands it a binder (B's node).
    let obj = flat(BINDER_TYPE_BINDER, 0xb0, 0xb1);
    t1.send_write_read(
        &Cmds::new().transaction(0, 1, TF_ACCEPT_FDS, &obj, &[0]).0,
        READ_SIZE,
    );
    let call = recv_call(&s);
    let got = FlatBinderObject::read(&_a.read_area(call.data_buffer, 24)).unwrap();
    assert_eq!(got.hdr_type, BINDER_TYPE_HANDLE);
    let handle = got.handle();
    assert_eq!(handle, 1);

    // While handling it, A calls B through that handle: it lands on T1, which waits for A.
    s.send_write_read(
        &Cmds::new()
            .transaction(handle, 2, TF_ACCEPT_FDS, b"nested", &[])
            .0,
        READ_SIZE,
    );
    let brs = t1.recv_ioctl().br();
    assert_eq!(
        brs[..4],
        [
            Br::Noop,
            Br::IncRefs(ptr_cookie(0xb0, 0xb1)),
            Br::Acquire(ptr_cookie(0xb0, 0xb1)),
            Br::TransactionComplete
        ],
        "{brs:?}"
    );
    let nested = txn_of(&brs);
    assert_eq!((nested.code, nested.target, nested.cookie), (2, 0xb0, 0xb1));
    assert_eq!(nested.sender_pid, std::process::id() as i32);
    assert!(
        !readable_within(&t2.sock, std::time::Duration::from_millis(100)),
        "T2 must stay idle"
    );
    let st = inst.state();
    let tb = st
        .processes
        .iter()
        .flat_map(|p| &p.threads)
        .find(|t| t.tid == t1.tid)
        .unwrap();
    assert_eq!(
        tb.transaction_stack[0].direction,
        binder_sys::ud::state::StackDirection::Incoming
    );
    assert_eq!(
        tb.transaction_stack[1].direction,
        binder_sys::ud::state::StackDirection::Outgoing
    );

    // T1 answers the nested call, then A answers T1.
    t1.send_write_read(
        &Cmds::new()
            .increfs_done(0xb0, 0xb1)
            .acquire_done(0xb0, 0xb1)
            .free_buffer(nested.data_buffer)
            .reply(0, b"inner", &[])
            .0,
        READ_SIZE,
    );
    let brs = s.recv_ioctl().br();
    assert_eq!(brs[..2], [Br::Noop, Br::TransactionComplete]);
    let inner = txn_of(&brs);
    assert_eq!(_a.read_area(inner.data_buffer, 5), b"inner");
    s.send_write_read(
        &Cmds::new()
            .free_buffer(inner.data_buffer)
            .free_buffer(call.data_buffer)
            .reply(0, b"outer", &[])
            .0,
        READ_SIZE,
    );
    let brs = t1.recv_ioctl().br();
    assert!(brs.contains(&Br::TransactionComplete), "{brs:?}");
    let brs = if brs.iter().any(|b| matches!(b, Br::Reply(_))) {
        brs
    } else {
        t1.read()
    };
    let outer = txn_of(&brs);
    assert_eq!(b.read_area(outer.data_buffer, 5), b"outer");
}

#[test]
fn oneway_spam_is_reported_when_enabled() {
    let inst = Instance::start("spam");
    let mut server = Proc::connect_with_area(&inst, 64 * 1024);
    let st = server.new_thread();
    st.set_context_manager();
    st.enter_looper();
    let mut client = Proc::connect(&inst);
    let ct = client.new_thread();
    assert_eq!(
        ct.ioctl(BINDER_ENABLE_ONEWAY_SPAM_DETECTION, &1u32.to_le_bytes())
            .ret,
        0
    );
    let chunk = vec![3u8; 4096];
    st.start_read();
    let mut answers = Vec::new();
    for i in 0..7 {
        let r = ct.write_read(
            &Cmds::new().transaction(0, i, TF_ONE_WAY, &chunk, &[]).0,
            READ_SIZE,
        );
        answers.push(r.br()[1]);
    }
    // The seventh buffer leaves less than a tenth of the area for oneway calls, and this sender
    // holds more than a quarter of it: it is told once.
    assert_eq!(answers[..6], vec![Br::TransactionComplete; 6][..]);
    assert_eq!(answers[6], Br::OnewaySpamSuspect);
    assert_eq!(inst.stats().br["BR_ONEWAY_SPAM_SUSPECT"], 1);
    let first = txn_of(&st.recv_ioctl().br());
    assert_eq!(first.code, 0);
}

#[test]
fn thread_exit_releases_the_thread_and_the_connection_goes_on() {
    let inst = Instance::start("threadexit");
    let Pair {
        server: _s,
        server_thread: st,
        client: _c,
        client_thread: ct,
    } = pair(&inst);
    st.start_read();
    ct.send_write_read(&Cmds::new().transaction(0, 1, 0, b"hi", &[]).0, READ_SIZE);
    let tr = recv_call(&st);
    // The server thread exits while it owes a reply: the caller gets BR_DEAD_REPLY.
    assert_eq!(st.ioctl(BINDER_THREAD_EXIT, &0i32.to_le_bytes()).ret, 0);
    let brs = ct.recv_ioctl().br();
    assert_eq!(brs, [Br::Noop, Br::TransactionComplete, Br::DeadReply]);
    let state = inst.state();
    let server = state
        .processes
        .iter()
        .find(|p| !p.nodes.is_empty())
        .unwrap();
    assert!(server.threads.is_empty());
    assert_eq!(
        server.buffers.len(),
        1,
        "the buffer stays until the process frees it"
    );
    // The same connection carries on as a new thread (whose first read returns at once).
    let r = st.write_read(&Cmds::new().free_buffer(tr.data_buffer).0, READ_SIZE);
    assert_eq!((r.ret, r.br()), (0, vec![Br::Noop]));
    let state = inst.state();
    let server = state
        .processes
        .iter()
        .find(|p| !p.nodes.is_empty())
        .unwrap();
    assert_eq!(server.threads.len(), 1);
    assert!(server.buffers.is_empty());
}
