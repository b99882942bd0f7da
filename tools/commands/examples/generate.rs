//! Regenerates `commands.json` from a running Redis 7.0.15:
//!
//! ```text
//! redis-server --port 7411 --bind 127.0.0.1 --save '' --appendonly no &
//! cargo run -p redis-commands --example generate -- 7411 [OUT_PATH]
//! ```
//!
//! It speaks RESP3 (`HELLO 3`), reads `COMMAND INFO` and `COMMAND DOCS` for every command,
//! leaves out module commands, and writes the commands in the order the server listed them
//! (Redis's dictionary order, which depends on a random hash seed of each server run, so
//! any run's order is as good as another's).

use redis_commands::CommandSpec;
use redis_formats::command::encode_command;
use redis_formats::{ReplyDecoder, RespValue};
use serde_json::{json, Map, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

type Res<T> = Result<T, String>;

struct Conn {
    sock: TcpStream,
    dec: ReplyDecoder,
}

impl Conn {
    fn call(&mut self, args: &[&str]) -> Res<RespValue> {
        let mut req = Vec::new();
        encode_command(args, &mut req);
        self.sock.write_all(&req).map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if let Some(v) = self.dec.next().map_err(|e| e.to_string())? {
                if let RespValue::Error(e) = &v {
                    return Err(format!("{args:?}: {}", String::from_utf8_lossy(e)));
                }
                return Ok(v);
            }
            let n = self.sock.read(&mut buf).map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("connection closed".into());
            }
            self.dec.feed(&buf[..n]);
        }
    }
}

fn text(v: &RespValue) -> Res<String> {
    match v {
        RespValue::Bulk(b) | RespValue::Status(b) => {
            String::from_utf8(b.clone()).map_err(|e| e.to_string())
        }
        other => Err(format!("expected a string, got {other:?}")),
    }
}

fn int(v: &RespValue) -> Res<i64> {
    match v {
        RespValue::Integer(i) => Ok(*i),
        other => Err(format!("expected an integer, got {other:?}")),
    }
}

/// A reply as JSON: maps become objects, arrays and sets become arrays.
fn to_json(v: &RespValue) -> Res<Value> {
    Ok(match v {
        RespValue::Bulk(_) | RespValue::Status(_) => Value::String(text(v)?),
        RespValue::Integer(i) => json!(i),
        RespValue::Array(items) | RespValue::Set(items) => {
            Value::Array(items.iter().map(to_json).collect::<Res<_>>()?)
        }
        RespValue::Map(pairs) => {
            let mut m = Map::new();
            for (k, v) in pairs {
                m.insert(text(k)?, to_json(v)?);
            }
            Value::Object(m)
        }
        other => return Err(format!("unexpected reply {other:?}")),
    })
}

/// One `COMMAND INFO` entry (with its subcommands) merged with its `COMMAND DOCS` map.
fn command(info: &RespValue, doc: &RespValue) -> Res<Value> {
    let f = info
        .as_slice()
        .ok_or("COMMAND INFO entry is not an array")?;
    if f.len() != 10 {
        return Err(format!("COMMAND INFO entry has {} fields", f.len()));
    }
    let name = text(&f[0])?;
    let RespValue::Map(doc_pairs) = doc else {
        return Err(format!("{name}: COMMAND DOCS entry is not a map"));
    };
    let mut doc_json = Map::new();
    let mut sub_docs: Vec<(String, RespValue)> = Vec::new();
    for (k, v) in doc_pairs {
        let k = text(k)?;
        if k == "subcommands" {
            let RespValue::Map(subs) = v else {
                return Err(format!("{name}: subcommands docs are not a map"));
            };
            for (sk, sv) in subs {
                sub_docs.push((text(sk)?, sv.clone()));
            }
        } else {
            doc_json.insert(k, to_json(v)?);
        }
    }
    let sub_infos = f[9].as_slice().ok_or("subcommands are not an array")?;
    if sub_infos.len() != sub_docs.len() {
        return Err(format!("{name}: INFO and DOCS disagree on subcommands"));
    }
    let mut subcommands = Vec::new();
    for (si, (sname, sdoc)) in sub_infos.iter().zip(&sub_docs) {
        let sub = command(si, sdoc)?;
        if sub["name"] != Value::String(sname.clone()) {
            return Err(format!("{name}: subcommand order differs: {sname}"));
        }
        subcommands.push(sub);
    }
    let strings = |v: &RespValue| -> Res<Vec<String>> {
        v.as_slice()
            .ok_or("expected a set")?
            .iter()
            .map(text)
            .collect()
    };
    Ok(json!({
        "name": name,
        "arity": int(&f[1])?,
        "flags": strings(&f[2])?,
        "first_key": int(&f[3])?,
        "last_key": int(&f[4])?,
        "step": int(&f[5])?,
        "acl_categories": strings(&f[6])?,
        "tips": strings(&f[7])?,
        "key_specs": to_json(&f[8])?,
        "subcommands": subcommands,
        "doc": Value::Object(doc_json),
    }))
}

fn run() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or("usage: generate PORT [OUT_PATH]")?;
    let out = args
        .next()
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/commands.json").into());
    let sock = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut c = Conn {
        sock,
        dec: ReplyDecoder::new(),
    };
    c.call(&["HELLO", "3"])?;
    let count = int(&c.call(&["COMMAND", "COUNT"])?)?;
    let infos = c.call(&["COMMAND", "INFO"])?;
    let RespValue::Map(docs) = c.call(&["COMMAND", "DOCS"])? else {
        return Err("COMMAND DOCS is not a map".into());
    };
    let infos = infos.as_slice().ok_or("COMMAND INFO is not an array")?;
    if infos.len() as i64 != count || docs.len() as i64 != count {
        return Err(format!("COMMAND COUNT {count} but {} infos", infos.len()));
    }
    let mut commands = Vec::new();
    for info in infos {
        let f = info
            .as_slice()
            .ok_or("COMMAND INFO entry is not an array")?;
        let name = text(&f[0])?;
        if f[2]
            .as_slice()
            .unwrap_or(&[])
            .iter()
            .any(|x| x.as_bytes() == Some(b"module"))
        {
            eprintln!("skipping module command {name}");
            continue;
        }
        let doc = docs
            .iter()
            .find(|(k, _)| k.as_bytes() == Some(name.as_bytes()))
            .map(|(_, v)| v)
            .ok_or(format!("{name}: no docs"))?;
        commands.push(command(info, doc)?);
    }
    // Through the typed structs, so the file has their field order and any reply field
    // the structs do not know about is an error here rather than silently dropped.
    let typed: Vec<CommandSpec> =
        serde_json::from_value(Value::Array(commands)).map_err(|e| e.to_string())?;
    let mut text = serde_json::to_string_pretty(&typed).map_err(|e| e.to_string())?;
    text.push('\n');
    std::fs::write(&out, text).map_err(|e| format!("{out}: {e}"))?;
    eprintln!("wrote {} commands to {out}", typed.len());
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("generate: {e}");
        std::process::exit(1);
    }
}
