//! Scans arbitrary bytes as an AOF command stream: never panics, and the reported
//! `ok_up_to` is within the input and a prefix that scans cleanly to its end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_rdb::aof::{Scanner, Stop};

fuzz_target!(|data: &[u8]| {
    let scan = Scanner::new(data, 0, 1).scan("f", None).expect("in-memory reads");
    assert!(scan.ok_up_to <= data.len() as u64);
    let prefix = &data[..scan.ok_up_to as usize];
    let again = Scanner::new(prefix, 0, 1).scan("f", None).expect("in-memory reads");
    if !matches!(scan.stop, Stop::Timestamp { .. }) {
        assert_eq!(again.ok_up_to, scan.ok_up_to);
    }
});
