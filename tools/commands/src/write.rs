//! `COMMAND INFO` and `COMMAND DOCS` replies, byte for byte as Redis 7.0 writes them, in
//! RESP2 and RESP3 (the [`ReplyBuf`] does Redis's downgrades: sets and maps to arrays).

use crate::spec::{ArgDoc, ArgType, BeginSearch, CommandSpec, FindKeys, KeySpec};
use redis_formats::ReplyBuf;

fn status_set(r: &mut ReplyBuf, items: &[String]) {
    r.set(items.len());
    for i in items {
        r.simple(i.as_bytes());
    }
}

fn field(r: &mut ReplyBuf, name: &str, value: &str) {
    r.bulk(name.as_bytes());
    r.bulk(value.as_bytes());
}

fn opt_field(r: &mut ReplyBuf, name: &str, value: &Option<String>) {
    if let Some(v) = value {
        field(r, name, v);
    }
}

impl CommandSpec {
    /// One `COMMAND INFO` entry (also an element of `COMMAND`'s reply): the ten-element
    /// array with name, arity, flags, first/last/step, ACL categories, tips, key specs and
    /// subcommands. Unknown names are answered by the caller with a null.
    pub fn write_info(&self, r: &mut ReplyBuf) {
        r.array(10);
        r.bulk(self.name.as_bytes());
        r.int(self.arity);
        status_set(r, &self.flags);
        r.int(self.first_key);
        r.int(self.last_key);
        r.int(self.step);
        status_set(r, &self.acl_categories);
        r.set(self.tips.len());
        for t in &self.tips {
            r.bulk(t.as_bytes());
        }
        r.set(self.key_specs.len());
        for ks in &self.key_specs {
            ks.write(r);
        }
        if self.subcommands.is_empty() {
            // Redis writes an empty *set* here but an array when there are subcommands.
            r.set(0);
        } else {
            r.array(self.subcommands.len());
            for s in &self.subcommands {
                s.write_info(r);
            }
        }
    }

    /// The `COMMAND DOCS` map of this command (without its name; see
    /// [`write_docs_entry`](Self::write_docs_entry)).
    pub fn write_docs(&self, r: &mut ReplyBuf) {
        let d = &self.doc;
        let len = 1
            + d.summary.is_some() as usize
            + d.since.is_some() as usize
            + d.complexity.is_some() as usize
            + !d.doc_flags.is_empty() as usize
            + d.deprecated_since.is_some() as usize
            + d.replaced_by.is_some() as usize
            + d.history.is_some() as usize
            + d.arguments.is_some() as usize
            + !self.subcommands.is_empty() as usize;
        r.map(len);
        opt_field(r, "summary", &d.summary);
        opt_field(r, "since", &d.since);
        field(r, "group", &d.group);
        opt_field(r, "complexity", &d.complexity);
        if !d.doc_flags.is_empty() {
            r.bulk(b"doc_flags");
            status_set(r, &d.doc_flags);
        }
        opt_field(r, "deprecated_since", &d.deprecated_since);
        opt_field(r, "replaced_by", &d.replaced_by);
        if let Some(h) = &d.history {
            r.bulk(b"history");
            r.set(h.len());
            for (since, change) in h {
                r.array(2);
                r.bulk(since.as_bytes());
                r.bulk(change.as_bytes());
            }
        }
        if let Some(args) = &d.arguments {
            r.bulk(b"arguments");
            write_args(r, args);
        }
        if !self.subcommands.is_empty() {
            r.bulk(b"subcommands");
            r.map(self.subcommands.len());
            for s in &self.subcommands {
                s.write_docs_entry(r);
            }
        }
    }

    /// The name then the docs map: one pair of the `COMMAND DOCS` reply map.
    pub fn write_docs_entry(&self, r: &mut ReplyBuf) {
        r.bulk(self.name.as_bytes());
        self.write_docs(r);
    }
}

impl KeySpec {
    fn write(&self, r: &mut ReplyBuf) {
        r.map(3 + self.notes.is_some() as usize);
        opt_field(r, "notes", &self.notes);
        r.bulk(b"flags");
        status_set(r, &self.flags);
        r.bulk(b"begin_search");
        r.map(2);
        match &self.begin_search {
            BeginSearch::Index { index } => {
                field(r, "type", "index");
                r.bulk(b"spec");
                r.map(1);
                r.bulk(b"index");
                r.int(*index);
            }
            BeginSearch::Keyword { keyword, startfrom } => {
                field(r, "type", "keyword");
                r.bulk(b"spec");
                r.map(2);
                field(r, "keyword", keyword);
                r.bulk(b"startfrom");
                r.int(*startfrom);
            }
            BeginSearch::Unknown {} => {
                field(r, "type", "unknown");
                r.bulk(b"spec");
                r.map(0);
            }
        }
        r.bulk(b"find_keys");
        r.map(2);
        match &self.find_keys {
            FindKeys::Range {
                lastkey,
                keystep,
                limit,
            } => {
                field(r, "type", "range");
                r.bulk(b"spec");
                r.map(3);
                for (k, v) in [("lastkey", lastkey), ("keystep", keystep), ("limit", limit)] {
                    r.bulk(k.as_bytes());
                    r.int(*v);
                }
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                field(r, "type", "keynum");
                r.bulk(b"spec");
                r.map(3);
                for (k, v) in [
                    ("keynumidx", keynumidx),
                    ("firstkey", firstkey),
                    ("keystep", keystep),
                ] {
                    r.bulk(k.as_bytes());
                    r.int(*v);
                }
            }
            FindKeys::Unknown {} => {
                field(r, "type", "unknown");
                r.bulk(b"spec");
                r.map(0);
            }
        }
    }
}

fn write_args(r: &mut ReplyBuf, args: &[ArgDoc]) {
    r.array(args.len());
    for a in args {
        // Redis always lists the nested arguments of `oneof` and `block`, and only theirs.
        let nested = matches!(a.arg_type, ArgType::Oneof | ArgType::Block);
        let len = 2
            + a.key_spec_index.is_some() as usize
            + a.token.is_some() as usize
            + a.summary.is_some() as usize
            + a.since.is_some() as usize
            + a.deprecated_since.is_some() as usize
            + !a.flags.is_empty() as usize
            + nested as usize;
        r.map(len);
        field(r, "name", &a.name);
        field(r, "type", a.arg_type.as_str());
        if let Some(i) = a.key_spec_index {
            r.bulk(b"key_spec_index");
            r.int(i);
        }
        opt_field(r, "token", &a.token);
        opt_field(r, "summary", &a.summary);
        opt_field(r, "since", &a.since);
        opt_field(r, "deprecated_since", &a.deprecated_since);
        if !a.flags.is_empty() {
            r.bulk(b"flags");
            status_set(r, &a.flags);
        }
        if nested {
            r.bulk(b"arguments");
            write_args(r, a.arguments.as_deref().unwrap_or(&[]));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::table;
    use redis_formats::{ProtoVersion, ReplyBuf};

    fn info(name: &str, proto: ProtoVersion) -> String {
        let mut r = ReplyBuf {
            proto,
            ..Default::default()
        };
        table()
            .get_by_fullname(name.as_bytes())
            .unwrap()
            .write_info(&mut r);
        String::from_utf8(r.buf).unwrap()
    }

    #[test]
    fn get_info_bytes() {
        // As Redis 7.0.15 sends `COMMAND INFO get` to a RESP2 client.
        let expected = "*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n\
*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n\
$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n\
$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n\
$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";
        assert_eq!(info("get", ProtoVersion::Resp2), expected);
        let r3 = info("get", ProtoVersion::Resp3);
        assert!(r3.starts_with("*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n"));
        assert!(r3.ends_with(
            "%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n"
        ));
    }

    #[test]
    fn docs_shape() {
        let mut r = ReplyBuf {
            proto: ProtoVersion::Resp3,
            ..Default::default()
        };
        table().get(b"get").unwrap().write_docs(&mut r);
        let s = String::from_utf8(r.buf).unwrap();
        assert!(s.starts_with("%5\r\n$7\r\nsummary\r\n"), "{s}");
        assert!(s.contains("$5\r\ngroup\r\n$6\r\nstring\r\n"));
    }
}
