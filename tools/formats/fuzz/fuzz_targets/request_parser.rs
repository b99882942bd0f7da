//! Feeds arbitrary bytes to the request parser, split in two reads at a point taken
//! from the input, and checks it never panics and parses the same commands whatever
//! the split, whether commands are taken one at a time or in batches (the server's way).
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use redis_formats::{Batch, ParseLimits, RequestParser};

fn parse(chunks: &[&[u8]], limits: &ParseLimits) -> (Vec<Vec<Vec<u8>>>, bool) {
    let mut p = RequestParser::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for c in chunks {
        buf.extend_from_slice(c);
        loop {
            match p.parse(&mut buf, limits) {
                Ok(Some(r)) => out.push(r.argv.iter().map(|a| a.to_vec()).collect()),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}

/// As the server reads: every complete command of a read into a batch, then consumed.
fn parse_batched(chunks: &[&[u8]], limits: &ParseLimits) -> (Vec<Vec<Vec<u8>>>, bool) {
    let mut p = RequestParser::new();
    let mut buf = BytesMut::new();
    let mut batch = Batch::new();
    let mut out = Vec::new();
    for c in chunks {
        buf.extend_from_slice(c);
        let failed = loop {
            match p.parse_next(&mut buf, limits, &mut batch) {
                Ok(true) => {}
                Ok(false) => break false,
                Err(_) => break true,
            }
        };
        for i in 0..batch.len() {
            out.push(batch.args(&buf, i).map(|a| a.to_vec()).collect());
        }
        if failed {
            return (out, true);
        }
        let n = batch.consumed();
        bytes::Buf::advance(&mut buf, n);
        p.consume(n);
        batch.clear();
    }
    (out, false)
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let limits = ParseLimits {
        max_bulk_len: 1 << 20,
        authenticated: data[0] & 1 == 0,
    };
    let data = &data[1..];
    let whole = parse(&[data], &limits);
    let cut = if data.is_empty() { 0 } else { data[0] as usize % (data.len() + 1) };
    let split = parse(&[&data[..cut], &data[cut..]], &limits);
    assert_eq!(whole, split);
    assert_eq!(whole, parse_batched(&[data], &limits));
    assert_eq!(whole, parse_batched(&[&data[..cut], &data[cut..]], &limits));
});
