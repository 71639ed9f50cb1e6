//! Procedural macros for binder-rt.
