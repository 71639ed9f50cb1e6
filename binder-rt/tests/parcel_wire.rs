//! Golden wire tests: the exact bytes libbinder (Android 13+ layout) produces for each encoding,
//! and the errors bad input must give.

use std::os::fd::{AsFd, AsRawFd};

use binder_rt::binder_impl::{Parcel, Remotable};
use binder_rt::{
    ExceptionCode, ParcelFileDescriptor, Parcelable, Payload, SpIBinder, Status, StatusCode,
};

fn bytes_of<T: binder_rt::binder_impl::Serialize + ?Sized>(v: &T) -> Vec<u8> {
    let mut p = Parcel::new();
    p.write(v).unwrap();
    p.data().to_vec()
}

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

#[test]
fn scalars_are_little_endian_and_widened_to_int32() {
    assert_eq!(bytes_of(&true), hex("01 00 00 00"));
    assert_eq!(bytes_of(&false), hex("00 00 00 00"));
    assert_eq!(bytes_of(&-2i8), hex("fe ff ff ff"));
    assert_eq!(bytes_of(&0xf0u8), hex("f0 00 00 00"));
    assert_eq!(bytes_of(&0x263Au16), hex("3a 26 00 00"));
    assert_eq!(bytes_of(&0x0102_0304i32), hex("04 03 02 01"));
    assert_eq!(bytes_of(&-1i64), hex("ff ff ff ff ff ff ff ff"));
    assert_eq!(bytes_of(&1.0f32), hex("00 00 80 3f"));
    assert_eq!(bytes_of(&1.0f64), hex("00 00 00 00 00 00 f0 3f"));
    assert_eq!(bytes_of(&u64::MAX), hex("ff ff ff ff ff ff ff ff"));
}

#[test]
fn strings_are_string16_with_nul_and_padding() {
    assert_eq!(bytes_of("abc"), hex("03 00 00 00 61 00 62 00 63 00 00 00"));
    assert_eq!(bytes_of("ab"), hex("02 00 00 00 61 00 62 00 00 00 00 00"));
    assert_eq!(bytes_of(""), hex("00 00 00 00 00 00 00 00"));
    // U+1F600 is a surrogate pair: two UTF-16 units.
    assert_eq!(bytes_of("😀"), hex("02 00 00 00 3d d8 00 de 00 00 00 00"));
    assert_eq!(bytes_of(&None::<String>), hex("ff ff ff ff"));
    assert_eq!(
        bytes_of(&Some("a".to_string())),
        hex("01 00 00 00 61 00 00 00")
    );
}

#[test]
fn arrays_have_an_int32_length_and_bytes_are_packed() {
    assert_eq!(bytes_of(&vec![1u8, 2, 3]), hex("03 00 00 00 01 02 03 00"));
    assert_eq!(bytes_of(&vec![-1i8; 4]), hex("04 00 00 00 ff ff ff ff"));
    assert_eq!(bytes_of(&Vec::<u8>::new()), hex("00 00 00 00"));
    assert_eq!(
        bytes_of(&vec![1i32, 2]),
        hex("02 00 00 00 01 00 00 00 02 00 00 00")
    );
    assert_eq!(
        bytes_of(&vec![true, false]),
        hex("02 00 00 00 01 00 00 00 00 00 00 00")
    );
    assert_eq!(
        bytes_of(&vec![7i64]),
        hex("01 00 00 00 07 00 00 00 00 00 00 00")
    );
    assert_eq!(
        bytes_of(&vec!["a".to_string()]),
        hex("01 00 00 00 01 00 00 00 61 00 00 00")
    );
    assert_eq!(bytes_of(&None::<Vec<i32>>), hex("ff ff ff ff"));
    assert_eq!(bytes_of(&[5u8, 6]), hex("02 00 00 00 05 06 00 00"));
    assert_eq!(
        bytes_of(&[9i32, 8, 7][..]),
        hex("03 00 00 00 09 00 00 00 08 00 00 00 07 00 00 00")
    );
    assert_eq!(
        bytes_of(&Payload::from(vec![1u8, 2, 3, 4, 5])),
        hex("05 00 00 00 01 02 03 04 05 00 00 00")
    );
}

#[test]
fn tuples_write_their_fields_in_order() {
    assert_eq!(
        bytes_of(&(1i32, "a".to_string())),
        hex("01 00 00 00 01 00 00 00 61 00 00 00")
    );
    let mut p = Parcel::from_bytes(&hex("01 00 00 00 01 00 00 00 61 00 00 00"));
    assert_eq!(p.read::<(i32, String)>().unwrap(), (1, "a".to_string()));
}

/// A structured parcelable written by hand, as `#[derive(Parcelable)]` writes them.
#[derive(Debug, Default, PartialEq)]
struct Point {
    x: i32,
    label: String,
}

impl Parcelable for Point {
    fn write_to_parcel(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
        parcel.write_sized(|p| {
            p.write(&self.x)?;
            p.write(&self.label)
        })
    }
    fn read_from_parcel(parcel: &mut Parcel) -> Result<Self, StatusCode> {
        parcel.read_sized(|r| {
            Ok(Point {
                x: r.read_field_or(Default::default)?,
                label: r.read_field_or(Default::default)?,
            })
        })
    }
}

#[test]
fn structured_parcelables_have_a_presence_flag_and_a_self_counting_size() {
    let p = Point {
        x: 7,
        label: "a".into(),
    };
    // flag 1, size 16 (size field 4 + x 4 + string 8), x, "a".
    let expected = hex("01 00 00 00 10 00 00 00 07 00 00 00 01 00 00 00 61 00 00 00");
    assert_eq!(bytes_of(&p), expected);
    assert_eq!(bytes_of(&None::<Point>), hex("00 00 00 00"));
    let mut r = Parcel::from_bytes(&expected);
    assert_eq!(r.read::<Point>().unwrap(), p);
    let mut null = Parcel::from_bytes(&hex("00 00 00 00"));
    assert_eq!(null.read::<Point>(), Err(StatusCode::UnexpectedNull));
}

#[test]
fn parcelable_readers_skip_fields_they_do_not_know_and_default_missing_ones() {
    // A newer writer added an int64 field: size 24, and a trailing int32 after the parcelable.
    let newer = hex(
        "01 00 00 00 18 00 00 00 07 00 00 00 01 00 00 00 61 00 00 00 ff ff ff ff ff ff ff ff 2a 00 00 00",
    );
    let mut p = Parcel::from_bytes(&newer);
    assert_eq!(
        p.read::<Point>().unwrap(),
        Point {
            x: 7,
            label: "a".into()
        }
    );
    assert_eq!(p.read::<i32>().unwrap(), 42);
    // An older writer wrote only x.
    let older = hex("01 00 00 00 08 00 00 00 07 00 00 00");
    assert_eq!(
        Parcel::from_bytes(&older).read::<Point>().unwrap(),
        Point {
            x: 7,
            label: String::new()
        }
    );
    // A size that lies (past the end, or smaller than its own field, or smaller than what the
    // fields took) is an error, not a panic.
    for bad in [
        "01 00 00 00 40 00 00 00 07 00 00 00",
        "01 00 00 00 02 00 00 00",
        "01 00 00 00 0c 00 00 00 07 00 00 00 01 00 00 00 61 00 00 00",
    ] {
        assert!(
            Parcel::from_bytes(&hex(bad)).read::<Point>().is_err(),
            "{bad}"
        );
    }
}

#[test]
fn interface_token_matches_a_real_capture() {
    let mut p = Parcel::new();
    p.write_interface_token("android.os.IServiceManager")
        .unwrap();
    let mut expected = hex("00 00 00 80 ff ff ff ff 54 53 59 53 1a 00 00 00");
    for u in "android.os.IServiceManager".encode_utf16() {
        expected.extend_from_slice(&u.to_le_bytes());
    }
    expected.extend_from_slice(&[0, 0, 0, 0]); // NUL + padding to 4
    assert_eq!(p.data(), &expected[..]);
    let mut r = Parcel::from_bytes(&expected);
    r.enforce_interface("android.os.IServiceManager").unwrap();
    let mut wrong = Parcel::from_bytes(&expected);
    assert_eq!(
        wrong.enforce_interface("android.os.IServiceManagerX"),
        Err(StatusCode::BadType)
    );
    let mut vendor = expected.clone();
    vendor[8..12].copy_from_slice(&0x564E_4452i32.to_le_bytes());
    assert_eq!(
        Parcel::from_bytes(&vendor).enforce_interface("android.os.IServiceManager"),
        Err(StatusCode::BadType)
    );
}

#[test]
fn status_headers_match_libbinder() {
    assert_eq!(write_status(&Status::ok()), hex("00 00 00 00"));
    let ss = Status::new_service_specific_error(5, "no");
    // EX_SERVICE_SPECIFIC, "no", empty stack trace header, code 5.
    assert_eq!(
        write_status(&ss),
        hex("f8 ff ff ff 02 00 00 00 6e 00 6f 00 00 00 00 00 00 00 00 00 05 00 00 00")
    );
    let ia = Status::new_exception(ExceptionCode::IllegalArgument, "");
    assert_eq!(
        write_status(&ia),
        hex("fd ff ff ff 00 00 00 00 00 00 00 00 00 00 00 00")
    );
    for s in [ss, ia, Status::ok()] {
        let mut r = Parcel::from_bytes(&write_status(&s));
        assert_eq!(r.read_status().unwrap(), s);
    }
    // Transport errors are never written; they travel as status-code replies.
    let mut p = Parcel::new();
    assert_eq!(
        p.write_status(&Status::from(StatusCode::DeadObject)),
        Err(StatusCode::DeadObject)
    );
    // A fat reply header (-128) is skipped and means no exception.
    let mut fat = Parcel::from_bytes(&hex("80 ff ff ff 08 00 00 00 99 99 99 99 2a 00 00 00"));
    assert!(fat.read_status().unwrap().is_ok());
    assert_eq!(fat.read_i32().unwrap(), 42);
    let mut lying = Parcel::from_bytes(&hex("80 ff ff ff 40 00 00 00"));
    assert!(lying.read_status().is_err());
}

fn write_status(s: &Status) -> Vec<u8> {
    let mut p = Parcel::new();
    p.write_status(s).unwrap();
    p.data().to_vec()
}

struct Echo;
impl Remotable for Echo {
    fn descriptor(&self) -> &str {
        "test.Echo"
    }
    fn on_transact(
        &self,
        _: u32,
        _: &mut Parcel,
        _: &mut Parcel,
        _: u32,
    ) -> Result<(), StatusCode> {
        Ok(())
    }
}

#[test]
fn binder_objects_are_flat_objects_plus_stability() {
    // A null binder: BINDER type, flags 0x13, no pointer, not listed in the offsets,
    // stability 0.
    let mut p = Parcel::new();
    p.write_binder(None).unwrap();
    assert_eq!(
        p.data(),
        &hex("85 2a 62 73 13 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00")
            [..]
    );
    assert_eq!(p.object_count(), 0);
    assert_eq!(p.read_binder().unwrap(), None);

    // A local object: BINDER type, ACCEPTS_FDS | 0x13, its address twice, listed, SYSTEM.
    let b = SpIBinder::new_local(Echo);
    let mut p = Parcel::new();
    p.write_i32(9).unwrap();
    p.write_binder(Some(&b)).unwrap();
    let d = p.data();
    assert_eq!(&d[4..12], &hex("85 2a 62 73 13 01 00 00")[..]);
    assert_eq!(d[12..20], d[20..28]);
    assert_ne!(&d[12..20], &[0u8; 8]);
    assert_eq!(&d[28..32], &hex("0c 00 00 00")[..]);
    assert_eq!(p.object_offsets(), vec![4]);
    // In-process, it reads back as the same object.
    p.set_data_position(4).unwrap();
    assert_eq!(p.read_binder().unwrap(), Some(b.clone()));
    assert_eq!(
        p.read::<SpIBinder>().map(|_| ()),
        Err(StatusCode::NotEnoughData)
    );
}

#[test]
fn fds_are_fd_objects_and_parcel_file_descriptors_add_two_ints() {
    let (r, _w) = nix::unistd::pipe().unwrap();
    let mut p = Parcel::new();
    p.write_fd(r.as_fd()).unwrap();
    let d = p.data().to_vec();
    assert_eq!(&d[0..8], &hex("85 2a 64 66 00 00 00 00")[..]);
    let written_fd = i32::from_le_bytes(d[8..12].try_into().unwrap());
    assert_ne!(written_fd, r.as_raw_fd(), "the Parcel keeps its own dup");
    assert_eq!(&d[12..24], &hex("00 00 00 00 01 00 00 00 00 00 00 00")[..]);
    assert_eq!(p.object_offsets(), vec![0]);
    let got = p.read_fd().unwrap();
    assert_ne!(got.as_raw_fd(), written_fd);

    let mut p = Parcel::new();
    p.write(&ParcelFileDescriptor::new(r)).unwrap();
    assert_eq!(
        &p.data()[0..12],
        &hex("01 00 00 00 00 00 00 00 85 2a 64 66")[..]
    );
    assert_eq!(p.object_offsets(), vec![8]);
    let pfd: ParcelFileDescriptor = p.read().unwrap();
    assert!(pfd.as_fd().as_raw_fd() >= 0);
}

#[test]
fn lying_and_truncated_input_is_an_error_never_a_panic() {
    // Length past the end.
    assert_eq!(
        Parcel::from_bytes(&hex("10 00 00 00 01 02")).read::<Vec<u8>>(),
        Err(StatusCode::NotEnoughData)
    );
    // A huge count cannot make the reader allocate: it is checked against what remains.
    assert_eq!(
        Parcel::from_bytes(&hex("ff ff ff 7f")).read::<Vec<i64>>(),
        Err(StatusCode::NotEnoughData)
    );
    assert_eq!(
        Parcel::from_bytes(&hex("ff ff ff 7f")).read::<Vec<String>>(),
        Err(StatusCode::NotEnoughData)
    );
    // Negative lengths other than -1.
    assert_eq!(
        Parcel::from_bytes(&hex("fe ff ff ff")).read::<Vec<i32>>(),
        Err(StatusCode::BadValue)
    );
    assert_eq!(
        Parcel::from_bytes(&hex("fe ff ff ff")).read::<String>(),
        Err(StatusCode::BadValue)
    );
    // Null where a value is required.
    assert_eq!(
        Parcel::from_bytes(&hex("ff ff ff ff")).read::<String>(),
        Err(StatusCode::UnexpectedNull)
    );
    // Truncated scalars.
    assert_eq!(
        Parcel::from_bytes(&hex("01 02")).read::<i32>(),
        Err(StatusCode::NotEnoughData)
    );
    assert_eq!(
        Parcel::from_bytes(&hex("01 02 03 04")).read::<i64>(),
        Err(StatusCode::NotEnoughData)
    );
    // A string without its NUL terminator, and invalid UTF-16 (a lone surrogate).
    assert_eq!(
        Parcel::from_bytes(&hex("01 00 00 00 61 00 62 00")).read::<String>(),
        Err(StatusCode::BadValue)
    );
    assert_eq!(
        Parcel::from_bytes(&hex("01 00 00 00 00 d8 00 00")).read::<String>(),
        Err(StatusCode::BadValue)
    );
    // A fixed-size array of the wrong length.
    assert_eq!(
        Parcel::from_bytes(&hex("01 00 00 00 05 00 00 00")).read::<[i32; 2]>(),
        Err(StatusCode::BadValue)
    );
    // An object where no offset is recorded, and a wrong object type.
    let obj =
        hex("85 2a 62 73 13 01 00 00 08 07 06 05 04 03 02 01 08 07 06 05 04 03 02 01 0c 00 00 00");
    assert_eq!(
        Parcel::from_bytes(&obj).read_binder(),
        Err(StatusCode::BadType)
    );
    let mut forged = Parcel::from_bytes(&obj);
    forged.record_object(0).unwrap();
    assert_eq!(forged.read_fd().map(|_| ()), Err(StatusCode::BadType));
    // A recorded FD object naming an fd the Parcel does not own.
    let fd_obj = hex("85 2a 64 66 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00");
    let mut stolen = Parcel::from_bytes(&fd_obj);
    stolen.record_object(0).unwrap();
    assert_eq!(stolen.read_fd().map(|_| ()), Err(StatusCode::BadValue));
    // Misaligned positions.
    assert_eq!(
        Parcel::from_bytes(&hex("00 00 00 00 00 00 00 00")).set_data_position(2),
        Err(StatusCode::BadValue)
    );
    // A failed read does not move the position past the data.
    let mut p = Parcel::from_bytes(&hex("05 00 00 00"));
    assert!(p.read::<Vec<u8>>().is_err());
    assert!(p.data_position() <= p.data_size());
}

#[test]
fn received_style_reads_do_not_copy_bytes() {
    let mut p = Parcel::new();
    p.write(&vec![7u8; 1000]).unwrap();
    let in_parcel = p.data()[4..].as_ptr();
    let slice = p.read_byte_slice().unwrap().unwrap();
    assert_eq!(slice.len(), 1000);
    assert_eq!(slice.as_ptr(), in_parcel);
}
