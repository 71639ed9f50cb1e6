//! The hot paths inside one process, with criterion: a 10-argument call encoded into a Parcel
//! and decoded from it, a call through a generated proxy to a local stub, and `Strong`
//! clone/drop.
//!
//! `cargo bench -p binder-benches --bench hot_paths`

use binder_rt::binder_impl::Parcel;
use binder_rt::{Strong, binder_interface};
use criterion::{Criterion, criterion_group, criterion_main};

#[binder_interface(descriptor = "bench.IHot")]
pub trait IHot {
    #[allow(clippy::too_many_arguments)]
    fn ten(
        &self,
        a: i32,
        b: i64,
        c: bool,
        d: f64,
        e: &str,
        f: &[u8],
        g: &[i32],
        h: Option<String>,
        i: u16,
        j: f32,
    ) -> binder_rt::Result<i32>;
    fn add(&self, a: i32, b: i32) -> binder_rt::Result<i32>;
}

struct Hot;

impl IHot for Hot {
    fn ten(
        &self,
        a: i32,
        _: i64,
        _: bool,
        _: f64,
        e: &str,
        f: &[u8],
        g: &[i32],
        _: Option<String>,
        _: u16,
        _: f32,
    ) -> binder_rt::Result<i32> {
        Ok(a + e.len() as i32 + f.len() as i32 + g.len() as i32)
    }

    fn add(&self, a: i32, b: i32) -> binder_rt::Result<i32> {
        Ok(a + b)
    }
}

fn parcel(c: &mut Criterion) {
    let bytes = [7u8; 64];
    let ints = [1i32, 2, 3, 4, 5, 6, 7, 8];
    c.bench_function("parcel: encode + decode a 10-argument call", |b| {
        b.iter(|| {
            let mut p = Parcel::new();
            p.write(&42i32).unwrap();
            p.write(&-7i64).unwrap();
            p.write(&true).unwrap();
            p.write(&1.5f64).unwrap();
            p.write("a string argument").unwrap();
            p.write(&bytes[..]).unwrap();
            p.write(&ints[..]).unwrap();
            p.write(&Some(String::from("nullable"))).unwrap();
            p.write(&9u16).unwrap();
            p.write(&2.5f32).unwrap();
            p.set_data_position(0).unwrap();
            let a: i32 = p.read().unwrap();
            let b: i64 = p.read().unwrap();
            let c: bool = p.read().unwrap();
            let d: f64 = p.read().unwrap();
            let e: String = p.read().unwrap();
            let f: Vec<u8> = p.read().unwrap();
            let g: Vec<i32> = p.read().unwrap();
            let h: Option<String> = p.read().unwrap();
            let i: u16 = p.read().unwrap();
            let j: f32 = p.read().unwrap();
            std::hint::black_box((a, b, c, d, e, f, g, h, i, j))
        })
    });
}

fn local_call(c: &mut Criterion) {
    let service: Strong<dyn IHot> = BnHot::new_binder(Hot);
    c.bench_function("local call through Bn/Bp: add(i32, i32)", |b| {
        b.iter(|| service.add(std::hint::black_box(1), 2).unwrap())
    });
}

fn strong(c: &mut Criterion) {
    let service: Strong<dyn IHot> = BnHot::new_binder(Hot);
    c.bench_function("Strong clone + drop", |b| {
        b.iter(|| drop(std::hint::black_box(service.clone())))
    });
}

criterion_group!(benches, parcel, local_call, strong);
criterion_main!(benches);
