//! Example client/server pairs.
