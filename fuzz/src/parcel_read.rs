//! `parcel_read`: arbitrary bytes as a Parcel, read by a fuzz-chosen sequence of readers.
//!
//! Input layout (every byte string decodes; missing bytes read as zero):
//!
//! ```text
//! flags: u8          bit 0: the Parcel starts with a real local binder object (recorded),
//!                    bit 1: ... then a real fd object (a dup of /dev/null, recorded),
//!                    bit 2: ... then a null binder object,
//!                    bits 4-6: n, the number of extra object offsets to record
//! offsets: n × u16   recorded with `Parcel::record_object` (any value, even unaligned)
//! nops: u8           number of reader ops
//! ops: nops × u8     each op picks a reader (op % READERS.len()); op 0xff seeks instead, to
//!                    the position (next op byte × 4)
//! data: rest         appended after the prefix objects
//! ```
//!
//! The oracle: no reader panics (errors are fine), the read position never passes the end,
//! and every value that was read whole can be written back.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::OnceLock;

use binder_rt::binder_impl::{Parcel, Remotable};
use binder_rt::{ParcelFileDescriptor, Parcelable, Payload, SpIBinder, StatusCode, Strong};

use crate::Input;
use crate::dispatch::{IFuzzListener, Point};

// ---- parcelable types covering what `#[derive(Parcelable)]` supports ----------------------

#[derive(Parcelable, Debug, Clone, Copy, PartialEq, Default)]
#[repr(i32)]
pub enum Color {
    #[default]
    Red = 1,
    Green,
    Blue = 10,
}

#[derive(Parcelable, Debug, Clone, Copy, PartialEq, Default)]
#[repr(u8)]
pub enum Level {
    #[default]
    Low,
    High = 200,
}

#[derive(Parcelable, Debug, Clone, Copy, PartialEq, Default)]
#[repr(i64)]
pub enum Big {
    #[default]
    Small = -1,
    Huge = 1 << 40,
}

/// A union, one variant of which nests the union itself.
#[derive(Parcelable, Debug, Clone, PartialEq)]
pub enum Shape {
    Circle(i32),
    Named(String),
    At(Point),
    Nothing(Option<SpIBinder>),
    Many(Vec<Shape>),
}

/// A structured parcelable with a field of most kinds.
#[derive(Parcelable, Debug, Clone, PartialEq, Default)]
pub struct Record {
    pub id: i64,
    pub name: String,
    pub tags: Vec<String>,
    pub blob: Vec<u8>,
    pub maybe: Option<String>,
    pub flags: Vec<bool>,
    pub point: Point,
    pub points: Vec<Point>,
    pub opt_point: Option<Point>,
    pub color: Color,
    pub levels: Vec<Level>,
    pub big: Big,
    pub fixed: [i32; 2],
    pub chars: Vec<u16>,
    pub ratio: f64,
    pub binder: Option<SpIBinder>,
}

/// A recursive parcelable (AIDL allows `parcelable Tree { Tree[] children; }`).
#[derive(Parcelable, Debug, Clone, PartialEq, Default)]
pub struct Tree {
    pub value: i32,
    pub children: Vec<Tree>,
}

#[derive(Parcelable, Debug, Clone, PartialEq, Default)]
pub struct Pair<T> {
    pub first: T,
    pub second: Vec<T>,
}

#[derive(Parcelable, Debug, Clone, PartialEq, Default)]
pub struct Wrapper(pub i64, pub String);

#[derive(Parcelable, Debug, Clone, PartialEq, Default)]
pub struct Empty;

/// A hand-written parcelable using `read_sized` / `SizedReader` directly.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Manual {
    pub a: i32,
    pub b: Option<String>,
    pub rest: Vec<u8>,
}

impl Parcelable for Manual {
    fn write_to_parcel(&self, parcel: &mut Parcel) -> Result<(), StatusCode> {
        parcel.write_sized(|p| {
            p.write(&self.a)?;
            p.write(&self.b)?;
            p.write(&self.rest)
        })
    }
    fn read_from_parcel(parcel: &mut Parcel) -> Result<Self, StatusCode> {
        parcel.read_sized(|r| {
            let a = r.read_field_or(Default::default)?;
            let b = r.read_field_or(Default::default)?;
            let rest = if r.has_more_fields() {
                r.parcel()
                    .read_byte_slice()?
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            Ok(Manual { a, b, rest })
        })
    }
}

// ---- the readers ---------------------------------------------------------------------------

/// Reads a `T`; if that worked, checks that the value can be written back.
fn rw<T: binder_rt::binder_impl::Deserialize + binder_rt::binder_impl::Serialize>(p: &mut Parcel) {
    if let Ok(v) = p.read::<T>() {
        let mut out = Parcel::new();
        // Writing may legitimately fail (e.g. a binder of another process); it must not panic.
        let _ = out.write(&v);
    }
}

/// Reads a `T` that is not written back (fds, binders read as interfaces).
fn r<T: binder_rt::binder_impl::Deserialize>(p: &mut Parcel) {
    let _ = p.read::<T>();
}

type Reader = fn(&mut Parcel);

/// Every reader of the Parcel API. The order is part of the input format: append only.
pub const READERS: &[Reader] = &[
    |p| {
        let _ = p.read_i32();
    },
    |p| {
        let _ = p.read_u32();
    },
    |p| {
        let _ = p.read_i64();
    },
    |p| {
        let _ = p.read_u64();
    },
    |p| {
        let _ = p.read_f32();
    },
    |p| {
        let _ = p.read_f64();
    },
    |p| {
        let _ = p.read_bool();
    },
    rw::<i8>,
    rw::<u8>,
    rw::<u16>,
    // 10
    rw::<String>,
    rw::<Option<String>>,
    |p| {
        let _ = p.read_string16();
    },
    |p| {
        let _ = p.read_string16_units();
    },
    rw::<Vec<u8>>,
    rw::<Option<Vec<u8>>>,
    rw::<Vec<i8>>,
    |p| {
        let _ = p.read_byte_slice();
    },
    rw::<Payload>,
    rw::<Option<Payload>>,
    // 20
    rw::<Vec<i32>>,
    rw::<Vec<u32>>,
    rw::<Vec<i64>>,
    rw::<Vec<u64>>,
    rw::<Vec<f32>>,
    rw::<Vec<f64>>,
    rw::<Vec<bool>>,
    rw::<Vec<u16>>,
    rw::<Vec<String>>,
    rw::<Vec<Option<String>>>,
    // 30
    rw::<Option<Vec<String>>>,
    rw::<Vec<Vec<u8>>>,
    rw::<Vec<Vec<i32>>>,
    rw::<Option<Vec<Option<Vec<i64>>>>>,
    rw::<[i32; 3]>,
    rw::<[u8; 5]>,
    rw::<Option<[i64; 2]>>,
    rw::<[[u16; 2]; 2]>,
    rw::<(i32, String, Vec<u8>)>,
    rw::<(bool, i64, Option<String>, [u8; 3], f32, u64)>,
    // 40
    rw::<Point>,
    rw::<Option<Point>>,
    rw::<Vec<Point>>,
    rw::<Vec<Option<Point>>>,
    rw::<Record>,
    rw::<Option<Record>>,
    rw::<Vec<Record>>,
    rw::<Color>,
    rw::<Vec<Color>>,
    rw::<Level>,
    // 50
    rw::<Vec<Level>>,
    rw::<Big>,
    rw::<Vec<Big>>,
    rw::<Shape>,
    rw::<Vec<Shape>>,
    rw::<Tree>,
    rw::<Pair<i32>>,
    rw::<Pair<String>>,
    rw::<Wrapper>,
    rw::<Empty>,
    // 60
    rw::<Manual>,
    rw::<Vec<Manual>>,
    rw::<SpIBinder>,
    rw::<Option<SpIBinder>>,
    rw::<Vec<SpIBinder>>,
    rw::<Vec<Option<SpIBinder>>>,
    |p| {
        let _ = p.read_binder();
    },
    r::<Strong<dyn IFuzzListener>>,
    r::<Option<Strong<dyn IFuzzListener>>>,
    r::<OwnedFd>,
    // 70
    r::<Vec<OwnedFd>>,
    r::<ParcelFileDescriptor>,
    r::<Option<ParcelFileDescriptor>>,
    |p| {
        let _ = p.read_fd();
    },
    |p| {
        let _ = p.read_status();
    },
    |p| {
        let _ = p.enforce_interface("com.example.fuzz.IFuzzListener");
    },
    |p| {
        let _ = p.enforce_interface("");
    },
    |p| {
        let _ = p.read_len(1);
    },
    |p| {
        let _ = p.read_len(0);
    },
    |p| {
        let _ = p.read_len(24);
    },
    // 80
    |p| {
        let _ = p.read_padded(7);
    },
    |p| {
        let _ = p.read_padded(usize::MAX);
    },
    |p| {
        let _ = p.read_padded(usize::MAX - 3);
    },
    |p| {
        let _ = p.read_sized(|r| {
            let mut n = 0;
            while r.has_more_fields() && n < 64 {
                r.read_field_or(|| 0i32)?;
                n += 1;
            }
            Ok(())
        });
    },
    |p| {
        let _ = p.set_data_position(p.data_position().wrapping_add(4));
    },
    |p| {
        let _ = p.set_data_position(p.data_size());
    },
    |p| {
        let _ = p.set_data_position(0);
    },
    |p| {
        let _ = (
            p.data(),
            p.object_count(),
            p.object_offsets(),
            p.data_avail(),
        );
    },
];

/// A local object whose node address the Parcel can name, so that reading a local binder can
/// succeed. It serves `IFuzzListener`'s descriptor, so that reading it as that interface works.
struct Local;

impl Remotable for Local {
    fn descriptor(&self) -> &str {
        "com.example.fuzz.IFuzzListener"
    }
    fn on_transact(
        &self,
        _code: binder_rt::binder_impl::TransactionCode,
        _data: &mut Parcel,
        _reply: &mut Parcel,
        _flags: binder_rt::binder_impl::TransactionFlags,
    ) -> Result<(), StatusCode> {
        Ok(())
    }
}

fn local_binder() -> &'static SpIBinder {
    static LOCAL: OnceLock<SpIBinder> = OnceLock::new();
    LOCAL.get_or_init(|| SpIBinder::new_local(Local))
}

fn devnull() -> &'static OwnedFd {
    static FD: OnceLock<OwnedFd> = OnceLock::new();
    FD.get_or_init(|| {
        std::fs::File::open("/dev/null")
            .expect("open /dev/null")
            .into()
    })
}

/// Builds the Parcel an input describes and returns it with the reader ops.
pub fn build(data: &[u8]) -> (Parcel, Vec<u8>) {
    let mut input = Input::new(data);
    let flags = input.u8();
    let n_offsets = (flags >> 4) & 7;
    let offsets: Vec<u16> = (0..n_offsets).map(|_| input.u16()).collect();
    let nops = input.u8() as usize;
    let ops = input.bytes(nops).to_vec();
    let mut p = Parcel::new();
    if flags & 1 != 0 {
        p.write_binder(Some(local_binder()))
            .expect("write a local binder");
    }
    if flags & 2 != 0 {
        p.write_fd(devnull().as_fd()).expect("write an fd");
    }
    if flags & 4 != 0 {
        p.write_binder(None).expect("write a null binder");
    }
    let prefix = p.data_size();
    // `write_padded` appends the bytes as they are (and pads to 4).
    p.write_padded(input.rest()).expect("append the data");
    for off in offsets {
        // Offsets are relative to the fuzz data when below the prefix would be pointless.
        let _ = p.record_object(prefix + off as usize);
    }
    (p, ops)
}

pub fn run(data: &[u8]) {
    let (mut p, ops) = build(data);
    let mut ops = ops.into_iter();
    let mut steps = 0;
    while let Some(op) = ops.next() {
        if op == 0xff {
            let pos = ops.next().unwrap_or(0) as usize * 4;
            let _ = p.set_data_position(pos);
        } else {
            READERS[op as usize % READERS.len()](&mut p);
        }
        assert!(
            p.data_position() <= p.data_size(),
            "read position {} past the end {}",
            p.data_position(),
            p.data_size()
        );
        steps += 1;
    }
    // With no ops, run every reader once from the start.
    if steps == 0 {
        for read in READERS {
            let _ = p.set_data_position(0);
            read(&mut p);
            assert!(p.data_position() <= p.data_size());
        }
    }
}

// ---- seed encoding --------------------------------------------------------------------------

/// Encodes an input: prefix flags, extra offsets, reader ops and data.
pub fn encode(flags: u8, offsets: &[u16], ops: &[u8], data: &[u8]) -> Vec<u8> {
    assert!(offsets.len() <= 7 && ops.len() <= 255);
    let mut out = vec![(flags & 0x0f) | ((offsets.len() as u8) << 4)];
    for o in offsets {
        out.extend_from_slice(&o.to_le_bytes());
    }
    out.push(ops.len() as u8);
    out.extend_from_slice(ops);
    out.extend_from_slice(data);
    out
}

/// Index of a reader in [`READERS`] by what it reads, for the seed generator.
pub mod op {
    pub const I32: u8 = 0;
    pub const I64: u8 = 2;
    pub const BOOL: u8 = 6;
    pub const STRING: u8 = 10;
    pub const OPT_STRING: u8 = 11;
    pub const BYTES: u8 = 14;
    pub const PAYLOAD: u8 = 18;
    pub const VEC_I32: u8 = 20;
    pub const VEC_STRING: u8 = 28;
    pub const POINT: u8 = 40;
    pub const RECORD: u8 = 44;
    pub const SHAPE: u8 = 53;
    pub const TREE: u8 = 55;
    pub const MANUAL: u8 = 60;
    pub const BINDER: u8 = 62;
    pub const LISTENER: u8 = 67;
    pub const FD: u8 = 69;
    pub const PFD: u8 = 71;
    pub const STATUS: u8 = 74;
    pub const TOKEN: u8 = 75;
    pub const SEEK: u8 = 0xff;
}
