//! The suite's binaries live in src/bin; this library is empty on purpose.
