//! What the fuzz targets check, run briefly on every `cargo test`: damaged RDB files and
//! DUMP payloads never panic the reader, and errors point inside the input.

use redis_rdb::value::{HashField, Value};
use redis_rdb::writer::{Options, Writer};
use redis_rdb::{dump, Reader, Record};

fn sample() -> Vec<u8> {
    let mut w = Writer::new(Vec::new(), Options::default()).unwrap();
    w.aux(b"redis-ver", b"7.0.15").unwrap();
    w.select_db(0).unwrap();
    let vals = vec![
        Value::String(b"hello".to_vec()),
        Value::String(b"12345".to_vec()),
        Value::String(b"x".repeat(300)),
        Value::List((0..200).map(|i| format!("item{i}").into_bytes()).collect()),
        Value::Set((0..20).map(|i| i.to_string().into_bytes()).collect()),
        Value::Set(vec![b"a".to_vec(), b"b".to_vec()]),
        Value::ZSet(
            (0..200)
                .map(|i| (format!("m{i}").into_bytes(), i as f64 / 3.0))
                .collect(),
        ),
        Value::ZSet(vec![(b"a".to_vec(), 1.0)]),
        Value::Hash(
            (0..10)
                .map(|i| HashField {
                    field: format!("f{i}").into_bytes(),
                    value: format!("v{i}").into_bytes(),
                    expire_ms: None,
                })
                .collect(),
        ),
    ];
    for (i, v) in vals.iter().enumerate() {
        w.key(format!("k{i}").as_bytes(), v, None).unwrap().unwrap();
    }
    w.finish().unwrap()
}

fn read_all(data: &[u8]) {
    let mut r = Reader::new(data);
    if r.read_header().is_err() {
        return;
    }
    for _ in 0..100_000 {
        match r.next_record() {
            Ok(Record::Eof { .. }) => return,
            Ok(_) => {}
            Err(e) => {
                assert!(e.offset <= data.len() as u64);
                return;
            }
        }
    }
    panic!("reader did not finish");
}

#[test]
fn sample_reads_back() {
    let d = sample();
    let mut r = Reader::new(&d[..]);
    r.read_header().unwrap();
    let mut keys = 0;
    loop {
        match r.next_record().unwrap() {
            Record::Key(_) => keys += 1,
            Record::Eof { stored, computed } => {
                assert_eq!(stored, Some(computed));
                break;
            }
            _ => {}
        }
    }
    assert_eq!(keys, 9);
}

#[test]
fn damaged_inputs_never_panic() {
    let d = sample();
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..3000 {
        let mut v = d.clone();
        match rnd() % 3 {
            0 => v.truncate((rnd() % d.len() as u64) as usize),
            1 => {
                for _ in 0..1 + rnd() % 4 {
                    let i = (rnd() % v.len() as u64) as usize;
                    v[i] = rnd() as u8;
                }
            }
            _ => {
                let i = (rnd() % v.len() as u64) as usize;
                v.insert(i, rnd() as u8);
            }
        }
        read_all(&v);
    }
}

#[test]
fn damaged_dump_payloads_never_panic() {
    let p = dump::encode(&Value::List(
        (0..50).map(|i| i.to_string().into_bytes()).collect(),
    ))
    .unwrap();
    for i in 0..p.len() {
        for bit in 0..8 {
            let mut v = p.clone();
            v[i] ^= 1 << bit;
            let n = v.len();
            let c = redis_rdb::crc64::crc64(0, &v[..n - 8]);
            v[n - 8..].copy_from_slice(&c.to_le_bytes());
            let _ = dump::decode(&v, 10);
        }
    }
}
