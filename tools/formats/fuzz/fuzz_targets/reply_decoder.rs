//! Feeds arbitrary bytes to the reply decoder in two pieces; it must never panic and
//! must decode the same replies whatever the split.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_formats::{ReplyDecoder, RespValue};

fn decode(chunks: &[&[u8]]) -> (Vec<RespValue>, bool) {
    let mut d = ReplyDecoder::new();
    let mut out = Vec::new();
    for c in chunks {
        d.feed(c);
        loop {
            match d.next() {
                Ok(Some(v)) => out.push(v),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}

fuzz_target!(|data: &[u8]| {
    let whole = decode(&[data]);
    let cut = if data.is_empty() { 0 } else { data[0] as usize % (data.len() + 1) };
    let split = decode(&[&data[..cut], &data[cut..]]);
    assert_eq!(whole, split);
    // What decodes re-encodes to bytes that decode to the same values.
    let mut bytes = Vec::new();
    for v in &whole.0 {
        v.encode(&mut bytes);
    }
    let again = decode(&[&bytes]);
    assert_eq!(again.0, whole.0);
});
