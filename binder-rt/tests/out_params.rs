//! Out-parameters (`#[out]` and `#[inout]` `&mut` arguments, AIDL's `out` and `inout`), end to
//! end in one process: a proxy over a local binder takes the full encode → `on_transact` →
//! decode path, so the request and reply bytes are the wire's. Across processes, on both
//! drivers: `fill` in `conformance_async.rs` (awaited and blocking, to an async service).

use std::sync::{Arc, Mutex};

use binder_rt::binder_impl::{Parcel, Remotable, TransactionCode, TransactionFlags};
use binder_rt::{Parcelable, SpIBinder, StatusCode, binder_interface};

#[derive(Parcelable, Debug, Clone, PartialEq, Default)]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

#[binder_interface(descriptor = "com.example.IOutParams")]
pub trait IOutParams {
    /// Fills `values` (an array of the caller's length) with `i * step`, appends "!" to
    /// `label`, sets `point`; returns how many values it got.
    fn fill(
        &self,
        step: i32,
        #[out] values: &mut Vec<i32>,
        #[inout] label: &mut String,
        #[out] point: &mut Point,
    ) -> binder_rt::Result<i32>;
    /// `values` is `None` at the callee when the caller's is; the callee sets it.
    fn maybe(&self, #[out] values: &mut Option<Vec<i32>>) -> binder_rt::Result<bool>;
}

struct OutParams;

impl IOutParams for OutParams {
    fn fill(
        &self,
        step: i32,
        values: &mut Vec<i32>,
        label: &mut String,
        point: &mut Point,
    ) -> binder_rt::Result<i32> {
        // An `out` array arrives with the caller's length, every element at its default.
        assert!(
            values.iter().all(|v| *v == 0),
            "out values were sent: {values:?}"
        );
        for (i, v) in values.iter_mut().enumerate() {
            *v = i as i32 * step;
        }
        label.push('!');
        *point = Point { x: step, y: -step };
        Ok(values.len() as i32)
    }

    fn maybe(&self, values: &mut Option<Vec<i32>>) -> binder_rt::Result<bool> {
        let was_none = values.is_none();
        *values = Some(vec![was_none as i32]);
        Ok(was_none)
    }
}

/// A blocking proxy and an async one over the local object: every call crosses the wire form.
fn proxies() -> (BpOutParams, BpOutParamsAsync) {
    let binder = BnOutParams::new_binder(OutParams).as_binder();
    (
        BpOutParams::from_binder(binder.clone()),
        BpOutParamsAsync::from_binder(binder),
    )
}

#[test]
fn out_and_inout_values_come_back_in_the_reply() {
    let (blocking, _) = proxies();
    let mut values = vec![7; 4];
    let mut label = String::from("hi");
    let mut point = Point { x: 9, y: 9 };
    let got = blocking
        .fill(3, &mut values, &mut label, &mut point)
        .unwrap();
    assert_eq!(got, 4);
    assert_eq!(values, [0, 3, 6, 9]);
    assert_eq!(label, "hi!");
    assert_eq!(point, Point { x: 3, y: -3 });

    let mut none = None;
    assert!(blocking.maybe(&mut none).unwrap());
    assert_eq!(none, Some(vec![1]));
    let mut some = Some(vec![5, 5]);
    assert!(!blocking.maybe(&mut some).unwrap());
    assert_eq!(some, Some(vec![0]));
}

#[test]
fn the_async_proxy_writes_out_values_when_the_reply_comes() {
    let (_, proxy) = proxies();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut values = vec![1; 2];
    let mut label = String::from("a");
    let mut point = Point::default();
    let got = rt
        .block_on(proxy.fill(5, &mut values, &mut label, &mut point))
        .unwrap();
    assert_eq!(
        (got, values, label, point),
        (2, vec![0, 5], "a!".into(), Point { x: 5, y: -5 })
    );
}

/// Records each request's bytes and answers a fixed reply.
struct Recorder {
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Remotable for Recorder {
    fn descriptor(&self) -> &str {
        BnOutParams::DESCRIPTOR
    }

    fn on_transact(
        &self,
        _code: TransactionCode,
        data: &mut Parcel,
        reply: &mut Parcel,
        _flags: TransactionFlags,
    ) -> Result<(), StatusCode> {
        self.requests.lock().unwrap().push(data.data().to_vec());
        reply.write_i32(0)?; // status OK
        reply.write_i32(2)?; // the return value
        reply.write(&vec![10i32, 20])?; // values
        reply.write(&String::from("z"))?; // label
        reply.write(&Point { x: 1, y: 2 })
    }
}

fn token(descriptor: &str) -> Vec<u8> {
    let mut p = Parcel::new();
    p.write_interface_token(descriptor).unwrap();
    p.data().to_vec()
}

#[test]
fn an_out_array_sends_its_length_and_an_inout_value_itself_as_aidl_does() {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let recorder = SpIBinder::new_local(Recorder {
        requests: requests.clone(),
    });
    let proxy = BpOutParams::from_binder(recorder);
    let mut values = vec![7; 3];
    let mut label = String::from("x");
    let mut point = Point { x: 5, y: 5 };
    assert_eq!(
        proxy.fill(4, &mut values, &mut label, &mut point).unwrap(),
        2
    );
    // The reply's values replaced the caller's, in AIDL's order after the return value.
    assert_eq!(
        (values, label, point),
        (vec![10, 20], "z".into(), Point { x: 1, y: 2 })
    );

    let mut expected = token(BnOutParams::DESCRIPTOR);
    expected.extend_from_slice(&4i32.to_le_bytes()); // step
    expected.extend_from_slice(&3i32.to_le_bytes()); // out values: the length only
    // inout label: String16 "x" (length 1, the unit, a NUL, padding); out point: nothing.
    expected.extend_from_slice(&[1, 0, 0, 0, b'x', 0, 0, 0]);
    assert_eq!(requests.lock().unwrap()[0], expected);
}

#[test]
fn an_out_array_length_beyond_any_reply_is_refused_before_allocating() {
    let binder = BnOutParams::new_binder(OutParams).as_binder();
    for len in [i32::MAX, 1 << 24, -2] {
        let mut data = Parcel::new();
        data.write_interface_token(BnOutParams::DESCRIPTOR).unwrap();
        data.write_i32(1).unwrap();
        data.write_i32(len).unwrap();
        data.write(&String::from("x")).unwrap();
        let err = binder
            .submit_transact(BnOutParams::TRANSACTION_FILL, data, 0)
            .unwrap_err();
        assert_eq!(err, StatusCode::BadValue, "length {len}");
    }
    // -1 is a null array, which a non-nullable `out` array refuses.
    let mut data = Parcel::new();
    data.write_interface_token(BnOutParams::DESCRIPTOR).unwrap();
    data.write_i32(1).unwrap();
    data.write_i32(-1).unwrap();
    data.write(&String::from("x")).unwrap();
    let err = binder
        .submit_transact(BnOutParams::TRANSACTION_FILL, data, 0)
        .unwrap_err();
    assert_eq!(err, StatusCode::UnexpectedNull);
}

struct AsyncOutParams;

impl IOutParamsAsyncServer for AsyncOutParams {
    async fn fill(
        &self,
        step: i32,
        values: &mut Vec<i32>,
        label: &mut String,
        point: &mut Point,
    ) -> binder_rt::Result<i32> {
        tokio::task::yield_now().await;
        OutParams.fill(step, values, label, point)
    }

    async fn maybe(&self, values: &mut Option<Vec<i32>>) -> binder_rt::Result<bool> {
        OutParams.maybe(values)
    }
}

#[test]
fn an_async_implementation_fills_out_parameters_too() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let service = BnOutParams::new_async_binder(
        AsyncOutParams,
        binder_rt::tokio::Tokio::from(rt.handle().clone()),
    );
    let proxy = BpOutParams::from_binder(service.as_binder());
    let mut values = vec![0; 3];
    let mut label = String::new();
    let mut point = Point::default();
    assert_eq!(
        proxy.fill(2, &mut values, &mut label, &mut point).unwrap(),
        3
    );
    assert_eq!(
        (values, label, point),
        (vec![0, 2, 4], "!".into(), Point { x: 2, y: -2 })
    );
}
