//! Inputs the fuzzers (`fuzz/`) found, each pinned here in the crate it broke.

use binder_rt::binder_impl::{MAX_PARCELABLE_NESTING, Parcel};
use binder_rt::{ExceptionCode, Parcelable, Status, StatusCode};

/// `dispatch/ex-parcelable-status-unreadable`: a stub's `EX_PARCELABLE` reply (libbinder's
/// layout: the header size written as 0) could not be read back by a proxy.
#[test]
fn an_ex_parcelable_status_reads_back() {
    let mut p = Parcel::new();
    let status = Status::new_exception(ExceptionCode::Parcelable, "odd");
    p.write_status(&status).unwrap();
    let mut r = Parcel::from_bytes(p.data());
    let back = r.read_status().unwrap();
    assert_eq!(back.exception_code(), ExceptionCode::Parcelable);
    assert_eq!(back.message(), "odd");
    // A size that is negative or runs past the data is still refused.
    for bad in [-1i32, 1 << 20] {
        let mut p = Parcel::new();
        p.write_i32(ExceptionCode::Parcelable.to_i32()).unwrap();
        p.write_string16("x").unwrap();
        p.write_i32(0).unwrap();
        p.write_i32(bad).unwrap();
        assert!(Parcel::from_bytes(p.data()).read_status().is_err());
    }
}

#[derive(Parcelable, Debug, Default, PartialEq)]
struct Tree {
    value: i32,
    children: Vec<Tree>,
}

/// The bytes of a chain of `depth` nested trees.
fn chain(depth: usize) -> Vec<u8> {
    // Each level: presence flag, size, value, child count 1 (the innermost: count 0); the sizes
    // are patched from the inside out.
    let mut p = Parcel::new();
    let mut sizes = Vec::new();
    for level in 0..depth {
        p.write_i32(1).unwrap();
        sizes.push(p.data().len());
        p.write_i32(0).unwrap();
        p.write_i32(level as i32).unwrap();
        p.write_i32(if level + 1 < depth { 1 } else { 0 }).unwrap();
    }
    let mut bytes = p.data().to_vec();
    let end = bytes.len();
    for at in sizes.into_iter().rev() {
        let size = (end - at) as i32;
        bytes[at..at + 4].copy_from_slice(&size.to_le_bytes());
    }
    bytes
}

/// `parcel_read/stack-overflow-deep-tree`: a recursive parcelable nested 60,000 deep overflowed
/// the reading thread's stack (a crash of any service with such a type). Nesting is bounded.
#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let shallow = chain(MAX_PARCELABLE_NESTING as usize - 1);
    let deep = chain(60_000);
    // On a small stack, as a pool thread's.
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || {
            let tree: Tree = Parcel::from_bytes(&shallow).read().unwrap();
            assert_eq!(tree.children.len(), 1);
            let r: Result<Tree, StatusCode> = Parcel::from_bytes(&deep).read();
            assert_eq!(r.unwrap_err(), StatusCode::BadValue);
        })
        .unwrap()
        .join()
        .unwrap();
}
