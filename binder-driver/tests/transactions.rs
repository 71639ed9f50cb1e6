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
    assert_eq!(st.processes[0].max_threads, 4);
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
    assert_eq!((pb.refs[0].strong, pb.refs[0].weak), (1, 1));
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
