//! The userspace binder driver. See docs/userspace-driver.md.
