//! Writes the seed corpus: `cargo run --manifest-path fuzz/Cargo.toml --example gen_corpus`
//! (from the repository root; or pass the output directory, by default `fuzz/corpus`).
//!
//! Each seed is a meaningful input of its target, built with the encoders of `binder_fuzz`:
//! valid calls of every method for `dispatch`, well-formed values for every kind of reader for
//! `parcel_read`, and command streams that take the driver's main paths for
//! `driver_commands`. The files are rewritten from scratch (stale seeds are removed).

use std::path::{Path, PathBuf};

use binder_fuzz::dispatch::{self, BnFuzzService as Bn, Point};
use binder_fuzz::driver::thread::{A0, A1, B0, SRV, SRV2};
use binder_fuzz::driver::{Cmds, FD_PLACEHOLDER, Script, Txn, flat};
use binder_fuzz::parcel_read::{self, Color, Manual, Record, Shape, Tree, op};
use binder_rt::binder_impl::{
    DEBUG_PID_TRANSACTION, DUMP_TRANSACTION, EXTENSION_TRANSACTION, GET_INTERFACE_HASH_TRANSACTION,
    GET_INTERFACE_VERSION_TRANSACTION, INTERFACE_TRANSACTION, PING_TRANSACTION, Parcel, Serialize,
};
use binder_rt::{Payload, Status};
use binder_sys::*;

fn main() {
    let root: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    let seeds = [
        ("parcel_read", parcel_read_seeds()),
        ("dispatch", dispatch_seeds()),
        ("driver_commands", driver_seeds()),
    ];
    for (target, seeds) in seeds {
        let dir = root.join(target);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the corpus directory");
        for (name, bytes) in &seeds {
            std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("write a seed");
        }
        println!("{}: {} seeds", dir.display(), seeds.len());
    }
    // Regression inputs too large to check in comfortably are written from here.
    let regressions = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let dir = regressions.join("parcel_read");
    std::fs::create_dir_all(&dir).expect("create the regressions directory");
    let path = dir.join("stack-overflow-deep-tree");
    std::fs::write(&path, deep_tree(60_000)).expect("write a regression input");
    println!("{}", path.display());
}

/// A `parcel_read` input reading one `Tree` nested `depth` levels deep (16 bytes a level):
/// the derived reader recurses once per level, so a deep enough value (here 960 KB, within
/// a 1 MiB receive area) overflows the reading thread's stack.
fn deep_tree(depth: usize) -> Vec<u8> {
    let le = |v: i32| v.to_le_bytes();
    // Innermost: presence flag, size 12, value 0, no children.
    let mut value = [le(1), le(12), le(0), le(0)].concat();
    for _ in 0..depth {
        // {flag 1, size, value 0, children: [value]}
        let size = 4 + 4 + 4 + value.len() as i32;
        value = [&le(1)[..], &le(size), &le(0), &le(1), &value].concat();
    }
    parcel_read::encode(0, &[], &[op::TREE], &value)
}

fn parcel<T: Serialize + ?Sized>(values: &[&T]) -> Vec<u8> {
    let mut p = Parcel::new();
    for v in values {
        p.write(*v).expect("write a seed value");
    }
    p.data().to_vec()
}

fn record() -> Record {
    Record {
        id: 42,
        name: "name".into(),
        tags: vec!["a".into(), "bc".into()],
        blob: vec![1, 2, 3],
        maybe: Some("maybe".into()),
        flags: vec![true, false],
        point: Point {
            x: 1,
            y: -2,
            label: "p".into(),
        },
        points: vec![Point::default()],
        opt_point: None,
        color: Color::Blue,
        levels: vec![],
        big: Default::default(),
        fixed: [7, 8],
        chars: vec![0x41, 0xd83d],
        ratio: 0.5,
        binder: None,
    }
}

fn parcel_read_seeds() -> Vec<(&'static str, Vec<u8>)> {
    use parcel_read::encode;
    let tree = Tree {
        value: 1,
        children: vec![
            Tree {
                value: 2,
                children: vec![],
            },
            Tree {
                value: 3,
                children: vec![Tree::default()],
            },
        ],
    };
    let mut token = Parcel::new();
    token
        .write_interface_token("com.example.fuzz.IFuzzListener")
        .unwrap();
    token.write_i32(5).unwrap();
    let mut status = Parcel::new();
    status
        .write_status(&Status::new_service_specific_error(3, "boom"))
        .unwrap();
    let mut mixed = Parcel::new();
    mixed.write_i32(-1).unwrap();
    mixed.write_string16("héllo wörld ☃").unwrap();
    mixed.write(&vec![1u8, 2, 3, 4, 5]).unwrap();
    mixed.write(&Some(vec![10i32, 20])).unwrap();
    mixed.write(&vec![Some("x".to_string()), None]).unwrap();
    mixed.write(&Payload::from(vec![9u8; 9])).unwrap();
    vec![
        ("all-readers-empty", encode(0, &[], &[], &[])),
        (
            "all-readers-string",
            encode(0, &[], &[], &parcel(&["hello"])),
        ),
        (
            "string-then-null",
            encode(0, &[], &[op::STRING, op::OPT_STRING], &{
                let mut p = Parcel::new();
                p.write_string16("hi").unwrap();
                p.write_null().unwrap();
                p.data().to_vec()
            }),
        ),
        (
            "mixed",
            encode(
                0,
                &[],
                &[
                    op::I32,
                    op::STRING,
                    op::BYTES,
                    33,
                    29,
                    op::PAYLOAD,
                    op::SEEK,
                    0,
                    op::I64,
                ],
                mixed.data(),
            ),
        ),
        (
            "vec-i32",
            encode(0, &[], &[op::VEC_I32], &parcel(&[&vec![1i32, 2, 3]])),
        ),
        (
            "vec-string",
            encode(
                0,
                &[],
                &[op::VEC_STRING],
                &parcel(&[&vec!["a".to_string(), "b".into()]]),
            ),
        ),
        (
            "point",
            encode(
                0,
                &[],
                &[op::POINT, op::POINT],
                &parcel(&[
                    &Point::default(),
                    &Point {
                        x: 3,
                        y: 4,
                        label: "pt".into(),
                    },
                ]),
            ),
        ),
        (
            "record",
            encode(0, &[], &[op::RECORD], &parcel(&[&record()])),
        ),
        (
            "shape",
            encode(
                0,
                &[],
                &[op::SHAPE, op::SHAPE],
                &parcel(&[
                    &Shape::Named("n".into()),
                    &Shape::Many(vec![Shape::Circle(1), Shape::At(Point::default())]),
                ]),
            ),
        ),
        ("tree", encode(0, &[], &[op::TREE], &parcel(&[&tree]))),
        (
            "manual",
            encode(
                0,
                &[],
                &[op::MANUAL],
                &parcel(&[&Manual {
                    a: 1,
                    b: Some("b".into()),
                    rest: vec![1, 2],
                }]),
            ),
        ),
        (
            "local-binder",
            encode(1, &[], &[op::BINDER, op::SEEK, 0, op::LISTENER], &[]),
        ),
        (
            "null-binder",
            encode(4, &[], &[op::BINDER, op::SEEK, 0, 63], &[]),
        ),
        ("fd", encode(2, &[], &[op::FD, op::SEEK, 0, 70], &[])),
        (
            "fd-object-unowned",
            encode(
                0,
                &[8],
                &[op::SEEK, 2, op::FD, op::PFD],
                &[
                    &[1, 0, 0, 0, 0, 0, 0, 0][..],
                    &flat(BINDER_TYPE_FD, 0, 0, 1),
                ]
                .concat(),
            ),
        ),
        (
            "handle-object",
            encode(
                0,
                &[0],
                &[op::BINDER],
                &[&flat(BINDER_TYPE_HANDLE, 0, 1, 0)[..], &[0x0c, 0, 0, 0]].concat(),
            ),
        ),
        ("token", encode(0, &[], &[op::TOKEN, op::I32], token.data())),
        ("status", encode(0, &[], &[op::STATUS], status.data())),
        (
            "status-reply-header",
            encode(
                0,
                &[],
                &[op::STATUS, op::I32],
                &[
                    &(-128i32).to_le_bytes()[..],
                    &8i32.to_le_bytes(),
                    &0i32.to_le_bytes(),
                    &7i32.to_le_bytes(),
                ]
                .concat(),
            ),
        ),
        (
            "bool-array-and-seek",
            encode(
                0,
                &[],
                &[26, op::SEEK, 0, op::BOOL, op::BOOL],
                &parcel(&[&vec![true, false, true]]),
            ),
        ),
    ]
}

fn call(code: u32, flags: u8, mode: u8, args: impl FnOnce(&mut Parcel)) -> Vec<u8> {
    let mut p = Parcel::new();
    args(&mut p);
    dispatch::encode(code, flags, mode, &p)
}

fn dispatch_seeds() -> Vec<(&'static str, Vec<u8>)> {
    const TOKEN: u8 = 1;
    vec![
        (
            "add",
            call(Bn::TRANSACTION_ADD, 0, TOKEN, |p| {
                p.write_i32(1).unwrap();
                p.write_i32(2).unwrap();
            }),
        ),
        (
            "add-no-token",
            call(Bn::TRANSACTION_ADD, 0, 0, |p| {
                p.write_i32(1).unwrap();
                p.write_i32(2).unwrap();
            }),
        ),
        (
            "add-wrong-token",
            call(Bn::TRANSACTION_ADD, 0, 8, |p| {
                p.write_i32(1).unwrap();
            }),
        ),
        (
            "echo",
            call(Bn::TRANSACTION_ECHO, 0, TOKEN, |p| {
                p.write_string16("echo").unwrap()
            }),
        ),
        (
            "greet",
            call(Bn::TRANSACTION_GREET, 0, TOKEN, |p| {
                p.write_string16("hi").unwrap();
                p.write(&3u8).unwrap();
            }),
        ),
        (
            "sum",
            call(Bn::TRANSACTION_SUM, 0, TOKEN, |p| {
                p.write(&vec![1u8, 2, 3]).unwrap()
            }),
        ),
        (
            "checksum",
            call(Bn::TRANSACTION_CHECKSUM, 0, TOKEN, |p| {
                p.write(&[5u8, 6, 7][..]).unwrap();
                p.write(&9u32).unwrap();
            }),
        ),
        (
            "maybe",
            call(Bn::TRANSACTION_MAYBE, 0, TOKEN, |p| {
                p.write(&Some("t".to_string())).unwrap();
                p.write(&Some(vec![1i32])).unwrap();
            }),
        ),
        (
            "maybe-nulls",
            call(Bn::TRANSACTION_MAYBE, 0, TOKEN, |p| {
                p.write(&None::<String>).unwrap();
                p.write(&None::<Vec<i32>>).unwrap();
            }),
        ),
        (
            "concat",
            call(Bn::TRANSACTION_CONCAT, 0, TOKEN, |p| {
                p.write(&vec!["a".to_string(), "b".into()]).unwrap();
                p.write_string16(",").unwrap();
            }),
        ),
        (
            "store",
            call(Bn::TRANSACTION_STORE, 0, TOKEN, |p| {
                p.write(&record()).unwrap()
            }),
        ),
        (
            "records",
            call(Bn::TRANSACTION_RECORDS, 0, TOKEN, |p| {
                p.write(&vec![record(), Record::default()]).unwrap();
                p.write(&Some(record())).unwrap();
            }),
        ),
        (
            "move-point",
            call(Bn::TRANSACTION_MOVE_POINT, 0, TOKEN, |p| {
                p.write(&Point::default()).unwrap();
                p.write(&5i64).unwrap();
                p.write(&2.0f64).unwrap();
            }),
        ),
        (
            "notify-oneway",
            call(Bn::TRANSACTION_NOTIFY, 1, TOKEN, |p| {
                p.write_string16("ev").unwrap();
                p.write_i32(1).unwrap();
            }),
        ),
        (
            "notify-two-way",
            call(Bn::TRANSACTION_NOTIFY, 0, TOKEN, |p| {
                p.write_string16("ev").unwrap();
                p.write_i32(1).unwrap();
            }),
        ),
        (
            "shape",
            call(Bn::TRANSACTION_SHAPE, 0, TOKEN, |p| {
                p.write(&Shape::Many(vec![Shape::Named("s".into())]))
                    .unwrap();
                p.write(&Color::Green).unwrap();
            }),
        ),
        (
            "payload",
            call(Bn::TRANSACTION_PAYLOAD, 0, TOKEN, |p| {
                p.write(&Payload::from(vec![1u8, 2, 3])).unwrap();
            }),
        ),
        (
            "fixed",
            call(Bn::TRANSACTION_FIXED, 0, TOKEN, |p| {
                p.write(&[1i32, 2, 3]).unwrap();
                p.write(&[true, false]).unwrap();
            }),
        ),
        (
            "binder-null",
            call(Bn::TRANSACTION_BINDER, 0, TOKEN, |p| {
                p.write_binder(None).unwrap()
            }),
        ),
        (
            "binder-local",
            call(Bn::TRANSACTION_BINDER, 0, TOKEN | 2, |_| {}),
        ),
        (
            "register",
            call(Bn::TRANSACTION_REGISTER, 0, TOKEN | 2, |_| {}),
        ),
        ("reopen", call(Bn::TRANSACTION_REOPEN, 0, TOKEN | 4, |_| {})),
        (
            "fail",
            call(Bn::TRANSACTION_FAIL, 0, TOKEN, |p| {
                p.write_i32(7).unwrap();
                p.write_string16("no").unwrap();
            }),
        ),
        (
            "fail-transport",
            call(Bn::TRANSACTION_FAIL_TRANSPORT, 0, TOKEN, |p| {
                p.write_i32(-1).unwrap();
            }),
        ),
        (
            "fail-exception",
            call(Bn::TRANSACTION_FAIL_EXCEPTION, 0, TOKEN, |p| {
                p.write_i32(-3).unwrap();
            }),
        ),
        ("nothing", call(Bn::TRANSACTION_NOTHING, 0, TOKEN, |_| {})),
        (
            "pinned",
            call(Bn::TRANSACTION_PINNED, 0, TOKEN, |p| {
                p.write(&1i64).unwrap();
                p.write(&vec!["x".to_string()]).unwrap();
            }),
        ),
        (
            "fire",
            call(Bn::TRANSACTION_FIRE, 1, TOKEN, |p| {
                p.write(&vec![Some("x".to_string()), None]).unwrap();
            }),
        ),
        ("ping", call(PING_TRANSACTION, 0, 0, |_| {})),
        ("interface", call(INTERFACE_TRANSACTION, 0, 0, |_| {})),
        ("extension", call(EXTENSION_TRANSACTION, 0, 0, |_| {})),
        ("debug-pid", call(DEBUG_PID_TRANSACTION, 0, 0, |_| {})),
        (
            "dump",
            call(DUMP_TRANSACTION, 0, 4, |p| {
                p.write_i32(1).unwrap();
                p.write_string16("-a").unwrap();
            }),
        ),
        (
            "version",
            call(GET_INTERFACE_VERSION_TRANSACTION, 0, TOKEN, |_| {}),
        ),
        (
            "hash",
            call(GET_INTERFACE_HASH_TRANSACTION, 0, TOKEN, |_| {}),
        ),
        ("unknown-code", call(1000, 0, TOKEN, |_| {})),
    ]
}

/// A two-way call with code 1 from `thread` to the context manager.
fn txn(thread: u8, data: &[u8]) -> Txn<'_> {
    Txn {
        thread,
        code: 1,
        data,
        ..Default::default()
    }
}

fn driver_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let binder_obj = [
        &flat(BINDER_TYPE_BINDER, 0x17f, 0x1000, 0x1000)[..],
        &[0x0c, 0, 0, 0],
    ]
    .concat();
    let weak_obj = [
        &flat(BINDER_TYPE_WEAK_BINDER, 0x7f, 0x2000, 0x2000)[..],
        &[0x0c, 0, 0, 0],
    ]
    .concat();
    let fd_obj = flat(BINDER_TYPE_FD, 0, u64::from(FD_PLACEHOLDER), 1);
    let handle = |h: u64| [&flat(BINDER_TYPE_HANDLE, 0, h, 0)[..], &[0x0c, 0, 0, 0]].concat();
    let refs = |h: u32| {
        Cmds::new()
            .cmd_handle(BC_INCREFS, h)
            .cmd_handle(BC_ACQUIRE, h)
            .cmd_handle(BC_RELEASE, h)
            .cmd_handle(BC_DECREFS, h)
            .0
    };
    let mut bwr_lie = Vec::new();
    BinderWriteRead {
        write_size: 1000,
        ..Default::default()
    }
    .encode(&mut bwr_lie);
    bwr_lie.extend_from_slice(&BC_ENTER_LOOPER.to_le_bytes());
    let words = |v: &[u32], tail: &[u64]| {
        let mut out = Vec::new();
        for w in v {
            out.extend_from_slice(&w.to_le_bytes());
        }
        for w in tail {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out
    };
    let mmap_again = words(&[binder_sys::ud::OP_MMAP, 0], &[4096]);
    let new_thread = words(&[binder_sys::ud::OP_NEW_THREAD, 77], &[]);
    let arena = words(&[binder_sys::ud::OP_REGISTER_ARENA, 0], &[0x10000, 8192]);
    let hello_again = words(
        &[binder_sys::ud::OP_HELLO_PROC, binder_sys::ud::HELLO_VERSION],
        &[],
    );
    let mut fixup = Vec::new();
    binder_sys::ud::encode_fd_fixup(&[3, -1], &mut fixup);
    vec![
        (
            "version",
            Script::new(0).ioctl(A0, BINDER_VERSION, &[0; 4]).0,
        ),
        (
            "call-and-reply",
            Script::new(3)
                .transact(txn(A0, b"hello world!"))
                .pump()
                .read(A0, 256)
                .free(A0, 0, 0)
                .0,
        ),
        (
            "call-heap-with-read",
            Script::new(2)
                .transact(Txn {
                    heap: true,
                    read: true,
                    code: 7,
                    flags: TF_ACCEPT_FDS,
                    ..txn(A0, &[0; 64])
                })
                .pump()
                .read(A0, 256)
                .0,
        ),
        (
            "oneway-queue",
            // Two oneway calls to one node: the second waits until the first buffer is freed.
            Script::new(1)
                .transact(Txn {
                    flags: TF_ONE_WAY,
                    ..txn(A0, b"fire")
                })
                .transact(Txn {
                    flags: TF_ONE_WAY,
                    ..txn(A1, b"again")
                })
                .pump()
                .pump()
                .0,
        ),
        (
            "send-binder",
            Script::new(3)
                .transact(Txn {
                    offsets: &[0],
                    ..txn(A0, &binder_obj)
                })
                .pump()
                .read(A0, 256)
                .free(A0, 0, 0)
                .write(A0, false, &refs(0))
                .0,
        ),
        (
            "send-weak-binder",
            Script::new(3)
                .transact(Txn {
                    offsets: &[0],
                    flags: TF_ONE_WAY,
                    ..txn(A0, &weak_obj)
                })
                .pump()
                .read(A0, 256)
                .0,
        ),
        (
            "send-fd",
            Script::new(3)
                .transact(Txn {
                    files: 1,
                    offsets: &[0],
                    flags: TF_ACCEPT_FDS,
                    ..txn(A0, &fd_obj)
                })
                .pump()
                .read(A0, 256)
                .0,
        ),
        (
            "send-fd-unattached",
            Script::new(3)
                .transact(Txn {
                    offsets: &[0],
                    ..txn(A0, &fd_obj)
                })
                .read(A0, 256)
                .0,
        ),
        (
            "reply-with-fd",
            Script::new(3)
                .transact(Txn {
                    flags: TF_ACCEPT_FDS,
                    ..txn(A0, b"give me a file")
                })
                .transact(Txn {
                    kind: 1,
                    heap: true,
                    files: 2,
                    offsets: &[0],
                    ..txn(SRV, &fd_obj)
                })
                .read(A0, 256)
                .free(A0, 0, 0)
                .0,
        ),
        (
            "send-handle-0",
            Script::new(3)
                .transact(Txn {
                    heap: true,
                    offsets: &[0],
                    ..txn(A0, &handle(0))
                })
                .pump()
                .0,
        ),
        (
            "third-party-handle",
            // A gives the server its node (handle 1 there); the server hands it to B, which
            // gets a handle to A's node, and calls it.
            Script::new(3)
                .transact(Txn {
                    offsets: &[0],
                    flags: TF_ONE_WAY,
                    ..txn(A0, &binder_obj)
                })
                .pump()
                .transact(txn(B0, b"what do you have?"))
                .transact(Txn {
                    kind: 1,
                    offsets: &[0],
                    ..txn(SRV, &handle(1))
                })
                .read(B0, 256)
                .write(A1, false, &Cmds::new().u32(BC_ENTER_LOOPER).0)
                .transact(Txn {
                    target: 1,
                    ..txn(B0, b"hello A")
                })
                .read(A1, 256)
                .0,
        ),
        (
            "refs-on-context-manager",
            Script::new(0).write(A0, true, &refs(0)).0,
        ),
        (
            "death-notification",
            Script::new(0)
                .write(
                    A0,
                    false,
                    &Cmds::new()
                        .cmd_handle(BC_INCREFS, 0)
                        .death(BC_REQUEST_DEATH_NOTIFICATION, 0, 0xdead)
                        .death(BC_CLEAR_DEATH_NOTIFICATION, 0, 0xdead)
                        .0,
                )
                .read(A0, 256)
                .0,
        ),
        (
            "clear-death-done",
            Script::new(0)
                .write(
                    A0,
                    true,
                    &Cmds::new()
                        .u32(BC_ENTER_LOOPER)
                        .cmd_handle(BC_INCREFS, 0)
                        .death(BC_REQUEST_DEATH_NOTIFICATION, 0, 0xc0de)
                        .death(BC_CLEAR_DEATH_NOTIFICATION, 0, 0xc0de)
                        .0,
                )
                .0,
        ),
        (
            "three-fds",
            Script::new(3)
                .transact(Txn {
                    files: 3,
                    offsets: &[0, 24, 48],
                    flags: TF_ACCEPT_FDS,
                    ..txn(A0, &[fd_obj, fd_obj, fd_obj].concat())
                })
                .pump()
                .read(A0, 256)
                .0,
        ),
        (
            "server-dies",
            Script::new(0)
                .write(
                    A0,
                    false,
                    &Cmds::new()
                        .cmd_handle(BC_ACQUIRE, 0)
                        .death(BC_REQUEST_DEATH_NOTIFICATION, 0, 0xbeef)
                        .0,
                )
                .transact(Txn {
                    read: true,
                    ..txn(A1, b"pending")
                })
                .restart_server()
                .read(A0, 256)
                .write(A0, true, &Cmds::new().u64(0).0)
                .transact(txn(A0, b"to the new one"))
                .0,
        ),
        (
            "client-death-seen-by-server",
            Script::new(0)
                .transact(Txn {
                    offsets: &[0],
                    flags: TF_ONE_WAY,
                    ..txn(A0, &binder_obj)
                })
                .pump()
                .write(
                    SRV2,
                    false,
                    &Cmds::new()
                        .death(BC_REQUEST_DEATH_NOTIFICATION, 1, 0xfeed)
                        .0,
                )
                .restart_client(0)
                .pump()
                .0,
        ),
        (
            "loopers",
            Script::new(0)
                .write(
                    A0,
                    false,
                    &Cmds::new()
                        .u32(BC_ENTER_LOOPER)
                        .u32(BC_REGISTER_LOOPER)
                        .u32(BC_EXIT_LOOPER)
                        .0,
                )
                .ioctl(A1, BINDER_SET_MAX_THREADS, &4u32.to_le_bytes())
                .write(A1, true, &Cmds::new().u32(BC_REGISTER_LOOPER).0)
                .0,
        ),
        (
            "raw-stream",
            Script::new(0)
                .write(
                    A0,
                    true,
                    &Cmds::new()
                        .cmd_handle(BC_INCREFS, 0)
                        .bogus_transaction(BC_TRANSACTION, 0, 16, 0)
                        .u32(BC_FREE_BUFFER)
                        .u64(0x1234)
                        .bogus_transaction(BC_REPLY, 0, 0, 0)
                        .cmd_handle(BC_DECREFS, 0)
                        .ptr_cookie(BC_INCREFS_DONE, 0x1000, 0x1000)
                        .u32(BC_DEAD_BINDER_DONE)
                        .u64(7)
                        .0,
                )
                .0,
        ),
        (
            "server-calls-back",
            // A gives the server its node and enters the looper; the server's other thread
            // calls it and A answers.
            Script::new(3)
                .transact(Txn {
                    offsets: &[0],
                    flags: TF_ONE_WAY,
                    ..txn(A0, &binder_obj)
                })
                .pump()
                .write(A1, false, &Cmds::new().u32(BC_ENTER_LOOPER).0)
                .transact(Txn {
                    target: 1,
                    read: true,
                    ..txn(SRV2, b"callback")
                })
                .read(A1, 256)
                .transact(Txn {
                    kind: 1,
                    ..txn(A1, b"ok")
                })
                .pump()
                .0,
        ),
        (
            "nested-call",
            // A calls the server, whose looper calls A back while it holds the call: the
            // callback lands on A's waiting thread.
            Script::new(3)
                .transact(Txn {
                    offsets: &[0],
                    flags: TF_ONE_WAY,
                    ..txn(A0, &binder_obj)
                })
                .pump()
                .transact(Txn {
                    read: true,
                    ..txn(A0, b"outer")
                })
                .transact(Txn {
                    target: 1,
                    ..txn(SRV, b"inner")
                })
                .read(A0, 256)
                .transact(Txn {
                    kind: 1,
                    ..txn(A0, b"inner-reply")
                })
                .transact(Txn {
                    kind: 1,
                    ..txn(SRV, b"outer-reply")
                })
                .read(A0, 256)
                .0,
        ),
        (
            "sg",
            Script::new(0)
                .transact(Txn {
                    kind: 2,
                    ..txn(A0, b"sg")
                })
                .pump()
                .0,
        ),
        (
            "thread-exit",
            Script::new(0)
                .transact(txn(A0, b"x"))
                .ioctl(A0, BINDER_THREAD_EXIT, &[0; 4])
                .pump()
                .write(A0, true, &[])
                .0,
        ),
        (
            "ioctls",
            Script::new(0)
                .ioctl(A0, BINDER_GET_NODE_DEBUG_INFO, &[0; 24])
                .ioctl(SRV2, BINDER_GET_NODE_DEBUG_INFO, &[0; 24])
                .ioctl(A0, BINDER_GET_NODE_INFO_FOR_REF, &[0; 24])
                .ioctl(A0, BINDER_GET_EXTENDED_ERROR, &[0; 12])
                .ioctl(A0, BINDER_ENABLE_ONEWAY_SPAM_DETECTION, &1u32.to_le_bytes())
                .ioctl(B0, BINDER_SET_CONTEXT_MGR, &[0; 4])
                .ioctl(A0, 0xdead_beef, &[])
                .0,
        ),
        (
            "bwr-lies",
            Script::new(0)
                .ioctl(A0, BINDER_WRITE_READ, &bwr_lie)
                .thread_msg(A0, &fixup)
                .thread_msg(A1, &[1, 2, 3])
                .0,
        ),
        (
            "proc-requests",
            Script::new(0)
                .proc_msg(0, 0, &mmap_again)
                .proc_msg(0, 0, &new_thread)
                .proc_msg(1, 3, &arena)
                .proc_msg(2, 0, &new_thread)
                .proc_msg(0, 4, &hello_again)
                .transact(txn(A0, b"after"))
                .0,
        ),
        (
            "double-free",
            Script::new(3)
                .transact(txn(A0, b"x"))
                .pump()
                .read(A0, 256)
                .free(A0, 0, 0)
                .free(A0, 0, 0)
                .free(A0, 0, 8)
                .0,
        ),
        (
            "die-mid-call",
            Script::new(3)
                .transact(Txn {
                    read: true,
                    offsets: &[0],
                    ..txn(A0, &binder_obj)
                })
                .restart_client(0)
                .pump()
                .0,
        ),
        (
            "area-full",
            Script::new(0)
                .transact(txn(A0, &[0; 3000]))
                .transact(Txn {
                    flags: TF_ONE_WAY,
                    ..txn(A1, &[0; 4000])
                })
                .transact(Txn {
                    flags: TF_ONE_WAY,
                    ..txn(B0, &[0; 4000])
                })
                .0,
        ),
        (
            "new-threads",
            Script::new(0)
                .new_thread(A0)
                .new_thread(SRV)
                .transact(txn(A0, b"x"))
                .pump()
                .0,
        ),
    ]
}
