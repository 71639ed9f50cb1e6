//! Property tests: every Parcelable type round-trips, and arbitrary bytes fed to every reader
//! return a value or an error, never a panic.

use std::fmt::Debug;

use binder_rt::binder_impl::{Deserialize, Parcel, Serialize};
use binder_rt::{Parcelable, Payload, StatusCode};
use proptest::prelude::*;

fn round_trip<T: Serialize + Deserialize + PartialEq + Debug>(v: &T) {
    let mut p = Parcel::new();
    p.write(v).unwrap();
    assert_eq!(p.data_size() % 4, 0, "every value keeps 4-byte alignment");
    let back: T = p.read().unwrap();
    assert_eq!(&back, v);
    assert_eq!(
        p.data_avail(),
        0,
        "the reader consumes exactly what the writer wrote"
    );
}

#[derive(Debug, Default, Clone, PartialEq)]
struct Record {
    id: i64,
    name: String,
    tags: Vec<String>,
    blob: Vec<u8>,
    maybe: Option<String>,
    flags: Vec<bool>,
}

impl Parcelable for Record {
    fn write_to_parcel(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
        parcel.write_sized(|p| {
            p.write(&self.id)?;
            p.write(&self.name)?;
            p.write(&self.tags)?;
            p.write(&self.blob)?;
            p.write(&self.maybe)?;
            p.write(&self.flags)
        })
    }
    fn read_from_parcel(parcel: &mut Parcel) -> Result<Self, StatusCode> {
        parcel.read_sized(|r| {
            Ok(Record {
                id: r.read_field_or(Default::default)?,
                name: r.read_field_or(Default::default)?,
                tags: r.read_field_or(Default::default)?,
                blob: r.read_field_or(Default::default)?,
                maybe: r.read_field_or(Default::default)?,
                flags: r.read_field_or(Default::default)?,
            })
        })
    }
}

fn record() -> impl Strategy<Value = Record> {
    (
        any::<i64>(),
        ".*",
        prop::collection::vec(".*", 0..4),
        prop::collection::vec(any::<u8>(), 0..40),
        prop::option::of(".*"),
        prop::collection::vec(any::<bool>(), 0..5),
    )
        .prop_map(|(id, name, tags, blob, maybe, flags)| Record {
            id,
            name,
            tags,
            blob,
            maybe,
            flags,
        })
}

proptest! {
    #[test]
    fn scalars_round_trip(b: bool, i8v: i8, u8v: u8, c: u16, i: i32, u: u32, l: i64, ul: u64, f: f32, d: f64) {
        round_trip(&b); round_trip(&i8v); round_trip(&u8v); round_trip(&c);
        round_trip(&i); round_trip(&u); round_trip(&l); round_trip(&ul);
        let mut p = Parcel::new();
        p.write(&f).unwrap();
        p.write(&d).unwrap();
        prop_assert_eq!(p.read::<f32>().unwrap().to_bits(), f.to_bits());
        prop_assert_eq!(p.read::<f64>().unwrap().to_bits(), d.to_bits());
    }

    #[test]
    fn strings_and_options_round_trip(s in ".*", o in prop::option::of(".*")) {
        round_trip(&s);
        round_trip(&o);
    }

    #[test]
    fn vectors_round_trip(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        sbytes in prop::collection::vec(any::<i8>(), 0..30),
        ints in prop::collection::vec(any::<i32>(), 0..30),
        longs in prop::collection::vec(any::<i64>(), 0..30),
        bools in prop::collection::vec(any::<bool>(), 0..30),
        chars in prop::collection::vec(any::<u16>(), 0..30),
        strings in prop::collection::vec(".*", 0..6),
        nested in prop::collection::vec(prop::collection::vec(any::<i32>(), 0..4), 0..4),
        nullable in prop::option::of(prop::collection::vec(any::<u8>(), 0..9)),
        opt_strings in prop::collection::vec(prop::option::of(".*"), 0..4),
    ) {
        round_trip(&bytes); round_trip(&sbytes); round_trip(&ints); round_trip(&longs);
        round_trip(&bools); round_trip(&chars); round_trip(&strings); round_trip(&nested);
        round_trip(&nullable); round_trip(&opt_strings);
        round_trip(&Payload::from(bytes.clone()));
    }

    #[test]
    fn fixed_arrays_and_tuples_round_trip(a: [i32; 3], b: [u8; 5], t: (i32, i64, bool), s in ".*") {
        round_trip(&a);
        round_trip(&b);
        round_trip(&t);
        round_trip(&(s.clone(), a, Some(s)));
    }

    #[test]
    fn parcelables_round_trip(r in record(), rs in prop::collection::vec(record(), 0..3), o in prop::option::of(record())) {
        round_trip(&r);
        round_trip(&rs);
        round_trip(&o);
    }

    #[test]
    fn arbitrary_bytes_never_panic_a_reader(bytes in prop::collection::vec(any::<u8>(), 0..200), start in 0usize..8) {
        let readers: &[fn(&mut Parcel)] = &[
            |p| { let _ = p.read::<bool>(); },
            |p| { let _ = p.read::<i8>(); },
            |p| { let _ = p.read::<u16>(); },
            |p| { let _ = p.read::<i64>(); },
            |p| { let _ = p.read::<f64>(); },
            |p| { let _ = p.read::<String>(); },
            |p| { let _ = p.read::<Option<String>>(); },
            |p| { let _ = p.read::<Vec<u8>>(); },
            |p| { let _ = p.read::<Vec<i8>>(); },
            |p| { let _ = p.read::<Vec<i32>>(); },
            |p| { let _ = p.read::<Vec<i64>>(); },
            |p| { let _ = p.read::<Vec<bool>>(); },
            |p| { let _ = p.read::<Vec<String>>(); },
            |p| { let _ = p.read::<Vec<Vec<u8>>>(); },
            |p| { let _ = p.read::<Option<Vec<i32>>>(); },
            |p| { let _ = p.read::<Vec<Option<String>>>(); },
            |p| { let _ = p.read::<[i32; 4]>(); },
            |p| { let _ = p.read::<(i32, String, Vec<u8>)>(); },
            |p| { let _ = p.read::<Record>(); },
            |p| { let _ = p.read::<Option<Record>>(); },
            |p| { let _ = p.read::<Vec<Record>>(); },
            |p| { let _ = p.read::<Payload>(); },
            |p| { let _ = p.read::<binder_rt::SpIBinder>(); },
            |p| { let _ = p.read::<Option<binder_rt::SpIBinder>>(); },
            |p| { let _ = p.read::<std::os::fd::OwnedFd>(); },
            |p| { let _ = p.read::<binder_rt::ParcelFileDescriptor>(); },
            |p| { let _ = p.read_status(); },
            |p| { let _ = p.enforce_interface("a.b.IC"); },
            |p| { let _ = p.read_byte_slice(); },
        ];
        for read in readers {
            let mut p = Parcel::from_bytes(&bytes);
            let _ = p.set_data_position(start * 4);
            read(&mut p);
            // Reading a whole sequence of values from the same bytes must not panic either.
            for _ in 0..4 { read(&mut p); }
            prop_assert!(p.data_position() <= p.data_size());
        }
    }
}
