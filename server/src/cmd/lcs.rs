//! LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: the longest common
//! subsequence of two strings, by the classic dynamic-programming table. The walk back
//! through the table makes the same choices as Redis, so ties give the same string and
//! the same match ranges.

use super::args::parse_i64_arg;
use crate::dispatch::{errors, CmdError, CmdResult, Ctx};
use redis_formats::ReplyBuf;

/// The value of a string key for LCS (a missing key is the empty string), or
/// `Err(())` if the key holds another type.
fn lcs_input(ctx: &mut Ctx, key: &[u8]) -> Result<Vec<u8>, ()> {
    match ctx.read_key(key) {
        None => Ok(Vec::new()),
        Some(o) if o.value.is_string() => Ok(o.value.to_bytes()),
        Some(_) => Err(()),
    }
}

/// What the caller asked for.
struct LcsOptions {
    len: bool,
    idx: bool,
    with_match_len: bool,
    min_match_len: u64,
}

fn parse_options(argv: &[&[u8]]) -> Result<LcsOptions, CmdError> {
    let mut o = LcsOptions {
        len: false,
        idx: false,
        with_match_len: false,
        min_match_len: 0,
    };
    let mut j = 3;
    while j < argv.len() {
        let opt: &[u8] = argv[j];
        let more = j + 1 < argv.len();
        if opt.eq_ignore_ascii_case(b"idx") {
            o.idx = true;
        } else if opt.eq_ignore_ascii_case(b"len") {
            o.len = true;
        } else if opt.eq_ignore_ascii_case(b"withmatchlen") {
            o.with_match_len = true;
        } else if opt.eq_ignore_ascii_case(b"minmatchlen") && more {
            o.min_match_len = parse_i64_arg(argv[j + 1])?.max(0) as u64;
            j += 1;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    Ok(o)
}

/// The LCS length table: `t[i * (b.len() + 1) + j]` is the LCS length of `a[..i]`
/// and `b[..j]`.
struct Table {
    cells: Vec<u32>,
    width: usize,
}

impl Table {
    fn build(a: &[u8], b: &[u8]) -> Result<Table, CmdError> {
        let width = b.len() + 1;
        let size = (a.len() + 1) * width;
        let mut cells = Vec::new();
        cells.try_reserve_exact(size).map_err(|_| {
            CmdError::from("ERR Insufficient memory, failed allocating transient memory for LCS")
        })?;
        cells.resize(size, 0u32);
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                cells[i * width + j] = if a[i - 1] == b[j - 1] {
                    cells[(i - 1) * width + j - 1] + 1
                } else {
                    cells[(i - 1) * width + j].max(cells[i * width + j - 1])
                };
            }
        }
        Ok(Table { cells, width })
    }

    #[inline]
    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * self.width + j]
    }
}

/// A run of matching bytes: `a[a_start..=a_end]` equals `b[b_start..=b_end]`.
#[derive(Clone, Copy)]
struct Range {
    a_start: usize,
    a_end: usize,
    b_start: usize,
    b_end: usize,
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
pub fn lcs(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    // Both keys are looked up before either type is checked, as Redis does.
    let a = lcs_input(ctx, argv[1]);
    let b = lcs_input(ctx, argv[2]);
    let (Ok(a), Ok(b)) = (a, b) else {
        return Err("ERR The specified keys must contain string values".into());
    };
    let opts = parse_options(argv)?;
    if opts.len && opts.idx {
        return Err("ERR If you want both the length and indexes, please just use IDX.".into());
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err("ERR String too long for LCS".into());
    }
    let cells = (a.len() as u128 + 1) * (b.len() as u128 + 1);
    if cells * 4 > ctx.srv.config.proto_max_bulk_len.max(0) as u128 {
        return Err(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len".into(),
        );
    }
    let table = Table::build(&a, &b)?;
    let total = table.at(a.len(), b.len());
    let out = &mut *ctx.out;
    if opts.len && !opts.idx {
        out.int(total as i64);
        return Ok(());
    }
    if opts.idx {
        out.map(2);
        out.bulk(b"matches");
        let head = out.defer();
        let n = walk_back(&table, &a, &b, |r| emit_range(out, r, &opts));
        out.set_array_len(head, n);
        out.bulk(b"len");
        out.int(total as i64);
    } else {
        let mut result = vec![0u8; total as usize];
        let mut k = result.len();
        // The string itself: the bytes matched on the same walk, collected backwards.
        let (mut i, mut j) = (a.len(), b.len());
        while i > 0 && j > 0 {
            if a[i - 1] == b[j - 1] {
                k -= 1;
                result[k] = a[i - 1];
                i -= 1;
                j -= 1;
            } else if table.at(i - 1, j) > table.at(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
        }
        out.bulk(&result);
    }
    Ok(())
}

/// Writes one match of the IDX reply if it is long enough; true if written.
fn emit_range(out: &mut ReplyBuf, r: Range, opts: &LcsOptions) -> bool {
    let len = (r.a_end - r.a_start + 1) as u64;
    if opts.min_match_len != 0 && len < opts.min_match_len {
        return false;
    }
    out.array(2 + opts.with_match_len as usize);
    out.array(2);
    out.int(r.a_start as i64);
    out.int(r.a_end as i64);
    out.array(2);
    out.int(r.b_start as i64);
    out.int(r.b_end as i64);
    if opts.with_match_len {
        out.int(len as i64);
    }
    true
}

/// Walks the table back from the end, gathering runs of consecutive matches and
/// handing each finished run to `emit` (from the end of the strings to the start).
/// Returns how many runs `emit` accepted.
fn walk_back(t: &Table, a: &[u8], b: &[u8], mut emit: impl FnMut(Range) -> bool) -> usize {
    let (mut i, mut j) = (a.len(), b.len());
    let mut current: Option<Range> = None;
    let mut emitted = 0;
    while i > 0 && j > 0 {
        let mut finish = false;
        if a[i - 1] == b[j - 1] {
            match current.as_mut() {
                None => {
                    current = Some(Range {
                        a_start: i - 1,
                        a_end: i - 1,
                        b_start: j - 1,
                        b_end: j - 1,
                    })
                }
                Some(r) if r.a_start == i && r.b_start == j => {
                    r.a_start -= 1;
                    r.b_start -= 1;
                }
                Some(_) => finish = true,
            }
            // A run that reached the start of either string is complete.
            if let Some(r) = current {
                if r.a_start == 0 || r.b_start == 0 {
                    finish = true;
                }
            }
            i -= 1;
            j -= 1;
        } else {
            if t.at(i - 1, j) > t.at(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
            finish = current.is_some();
        }
        if finish {
            if let Some(r) = current.take() {
                if emit(r) {
                    emitted += 1;
                }
            }
        }
    }
    emitted
}
