#![no_main]
//! See `binder_fuzz::driver` for the input format and the oracles. The driver instance and
//! its server and probe processes live for the whole fuzzing process; each input gets a fresh
//! client process.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| binder_fuzz::driver::run(data));
