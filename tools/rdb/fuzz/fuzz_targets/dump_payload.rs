//! Decodes arbitrary bytes as a DUMP payload (the checksum is fixed up half the time so
//! the value decoder is reached); whatever decodes must re-encode and decode to the same
//! kind of value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_rdb::{crc64::crc64, dump};

fuzz_target!(|data: &[u8]| {
    let mut p = data.to_vec();
    if p.len() >= 10 && p[0] & 1 == 1 {
        let n = p.len();
        let c = crc64(0, &p[..n - 8]);
        p[n - 8..].copy_from_slice(&c.to_le_bytes());
    }
    if let Ok((_, v)) = dump::decode(&p, 10) {
        if let Ok(again) = dump::encode(&v) {
            let (_, back) = dump::decode(&again, 10).expect("our own payload decodes");
            assert_eq!(back.kind(), v.kind());
        }
    }
});
