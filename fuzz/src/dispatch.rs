//! `dispatch`: arbitrary transactions on the stub `#[binder_interface]` generates, in process
//! (`SpIBinder::submit_transact` on a local binder is the encode → `on_transact` → decode path
//! of a remote call, without a driver, as `binder-rt/tests/in_process.rs` uses it).
//!
//! Input layout:
//!
//! ```text
//! code: u8     < 0xf0: CODES[code % CODES.len()]; 0xf0 and above: a raw u32 code follows
//! flags: u8    bit 0: FLAG_ONEWAY, bit 1: FLAG_CLEAR_BUF, bits 2-7 passed as they are
//! mode: u8     bit 0: write the right interface token first; bit 1: then a real local binder
//!              (an `IFuzzListener`); bit 2: then a real fd object; bit 3: then a wrong token
//! data: rest   the rest of the Parcel (the arguments)
//! ```
//!
//! The oracle: nothing panics, and the reply of a successful two-way call of a method that
//! has one starts with a status the proxy can read.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use binder_rt::binder_impl::{
    DEBUG_PID_TRANSACTION, DUMP_TRANSACTION, EXTENSION_TRANSACTION, FLAG_ONEWAY,
    GET_INTERFACE_HASH_TRANSACTION, GET_INTERFACE_VERSION_TRANSACTION, INTERFACE_TRANSACTION,
    PING_TRANSACTION, Parcel, SHELL_COMMAND_TRANSACTION, SYSPROPS_TRANSACTION, TransactionCode,
};
use binder_rt::{
    ExceptionCode, ParcelFileDescriptor, Parcelable, Payload, SpIBinder, Status, StatusCode,
    Strong, binder_interface,
};

use crate::Input;
use crate::parcel_read::{Color, Record, Shape};

#[derive(Parcelable, Debug, Clone, PartialEq, Default)]
pub struct Point {
    pub x: i32,
    pub y: i32,
    pub label: String,
}

#[binder_interface(descriptor = "com.example.fuzz.IFuzzListener")]
pub trait IFuzzListener {
    #[oneway]
    fn on_event(&self, event: &str) -> binder_rt::Result<()>;
    fn count(&self) -> binder_rt::Result<i32>;
}

#[binder_interface(
    descriptor = "com.example.fuzz.IFuzzService",
    version = 7,
    hash = "f00d"
)]
pub trait IFuzzService {
    fn add(&self, a: i32, b: i32) -> binder_rt::Result<i32>;
    fn echo(&self, text: String) -> binder_rt::Result<String>;
    fn greet(&self, name: &str, times: u8) -> binder_rt::Result<String>;
    fn sum(&self, bytes: Vec<u8>) -> binder_rt::Result<u64>;
    /// A zero-copy slice followed by another argument.
    fn checksum(&self, bytes: &[u8], seed: u32) -> binder_rt::Result<u32>;
    fn maybe(
        &self,
        text: Option<String>,
        numbers: Option<Vec<i32>>,
    ) -> binder_rt::Result<Option<String>>;
    fn concat(&self, parts: &[String], separator: &str) -> binder_rt::Result<String>;
    fn store(&self, record: &Record) -> binder_rt::Result<Record>;
    fn records(&self, records: Vec<Record>, extra: Option<Record>) -> binder_rt::Result<i64>;
    fn move_point(&self, point: Point, dx: i64, scale: f64) -> binder_rt::Result<Point>;
    #[oneway]
    fn notify(&self, event: &str, level: i32) -> binder_rt::Result<()>;
    fn shape(&self, shape: Shape, color: Color) -> binder_rt::Result<(Shape, Color)>;
    fn payload(&self, payload: Payload) -> binder_rt::Result<Payload>;
    fn fixed(&self, values: [i32; 3], flags: [bool; 2]) -> binder_rt::Result<[i32; 3]>;
    fn binder(&self, binder: Option<SpIBinder>) -> binder_rt::Result<bool>;
    fn register(&self, listener: Strong<dyn IFuzzListener>) -> binder_rt::Result<i32>;
    fn reopen(&self, fd: OwnedFd) -> binder_rt::Result<ParcelFileDescriptor>;
    fn fail(&self, code: i32, message: &str) -> binder_rt::Result<()>;
    fn fail_transport(&self, code: i32) -> binder_rt::Result<i32>;
    fn fail_exception(&self, code: i32) -> binder_rt::Result<String>;
    fn nothing(&self) -> binder_rt::Result<()>;
    #[code(100)]
    fn pinned(&self, a: i64, b: Vec<String>) -> binder_rt::Result<Vec<String>>;
    #[oneway]
    #[code(101)]
    fn fire(&self, values: Vec<Option<String>>) -> binder_rt::Result<()>;
}

#[derive(Default)]
struct Listener {
    events: AtomicUsize,
}

impl IFuzzListener for Listener {
    fn on_event(&self, _event: &str) -> binder_rt::Result<()> {
        self.events.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
    fn count(&self) -> binder_rt::Result<i32> {
        Ok(self.events.load(Ordering::Relaxed) as i32)
    }
}

/// The implementation: total (never panics itself) so that any panic is the stub's.
struct Service;

impl IFuzzService for Service {
    fn add(&self, a: i32, b: i32) -> binder_rt::Result<i32> {
        Ok(a.wrapping_add(b))
    }
    fn echo(&self, text: String) -> binder_rt::Result<String> {
        Ok(text)
    }
    fn greet(&self, name: &str, times: u8) -> binder_rt::Result<String> {
        Ok(name.repeat(usize::from(times % 4)))
    }
    fn sum(&self, bytes: Vec<u8>) -> binder_rt::Result<u64> {
        Ok(bytes.iter().map(|&b| u64::from(b)).sum())
    }
    fn checksum(&self, bytes: &[u8], seed: u32) -> binder_rt::Result<u32> {
        Ok(bytes.iter().fold(seed, |acc, &b| {
            acc.wrapping_mul(31).wrapping_add(u32::from(b))
        }))
    }
    fn maybe(
        &self,
        text: Option<String>,
        numbers: Option<Vec<i32>>,
    ) -> binder_rt::Result<Option<String>> {
        Ok(text.map(|t| format!("{t}:{}", numbers.map_or(0, |n| n.len()))))
    }
    fn concat(&self, parts: &[String], separator: &str) -> binder_rt::Result<String> {
        Ok(parts.join(separator))
    }
    fn store(&self, record: &Record) -> binder_rt::Result<Record> {
        Ok(record.clone())
    }
    fn records(&self, records: Vec<Record>, extra: Option<Record>) -> binder_rt::Result<i64> {
        Ok(records
            .iter()
            .chain(extra.as_ref())
            .fold(0i64, |acc, r| acc.wrapping_add(r.id)))
    }
    fn move_point(&self, point: Point, dx: i64, scale: f64) -> binder_rt::Result<Point> {
        Ok(Point {
            x: point.x.wrapping_add(dx as i32),
            y: (f64::from(point.y) * scale) as i32,
            label: point.label,
        })
    }
    fn notify(&self, _event: &str, _level: i32) -> binder_rt::Result<()> {
        Ok(())
    }
    fn shape(&self, shape: Shape, color: Color) -> binder_rt::Result<(Shape, Color)> {
        Ok((shape, color))
    }
    fn payload(&self, payload: Payload) -> binder_rt::Result<Payload> {
        Ok(Payload::from(
            payload.iter().rev().copied().collect::<Vec<u8>>(),
        ))
    }
    fn fixed(&self, values: [i32; 3], _flags: [bool; 2]) -> binder_rt::Result<[i32; 3]> {
        Ok([values[2], values[1], values[0]])
    }
    fn binder(&self, binder: Option<SpIBinder>) -> binder_rt::Result<bool> {
        Ok(binder.is_some_and(|b| b.is_binder_alive()))
    }
    fn register(&self, listener: Strong<dyn IFuzzListener>) -> binder_rt::Result<i32> {
        listener.on_event("registered")?;
        listener.count()
    }
    fn reopen(&self, fd: OwnedFd) -> binder_rt::Result<ParcelFileDescriptor> {
        Ok(ParcelFileDescriptor::new(fd))
    }
    fn fail(&self, code: i32, message: &str) -> binder_rt::Result<()> {
        Err(Status::new_service_specific_error(code, message))
    }
    fn fail_transport(&self, code: i32) -> binder_rt::Result<i32> {
        Err(Status::new_transaction_error(
            StatusCode::from_i32(code),
            "transport",
        ))
    }
    fn fail_exception(&self, code: i32) -> binder_rt::Result<String> {
        // `EX_HAS_REPLY_HEADER` (-128) is no exception but a reply-header marker: a status made
        // of it is written as the marker and the proxy misreads it (libbinder's `Status` allows
        // the same). A service that returns it is wrong, not the stub: leave it out.
        let code = if code == -128 { -1 } else { code };
        Err(Status::new_exception(
            ExceptionCode::from_i32(code),
            "exception",
        ))
    }
    fn nothing(&self) -> binder_rt::Result<()> {
        Ok(())
    }
    fn pinned(&self, a: i64, b: Vec<String>) -> binder_rt::Result<Vec<String>> {
        Ok(b.into_iter()
            .chain(std::iter::once(a.to_string()))
            .collect())
    }
    fn fire(&self, _values: Vec<Option<String>>) -> binder_rt::Result<()> {
        Ok(())
    }
}

/// The transaction codes worth hitting: every method, the neighbours of the range, and the
/// codes every binder answers.
pub fn codes() -> &'static [TransactionCode] {
    static CODES: OnceLock<Vec<TransactionCode>> = OnceLock::new();
    CODES.get_or_init(|| {
        let mut v: Vec<TransactionCode> = (0..=23).collect();
        v.extend([
            99,
            100,
            101,
            102,
            PING_TRANSACTION,
            DUMP_TRANSACTION,
            SHELL_COMMAND_TRANSACTION,
            INTERFACE_TRANSACTION,
            SYSPROPS_TRANSACTION,
            EXTENSION_TRANSACTION,
            DEBUG_PID_TRANSACTION,
            GET_INTERFACE_VERSION_TRANSACTION,
            GET_INTERFACE_HASH_TRANSACTION,
            binder_rt::binder_impl::LAST_CALL_TRANSACTION + 1,
            u32::MAX,
        ]);
        v
    })
}

/// Methods whose successful two-way reply must begin with a readable status: the two-way
/// methods of `IFuzzService` (all but `notify`, code 11, and `fire`, code 101).
fn has_status_reply(code: TransactionCode) -> bool {
    (1..=22).contains(&code) && code != 11 || code == 100
}

struct Fixtures {
    service: SpIBinder,
    listener: SpIBinder,
    devnull: OwnedFd,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| Fixtures {
        service: BnFuzzService::new_binder(Service).as_binder(),
        listener: BnFuzzListener::new_binder(Listener::default()).as_binder(),
        devnull: std::fs::File::open("/dev/null")
            .expect("open /dev/null")
            .into(),
    })
}

/// Builds the transaction an input describes.
pub fn build(data: &[u8]) -> (TransactionCode, u32, Parcel) {
    let f = fixtures();
    let mut input = Input::new(data);
    let sel = input.u8();
    let code = if sel < 0xf0 {
        codes()[sel as usize % codes().len()]
    } else {
        input.u32()
    };
    let flags = u32::from(input.u8());
    let mode = input.u8();
    let mut p = Parcel::new();
    if mode & 1 != 0 {
        p.write_interface_token(BnFuzzService::DESCRIPTOR).unwrap();
    }
    if mode & 2 != 0 {
        p.write_binder(Some(&f.listener)).unwrap();
    }
    if mode & 4 != 0 {
        p.write_fd(f.devnull.as_fd()).unwrap();
    }
    if mode & 8 != 0 {
        p.write_interface_token("com.example.fuzz.IOther").unwrap();
    }
    p.write_padded(input.rest()).unwrap();
    (code, flags, p)
}

pub fn run(data: &[u8]) {
    let (code, flags, parcel) = build(data);
    let result = fixtures().service.submit_transact(code, parcel, flags);
    if let Ok(mut reply) = result
        && flags & FLAG_ONEWAY == 0
        && has_status_reply(code)
    {
        // What the stub wrote must be what the proxy reads.
        if let Err(e) = reply.read_status() {
            panic!("the stub's reply to code {code} has no readable status: {e:?} {reply:?}");
        }
    }
}

// ---- seed encoding --------------------------------------------------------------------------

/// Encodes an input for a known code (an index into [`codes`]).
pub fn encode(code: TransactionCode, flags: u8, mode: u8, args: &Parcel) -> Vec<u8> {
    let mut out = Vec::new();
    match codes().iter().position(|&c| c == code) {
        Some(i) => out.push(i as u8),
        None => {
            out.push(0xf0);
            out.extend_from_slice(&code.to_le_bytes());
        }
    }
    out.push(flags);
    out.push(mode);
    out.extend_from_slice(args.data());
    out
}

/// Transaction codes of the service's methods, for the seed generator.
pub mod code {
    pub use super::BnFuzzService as Bn;
}
