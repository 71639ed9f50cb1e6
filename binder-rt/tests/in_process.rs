//! The generated code end to end, in one process and without a driver: a `Strong` from
//! `BnCalculator::new_binder` calls the implementation directly, while a `BpCalculator` over a
//! local binder (or a `Strong` cast from a local binder of another stub type) takes the full
//! encode → `on_transact` → decode path of a remote call.

use std::io::{Read, Seek, Write};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};

use binder_rt::binder_impl::{FLAG_ONEWAY, Parcel, Remotable, TransactionCode, TransactionFlags};
use binder_rt::{
    ExceptionCode, FromIBinder, ParcelFileDescriptor, Parcelable, Payload, SpIBinder, Status,
    StatusCode, Strong, binder_interface, interface_cast,
};

// ---- types --------------------------------------------------------------------------------

#[derive(Parcelable, Debug, Clone, PartialEq, Default)]
pub struct Point {
    pub x: i32,
    pub y: i32,
    pub label: String,
}

/// Fields of a parcelable need a default (for readers of older writers): AIDL enums get one by
/// deriving `Default` with `#[default]`.
#[derive(Parcelable, Debug, Clone, Copy, PartialEq, Default)]
#[repr(i32)]
pub enum Color {
    #[default]
    Red = 1,
    Green,
    Blue = 10,
}

#[derive(Parcelable, Debug, Clone, Copy, PartialEq)]
#[repr(u8)]
pub enum Level {
    Low,
    High = 200,
}

#[derive(Parcelable, Debug, Clone, Copy, PartialEq)]
#[repr(i64)]
pub enum Big {
    Small = -1,
    Huge = 1 << 40,
}

#[derive(Parcelable, Debug, Clone, PartialEq)]
pub enum Shape {
    Circle(i32),
    Named(String),
    At(Point),
    Nothing(Option<SpIBinder>),
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

// ---- interfaces ---------------------------------------------------------------------------

#[binder_interface(descriptor = "com.example.IListener")]
pub trait IListener {
    #[oneway]
    fn on_event(&self, event: &str) -> binder_rt::Result<()>;
    fn events(&self) -> binder_rt::Result<Vec<String>>;
}

#[binder_interface(descriptor = "com.example.ICalculator", version = 3, hash = "abc123")]
pub trait ICalculator {
    fn add(&self, a: i32, b: i32) -> binder_rt::Result<i32>;
    #[oneway]
    fn log(&self, line: &str) -> binder_rt::Result<()>;
    #[code(42)]
    fn pinned(&self) -> binder_rt::Result<Vec<String>>;
    fn last_log(&self) -> binder_rt::Result<String>;
    fn concat(&self, parts: &[String], separator: &str) -> binder_rt::Result<String>;
    fn divmod(&self, a: i64, b: i64) -> binder_rt::Result<(i64, i64)>;
    /// A zero-copy slice followed by another argument.
    fn checksum(&self, bytes: &[u8], seed: u32) -> binder_rt::Result<u32>;
    fn fail_specific(&self, code: i32, message: &str) -> binder_rt::Result<()>;
    fn fail_transport(&self) -> binder_rt::Result<i32>;
    fn fail_exception(&self) -> binder_rt::Result<String>;
    fn register(&self, listener: Strong<dyn IListener>) -> binder_rt::Result<()>;
    fn notify(&self, event: &str) -> binder_rt::Result<()>;
    fn echo_point(&self, point: &Point) -> binder_rt::Result<Point>;
    fn echo_colors(
        &self,
        color: Color,
        colors: Vec<Color>,
    ) -> binder_rt::Result<(Color, Vec<Color>)>;
    fn echo_levels(&self, levels: &[Level], big: Big) -> binder_rt::Result<(Vec<Level>, Big)>;
    fn echo_shape(&self, shape: Shape) -> binder_rt::Result<Shape>;
    fn echo_pair(
        &self,
        pair: Pair<i32>,
        wrapper: Wrapper,
        empty: Empty,
    ) -> binder_rt::Result<(Pair<i32>, Wrapper)>;
    fn maybe(
        &self,
        text: Option<String>,
        numbers: Option<Vec<i32>>,
    ) -> binder_rt::Result<Option<String>>;
    fn fixed(&self, values: [i32; 3]) -> binder_rt::Result<[i32; 3]>;
    fn reopen(&self, fd: OwnedFd) -> binder_rt::Result<ParcelFileDescriptor>;
    fn reverse(&self, payload: Payload) -> binder_rt::Result<Payload>;
}

// ---- implementations ----------------------------------------------------------------------

#[derive(Default)]
struct Listener {
    events: Mutex<Vec<String>>,
}

impl IListener for Listener {
    fn on_event(&self, event: &str) -> binder_rt::Result<()> {
        self.events.lock().unwrap().push(event.to_owned());
        Ok(())
    }
    fn events(&self) -> binder_rt::Result<Vec<String>> {
        Ok(self.events.lock().unwrap().clone())
    }
}

#[derive(Default)]
struct Calculator {
    log: Mutex<Vec<String>>,
    listeners: Mutex<Vec<Strong<dyn IListener>>>,
}

impl ICalculator for Calculator {
    fn add(&self, a: i32, b: i32) -> binder_rt::Result<i32> {
        Ok(a + b)
    }
    fn log(&self, line: &str) -> binder_rt::Result<()> {
        self.log.lock().unwrap().push(line.to_owned());
        Ok(())
    }
    fn pinned(&self) -> binder_rt::Result<Vec<String>> {
        Ok(vec!["forty".into(), "two".into()])
    }
    fn last_log(&self) -> binder_rt::Result<String> {
        Ok(self.log.lock().unwrap().last().cloned().unwrap_or_default())
    }
    fn concat(&self, parts: &[String], separator: &str) -> binder_rt::Result<String> {
        Ok(parts.join(separator))
    }
    fn divmod(&self, a: i64, b: i64) -> binder_rt::Result<(i64, i64)> {
        if b == 0 {
            return Err(Status::new_exception(
                ExceptionCode::IllegalArgument,
                "division by zero",
            ));
        }
        Ok((a / b, a % b))
    }
    fn checksum(&self, bytes: &[u8], seed: u32) -> binder_rt::Result<u32> {
        Ok(bytes.iter().fold(seed, |acc, &b| {
            acc.wrapping_mul(31).wrapping_add(u32::from(b))
        }))
    }
    fn fail_specific(&self, code: i32, message: &str) -> binder_rt::Result<()> {
        Err(Status::new_service_specific_error(code, message))
    }
    fn fail_transport(&self) -> binder_rt::Result<i32> {
        Err(Status::new_transaction_error(
            StatusCode::PermissionDenied,
            "not for you",
        ))
    }
    fn fail_exception(&self) -> binder_rt::Result<String> {
        Err(Status::new_exception(
            ExceptionCode::UnsupportedOperation,
            "not today",
        ))
    }
    fn register(&self, listener: Strong<dyn IListener>) -> binder_rt::Result<()> {
        self.listeners.lock().unwrap().push(listener);
        Ok(())
    }
    fn notify(&self, event: &str) -> binder_rt::Result<()> {
        for listener in self.listeners.lock().unwrap().iter() {
            listener.on_event(event)?;
        }
        Ok(())
    }
    fn echo_point(&self, point: &Point) -> binder_rt::Result<Point> {
        Ok(Point {
            x: point.x * 10,
            ..point.clone()
        })
    }
    fn echo_colors(
        &self,
        color: Color,
        colors: Vec<Color>,
    ) -> binder_rt::Result<(Color, Vec<Color>)> {
        Ok((color, colors))
    }
    fn echo_levels(&self, levels: &[Level], big: Big) -> binder_rt::Result<(Vec<Level>, Big)> {
        Ok((levels.to_vec(), big))
    }
    fn echo_shape(&self, shape: Shape) -> binder_rt::Result<Shape> {
        Ok(shape)
    }
    fn echo_pair(
        &self,
        pair: Pair<i32>,
        wrapper: Wrapper,
        _empty: Empty,
    ) -> binder_rt::Result<(Pair<i32>, Wrapper)> {
        Ok((pair, wrapper))
    }
    fn maybe(
        &self,
        text: Option<String>,
        numbers: Option<Vec<i32>>,
    ) -> binder_rt::Result<Option<String>> {
        Ok(text.map(|t| format!("{t}:{}", numbers.map_or(-1, |n| n.iter().sum::<i32>()))))
    }
    fn fixed(&self, values: [i32; 3]) -> binder_rt::Result<[i32; 3]> {
        Ok([values[2], values[1], values[0]])
    }
    fn reopen(&self, fd: OwnedFd) -> binder_rt::Result<ParcelFileDescriptor> {
        Ok(ParcelFileDescriptor::new(fd))
    }
    fn reverse(&self, payload: Payload) -> binder_rt::Result<Payload> {
        Ok(Payload::from(
            payload.iter().rev().copied().collect::<Vec<u8>>(),
        ))
    }
}

/// What a recorder saw: each transaction's code and data.
type Seen = Arc<Mutex<Vec<(TransactionCode, Vec<u8>)>>>;

/// A local object of another stub type: serves the calculator's descriptor by forwarding each
/// transaction to a real `BnCalculator`, recording what it received.
struct Recorder {
    descriptor: &'static str,
    target: SpIBinder,
    seen: Seen,
}

impl Remotable for Recorder {
    fn descriptor(&self) -> &str {
        self.descriptor
    }
    fn on_transact(
        &self,
        code: TransactionCode,
        data: &mut Parcel,
        reply: &mut Parcel,
        flags: TransactionFlags,
    ) -> Result<(), StatusCode> {
        self.seen.lock().unwrap().push((code, data.data().to_vec()));
        self.target
            .as_remotable()
            .expect("the target is local")
            .on_transact(code, data, reply, flags)
    }
}

fn service() -> Strong<dyn ICalculator> {
    BnCalculator::new_binder(Calculator::default())
}

/// A `Strong` whose calls go through the recorder: encode, on_transact, decode.
fn through_the_wire() -> (Strong<dyn ICalculator>, Seen) {
    let seen = Seen::default();
    let recorder = SpIBinder::new_local(Recorder {
        descriptor: BnCalculator::DESCRIPTOR,
        target: service().as_binder(),
        seen: seen.clone(),
    });
    let proxy = interface_cast::<dyn ICalculator>(recorder).expect("same descriptor");
    (proxy, seen)
}

/// Every way to reach the service: directly, through `BpCalculator` over the stub's own
/// binder, and through a proxy cast from a local binder of another stub type.
fn all_paths() -> Vec<(&'static str, Arc<dyn ICalculator>)> {
    let direct = service();
    let bp = BpCalculator::from_binder(service().as_binder());
    let (cast, _) = through_the_wire();
    vec![
        ("direct", Arc::new(direct)),
        ("bp over the stub", Arc::new(bp)),
        ("cast from another stub", Arc::new(cast)),
    ]
}

// Lets a Strong stand where an Arc<dyn ICalculator> is expected in `all_paths`.
impl ICalculator for Strong<dyn ICalculator> {
    fn add(&self, a: i32, b: i32) -> binder_rt::Result<i32> {
        (**self).add(a, b)
    }
    fn log(&self, line: &str) -> binder_rt::Result<()> {
        (**self).log(line)
    }
    fn pinned(&self) -> binder_rt::Result<Vec<String>> {
        (**self).pinned()
    }
    fn last_log(&self) -> binder_rt::Result<String> {
        (**self).last_log()
    }
    fn concat(&self, parts: &[String], separator: &str) -> binder_rt::Result<String> {
        (**self).concat(parts, separator)
    }
    fn divmod(&self, a: i64, b: i64) -> binder_rt::Result<(i64, i64)> {
        (**self).divmod(a, b)
    }
    fn checksum(&self, bytes: &[u8], seed: u32) -> binder_rt::Result<u32> {
        (**self).checksum(bytes, seed)
    }
    fn fail_specific(&self, code: i32, message: &str) -> binder_rt::Result<()> {
        (**self).fail_specific(code, message)
    }
    fn fail_transport(&self) -> binder_rt::Result<i32> {
        (**self).fail_transport()
    }
    fn fail_exception(&self) -> binder_rt::Result<String> {
        (**self).fail_exception()
    }
    fn register(&self, listener: Strong<dyn IListener>) -> binder_rt::Result<()> {
        (**self).register(listener)
    }
    fn notify(&self, event: &str) -> binder_rt::Result<()> {
        (**self).notify(event)
    }
    fn echo_point(&self, point: &Point) -> binder_rt::Result<Point> {
        (**self).echo_point(point)
    }
    fn echo_colors(
        &self,
        color: Color,
        colors: Vec<Color>,
    ) -> binder_rt::Result<(Color, Vec<Color>)> {
        (**self).echo_colors(color, colors)
    }
    fn echo_levels(&self, levels: &[Level], big: Big) -> binder_rt::Result<(Vec<Level>, Big)> {
        (**self).echo_levels(levels, big)
    }
    fn echo_shape(&self, shape: Shape) -> binder_rt::Result<Shape> {
        (**self).echo_shape(shape)
    }
    fn echo_pair(
        &self,
        pair: Pair<i32>,
        wrapper: Wrapper,
        empty: Empty,
    ) -> binder_rt::Result<(Pair<i32>, Wrapper)> {
        (**self).echo_pair(pair, wrapper, empty)
    }
    fn maybe(
        &self,
        text: Option<String>,
        numbers: Option<Vec<i32>>,
    ) -> binder_rt::Result<Option<String>> {
        (**self).maybe(text, numbers)
    }
    fn fixed(&self, values: [i32; 3]) -> binder_rt::Result<[i32; 3]> {
        (**self).fixed(values)
    }
    fn reopen(&self, fd: OwnedFd) -> binder_rt::Result<ParcelFileDescriptor> {
        (**self).reopen(fd)
    }
    fn reverse(&self, payload: Payload) -> binder_rt::Result<Payload> {
        (**self).reverse(payload)
    }
    fn interface_version(&self) -> binder_rt::Result<i32> {
        (**self).interface_version()
    }
    fn interface_hash(&self) -> binder_rt::Result<String> {
        (**self).interface_hash()
    }
}

// ---- tests --------------------------------------------------------------------------------

#[test]
fn codes_and_descriptor_are_as_declared() {
    assert_eq!(BnCalculator::DESCRIPTOR, "com.example.ICalculator");
    assert_eq!(
        <dyn ICalculator as FromIBinder>::DESCRIPTOR,
        "com.example.ICalculator"
    );
    assert_eq!(BnCalculator::TRANSACTION_ADD, 1);
    assert_eq!(BnCalculator::TRANSACTION_LOG, 2);
    assert_eq!(BnCalculator::TRANSACTION_PINNED, 42);
    // Every method takes an index, pinned or not.
    assert_eq!(BnCalculator::TRANSACTION_LAST_LOG, 4);
    assert_eq!(BnCalculator::TRANSACTION_REVERSE, 21);
    assert_eq!(BnCalculator::VERSION, 3);
    assert_eq!(BnCalculator::HASH, "abc123");
    assert_eq!(BnListener::TRANSACTION_ON_EVENT, 1);
}

#[test]
fn values_strings_vectors_and_tuples_round_trip_on_every_path() {
    for (path, calc) in all_paths() {
        assert_eq!(calc.add(1, 2).unwrap(), 3, "{path}");
        assert_eq!(calc.add(i32::MAX, 0).unwrap(), i32::MAX, "{path}");
        assert_eq!(calc.pinned().unwrap(), ["forty", "two"], "{path}");
        let parts = ["a".to_owned(), "ü".to_owned(), "😀".to_owned()];
        assert_eq!(calc.concat(&parts, "-").unwrap(), "a-ü-😀", "{path}");
        assert_eq!(calc.concat(&[], "-").unwrap(), "", "{path}");
        assert_eq!(calc.divmod(17, 5).unwrap(), (3, 2), "{path}");
        assert_eq!(
            calc.checksum(&[1, 2, 3, 4, 5], 7).unwrap(),
            Calculator::default().checksum(&[1, 2, 3, 4, 5], 7).unwrap(),
            "{path}"
        );
        assert_eq!(calc.checksum(&[], 9).unwrap(), 9, "{path}");
        assert_eq!(calc.maybe(None, None).unwrap(), None, "{path}");
        assert_eq!(
            calc.maybe(Some("n".into()), Some(vec![1, 2]))
                .unwrap()
                .as_deref(),
            Some("n:3"),
            "{path}"
        );
        assert_eq!(
            calc.maybe(Some("n".into()), None).unwrap().as_deref(),
            Some("n:-1"),
            "{path}"
        );
        assert_eq!(calc.fixed([1, 2, 3]).unwrap(), [3, 2, 1], "{path}");
        let payload = calc.reverse(Payload::from(vec![1, 2, 3])).unwrap();
        assert_eq!(&*payload, &[3, 2, 1], "{path}");
    }
}

#[test]
fn oneway_calls_reach_the_implementation() {
    for (path, calc) in all_paths() {
        calc.log("first").unwrap();
        calc.log("second").unwrap();
        assert_eq!(calc.last_log().unwrap(), "second", "{path}");
    }
}

#[test]
fn a_oneway_call_is_one_transaction_and_the_stub_writes_no_reply() {
    let (calc, seen) = through_the_wire();
    calc.log("hello").unwrap();
    let codes: Vec<u32> = seen.lock().unwrap().iter().map(|(code, _)| *code).collect();
    assert_eq!(codes, [BnCalculator::TRANSACTION_LOG]);
}

#[test]
fn a_call_sent_the_other_way_than_its_method_is_declared_is_refused() {
    let calc = service();
    let binder = calc.as_binder();
    // A oneway method called two-way: refused, and the implementation does not run.
    let mut data = Parcel::new();
    data.write_interface_token(BnCalculator::DESCRIPTOR)
        .unwrap();
    data.write_string16("two-way").unwrap();
    let result = binder.submit_transact(BnCalculator::TRANSACTION_LOG, data, 0);
    assert_eq!(result.unwrap_err(), StatusCode::UnknownTransaction);
    assert_eq!(calc.last_log().unwrap(), "");
    // A two-way method called oneway: refused too.
    let mut data = Parcel::new();
    data.write_interface_token(BnCalculator::DESCRIPTOR)
        .unwrap();
    data.write_i32(40).unwrap();
    data.write_i32(2).unwrap();
    let result = binder.submit_transact(BnCalculator::TRANSACTION_ADD, data, FLAG_ONEWAY);
    assert_eq!(result.unwrap_err(), StatusCode::UnknownTransaction);
    // Sent the declared way, both run.
    calc.log("oneway").unwrap();
    assert_eq!(calc.last_log().unwrap(), "oneway");
    assert_eq!(calc.add(40, 2).unwrap(), 42);
}

#[test]
fn the_proxy_writes_aidl_bytes_for_add() {
    let (calc, seen) = through_the_wire();
    assert_eq!(calc.add(1, 2).unwrap(), 3);
    let mut expected = vec![
        0x00, 0x00, 0x00, 0x80, // strict mode policy | STRICT_MODE_PENALTY_GATHER
        0xff, 0xff, 0xff, 0xff, // work source: unset
        0x54, 0x53, 0x59, 0x53, // 'SYST'
        23, 0, 0, 0, // descriptor length in UTF-16 units
    ];
    for unit in "com.example.ICalculator".encode_utf16().chain([0]) {
        expected.extend_from_slice(&unit.to_le_bytes());
    }
    // 24 units = 48 bytes: already aligned, no padding.
    expected.extend_from_slice(&[1, 0, 0, 0, 2, 0, 0, 0]);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, 1);
    assert_eq!(seen[0].1, expected);
}

#[test]
fn the_stub_writes_the_status_then_the_value() {
    let binder = service().as_binder();
    let mut data = Parcel::new();
    data.write_interface_token(BnCalculator::DESCRIPTOR)
        .unwrap();
    data.write_i32(40).unwrap();
    data.write_i32(2).unwrap();
    let reply = binder
        .submit_transact(BnCalculator::TRANSACTION_ADD, data, 0)
        .unwrap();
    assert_eq!(reply.data(), [0, 0, 0, 0, 42, 0, 0, 0]);
}

#[test]
fn a_service_specific_error_reaches_the_caller_as_such() {
    for (path, calc) in all_paths() {
        let status = calc.fail_specific(7, "disk full").unwrap_err();
        assert_eq!(
            status.exception_code(),
            ExceptionCode::ServiceSpecific,
            "{path}"
        );
        assert_eq!(status.service_specific_error(), 7, "{path}");
        assert_eq!(status.message(), "disk full", "{path}");
    }
}

#[test]
fn an_exception_reaches_the_caller_with_its_message() {
    for (path, calc) in all_paths() {
        let status = calc.fail_exception().unwrap_err();
        assert_eq!(
            status.exception_code(),
            ExceptionCode::UnsupportedOperation,
            "{path}"
        );
        assert_eq!(status.message(), "not today", "{path}");
        let status = calc.divmod(1, 0).unwrap_err();
        assert_eq!(
            status.exception_code(),
            ExceptionCode::IllegalArgument,
            "{path}"
        );
    }
}

#[test]
fn a_transport_error_travels_as_a_status_code() {
    for (path, calc) in all_paths() {
        let status = calc.fail_transport().unwrap_err();
        assert_eq!(
            status.exception_code(),
            ExceptionCode::TransactionFailed,
            "{path}"
        );
        assert_eq!(
            status.transaction_error(),
            StatusCode::PermissionDenied,
            "{path}"
        );
        // The message stays in the process: only a direct call keeps it.
        let kept = status.message() == "not for you";
        assert_eq!(kept, path == "direct", "{path}");
    }
    // And on the wire it is the transaction's result, not a reply.
    let binder = service().as_binder();
    let mut data = Parcel::new();
    data.write_interface_token(BnCalculator::DESCRIPTOR)
        .unwrap();
    let result = binder.submit_transact(BnCalculator::TRANSACTION_FAIL_TRANSPORT, data, 0);
    assert_eq!(result.unwrap_err(), StatusCode::PermissionDenied);
}

#[test]
fn an_unknown_code_is_unknown_transaction() {
    let binder = service().as_binder();
    let mut data = Parcel::new();
    data.write_interface_token(BnCalculator::DESCRIPTOR)
        .unwrap();
    let result = binder.submit_transact(1000, data, 0);
    assert_eq!(result.unwrap_err(), StatusCode::UnknownTransaction);
}

#[test]
fn a_wrong_interface_token_is_bad_type() {
    let binder = service().as_binder();
    let mut data = Parcel::new();
    data.write_interface_token("com.example.IOther").unwrap();
    data.write_i32(1).unwrap();
    data.write_i32(2).unwrap();
    let result = binder.submit_transact(BnCalculator::TRANSACTION_ADD, data, 0);
    assert_eq!(result.unwrap_err(), StatusCode::BadType);
    // A listener's proxy over the calculator sends the listener's token.
    let wrong = BpListener::from_binder(binder);
    let status = wrong.events().unwrap_err();
    assert_eq!(status.transaction_error(), StatusCode::BadType);
}

#[test]
fn casting_checks_the_descriptor() {
    let calculator = service().as_binder();
    assert_eq!(
        interface_cast::<dyn IListener>(calculator.clone()).unwrap_err(),
        StatusCode::BadType
    );
    let impostor = SpIBinder::new_local(Recorder {
        descriptor: "com.example.ISomethingElse",
        target: calculator,
        seen: Seen::default(),
    });
    assert_eq!(
        interface_cast::<dyn ICalculator>(impostor).unwrap_err(),
        StatusCode::BadType
    );
}

#[test]
fn casting_our_own_stub_gives_the_implementation_back() {
    let direct = service();
    let again = interface_cast::<dyn ICalculator>(direct.as_binder()).unwrap();
    assert_eq!(again, direct);
    // Direct: a transport error's message is not lost on a wire.
    assert_eq!(again.fail_transport().unwrap_err().message(), "not for you");
}

#[test]
fn callbacks_are_passed_and_called() {
    for (path, calc) in all_paths() {
        let listener = BnListener::new_binder(Listener::default());
        calc.register(listener.clone()).unwrap();
        calc.notify("ping").unwrap();
        calc.notify("pong").unwrap();
        assert_eq!(listener.events().unwrap(), ["ping", "pong"], "{path}");
        // The listener can also be called through its own proxy.
        let proxy = BpListener::from_binder(listener.as_binder());
        proxy.on_event("direct").unwrap();
        assert_eq!(
            proxy.events().unwrap(),
            ["ping", "pong", "direct"],
            "{path}"
        );
    }
}

#[test]
fn versioned_interfaces_answer_version_and_hash() {
    for (path, calc) in all_paths() {
        assert_eq!(calc.interface_version().unwrap(), 3, "{path}");
        assert_eq!(calc.interface_hash().unwrap(), "abc123", "{path}");
    }
    // A proxy asks once and then answers from its cache.
    let (calc, seen) = through_the_wire();
    for _ in 0..3 {
        assert_eq!(calc.interface_version().unwrap(), 3);
        assert_eq!(calc.interface_hash().unwrap(), "abc123");
    }
    let codes: Vec<u32> = seen.lock().unwrap().iter().map(|(code, _)| *code).collect();
    assert_eq!(
        codes,
        [
            binder_rt::binder_impl::GET_INTERFACE_VERSION_TRANSACTION,
            binder_rt::binder_impl::GET_INTERFACE_HASH_TRANSACTION
        ]
    );
    // On the wire: status OK, then the int32 version.
    let mut data = Parcel::new();
    data.write_interface_token(BnCalculator::DESCRIPTOR)
        .unwrap();
    let reply = service()
        .as_binder()
        .submit_transact(
            binder_rt::binder_impl::GET_INTERFACE_VERSION_TRANSACTION,
            data,
            0,
        )
        .unwrap();
    assert_eq!(reply.data(), [0, 0, 0, 0, 3, 0, 0, 0]);
}

#[test]
fn unversioned_interfaces_do_not_answer_version() {
    let listener = BnListener::new_binder(Listener::default()).as_binder();
    let mut data = Parcel::new();
    data.write_interface_token(BnListener::DESCRIPTOR).unwrap();
    let result = listener.submit_transact(
        binder_rt::binder_impl::GET_INTERFACE_VERSION_TRANSACTION,
        data,
        0,
    );
    assert_eq!(result.unwrap_err(), StatusCode::UnknownTransaction);
}

#[test]
fn derived_parcelables_enums_and_unions_round_trip_through_calls() {
    for (path, calc) in all_paths() {
        let point = Point {
            x: 4,
            y: -5,
            label: "here".into(),
        };
        assert_eq!(
            calc.echo_point(&point).unwrap(),
            Point {
                x: 40,
                ..point.clone()
            },
            "{path}"
        );
        let colors = vec![Color::Blue, Color::Red, Color::Green];
        assert_eq!(
            calc.echo_colors(Color::Green, colors.clone()).unwrap(),
            (Color::Green, colors),
            "{path}"
        );
        let levels = [Level::High, Level::Low, Level::High];
        assert_eq!(
            calc.echo_levels(&levels, Big::Huge).unwrap(),
            (levels.to_vec(), Big::Huge),
            "{path}"
        );
        assert_eq!(
            calc.echo_levels(&[], Big::Small).unwrap(),
            (vec![], Big::Small),
            "{path}"
        );
        for shape in [
            Shape::Circle(3),
            Shape::Named("n".into()),
            Shape::At(point.clone()),
            Shape::Nothing(None),
        ] {
            assert_eq!(calc.echo_shape(shape.clone()).unwrap(), shape, "{path}");
        }
        let binder = service().as_binder();
        assert_eq!(
            calc.echo_shape(Shape::Nothing(Some(binder.clone())))
                .unwrap(),
            Shape::Nothing(Some(binder)),
            "{path}"
        );
        let pair = Pair {
            first: 1,
            second: vec![2, 3],
        };
        let wrapper = Wrapper(-9, "w".into());
        assert_eq!(
            calc.echo_pair(pair.clone(), wrapper.clone(), Empty)
                .unwrap(),
            (pair, wrapper),
            "{path}"
        );
    }
}

#[test]
fn file_descriptors_travel() {
    let path =
        std::env::temp_dir().join(format!("binder-macros-in-process-{}", std::process::id()));
    let mut file = std::fs::File::options()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    file.write_all(b"hello fd").unwrap();
    for (name, calc) in all_paths() {
        let fd = OwnedFd::from(file.try_clone().unwrap());
        let back = calc.reopen(fd).unwrap();
        let mut back = std::fs::File::from(back.into_inner());
        back.rewind().unwrap();
        let mut text = String::new();
        back.read_to_string(&mut text).unwrap();
        assert_eq!(text, "hello fd", "{name}");
    }
}

// ---- wire form of derived types ------------------------------------------------------------

fn written<T: binder_rt::binder_impl::Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut parcel = Parcel::new();
    parcel.write(value).unwrap();
    parcel.data().to_vec()
}

fn read_back<T: binder_rt::binder_impl::Deserialize>(bytes: &[u8]) -> Result<T, StatusCode> {
    let mut parcel = Parcel::from_bytes(bytes);
    parcel.read()
}

fn words(values: &[i32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn a_struct_is_a_presence_flag_a_self_counting_size_and_its_fields() {
    let point = Point {
        x: 1,
        y: 2,
        label: String::new(),
    };
    // 1, size 4+4+4+8 = 20 (the size counts itself), x, y, "" (length 0 + NUL + padding).
    assert_eq!(written(&point), words(&[1, 20, 1, 2, 0, 0]));
    assert_eq!(read_back::<Point>(&written(&point)).unwrap(), point);
    assert_eq!(written(&Empty), words(&[1, 4]));
    assert_eq!(read_back::<Empty>(&words(&[1, 4])).unwrap(), Empty);
    assert_eq!(
        written(&Wrapper(5, "a".into())),
        [words(&[1, 20, 5, 0, 1]), vec![b'a', 0, 0, 0]].concat()
    );
    assert_eq!(read_back::<Option<Point>>(&words(&[0])).unwrap(), None);
    assert_eq!(
        read_back::<Point>(&words(&[0])).unwrap_err(),
        StatusCode::UnexpectedNull
    );
}

#[test]
fn struct_fields_are_skipped_or_defaulted_across_versions() {
    // A newer writer added a field: skipped.
    let newer = words(&[1, 24, 7, 8, 0, 0, 99]);
    assert_eq!(
        read_back::<Point>(&newer).unwrap(),
        Point {
            x: 7,
            y: 8,
            label: String::new()
        }
    );
    // An older writer knew only `x`: the rest is default.
    let older = words(&[1, 8, 7]);
    assert_eq!(
        read_back::<Point>(&older).unwrap(),
        Point {
            x: 7,
            ..Point::default()
        }
    );
    // A size that runs past the data is an error.
    assert!(read_back::<Point>(&words(&[1, 400, 7])).is_err());
}

#[test]
fn generic_parcelables_are_parcelable_when_their_fields_are() {
    let pair = Pair {
        first: "a".to_owned(),
        second: vec!["b".to_owned()],
    };
    assert_eq!(read_back::<Pair<String>>(&written(&pair)).unwrap(), pair);
    let nested = Pair {
        first: Color::Red,
        second: vec![Color::Blue],
    };
    assert_eq!(read_back::<Pair<Color>>(&written(&nested)).unwrap(), nested);
}

#[test]
fn an_enum_is_its_backing_integer() {
    assert_eq!(written(&Color::Red), words(&[1]));
    assert_eq!(written(&Color::Green), words(&[2]));
    assert_eq!(written(&Color::Blue), words(&[10]));
    assert_eq!(read_back::<Color>(&words(&[10])).unwrap(), Color::Blue);
    assert_eq!(
        read_back::<Color>(&words(&[3])).unwrap_err(),
        StatusCode::BadValue
    );
    // A byte-backed scalar is widened to int32 ...
    assert_eq!(written(&Level::High), words(&[200]));
    assert_eq!(read_back::<Level>(&words(&[200])).unwrap(), Level::High);
    assert_eq!(
        read_back::<Level>(&words(&[1])).unwrap_err(),
        StatusCode::BadValue
    );
    // ... but its arrays are packed bytes.
    assert_eq!(
        written(&[Level::Low, Level::High, Level::High][..]),
        [3, 0, 0, 0, 0, 200, 200, 0]
    );
    assert_eq!(
        read_back::<Vec<Level>>(&[2, 0, 0, 0, 200, 0, 0, 0]).unwrap(),
        [Level::High, Level::Low]
    );
    assert_eq!(
        read_back::<Vec<Level>>(&[1, 0, 0, 0, 7, 0, 0, 0]).unwrap_err(),
        StatusCode::BadValue
    );
    // int32 arrays element by element, int64 as 8 bytes each.
    assert_eq!(
        written(&vec![Color::Green, Color::Blue]),
        words(&[2, 2, 10])
    );
    assert_eq!(written(&Big::Huge), (1i64 << 40).to_le_bytes());
    assert_eq!(
        written(&vec![Big::Small]),
        [words(&[1]), (-1i64).to_le_bytes().to_vec()].concat()
    );
    assert_eq!(
        read_back::<Vec<Big>>(&written(&vec![Big::Huge, Big::Small])).unwrap(),
        [Big::Huge, Big::Small]
    );
}

#[test]
fn a_union_is_a_tag_then_the_value() {
    assert_eq!(written(&Shape::Circle(5)), words(&[1, 0, 5]));
    assert_eq!(
        written(&Shape::Named("x".into())),
        [words(&[1, 1, 1]), vec![b'x', 0, 0, 0]].concat()
    );
    // A parcelable member keeps its own presence flag and size.
    let at = Shape::At(Point {
        x: 1,
        y: 2,
        label: String::new(),
    });
    assert_eq!(written(&at), words(&[1, 2, 1, 20, 1, 2, 0, 0]));
    assert_eq!(read_back::<Shape>(&written(&at)).unwrap(), at);
    assert_eq!(
        read_back::<Shape>(&words(&[1, 4, 0])).unwrap_err(),
        StatusCode::BadValue
    );
    assert_eq!(
        read_back::<Shape>(&words(&[1, -1, 0])).unwrap_err(),
        StatusCode::BadValue
    );
}

#[test]
fn an_async_client_asks_a_versioned_interface_for_its_version_and_hash() {
    let proxy = BpCalculatorAsync::from_binder(service().as_binder());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(proxy.interface_version()).unwrap(), 3);
    assert_eq!(rt.block_on(proxy.interface_hash()).unwrap(), "abc123");
}
