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

#[test]
fn valkey_80_hash_with_field_expiry() {
    let mut d = b"VALKEY080".to_vec();
    d.extend_from_slice(&[0xfe, 0x00, 22, 1, b'h', 2]);
    for (f, v, e) in [("a", "1", -1i64), ("b", "2", 1_900_000_000_000)] {
        d.extend_from_slice(&[1, f.as_bytes()[0], 1, v.as_bytes()[0]]);
        d.extend_from_slice(&e.to_le_bytes());
    }
    d.push(0xff);
    let c = redis_rdb::crc64::crc64(0, &d);
    d.extend_from_slice(&c.to_le_bytes());
    let mut r = Reader::new(&d[..]);
    let h = r.read_header().unwrap();
    assert!(h.valkey && h.version == 80);
    assert_eq!(r.next_record().unwrap(), Record::SelectDb(0));
    match r.next_record().unwrap() {
        Record::Key(k) => match k.value {
            Value::Hash(f) => {
                assert_eq!(f[0].expire_ms, None);
                assert_eq!(f[1].expire_ms, Some(1_900_000_000_000));
            }
            v => panic!("{v:?}"),
        },
        r => panic!("{r:?}"),
    }
    assert!(
        matches!(r.next_record().unwrap(), Record::Eof { stored: Some(s), computed } if s == computed)
    );
}
