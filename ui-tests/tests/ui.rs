//! Compile-time behaviour of `#[binder_interface]` and `#[derive(Parcelable)]`: what must
//! compile (`ui/pass`), and what must not, with the exact messages (`ui/fail/<topic>`, each
//! with its reviewed `.stderr` snapshot). Regenerate snapshots with `TRYBUILD=overwrite` and
//! review the diff: the message and the tokens it points at are the point of these tests.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/**/*.rs");
}
