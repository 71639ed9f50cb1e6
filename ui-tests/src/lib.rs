//! Compile-time tests of the macros live in tests/.
