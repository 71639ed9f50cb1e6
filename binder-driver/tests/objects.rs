//! Binder objects across processes: translation, reference counts, death, file descriptors.

mod common;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use binder_sys::ud::state::DriverState;
use binder_sys::*;
use common::*;

fn call(t: &Thread) -> TransactionData {
    txn_of(&t.recv_ioctl().br())
}

fn object_at(p: &Proc, tr: &TransactionData, index: usize) -> FlatBinderObject {
    let offs = p.read_area(tr.data_offsets, tr.offsets_size as usize);
    let off = u64::from_le_bytes(offs[index * 8..index * 8 + 8].try_into().unwrap());
    FlatBinderObject::read(&p.read_area(tr.data_buffer + off, 24)).unwrap()
}

fn node_of(st: &DriverState, ptr: u64) -> &binder_sys::ud::state::NodeState {
    st.processes
        .iter()
        .flat_map(|p| &p.nodes)
        .find(|n| n.ptr == ptr)
        .expect("node exists")
}

/// B hands A (the context manager) a binder; returns A's handle and the buffer A holds.
fn give_binder(
    a: &Proc,
    at: &Thread,
    bt: &Thread,
    ptr: u64,
    cookie: u64,
) -> (u32, TransactionData) {
    at.start_read();
    let obj = flat(BINDER_TYPE_BINDER, ptr, cookie);
    bt.send_write_read(
        &Cmds::new().transaction(0, 1, TF_ACCEPT_FDS, &obj, &[0]).0,
        READ_SIZE,
    );
    let tr = call(at);
    let got = object_at(a, &tr, 0);
    assert_eq!(got.hdr_type, BINDER_TYPE_HANDLE);
    assert_eq!(got.cookie, 0);
    at.reply(&Cmds::new().reply(0, &[], &[]));
    // The owner learns about the new references together with the reply.
    let brs = bt.recv_ioctl().br();
    assert_eq!(
        brs[..4],
        [
            Br::Noop,
            Br::IncRefs(ptr_cookie(ptr, cookie)),
            Br::Acquire(ptr_cookie(ptr, cookie)),
            Br::TransactionComplete
        ],
        "{brs:?}"
    );
    let reply = txn_of(&brs);
    bt.write(
        &Cmds::new()
            .increfs_done(ptr, cookie)
            .acquire_done(ptr, cookie)
            .free_buffer(reply.data_buffer)
            .0,
    );
    (got.handle(), tr)
}

#[test]
fn objects_translate_across_three_processes() {
    let inst = Instance::start("translate");
    let Pair {
        server: a,
        server_thread: at,
        client: mut b,
        client_thread: bt,
    } = pair(&inst);
    let (h_a, buf) = give_binder(&a, &at, &bt, 0xb0, 0xb1);
    assert_eq!(h_a, 1, "first handle other than the context manager's");
    // A keeps the reference (as libbinder would) before freeing the buffer that carried it.
    at.write(
        &Cmds::new()
            .increfs(h_a)
            .acquire(h_a)
            .free_buffer(buf.data_buffer)
            .0,
    );

    // C asks A, and A answers with its handle on B's node: C gets its own handle.
    let mut c = Proc::connect(&inst);
    let ct = c.new_thread();
    ct.ioctl(BINDER_VERSION, &[0; 4]);
    at.start_read();
    ct.send_write_read(
        &Cmds::new().transaction(0, 2, TF_ACCEPT_FDS, b"who?", &[]).0,
        READ_SIZE,
    );
    let q = call(&at);
    let obj = flat(BINDER_TYPE_HANDLE, h_a as u64, 0);
    at.reply(&Cmds::new().free_buffer(q.data_buffer).reply(0, &obj, &[0]));
    let brs = ct.recv_ioctl().br();
    let reply = txn_of(&brs);
    let got = object_at(&c, &reply, 0);
    assert_eq!(got.hdr_type, BINDER_TYPE_HANDLE);
    let h_c = got.handle();
    assert_eq!(h_c, 1);
    ct.write(&Cmds::new().acquire(h_c).free_buffer(reply.data_buffer).0);

    // C calls B's node through its handle; B sees its own pointer and cookie.
    let bt2 = b.new_thread();
    bt2.enter_looper();
    bt2.start_read();
    ct.send_write_read(
        &Cmds::new()
            .transaction(h_c, 3, TF_ACCEPT_FDS, b"hello B", &[])
            .0,
        READ_SIZE,
    );
    let brs = bt2.recv_ioctl().br();
    let tr = txn_of(&brs);
    assert_eq!((tr.target, tr.cookie, tr.code), (0xb0, 0xb1, 3));
    assert_eq!(b.read_area(tr.data_buffer, 7), b"hello B");

    // B replies with a weak binder of its own: C gets a weak handle.
    let weak = flat(BINDER_TYPE_WEAK_BINDER, 0xc0, 0xc1);
    let r = bt2.write_read(
        &Cmds::new()
            .free_buffer(tr.data_buffer)
            .reply(0, &weak, &[0])
            .0,
        READ_SIZE,
    );
    // The replier owns the new node: it learns of the weak ref with its completion.
    assert_eq!(
        r.br(),
        [
            Br::Noop,
            Br::IncRefs(ptr_cookie(0xc0, 0xc1)),
            Br::TransactionComplete
        ]
    );
    bt2.write(&Cmds::new().increfs_done(0xc0, 0xc1).0);
    let brs = ct.recv_ioctl().br();
    let reply = txn_of(&brs);
    let got = object_at(&c, &reply, 0);
    assert_eq!(got.hdr_type, BINDER_TYPE_WEAK_HANDLE);
    let h_weak = got.handle();
    assert_eq!(h_weak, 2);
    ct.write(&Cmds::new().increfs(h_weak).free_buffer(reply.data_buffer).0);

    // A sends B's node back to B: B receives its local object again.
    bt2.start_read();
    at.send_write_read(
        &Cmds::new()
            .transaction(
                h_a,
                4,
                TF_ACCEPT_FDS,
                &flat(BINDER_TYPE_HANDLE, h_a as u64, 0),
                &[0],
            )
            .0,
        READ_SIZE,
    );
    let brs = bt2.recv_ioctl().br();
    let tr = txn_of(&brs);
    let got = object_at(&b, &tr, 0);
    assert_eq!(got.hdr_type, BINDER_TYPE_BINDER);
    assert_eq!((got.binder_or_handle, got.cookie), (0xb0, 0xb1));
    bt2.reply(&Cmds::new().free_buffer(tr.data_buffer).reply(0, &[], &[]));
    let reply = txn_of(&at.recv_ioctl().br());
    at.write(&Cmds::new().free_buffer(reply.data_buffer).0);

    let st = inst.state();
    let node = node_of(&st, 0xb0);
    assert_eq!(node.ref_holders.len(), 2, "A and C hold refs: {node:?}");
    assert_eq!(node.counts.internal_strong_refs, 2);
    assert_eq!(
        node.counts.local_strong_refs, 0,
        "the temporary local refs are gone: {node:?}"
    );
    let weak_node = node_of(&st, 0xc0);
    assert_eq!(weak_node.counts.internal_strong_refs, 0);
    assert_eq!(weak_node.ref_holders.len(), 1);
}

#[test]
fn refcount_handshake_and_release_when_refs_go() {
    let inst = Instance::start("refs");
    let Pair {
        server: a,
        server_thread: at,
        client: mut b,
        client_thread: bt,
    } = pair(&inst);
    let (h, buf) = give_binder(&a, &at, &bt, 0x10, 0x11);
    at.write(
        &Cmds::new()
            .increfs(h)
            .acquire(h)
            .free_buffer(buf.data_buffer)
            .0,
    );
    let st = inst.state();
    let node = node_of(&st, 0x10);
    assert!(node.counts.has_strong_ref && node.counts.has_weak_ref);
    assert!(!node.counts.pending_strong_ref && !node.counts.pending_weak_ref);
    assert_eq!(
        (
            node.counts.internal_strong_refs,
            node.counts.local_strong_refs,
            node.counts.local_weak_refs
        ),
        (1, 0, 0)
    );
    let aref = st
        .processes
        .iter()
        .flat_map(|p| &p.refs)
        .find(|r| r.node == node.debug_id)
        .unwrap();
    assert_eq!((aref.counts.strong, aref.counts.weak), (1, 1));

    // B waits in its pool; A drops its strong ref: B is told to release, then to decref.
    let looper = b.new_thread();
    looper.enter_looper();
    looper.start_read();
    at.write(&Cmds::new().release(h).0);
    assert_eq!(
        looper.recv_ioctl().br(),
        [Br::Noop, Br::Release(ptr_cookie(0x10, 0x11))]
    );
    looper.start_read();
    at.write(&Cmds::new().decrefs(h).0);
    assert_eq!(
        looper.recv_ioctl().br(),
        [Br::Noop, Br::DecRefs(ptr_cookie(0x10, 0x11))]
    );
    let st = inst.state();
    assert!(
        st.processes
            .iter()
            .flat_map(|p| &p.nodes)
            .all(|n| n.ptr != 0x10),
        "{st:#?}"
    );
    assert!(st.processes.iter().all(|p| p.refs.is_empty()), "{st:#?}");
    // The handle is gone.
    at.write(&Cmds::new().acquire(h).0);
    let stats = inst.stats();
    assert_eq!(
        stats.objects["node"].active, 1,
        "only the context manager's node is left"
    );
    assert_eq!(stats.objects["ref"].active, 0);
}

#[test]
fn death_notification_when_a_process_goes_away() {
    let inst = Instance::start("death");
    let Pair {
        server: a,
        server_thread: at,
        client: b,
        client_thread: bt,
    } = pair(&inst);
    let (h, buf) = give_binder(&a, &at, &bt, 0x20, 0x21);
    at.write(
        &Cmds::new()
            .increfs(h)
            .acquire(h)
            .free_buffer(buf.data_buffer)
            .request_death(h, 0xdead)
            .0,
    );
    at.start_read();
    drop(bt);
    drop(b);
    assert_eq!(at.recv_ioctl().br(), [Br::Noop, Br::DeadBinder(0xdead)]);
    let st = inst.state();
    assert_eq!(st.processes.len(), 1);
    assert_eq!(st.processes[0].delivered_death, [0xdead]);
    let dead = &st.dead_nodes;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].owner_pid, None);
    // Transactions to the dead node fail with BR_DEAD_REPLY.
    let r = at.write_read(&Cmds::new().transaction(h, 1, 0, b"x", &[]).0, READ_SIZE);
    assert_eq!(r.br(), [Br::Noop, Br::DeadReply]);
    // Acknowledge, clear, drop the ref: the dead node goes away.
    let r = at.write_read(
        &Cmds::new()
            .dead_binder_done(0xdead)
            .clear_death(h, 0xdead)
            .0,
        READ_SIZE,
    );
    assert_eq!(r.br(), [Br::Noop, Br::ClearDeathNotificationDone(0xdead)]);
    at.write(&Cmds::new().release(h).decrefs(h).0);
    let st = inst.state();
    assert!(st.dead_nodes.is_empty(), "{:?}", st.dead_nodes);
    assert!(st.processes[0].refs.is_empty());
    assert_eq!(inst.stats().objects["death"].active, 0);

    // A death notification requested on an already dead node fires at once.
    let mut c = Proc::connect(&inst);
    let ct = c.new_thread();
    ct.ioctl(BINDER_VERSION, &[0; 4]);
    let (h2, buf2) = give_binder(&a, &at, &ct, 0x30, 0x31);
    at.write(&Cmds::new().acquire(h2).free_buffer(buf2.data_buffer).0);
    drop(ct);
    drop(c);
    inst.wait_state("C is gone", |s| s.processes.len() == 1);
    let r = at.write_read(&Cmds::new().request_death(h2, 0xbeef).0, READ_SIZE);
    assert_eq!(r.br(), [Br::Noop, Br::DeadBinder(0xbeef)]);
    // Clearing while the notification is still unacknowledged: done comes after DEAD_BINDER_DONE.
    let r = at.write_read(
        &Cmds::new()
            .clear_death(h2, 0xbeef)
            .dead_binder_done(0xbeef)
            .0,
        READ_SIZE,
    );
    assert_eq!(r.br(), [Br::Noop, Br::ClearDeathNotificationDone(0xbeef)]);
}

#[test]
fn dead_reply_when_the_target_dies_during_a_call() {
    let inst = Instance::start("deadreply");
    let Pair {
        server,
        server_thread: st,
        client: _c,
        client_thread: ct,
    } = pair(&inst);
    st.start_read();
    ct.send_write_read(
        &Cmds::new().transaction(0, 1, 0, b"are you there?", &[]).0,
        READ_SIZE,
    );
    let tr = call(&st);
    assert_eq!(tr.code, 1);
    drop(st);
    drop(server);
    let brs = ct.recv_ioctl().br();
    let brs = if brs.contains(&Br::DeadReply) {
        brs
    } else {
        [brs, ct.read()].concat()
    };
    assert_eq!(brs, [Br::Noop, Br::TransactionComplete, Br::DeadReply]);
    inst.wait_state("server gone", |s| s.processes.len() == 1);
    // With no context manager left, handle 0 is dead too.
    let r = ct.write_read(
        &Cmds::new().transaction(0, 2, 0, b"hello?", &[]).0,
        READ_SIZE,
    );
    assert_eq!(r.br(), [Br::Noop, Br::DeadReply]);
    let st = inst.wait_state("server gone", |s| {
        s.processes.len() == 1 && s.transactions.is_empty()
    });
    assert!(st.processes[0].buffers.is_empty());
}

#[test]
fn reply_to_a_caller_that_died_only_completes() {
    let inst = Instance::start("callerdied");
    let Pair {
        server: _s,
        server_thread: st,
        client,
        client_thread: ct,
    } = pair(&inst);
    st.start_read();
    ct.send_write_read(
        &Cmds::new().transaction(0, 1, 0, b"call me back", &[]).0,
        READ_SIZE,
    );
    let tr = call(&st);
    drop(ct);
    drop(client);
    inst.wait_state("client gone", |s| s.processes.len() == 1);
    let r = st.write_read(
        &Cmds::new()
            .free_buffer(tr.data_buffer)
            .reply(0, b"too late", &[])
            .0,
        READ_SIZE,
    );
    assert_eq!(r.br(), [Br::Noop, Br::TransactionComplete]);
    let state = inst.state();
    assert!(state.transactions.is_empty(), "{:?}", state.transactions);
    assert!(state.processes[0].buffers.is_empty());
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let (r, w) = nix::unistd::pipe().unwrap();
    (r, w)
}

#[test]
fn file_descriptors_travel_with_fixup() {
    fds_travel_with_fixup(Proc::new_thread);
}

/// The same through mailbox connections: the files go on the sockets beside the mailboxes.
#[test]
fn file_descriptors_travel_with_fixup_through_mailboxes() {
    fds_travel_with_fixup(Proc::new_mailbox_thread);
}

fn fds_travel_with_fixup(new_thread: fn(&mut Proc) -> Thread) {
    let inst = Instance::start("fds");
    let mut server = Proc::connect(&inst);
    let st = new_thread(&mut server);
    // servicemanager's way: a context manager node that accepts fds.
    let fbo = FlatBinderObject {
        hdr_type: BINDER_TYPE_BINDER,
        flags: FLAT_BINDER_FLAG_ACCEPTS_FDS,
        ..Default::default()
    };
    assert_eq!(st.ioctl(BINDER_SET_CONTEXT_MGR_EXT, &fbo.to_bytes()).ret, 0);
    st.enter_looper();
    let mut client = Proc::connect(&inst);
    let ct = new_thread(&mut client);
    ct.ioctl(BINDER_VERSION, &[0; 4]);

    let (r, w) = pipe();
    let mut data = b"data".to_vec();
    data.extend_from_slice(
        &FlatBinderObject {
            hdr_type: BINDER_TYPE_FD,
            flags: 0,
            binder_or_handle: r.as_raw_fd() as u64,
            cookie: 1,
        }
        .to_bytes(),
    );
    st.start_read();
    ct.send_write_read_fds(
        &Cmds::new().transaction(0, 7, TF_ACCEPT_FDS, &data, &[4]).0,
        READ_SIZE,
        &[r.as_raw_fd()],
    );
    let reply = st.recv_ioctl();
    // (Like any ioctl argument, the fd must stay open until the driver has taken it.)
    drop(r);
    assert_eq!(reply.nfds, 1);
    assert_eq!(reply.fds.len(), 1);
    let tr = txn_of(&reply.br());
    // Before the fixup the slot holds -1; after it, the number the receiver got.
    let slot_before = object_at(&server, &tr, 0);
    assert_eq!(
        (slot_before.hdr_type, slot_before.handle() as i32),
        (BINDER_TYPE_FD, -1)
    );
    let got_fd = reply.fds.into_iter().next().unwrap();
    assert_eq!(st.fd_fixup(&[got_fd.as_raw_fd()]), 0);
    let slot = object_at(&server, &tr, 0);
    assert_eq!(slot.handle() as i32, got_fd.as_raw_fd());
    assert_eq!(slot.cookie, 1);
    // The descriptor works: what the client writes, the server reads.
    let mut wf = std::fs::File::from(w);
    wf.write_all(b"through the pipe").unwrap();
    drop(wf);
    let mut text = String::new();
    std::fs::File::from(got_fd)
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "through the pipe");
    // A second fixup for the same read is refused.
    assert_eq!(st.fd_fixup(&[5]), -libc::EINVAL);

    // The reply may carry an fd too (the call said TF_ACCEPT_FDS).
    let (r2, w2) = pipe();
    let obj = FlatBinderObject {
        hdr_type: BINDER_TYPE_FD,
        flags: 0,
        binder_or_handle: w2.as_raw_fd() as u64,
        cookie: 0,
    }
    .to_bytes();
    st.reply_fds(
        &Cmds::new().free_buffer(tr.data_buffer).reply(0, &obj, &[0]),
        &[w2.as_raw_fd()],
    );
    drop(w2);
    let answer = ct.recv_ioctl();
    assert_eq!(answer.nfds, 1);
    let rtr = txn_of(&answer.br());
    let mut fds = answer.fds;
    let wfd = fds.pop().unwrap();
    assert_eq!(ct.fd_fixup(&[wfd.as_raw_fd()]), 0);
    assert_eq!(object_at(&client, &rtr, 0).handle() as i32, wfd.as_raw_fd());
    std::fs::File::from(wfd).write_all(b"back").unwrap();
    let mut back = [0u8; 4];
    std::fs::File::from(r2).read_exact(&mut back).unwrap();
    assert_eq!(&back, b"back");
    ct.write(&Cmds::new().free_buffer(rtr.data_buffer).0);
    assert_eq!(inst.stats().fds_passed, 2);
}

#[test]
fn fds_are_refused_where_not_accepted() {
    let inst = Instance::start("fdsrefused");
    // A plain BINDER_SET_CONTEXT_MGR node does not accept fds.
    let Pair {
        server: _s,
        server_thread: st,
        client: _c,
        client_thread: ct,
    } = pair(&inst);
    let (r, _w) = pipe();
    let obj = FlatBinderObject {
        hdr_type: BINDER_TYPE_FD,
        flags: 0,
        binder_or_handle: r.as_raw_fd() as u64,
        cookie: 0,
    }
    .to_bytes();
    st.start_read();
    let res = ct.write_read(
        &Cmds::new().transaction(0, 1, TF_ACCEPT_FDS, &obj, &[0]).0,
        READ_SIZE,
    );
    assert_eq!(res.br(), [Br::Noop, Br::FailedReply]);
    // A bad fd number fails too, and nothing reached the server.
    assert!(!readable_within(&st.sock, Duration::from_millis(100)));
    let stats = inst.stats();
    assert_eq!(stats.fds_passed, 0);
    assert_eq!(stats.failed, 1);
    // Fixing up without a delivery is an error, not a crash.
    let mut p = Proc::connect(&inst);
    let t = p.new_thread();
    assert_eq!(t.fd_fixup(&[1]), -libc::EINVAL);
    drop(r);
}
