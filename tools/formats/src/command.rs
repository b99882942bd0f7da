//! Encoding commands as RESP multibulk requests (the client side of the protocol).

/// Appends `*N\r\n$len\r\narg\r\n...` for `args` to `out`.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A], out: &mut Vec<u8>) {
    out.push(b'*');
    push_usize(out, args.len());
    out.extend_from_slice(b"\r\n");
    for a in args {
        let a = a.as_ref();
        out.push(b'$');
        push_usize(out, a.len());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

fn push_usize(out: &mut Vec<u8>, n: usize) {
    crate::reply::push_i64(out, n as i64);
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_multibulk() {
        let mut out = Vec::new();
        super::encode_command(&["SET", "k", ""], &mut out);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }
}
