//! The two copy paths: `memcpy` from a registered send arena and `pread` on the sender's own
//! `/proc/self/mem`, and the copy counters.

mod common;

use binder_sys::*;
use common::*;

#[test]
fn arena_data_is_copied_with_memcpy_and_counted() {
    let inst = Instance::start("arena");
    let Pair {
        server,
        server_thread: st,
        client: mut c,
        client_thread: ct,
    } = pair(&inst);
    c.register_arena_part(512 * 1024, 256 * 1024);
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let data = c.arena_put(4096, &payload);
    // Offsets in the arena too (none point at objects: the array is empty here).
    st.start_read();
    let td = TransactionData {
        data_size: payload.len() as u64,
        data_buffer: data,
        ..Default::default()
    };
    ct.send_write_read(&Cmds::new().transaction_raw(td).0, READ_SIZE);
    let tr = txn_of(&st.recv_ioctl().br());
    assert_eq!(server.read_area(tr.data_buffer, payload.len()), payload);
    let stats = inst.stats();
    assert_eq!(
        (
            stats.bytes_copied,
            stats.bytes_copied_arena,
            stats.bytes_copied_vm
        ),
        (100_000, 100_000, 0)
    );

    // Data in the arena, offsets outside: each part takes its own path.
    let obj = flat(BINDER_TYPE_BINDER, 0x70, 0x71);
    let mut with_obj = vec![0u8; 16];
    with_obj.extend_from_slice(&obj);
    let data = c.arena_put(0, &with_obj);
    let offsets = [16u64];
    let td = TransactionData {
        data_size: with_obj.len() as u64,
        offsets_size: 8,
        data_buffer: data,
        data_offsets: offsets.as_ptr() as u64,
        ..Default::default()
    };
    // Reply from the server first, so that the next call can land.
    st.reply(&Cmds::new().free_buffer(tr.data_buffer).reply(0, &[], &[]));
    let reply = txn_of(&ct.recv_ioctl().br());
    ct.write(&Cmds::new().free_buffer(reply.data_buffer).0);
    st.start_read();
    ct.send_write_read(&Cmds::new().transaction_raw(td).0, READ_SIZE);
    let tr = txn_of(&st.recv_ioctl().br());
    let got = FlatBinderObject::read(&server.read_area(tr.data_buffer + 16, 24)).unwrap();
    assert_eq!(got.hdr_type, BINDER_TYPE_HANDLE);
    let stats = inst.stats();
    assert_eq!(stats.bytes_copied_arena, 100_000 + 40);
    assert_eq!(stats.bytes_copied_vm, 8);
    assert_eq!(stats.bytes_copied, 100_048);

    // A range that starts in the arena and runs past its registered end is read from the
    // process instead.
    let tail = c.arena_put(256 * 1024 - 8, &[9u8; 64]);
    let td = TransactionData {
        data_size: 64,
        data_buffer: tail,
        ..Default::default()
    };
    st.reply(
        &Cmds::new()
            .increfs(1)
            .acquire(1)
            .free_buffer(tr.data_buffer)
            .reply(0, &[], &[]),
    );
    let brs = ct.recv_ioctl().br();
    let reply = txn_of(&brs);
    ct.write(
        &Cmds::new()
            .increfs_done(0x70, 0x71)
            .acquire_done(0x70, 0x71)
            .free_buffer(reply.data_buffer)
            .0,
    );
    st.start_read();
    ct.send_write_read(&Cmds::new().transaction_raw(td).0, READ_SIZE);
    let tr = txn_of(&st.recv_ioctl().br());
    assert_eq!(server.read_area(tr.data_buffer, 64), [9u8; 64]);
    let stats = inst.stats();
    assert_eq!(stats.bytes_copied_vm, 8 + 64);
    assert_eq!(stats.bytes_copied, 100_048 + 64);
    assert_eq!(stats.transactions, 3);
}

#[test]
fn bytes_copied_equals_payload_bytes() {
    let inst = Instance::start("bytes");
    let Pair {
        server: _s,
        server_thread: st,
        client: _c,
        client_thread: ct,
    } = pair(&inst);
    let mut total = 0u64;
    for size in [0usize, 1, 7, 8, 4095, 65536] {
        let payload = vec![0x5au8; size];
        st.start_read();
        ct.send_write_read(
            &Cmds::new().transaction(0, 1, 0, &payload, &[]).0,
            READ_SIZE,
        );
        let tr = txn_of(&st.recv_ioctl().br());
        assert_eq!(tr.data_size, size as u64);
        st.reply(
            &Cmds::new()
                .free_buffer(tr.data_buffer)
                .reply(0, &payload[..size / 2], &[]),
        );
        let reply = txn_of(&ct.recv_ioctl().br());
        ct.write(&Cmds::new().free_buffer(reply.data_buffer).0);
        total += (size + size / 2) as u64;
    }
    let stats = inst.stats();
    assert_eq!(stats.bytes_copied, total);
    assert_eq!(stats.bytes_copied_vm, total);
    assert_eq!((stats.transactions, stats.replies), (6, 6));
    assert_eq!(stats.bc["BC_TRANSACTION"], 6);
    assert_eq!(stats.bc["BC_REPLY"], 6);
    assert_eq!(stats.bc["BC_FREE_BUFFER"], 12);
    assert_eq!(stats.br["BR_TRANSACTION"], 6);
    assert_eq!(stats.br["BR_REPLY"], 6);
    assert_eq!(stats.br["BR_TRANSACTION_COMPLETE"], 12);
}
