#![no_main]
//! See `binder_fuzz::parcel_read` for the input format and the oracle.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| binder_fuzz::parcel_read::run(data));
