//! Bad input: every case gets an error or drops the offender, and the driver keeps serving
//! everybody else.

mod common;

use std::os::fd::AsRawFd;
use std::time::Duration;

use binder_sys::ud::*;
use binder_sys::*;
use common::*;

/// A full round trip between two fresh processes: the driver still works.
fn still_serving(inst: &Instance) {
    let Pair {
        server,
        server_thread: st,
        client,
        client_thread: ct,
    } = pair_with_ctx(inst);
    st.start_read();
    ct.send_write_read(
        &Cmds::new().transaction(0, 9, 0, b"still there?", &[]).0,
        READ_SIZE,
    );
    let tr = txn_of(&st.recv_ioctl().br());
    assert_eq!(server.read_area(tr.data_buffer, 12), b"still there?");
    st.reply(
        &Cmds::new()
            .free_buffer(tr.data_buffer)
            .reply(0, b"yes", &[]),
    );
    let reply = txn_of(&ct.recv_ioctl().br());
    assert_eq!(client.read_area(reply.data_buffer, 3), b"yes");
    ct.write(&Cmds::new().free_buffer(reply.data_buffer).0);
}

/// Like `pair`, for instances whose context manager may already exist: uses a node handed
/// over by hand instead. Here every test that calls it owns its instance, so `pair` works.
fn pair_with_ctx(inst: &Instance) -> Pair {
    pair(inst)
}

fn fresh_instance_with_pair(tag: &str) -> (Instance, Pair) {
    let inst = Instance::start(tag);
    let p = pair(&inst);
    (inst, p)
}

#[test]
fn unknown_and_truncated_commands_fail_the_ioctl() {
    let (
        inst,
        Pair {
            server: _s,
            server_thread: st,
            client: _c,
            client_thread: ct,
        },
    ) = fresh_instance_with_pair("unknowncmd");
    let r = ct.write_read(&Cmds::new().raw(&0xdead_beefu32.to_le_bytes()).0, READ_SIZE);
    assert_eq!(r.ret, -libc::EINVAL);
    assert_eq!(r.bwr().write_consumed, 0);
    assert_eq!(r.bwr().read_consumed, 0);
    // Valid commands before the bad one are consumed.
    let r = ct.write_read(
        &Cmds::new()
            .increfs(0)
            .raw(&BC_ATTEMPT_ACQUIRE.to_le_bytes())
            .raw(&[0; 8])
            .0,
        0,
    );
    assert_eq!(r.ret, -libc::EINVAL);
    assert_eq!(r.bwr().write_consumed, 8);
    // A command cut short.
    let r = ct.write_read(&BC_ACQUIRE.to_le_bytes()[..], 0);
    assert_eq!(r.ret, -libc::EFAULT);
    let r = ct.write_read(
        &Cmds::new()
            .raw(&BC_TRANSACTION.to_le_bytes())
            .raw(&[0; 20])
            .0,
        0,
    );
    assert_eq!(r.ret, -libc::EFAULT);
    // write_size larger than what came inline.
    let bwr = BinderWriteRead {
        write_size: 1000,
        ..Default::default()
    };
    let mut msg = Vec::new();
    encode_write_read(&bwr, &[0; 8], &[], &mut msg);
    send(&ct.sock, &msg, &[]);
    assert_eq!(ct.recv_ioctl().ret, -libc::EFAULT);
    // Nothing reached the server, and refcount commands on bad handles are just ignored.
    ct.write(&Cmds::new().acquire(77).release(78).decrefs(79).0);
    assert!(!readable_within(&st.sock, Duration::from_millis(50)));
    still_serving(&Instance::start("unknowncmd2"));
    drop(inst);
}

#[test]
fn bad_targets_get_failed_reply() {
    let (
        inst,
        Pair {
            server: _s,
            server_thread: st,
            client: _c,
            client_thread: ct,
        },
    ) = fresh_instance_with_pair("badtarget");
    let r = ct.write_read(&Cmds::new().transaction(77, 1, 0, b"x", &[]).0, READ_SIZE);
    assert_eq!(r.br(), [Br::Noop, Br::FailedReply]);
    // The context manager cannot call itself.
    let r = st.write_read(&Cmds::new().transaction(0, 1, 0, b"x", &[]).0, READ_SIZE);
    assert_eq!(r.br(), [Br::Noop, Br::FailedReply]);
    // A reply with nothing to reply to.
    let r = ct.write_read(&Cmds::new().reply(0, b"x", &[]).0, READ_SIZE);
    assert_eq!(r.br(), [Br::Noop, Br::FailedReply]);
    // Scatter-gather buffers are not supported; without them, _SG works like the plain form.
    let td = TransactionData {
        data_size: 1,
        data_buffer: b"x".as_ptr() as u64,
        ..Default::default()
    };
    let mut sg = Cmds::new().raw(&BC_TRANSACTION_SG.to_le_bytes());
    td.encode(&mut sg.0);
    let r = ct.write_read(&sg.clone().raw(&64u64.to_le_bytes()).0, READ_SIZE);
    assert_eq!(r.br(), [Br::Noop, Br::FailedReply]);
    st.start_read();
    ct.send_write_read(&sg.raw(&0u64.to_le_bytes()).0, READ_SIZE);
    let tr = txn_of(&st.recv_ioctl().br());
    assert_eq!(tr.data_size, 1);
    st.reply(&Cmds::new().free_buffer(tr.data_buffer).reply(0, &[], &[]));
    let reply = txn_of(&ct.recv_ioctl().br());
    ct.write(&Cmds::new().free_buffer(reply.data_buffer).0);
    assert_eq!(inst.stats().failed, 4);
}

#[test]
fn forged_objects_and_offsets_are_rejected_and_undone() {
    let (
        inst,
        Pair {
            server,
            server_thread: st,
            client: _c,
            client_thread: ct,
        },
    ) = fresh_instance_with_pair("forged");
    let good = flat(BINDER_TYPE_BINDER, 0x50, 0x51);
    let forged = flat(0x1234_5678, 0, 0);
    let mut two = good.to_vec();
    two.extend_from_slice(&forged);
    let bad_handle = flat(BINDER_TYPE_HANDLE, 77, 0);
    let ptr_obj = {
        let mut b = vec![0u8; 40];
        b[..4].copy_from_slice(&BINDER_TYPE_PTR.to_le_bytes());
        b
    };
    let mut padded = vec![0u8; 4];
    padded.extend_from_slice(&good);
    let cases: Vec<(&str, Vec<u8>, Vec<u64>)> = vec![
        (
            "unknown object type after a good one",
            two.clone(),
            vec![0, 24],
        ),
        (
            "handle the sender does not have",
            bad_handle.to_vec(),
            vec![0],
        ),
        ("misaligned offset", padded.clone(), vec![2]),
        ("offset past the data", good.to_vec(), vec![8]),
        ("offset far outside", good.to_vec(), vec![1 << 40]),
        ("overlapping objects", two.clone(), vec![0, 8]),
        ("offsets not ascending", two.clone(), vec![24, 0]),
        ("pointer objects", ptr_obj, vec![0]),
    ];
    st.start_read();
    for (what, data, offsets) in &cases {
        let r = ct.write_read(
            &Cmds::new().transaction(0, 1, 0, data, offsets).0,
            READ_SIZE,
        );
        assert_eq!(r.br(), [Br::Noop, Br::FailedReply], "{what}");
    }
    // offsets_size that is not a multiple of 8.
    let td = TransactionData {
        data_size: 24,
        offsets_size: 12,
        data_buffer: good.as_ptr() as u64,
        data_offsets: [0u64, 0].as_ptr() as u64,
        ..Default::default()
    };
    let r = ct.write_read(&Cmds::new().transaction_raw(td).0, READ_SIZE);
    assert_eq!(r.br(), [Br::Noop, Br::FailedReply]);
    // Data at an address the sender does not have.
    let td = TransactionData {
        data_size: 64,
        data_buffer: 0x10,
        ..Default::default()
    };
    let r = ct.write_read(&Cmds::new().transaction_raw(td).0, READ_SIZE);
    assert_eq!(r.br(), [Br::Noop, Br::FailedReply]);
    // The half-translated first case was undone: no node for 0x50, no ref anywhere.
    let state = inst.state();
    assert!(
        state
            .processes
            .iter()
            .flat_map(|p| &p.nodes)
            .all(|n| n.ptr != 0x50),
        "{state:#?}"
    );
    assert!(state.processes.iter().all(|p| p.refs.is_empty()));
    assert_eq!(inst.stats().failed, cases.len() as u64 + 2);
    // A cookie that does not match the node the sender already has.
    st.reply_to_next(&ct, &Cmds::new().transaction(0, 1, 0, &good, &[0]));
    let other_cookie = flat(BINDER_TYPE_BINDER, 0x50, 0x99);
    let r = ct.write_read(
        &Cmds::new().transaction(0, 1, 0, &other_cookie, &[0]).0,
        READ_SIZE,
    );
    assert_eq!(r.br(), [Br::Noop, Br::FailedReply]);

    // Nothing of the failed transactions is left: no buffers, no refs, the failed half of the
    // first case undone (only the node from the successful call remains, held by its ref).
    let state = inst.state();
    for p in &state.processes {
        assert!(p.buffers.is_empty(), "{:?}", p.buffers);
        assert_eq!(
            p.area.as_ref().unwrap().free_bytes,
            p.area.as_ref().unwrap().size
        );
    }
    let refs: Vec<_> = state.processes.iter().flat_map(|p| &p.refs).collect();
    assert_eq!(refs.len(), 1, "{refs:?}");
    assert!(state.transactions.is_empty());
    assert!(!readable_within(&st.sock, Duration::from_millis(50)));
    drop(server);
    still_serving(&Instance::start("forged2"));
}

trait ServeOne {
    /// The client sends `cmds` (one call); this thread answers it empty and frees everything.
    fn reply_to_next(&self, client: &Thread, cmds: &Cmds);
}

impl ServeOne for Thread {
    fn reply_to_next(&self, client: &Thread, cmds: &Cmds) {
        client.send_write_read(&cmds.0, READ_SIZE);
        let tr = txn_of(&self.recv_ioctl().br());
        // Keep the refs the call brought (as libbinder would), then free the buffer.
        let r = self.write_read(
            &Cmds::new()
                .increfs(1)
                .acquire(1)
                .free_buffer(tr.data_buffer)
                .reply(0, &[], &[])
                .0,
            READ_SIZE,
        );
        assert_eq!(r.br(), [Br::Noop, Br::TransactionComplete]);
        let brs = client.recv_ioctl().br();
        let reply = txn_of(&brs);
        for b in &brs {
            if let Br::IncRefs(n) = b {
                client.write(&Cmds::new().increfs_done(n.ptr, n.cookie).0);
            }
            if let Br::Acquire(n) = b {
                client.write(&Cmds::new().acquire_done(n.ptr, n.cookie).0);
            }
        }
        client.write(&Cmds::new().free_buffer(reply.data_buffer).0);
        self.start_read();
    }
}

#[test]
fn freeing_what_is_not_yours_or_twice_is_ignored() {
    let (
        inst,
        Pair {
            server,
            server_thread: st,
            client: _c,
            client_thread: ct,
        },
    ) = fresh_instance_with_pair("doublefree");
    let mut server = server;
    st.start_read();
    ct.send_write_read(
        &Cmds::new().transaction(0, 1, 0, b"buffer", &[]).0,
        READ_SIZE,
    );
    let tr = txn_of(&st.recv_ioctl().br());
    // Twice, inside it, outside the area, and another process's address.
    st.reply(
        &Cmds::new()
            .free_buffer(tr.data_buffer)
            .free_buffer(tr.data_buffer)
            .free_buffer(tr.data_buffer + 8)
            .free_buffer(0x10)
            .free_buffer(u64::MAX)
            .reply(0, &[], &[]),
    );
    let reply = txn_of(&ct.recv_ioctl().br());
    ct.write(
        &Cmds::new()
            .free_buffer(reply.data_buffer)
            .free_buffer(reply.data_buffer)
            .free_buffer(tr.data_buffer)
            .0,
    );
    // A buffer the driver still holds (a queued oneway call) cannot be freed.
    st.start_read();
    ct.write(&Cmds::new().transaction(0, 2, TF_ONE_WAY, b"one", &[]).0);
    ct.write(&Cmds::new().transaction(0, 3, TF_ONE_WAY, b"two", &[]).0);
    let first = txn_of(&st.recv_ioctl().br());
    let state = inst.state();
    let queued = state
        .processes
        .iter()
        .flat_map(|p| &p.buffers)
        .find(|b| !b.delivered)
        .expect("the second oneway buffer is allocated but not delivered");
    let st2 = server.new_thread();
    st2.write(&Cmds::new().free_buffer(queued.user_addr.unwrap()).0);
    let state = inst.state();
    assert_eq!(state.processes.iter().flat_map(|p| &p.buffers).count(), 2);
    st2.write(&Cmds::new().free_buffer(first.data_buffer).0);
    st.start_read();
    let second = txn_of(&st.recv_ioctl().br());
    assert_eq!(second.code, 3);
    st2.write(&Cmds::new().free_buffer(second.data_buffer).0);
    let state = inst.state();
    for p in &state.processes {
        let area = p.area.as_ref().unwrap();
        assert_eq!(
            (area.free_bytes, area.free_async_space, area.buffers_in_use),
            (area.size, area.size / 2, 0)
        );
    }
}

#[test]
fn garbage_datagrams_get_errors() {
    let inst = Instance::start("garbage");
    // A first message that is not a hello or a debug query: refused and closed.
    let sock = connect(&inst.name);
    send(&sock, b"\x07\x00\x00\x00garbage", &[]);
    let (msg, _) = recv(&sock);
    assert_eq!(decode_reply(&msg).unwrap().0, -libc::EPROTO);
    assert!(recv(&sock).0.is_empty(), "closed after the refusal");
    // A hello of another version, or of another revision of the socket protocol (a stale
    // driver or program): refused, with the driver's revision.
    for (version, revision) in [(7, UD_REVISION), (HELLO_VERSION, 0), (HELLO_VERSION, 99)] {
        let sock = connect(&inst.name);
        let (ret, payload, _) = request(
            &sock,
            ProcRequest::Hello {
                version,
                flags: 0,
                revision,
            },
            &[],
        );
        assert_eq!(ret, -libc::EPROTO);
        assert_eq!(payload, UD_REVISION.to_le_bytes());
    }

    // On a process connection: unknown and short requests, bad thread sockets, mmap twice.
    let mut p = Proc::connect(&inst);
    for junk in [
        &b"\xff\xff\xff\xff"[..],
        b"\x02\x00",
        b"\x04\x00\x00\x00\x00\x00\x00\x00",
    ] {
        send(&p.sock, junk, &[]);
        let (msg, _) = recv(&p.sock);
        assert_eq!(decode_reply(&msg).unwrap().0, -libc::EINVAL, "{junk:?}");
    }
    // A socket offered as a thread connection is not taken: the driver makes its own.
    let (r, _w) = nix::unistd::pipe().unwrap();
    let (ret, _, fds) = request(&p.sock, ProcRequest::NewThread { tid: 1 }, &[r.as_raw_fd()]);
    assert_eq!(ret, 0);
    assert_eq!(fds.len(), 1);
    assert!(!fds.iter().any(|f| f.as_raw_fd() == r.as_raw_fd()));
    assert_eq!(
        request(&p.sock, ProcRequest::Mmap { size: 4096 }, &[]).0,
        -libc::EBUSY
    );
    assert_eq!(
        request(&p.sock, ProcRequest::MmapAddr { addr: 0x1000 }, &[]).0,
        -libc::EBUSY
    );
    // An arena that is not a sealable memfd, or smaller than claimed.
    assert_eq!(
        request(
            &p.sock,
            ProcRequest::RegisterArena {
                addr: 0x1000,
                size: 4096
            },
            &[r.as_raw_fd()]
        )
        .0,
        -libc::EINVAL
    );
    let plain =
        nix::sys::memfd::memfd_create(c"plain", nix::sys::memfd::MFdFlags::MFD_CLOEXEC).unwrap();
    nix::unistd::ftruncate(&plain, 4096).unwrap();
    assert_eq!(
        request(
            &p.sock,
            ProcRequest::RegisterArena {
                addr: 0x1000,
                size: 4096
            },
            &[plain.as_raw_fd()]
        )
        .0,
        -libc::EINVAL
    );
    let small =
        nix::sys::memfd::memfd_create(c"small", nix::sys::memfd::MFdFlags::MFD_ALLOW_SEALING)
            .unwrap();
    nix::unistd::ftruncate(&small, 4096).unwrap();
    assert_eq!(
        request(
            &p.sock,
            ProcRequest::RegisterArena {
                addr: 0x1000,
                size: 8192
            },
            &[small.as_raw_fd()]
        )
        .0,
        -libc::EINVAL
    );
    assert_eq!(
        request(
            &p.sock,
            ProcRequest::RegisterArena {
                addr: u64::MAX - 10,
                size: 4096
            },
            &[small.as_raw_fd()]
        )
        .0,
        -libc::EINVAL
    );

    // On a thread connection.
    let t = p.new_thread();
    send(&t.sock, b"nonsense", &[]);
    let (msg, _) = recv(&t.sock);
    assert_eq!(decode_reply(&msg).unwrap().0, -libc::EINVAL);
    send(&t.sock, &OP_IOCTL.to_le_bytes(), &[]);
    assert_eq!(t.recv_ioctl().ret, -libc::EINVAL);
    // OP_FD_FIXUP announcing more fds than it carries.
    let mut lie = Vec::new();
    encode_fd_fixup(&[1, 2], &mut lie);
    lie[4..8].copy_from_slice(&1_000_000u32.to_le_bytes());
    send(&t.sock, &lie, &[]);
    assert_eq!(decode_reply(&recv(&t.sock).0).unwrap().0, -libc::EINVAL);
    // A datagram larger than any request.
    let mut huge = Vec::new();
    encode_ioctl(BINDER_WRITE_READ, &vec![0u8; 2 * MAX_MESSAGE], &mut huge);
    send(&t.sock, &huge, &[]);
    assert_eq!(t.recv_ioctl().ret, -libc::EMSGSIZE);
    // Short ioctl arguments.
    assert_eq!(t.ioctl(BINDER_WRITE_READ, &[0; 10]).ret, -libc::EFAULT);
    assert_eq!(t.ioctl(BINDER_SET_MAX_THREADS, &[1]).ret, -libc::EINVAL);
    assert_eq!(
        t.ioctl(BINDER_SET_CONTEXT_MGR_EXT, &[0; 8]).ret,
        -libc::EINVAL
    );
    assert_eq!(
        t.ioctl(BINDER_GET_NODE_INFO_FOR_REF, &[0; 24]).ret,
        -libc::EPERM
    );
    assert_eq!(t.ioctl(BINDER_GET_NODE_DEBUG_INFO, &[0; 24]).ret, 0);
    // Still a working thread.
    assert_eq!(t.ioctl(BINDER_VERSION, &[0; 4]).ret, 0);
    still_serving(&inst);
}

#[test]
fn disconnects_in_the_middle_leave_the_rest_working() {
    let inst = Instance::start("disconnect");
    let Pair {
        server: _s,
        server_thread: st,
        client: mut c,
        client_thread: ct,
    } = pair(&inst);
    // A thread sends a call and hangs up before the answer.
    st.start_read();
    ct.send_write_read(&Cmds::new().transaction(0, 1, 0, b"bye", &[]).0, READ_SIZE);
    drop(ct);
    let tr = txn_of(&st.recv_ioctl().br());
    st.reply(
        &Cmds::new()
            .free_buffer(tr.data_buffer)
            .reply(0, b"gone", &[]),
    );

    // A thread that sends a second request while its read is blocked is dropped.
    let t2 = c.new_thread();
    t2.ioctl(BINDER_VERSION, &[0; 4]);
    t2.start_read();
    send(
        &t2.sock,
        &{
            let mut m = Vec::new();
            encode_ioctl(BINDER_VERSION, &[0; 4], &mut m);
            m
        },
        &[],
    );
    assert!(recv(&t2.sock).0.is_empty(), "the connection ends");

    // A process dies while its thread is blocked in a read: the thread connection ends.
    let t3 = c.new_thread();
    t3.ioctl(BINDER_VERSION, &[0; 4]);
    t3.start_read();
    drop(c);
    assert!(
        recv(&t3.sock).0.is_empty(),
        "the connection ends with the process"
    );
    inst.wait_state("client gone", |s| {
        s.processes.len() == 1 && s.transactions.is_empty()
    });

    // A process dies while one of its oneway calls waits on the target node.
    let mut d = Proc::connect(&inst);
    let dt = d.new_thread();
    dt.ioctl(BINDER_VERSION, &[0; 4]);
    st.start_read();
    dt.write(&Cmds::new().transaction(0, 5, TF_ONE_WAY, b"first", &[]).0);
    dt.write(&Cmds::new().transaction(0, 6, TF_ONE_WAY, b"second", &[]).0);
    drop(dt);
    drop(d);
    let first = txn_of(&st.recv_ioctl().br());
    st.start_read();
    // The second one is still delivered: the sender's death does not cancel it.
    let mut s2 = _s;
    let helper = s2.new_thread();
    helper.write(&Cmds::new().free_buffer(first.data_buffer).0);
    let second = txn_of(&st.recv_ioctl().br());
    assert_eq!(second.code, 6);
    helper.write(&Cmds::new().free_buffer(second.data_buffer).0);
    still_serving(&Instance::start("disconnect2"));
    let state = inst.wait_state("only the server is left", |s| s.processes.len() == 1);
    assert!(state.processes[0].buffers.is_empty());
}

#[test]
fn a_thread_that_never_reads_its_answers_is_dropped() {
    let inst = Instance::start("noread");
    let mut p = Proc::connect(&inst);
    let m = p.new_thread();
    let mut req = Vec::new();
    encode_ioctl(BINDER_VERSION, &[0; 4], &mut req);
    let mut sent = 0;
    let mut dropped = false;
    for _ in 0..100_000 {
        match nix::sys::socket::send(
            m.sock.as_raw_fd(),
            &req,
            nix::sys::socket::MsgFlags::MSG_NOSIGNAL | nix::sys::socket::MsgFlags::MSG_DONTWAIT,
        ) {
            Ok(_) => sent += 1,
            Err(nix::errno::Errno::EAGAIN) => std::thread::sleep(Duration::from_millis(1)),
            Err(_) => {
                dropped = true;
                break;
            }
        }
    }
    assert!(dropped, "the driver kept answering {sent} unread requests");
    // Everybody else is served, and the process itself is still alive.
    still_serving(&inst);
    assert_eq!(
        inst.wait_state("pair gone", |s| s.processes.len() == 1)
            .processes
            .len(),
        1
    );
    let t = p.new_thread();
    assert_eq!(t.ioctl(BINDER_VERSION, &[0; 4]).ret, 0);
}

#[test]
fn extended_error_tells_why_the_last_transaction_failed() {
    let (
        _inst,
        Pair {
            server: _s,
            server_thread: _st,
            client: _c,
            client_thread: ct,
        },
    ) = fresh_instance_with_pair("ee");
    let r = ct.write_read(&Cmds::new().transaction(42, 1, 0, b"x", &[]).0, READ_SIZE);
    assert_eq!(r.br(), [Br::Noop, Br::FailedReply]);
    let ee = ct.ioctl(BINDER_GET_EXTENDED_ERROR, &[0; 12]);
    assert_eq!(ee.ret, 0);
    let word = |i: usize| u32::from_le_bytes(ee.arg[i * 4..i * 4 + 4].try_into().unwrap());
    assert_ne!(word(0), 0);
    assert_eq!(word(1), BR_FAILED_REPLY);
    assert_eq!(word(2) as i32, -libc::EINVAL);
    // Reading it resets it.
    let ee = ct.ioctl(BINDER_GET_EXTENDED_ERROR, &[0; 12]);
    assert_eq!(ee.arg, [0, 0, 0, 0, 1, 0x72, 0, 0, 0, 0, 0, 0]);
}
