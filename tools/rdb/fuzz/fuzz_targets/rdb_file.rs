//! Reads arbitrary bytes as an RDB file (with a valid header prepended half the time):
//! the reader must never panic, never loop, and always end with a record or an error
//! whose offset lies inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_rdb::{Reader, Record};

fuzz_target!(|data: &[u8]| {
    let mut input = Vec::new();
    if data.first().is_some_and(|b| b & 1 == 1) {
        input.extend_from_slice(b"REDIS0010");
        input.extend_from_slice(&data[1..]);
    } else {
        input.extend_from_slice(data);
    }
    let mut r = Reader::new(&input[..]);
    if r.read_header().is_err() {
        return;
    }
    for _ in 0..100_000 {
        match r.next_record() {
            Ok(Record::Eof { .. }) => break,
            Ok(_) => {}
            Err(e) => {
                assert!(e.offset <= input.len() as u64);
                break;
            }
        }
    }
});
