//! String and bitmap commands: the same requests to our server and to Debian's
//! redis-server 7.0.15, reply bytes compared (errors included), in RESP2 and RESP3,
//! plus seeded random sequences of string and bit operations.

mod common;
use common::raw::*;
use common::*;

/// Scenarios covering every string command, its options and its errors.
const SCENARIOS: &[&[&str]] = &[
    // SET and its options.
    &[
        "SET k v",
        "GET k",
        "SET k v NX",
        "SET k v2 XX",
        "GET k",
        "SET k v3 XX GET",
        "SET nokey v XX GET",
        "SET nokey v NX GET",
        "SET nokey v2 NX GET",
        "SET k v NX XX",
        "SET k v XX NX",
        "SET k v nx nx xx",
        "SET k v get get",
        "SET k v EX",
        "SET k v EX 0",
        "SET k v EX -1",
        "SET k v EX abc",
        "SET k v EX 10 EX 20",
        "SET k v EX 10 PX 20",
        "SET k v PX 10 EX 20",
        "SET k v EXAT 10 PXAT 20",
        "SET k v EX 10 KEEPTTL",
        "SET k v KEEPTTL EX 10",
        "SET k v KEEPTTL KEEPTTL",
        "SET k v PERSIST",
        "SET k v EX 9223372036854775807",
        "SET k v EX 9223372036854774",
        "SET k v PX 9223372036854775807",
        "SET k v EXAT 9223372036854775807",
        "SET k v PXAT 9223372036854775807",
        "GET k",
        "SET k v EX 1x",
        "SET k v EX 01",
        "SET k v foo",
        "SET k",
        "SET",
        "SET k v EX 100 GET NX",
        "SET k v PXAT 1",
        "GET k",
        "SET k v EXAT 1 GET",
        "SET k v ex 100 get",
        "SET k \"\"",
        "GET k",
        "SET k 12345678901234567890",
        "GET k",
    ],
    // Expiry through SET, SETEX, PSETEX, GETEX, KEEPTTL (checked by waiting).
    &[
        "SET a v PX 150",
        "SET b v PX 150",
        "SET b v2 KEEPTTL",
        "SET c v PX 150",
        "SET c v2",
        "SETEX d 100 v",
        "PSETEX e 150 v",
        "SET f v PX 150",
        "GETEX f PERSIST",
        "SET g v",
        "GETEX g PX 150",
        "SET h v PX 150",
        "INCRBYFLOAT h 1",
        "SET i 1 PX 150",
        "INCR i",
        "SET j v PX 150",
        "APPEND j x",
        "SET l v PX 150",
        "GETSET l v2",
        "SET m v PX 150",
        "MSET m v2",
        "SET n v PX 150",
        "SETRANGE n 0 x",
        "SET o v PX 150",
        "SETBIT o 0 1",
        "!sleep 400",
        "MGET a b c d e f g h i j l m n o",
        "SET b v PX 1",
        "!sleep 20",
        "SET b v3 KEEPTTL",
        "GET b",
    ],
    // SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX.
    &[
        "SETNX k v",
        "SETNX k v2",
        "GET k",
        "SETEX k 100 v",
        "SETEX k 0 v",
        "SETEX k -5 v",
        "SETEX k abc v",
        "SETEX k 9223372036854775807 v",
        "PSETEX k 100000 v",
        "PSETEX k 0 v",
        "PSETEX k 9223372036854775807 v",
        "SETEX k 100",
        "GETSET k newv",
        "GETSET nokey v",
        "GET nokey",
        "GETDEL k",
        "GETDEL k",
        "EXISTS k",
        "GETEX nokey",
        "GETEX nokey EX abc",
        "GETEX nokey FOO",
        "SET k v",
        "GETEX k",
        "GETEX k EX 100",
        "GETEX k PX 100000",
        "GETEX k EXAT 99999999999",
        "GETEX k PXAT 99999999999999",
        "GETEX k PERSIST",
        "GETEX k EX 0",
        "GETEX k EX abc",
        "GETEX k EX 100 PX 100",
        "GETEX k PERSIST EX 100",
        "GETEX k EX 100 PERSIST",
        "GETEX k KEEPTTL",
        "GETEX k NX",
        "GETEX k GET",
        "GETEX k EX",
        "GETEX k PERSIST PERSIST",
        "GETEX k EX 9223372036854775807",
        "GETEX k PXAT 1",
        "EXISTS k",
        "SET k v",
        "GETEX k EXAT 1",
        "GET k",
    ],
    // MGET, MSET, MSETNX.
    &[
        "MSET a 1 b 2 c 3",
        "MGET a b c d",
        "MSET a",
        "MSET a 1 b",
        "MSETNX a 1 x 2",
        "MGET x",
        "MSETNX x 1 y 2",
        "MSETNX x 1",
        "MSETNX x",
        "MGET x y",
        "MSET a 1 a 2",
        "GET a",
        "MSETNX z 1 z 2",
        "GET z",
    ],
    // APPEND, STRLEN, GETRANGE, SUBSTR, SETRANGE.
    &[
        "APPEND k hello",
        "APPEND k \" world\"",
        "GET k",
        "STRLEN k",
        "STRLEN nokey",
        "APPEND n 123",
        "APPEND n 456",
        "GET n",
        "SET i 12345",
        "STRLEN i",
        "GETRANGE i 1 2",
        "GETRANGE k 0 4",
        "GETRANGE k -5 -1",
        "GETRANGE k -1 -5",
        "GETRANGE k 5 2",
        "GETRANGE k 0 -1",
        "GETRANGE k -100 100",
        "GETRANGE k 100 200",
        "GETRANGE k 0 9223372036854775807",
        "GETRANGE k -9223372036854775808 -1",
        "GETRANGE k a 1",
        "GETRANGE k 1 b",
        "GETRANGE nokey 0 -1",
        "GETRANGE nokey a b",
        "SUBSTR k 0 3",
        "SET e \"\"",
        "GETRANGE e 0 -1",
        "GETRANGE e 0 0",
        "SETRANGE k 6 WORLD",
        "GET k",
        "SETRANGE k 20 x",
        "GET k",
        "SETRANGE k -1 x",
        "SETRANGE k abc x",
        "SETRANGE k 0 \"\"",
        "SETRANGE nokey 0 \"\"",
        "EXISTS nokey",
        "SETRANGE nokey 5 x",
        "GET nokey",
        "SETRANGE i 0 9",
        "GET i",
        "SETRANGE big 536870912 x",
        "SETRANGE big 536870912 \"\"",
        "SETRANGE k 536870911 xy",
        "SETRANGE k 9223372036854775807 x",
        "APPEND",
        "STRLEN",
    ],
    // INCR family.
    &[
        "INCR n",
        "INCR n",
        "DECR n",
        "DECR m",
        "INCRBY n 10",
        "INCRBY n -20",
        "DECRBY n 5",
        "DECRBY n -9223372036854775808",
        "INCRBY n abc",
        "INCRBY n 1.5",
        "INCRBY n 9223372036854775808",
        "SET big 9223372036854775807",
        "INCR big",
        "INCRBY big 0",
        "SET small -9223372036854775808",
        "DECR small",
        "DECRBY small 1",
        "INCRBY small -1",
        "SET s abc",
        "INCR s",
        "SET s \" 1\"",
        "INCR s",
        "SET s 1.0",
        "INCR s",
        "SET s 007",
        "INCR s",
        "SET s \"\"",
        "INCR s",
        "SET s 99999999999999999999",
        "INCR s",
        "SET s \"1\\x00\"",
        "INCR s",
        "SET s -0",
        "INCR s",
        "SET s +1",
        "INCR s",
        "APPEND r 1",
        "APPEND r 2",
        "INCR r",
        "GET r",
    ],
    // INCRBYFLOAT: C long double arithmetic and "%.17Lf" output.
    &[
        "INCRBYFLOAT f 0.1",
        "INCRBYFLOAT f 0.2",
        "INCRBYFLOAT f 10.5",
        "INCRBYFLOAT f 5.0e3",
        "INCRBYFLOAT f -5010.8",
        "INCRBYFLOAT f 1e-10",
        "INCRBYFLOAT f 1.23456789012345678",
        "INCRBYFLOAT f 0x10",
        "INCRBYFLOAT f 0x1p-3",
        "INCRBYFLOAT f +3",
        "INCRBYFLOAT f .5",
        "INCRBYFLOAT f 5.",
        "INCRBYFLOAT f -0",
        "INCRBYFLOAT f abc",
        "INCRBYFLOAT f \" 1\"",
        "INCRBYFLOAT f \"1 \"",
        "INCRBYFLOAT f \"\"",
        "INCRBYFLOAT f nan",
        "INCRBYFLOAT f inf",
        "INCRBYFLOAT f -inf",
        "INCRBYFLOAT f infinity",
        "INCRBYFLOAT f 1e5000",
        "INCRBYFLOAT f 1e-5000",
        "INCRBYFLOAT f 1e308",
        "INCRBYFLOAT f 1e4000",
        "INCRBYFLOAT f 1e4000",
        "INCRBYFLOAT f 1e4932",
        "INCRBYFLOAT g 1e4932",
        "INCRBYFLOAT g 1e4932",
        "INCRBYFLOAT h 3",
        "INCRBY h 1",
        "INCRBYFLOAT h -4",
        "SET i 17179869184",
        "INCRBYFLOAT i 1.5",
        "SET j 1.5e3",
        "INCRBYFLOAT j 0",
        "SET j abc",
        "INCRBYFLOAT j 1",
        "SET j 9223372036854775807",
        "INCRBYFLOAT j 1",
        "INCRBYFLOAT l 1.00000000000000000001",
        "INCRBYFLOAT l -1",
        "INCRBYFLOAT l 0.000000000000000001",
        "INCRBYFLOAT l 123456789012345678901234567890",
        "INCRBYFLOAT l 1e-4940",
        "INCRBYFLOAT m 1e-4940",
        "INCRBYFLOAT m -1e-4940",
        "INCRBYFLOAT",
    ],
    // LCS.
    &[
        "MSET a ohmytext b mynewtext",
        "LCS a b",
        "LCS a b LEN",
        "LCS a b IDX",
        "LCS a b IDX WITHMATCHLEN",
        "LCS a b IDX MINMATCHLEN 4",
        "LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN",
        "LCS a b IDX MINMATCHLEN -5",
        "LCS a b IDX MINMATCHLEN abc",
        "LCS a b IDX MINMATCHLEN",
        "LCS a b LEN IDX",
        "LCS a b FOO",
        "LCS a b len",
        "LCS a nokey",
        "LCS a nokey IDX",
        "LCS nokey1 nokey2 IDX WITHMATCHLEN",
        "MSET x rosettacode y raisethysword",
        "LCS x y",
        "LCS x y IDX WITHMATCHLEN",
        "MSET p 1234 q 2345",
        "LCS p q IDX",
        "MSET s aaaaaaaaaa t aaaaa",
        "LCS s t IDX WITHMATCHLEN",
        "LCS t s IDX WITHMATCHLEN",
    ],
    // OBJECT ENCODING after each command: int, embstr or raw as Redis leaves them.
    &[
        "SET a 123",
        "OBJECT ENCODING a",
        "SET a abc",
        "OBJECT ENCODING a",
        "SET a aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "OBJECT ENCODING a",
        "SET a aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "OBJECT ENCODING a",
        "SET a 12345678901234567890",
        "OBJECT ENCODING a",
        "SET a -9223372036854775808",
        "OBJECT ENCODING a",
        "SET a 0123",
        "OBJECT ENCODING a",
        "APPEND n 123",
        "OBJECT ENCODING n",
        "APPEND n 4",
        "OBJECT ENCODING n",
        "APPEND t abc",
        "OBJECT ENCODING t",
        "SETRANGE s 0 5",
        "OBJECT ENCODING s",
        "SET b 12",
        "SETBIT b 0 0",
        "OBJECT ENCODING b",
        "SET c abc",
        "GETEX c EX 100",
        "OBJECT ENCODING c",
        "SET d 5",
        "INCRBY d 0",
        "OBJECT ENCODING d",
        "SET d abc1",
        "SET d 10",
        "INCR d",
        "OBJECT ENCODING d",
        "SET e 1.5",
        "INCRBYFLOAT e 0",
        "OBJECT ENCODING e",
        "INCRBYFLOAT f 3",
        "OBJECT ENCODING f",
        "INCR f",
        "OBJECT ENCODING f",
        "INCRBYFLOAT g 1e50",
        "OBJECT ENCODING g",
        "BITOP NOT h a",
        "OBJECT ENCODING h",
        "SET i 10",
        "BITFIELD_RO i GET u8 0",
        "OBJECT ENCODING i",
        "BITFIELD i GET u8 0",
        "OBJECT ENCODING i",
        "BITFIELD i OVERFLOW FAIL SET u8 0 300",
        "OBJECT ENCODING i",
        "SET x 5",
        "SETRANGE x 0 \"\"",
        "OBJECT ENCODING x",
        "APPEND x \"\"",
        "OBJECT ENCODING x",
        "MSET m1 1 m2 abc",
        "OBJECT ENCODING m1",
        "OBJECT ENCODING m2",
        "GETSET m1 2",
        "OBJECT ENCODING m1",
        "SETEX se 100 7",
        "OBJECT ENCODING se",
        "PSETEX pe 100000 abc",
        "OBJECT ENCODING pe",
        "SETNX sn 8",
        "OBJECT ENCODING sn",
        "MSETNX mn 9",
        "OBJECT ENCODING mn",
        "SET y 1",
        "BITCOUNT y",
        "GETRANGE y 0 0",
        "OBJECT ENCODING y",
    ],
    // Which commands keep, set or drop the TTL (EXPIRETIME is exact for both).
    &[
        "SET k v EX 100",
        "TTL k",
        "SET k v2 KEEPTTL",
        "TTL k",
        "SET k v3",
        "TTL k",
        "SETEX k 100 v",
        "TTL k",
        "PSETEX k 100000 v",
        "TTL k",
        "SET k 1 EXAT 99999999999",
        "EXPIRETIME k",
        "INCR k",
        "EXPIRETIME k",
        "INCRBYFLOAT k 1.5",
        "EXPIRETIME k",
        "APPEND k x",
        "EXPIRETIME k",
        "SETRANGE k 0 x",
        "EXPIRETIME k",
        "SETBIT k 0 1",
        "EXPIRETIME k",
        "BITFIELD k SET u8 0 1",
        "EXPIRETIME k",
        "SET k v EX 100 GET",
        "TTL k",
        "GETSET k v",
        "TTL k",
        "SET k v PXAT 99999999999999",
        "PEXPIRETIME k",
        "GETEX k PERSIST",
        "TTL k",
        "GETEX k PERSIST",
        "GETEX k EXAT 99999999999",
        "EXPIRETIME k",
        "GETEX k PXAT 99999999999998",
        "PEXPIRETIME k",
        "GETEX k EX 200",
        "TTL k",
        "MSET k v",
        "TTL k",
        "SET k v EX 100",
        "MSETNX k w",
        "TTL k",
        "SET a x",
        "SET k v EX 100",
        "BITOP OR k a",
        "TTL k",
        "SET k v EX 100",
        "SETNX k w",
        "TTL k",
        "SET k v EX 100",
        "SET k w XX",
        "TTL k",
        "SET k v EX 100",
        "SET k w XX KEEPTTL",
        "TTL k",
        "SET k v EX 100",
        "SET k w NX EX 200",
        "TTL k",
        "SET k v EX 100",
        "GETDEL k",
        "TTL k",
    ],
    // WRONGTYPE for every command (needs a list key).
    &[
        "RPUSH l a",
        "GET l",
        "SET l v GET",
        "SET l v EX abc GET",
        "SET l v XX",
        "GETEX l",
        "GETEX l EX abc",
        "GETDEL l",
        "GETSET l v",
        "MGET l",
        "APPEND l x",
        "STRLEN l",
        "GETRANGE l 0 1",
        "GETRANGE l a 1",
        "SETRANGE l 0 x",
        "SETRANGE l -1 x",
        "SETRANGE l 0 \"\"",
        "INCR l",
        "INCRBY l x",
        "DECRBY l 1",
        "INCRBYFLOAT l 1",
        "INCRBYFLOAT l x",
        "LCS l l",
        "LCS l nokey LEN IDX",
        "SETBIT l 0 1",
        "SETBIT l x 1",
        "GETBIT l 0",
        "BITCOUNT l",
        "BITCOUNT l a b",
        "BITPOS l 1",
        "BITPOS l 2",
        "BITOP AND d l",
        "BITOP NOT d l",
        "BITFIELD l GET u8 0",
        "BITFIELD l SET u8 0 1",
        "BITFIELD l SET u8 0 x",
        "BITFIELD_RO l GET u8 0",
        "SETNX l v",
        "MSETNX l v",
        "MSET l v",
        "GET l",
    ],
];

/// Scenarios for the bitmap commands.
const BIT_SCENARIOS: &[&[&str]] = &[
    // SETBIT / GETBIT.
    &[
        "SETBIT k 7 1",
        "GET k",
        "SETBIT k 7 0",
        "SETBIT k 100 1",
        "STRLEN k",
        "GETBIT k 100",
        "GETBIT k 99",
        "GETBIT k 100000",
        "GETBIT nokey 5",
        "SETBIT k -1 1",
        "SETBIT k abc 1",
        "SETBIT k 0 2",
        "SETBIT k 0 -1",
        "SETBIT k 0 abc",
        "SETBIT k abc abc",
        "SETBIT k 4294967296 1",
        "GETBIT k -1",
        "GETBIT k 4294967296",
        "GETBIT k abc",
        "SET n 1",
        "GETBIT n 2",
        "GETBIT n 3",
        "SETBIT n 6 1",
        "GET n",
    ],
    // BITCOUNT.
    &[
        "SET k foobar",
        "BITCOUNT k",
        "BITCOUNT k 0 0",
        "BITCOUNT k 1 1",
        "BITCOUNT k 1 1 BYTE",
        "BITCOUNT k 5 30 BIT",
        "BITCOUNT k 5 30 bit",
        "BITCOUNT k 0 -1 BIT",
        "BITCOUNT k -5 -1 BIT",
        "BITCOUNT k -1 -5",
        "BITCOUNT k -1 -5 FOO",
        "BITCOUNT k 0 1 FOO",
        "BITCOUNT k 0",
        "BITCOUNT k 0 1 BIT extra",
        "BITCOUNT k a 1",
        "BITCOUNT k 1 a",
        "BITCOUNT k -100 100",
        "BITCOUNT k 100 200",
        "BITCOUNT k 7 7 BIT",
        "BITCOUNT k 47 47 BIT",
        "BITCOUNT k 48 48 BIT",
        "BITCOUNT nokey",
        "BITCOUNT nokey 0",
        "BITCOUNT nokey a b c",
        "SET n 12345",
        "BITCOUNT n",
        "BITCOUNT n 1 2",
        "SET e \"\"",
        "BITCOUNT e",
        "BITCOUNT e 0 -1 BIT",
    ],
    // BITPOS.
    &[
        "SET k \"\\xff\\xf0\\x00\"",
        "BITPOS k 0",
        "BITPOS k 1",
        "BITPOS k 1 2",
        "BITPOS k 0 0 0",
        "BITPOS k 0 0 -1",
        "BITPOS k 0 3",
        "BITPOS k 1 3",
        "BITPOS k 0 1 BIT",
        "BITPOS k 0 0 7 BIT",
        "BITPOS k 0 0 12 BIT",
        "BITPOS k 1 12 23 BIT",
        "BITPOS k 1 5 6 BIT",
        "BITPOS k 0 5 6 BIT",
        "BITPOS k 0 -3 -1 BIT",
        "BITPOS k 1 0 -1 bit",
        "BITPOS k 0 0 -1 BYTE",
        "BITPOS k 0 0 -1 FOO",
        "BITPOS k 2",
        "BITPOS k -1",
        "BITPOS k abc",
        "BITPOS k 1 a",
        "BITPOS k 1 0 a",
        "BITPOS k 1 0 1 BIT x",
        "BITPOS nokey 0",
        "BITPOS nokey 1",
        "BITPOS nokey 1 a b c",
        "BITPOS nokey 2",
        "SET ones \"\\xff\\xff\\xff\"",
        "BITPOS ones 0",
        "BITPOS ones 0 0 -1",
        "BITPOS ones 0 1",
        "BITPOS ones 0 0 100 BIT",
        "BITPOS ones 1 -1 -2",
        "SET zeros \"\\x00\\x00\"",
        "BITPOS zeros 1",
        "BITPOS zeros 0",
        "SET e \"\"",
        "BITPOS e 0",
        "BITPOS e 1",
        "BITPOS e 0 0 -1",
        "SET n 12",
        "BITPOS n 1",
        "BITPOS n 0 1",
    ],
    // BITOP.
    &[
        "SET a \"\\xff\\x0f\"",
        "SET b \"\\xf0\"",
        "BITOP AND d a b",
        "GET d",
        "BITOP OR d a b",
        "GET d",
        "BITOP XOR d a b nokey",
        "GET d",
        "BITOP NOT d a",
        "GET d",
        "BITOP NOT d a b",
        "BITOP NOT d",
        "BITOP FOO d a",
        "BITOP and d a",
        "BITOP AND d nokey",
        "EXISTS d",
        "SET d x",
        "BITOP OR d nokey1 nokey2",
        "EXISTS d",
        "SET n 123",
        "BITOP NOT d n",
        "GET d",
        "BITOP AND d",
    ],
    // BITFIELD and BITFIELD_RO.
    &[
        "BITFIELD k SET i8 0 100 GET i8 0",
        "BITFIELD k INCRBY i8 0 100",
        "BITFIELD k OVERFLOW SAT INCRBY i8 0 100",
        "BITFIELD k OVERFLOW FAIL INCRBY i8 0 100",
        "BITFIELD k OVERFLOW WRAP INCRBY i8 0 100 OVERFLOW SAT INCRBY i8 0 100",
        "BITFIELD k SET u8 #1 255 GET u8 8 GET u8 #1",
        "BITFIELD k INCRBY u8 8 10",
        "BITFIELD k OVERFLOW SAT INCRBY u8 8 300 INCRBY u8 8 -1000",
        "BITFIELD k OVERFLOW FAIL SET u8 8 256 SET u8 8 -1 SET i8 0 -129",
        "BITFIELD k OVERFLOW SAT SET u8 8 -1 SET i8 0 -129 SET i8 0 200",
        "BITFIELD k OVERFLOW WRAP SET u8 8 -1 SET i8 0 -129 SET u8 8 300",
        "BITFIELD k SET i64 0 -1 GET i64 0 GET u63 0 GET u1 0 GET i1 0",
        "BITFIELD k INCRBY i64 0 -9223372036854775808",
        "BITFIELD k OVERFLOW SAT INCRBY i64 0 -9223372036854775808",
        "BITFIELD k OVERFLOW FAIL INCRBY i64 0 -1",
        "BITFIELD k SET i64 0 9223372036854775807 INCRBY i64 0 1",
        "BITFIELD k SET u63 3 9223372036854775807 INCRBY u63 3 1 GET u63 3",
        "BITFIELD k GET u5 3 GET i13 7 GET u33 17 GET i60 5",
        "GET k",
        "STRLEN k",
        "BITFIELD k GET u8 1000",
        "BITFIELD k",
        "BITFIELD nokey GET u8 0",
        "EXISTS nokey",
        "BITFIELD nokey OVERFLOW FAIL SET u8 0 1000",
        "EXISTS nokey",
        "STRLEN nokey",
        "BITFIELD k GET u64 0",
        "BITFIELD k GET i65 0",
        "BITFIELD k GET u0 0",
        "BITFIELD k GET U8 0",
        "BITFIELD k GET x8 0",
        "BITFIELD k GET i 0",
        "BITFIELD k GET \"\" 0",
        "BITFIELD k GET u8 -1",
        "BITFIELD k GET u8 abc",
        "BITFIELD k GET u8 #-1",
        "BITFIELD k GET u8 #abc",
        "BITFIELD k GET u8 ##1",
        "BITFIELD k GET u8 4294967296",
        "BITFIELD k GET u8 4294967295",
        "BITFIELD k GET u8 #536870912",
        "BITFIELD k GET i64 #1152921504606846976",
        "BITFIELD k GET u8",
        "BITFIELD k SET u8 0",
        "BITFIELD k SET u8 0 abc",
        "BITFIELD k INCRBY u8 0 1.5",
        "BITFIELD k OVERFLOW",
        "BITFIELD k OVERFLOW FOO GET u8 0",
        "BITFIELD k overflow sat get u8 0",
        "BITFIELD k FOO",
        "BITFIELD k GET u8 0 FOO",
        "BITFIELD k GET u8 0 SET u8 abc 1",
        "BITFIELD_RO k GET u8 0 GET i16 #1",
        "BITFIELD_RO k SET u8 0 1",
        "BITFIELD_RO k INCRBY u8 0 1",
        "BITFIELD_RO k GET u8 0 OVERFLOW SAT",
        "BITFIELD_RO k OVERFLOW FOO",
        "BITFIELD_RO nokey GET u8 0",
        "BITFIELD_RO k",
        "SET n 12",
        "BITFIELD n GET u16 0 GET u8 #2",
        "BITFIELD_RO n GET u16 0",
        "BITFIELD n SET u4 0 15",
        "GET n",
    ],
];

fn check(pair: &mut Pair, scenarios: &[&[&str]], what: &str) {
    let mut skipped = Vec::new();
    let diffs = pair.run(scenarios, &mut skipped);
    for s in &skipped {
        eprintln!("{what}: skipped, our server lacks a command used: {s}");
    }
    assert!(
        diffs.is_empty(),
        "{what}: {} different replies:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn string_commands_resp2() {
    let Some(mut pair) = Pair::start(&[]) else {
        return;
    };
    check(&mut pair, SCENARIOS, "RESP2 strings");
}

#[test]
fn bit_commands_resp2() {
    let Some(mut pair) = Pair::start(&[]) else {
        return;
    };
    check(&mut pair, BIT_SCENARIOS, "RESP2 bits");
}

#[test]
fn string_and_bit_commands_resp3() {
    let Some(mut pair) = Pair::start(&[]) else {
        return;
    };
    if !pair.hello3() {
        eprintln!("RESP3 strings: skipped, our server has no HELLO yet");
        return;
    }
    check(&mut pair, SCENARIOS, "RESP3 strings");
    check(&mut pair, BIT_SCENARIOS, "RESP3 bits");
}

#[test]
fn proto_max_bulk_len_limits() {
    let Some(mut pair) = Pair::start(&["--proto-max-bulk-len", "1mb"]) else {
        return;
    };
    let lines: &[&str] = &[
        "SETRANGE k 1048575 x",
        "SETRANGE k 1048576 x",
        "SETRANGE k 1048575 xy",
        "APPEND k y",
        "SET s 1",
        "SETRANGE s 1048575 x",
        "SETBIT b 8388607 1",
        "SETBIT b 8388608 1",
        "GETBIT b 8388608",
        "BITFIELD b SET u8 8388600 1",
        "BITFIELD b SET u8 8388601 1",
        "BITFIELD b GET u8 #1048576",
        "BITFIELD b GET u8 #1048575",
        "MSET a 1 c 2",
        "LCS a c",
        "SETRANGE a 400 x",
        "SETRANGE c 700 y",
        "LCS a c LEN",
        "SETRANGE c 1000 y",
        "LCS a c LEN",
    ];
    check(&mut pair, &[lines], "proto-max-bulk-len 1mb");
}

/// Random values for the property tests: short, with NUL and high bytes, numbers.
fn random_value(rng: &mut fastrand::Rng) -> Vec<u8> {
    match rng.u8(0..6) {
        0 => rng.i64(-1000..1000).to_string().into_bytes(),
        1 => Vec::new(),
        2 => (0..rng.usize(1..4)).map(|_| rng.u8(..)).collect(),
        3 => (0..rng.usize(1..60)).map(|_| rng.u8(b'a'..=b'e')).collect(),
        4 => rng.i64(..).to_string().into_bytes(),
        _ => (0..rng.usize(1..12))
            .map(|_| *rng.choice(b"\x00\xff\x0f\xf0ab1").expect("non-empty"))
            .collect(),
    }
}

fn random_float(rng: &mut fastrand::Rng) -> String {
    match rng.u8(0..5) {
        0 => format!("{}", rng.i32(-100..100)),
        1 => format!("{}.{}", rng.i32(-100..100), rng.u32(0..1000)),
        2 => format!("{}e{}", rng.i32(-9..9), rng.i32(-5..5)),
        3 => format!("0.{:03}", rng.u32(0..1000)),
        _ => ["0.1", "-0.1", "1e300", "abc", "inf", "0x1p4", "5.0e3"][rng.usize(0..7)].into(),
    }
}

fn random_range(rng: &mut fastrand::Rng, span: i64) -> String {
    format!("{} {}", rng.i64(-span..span), rng.i64(-span..span))
}

fn random_field_type(rng: &mut fastrand::Rng) -> String {
    if rng.bool() {
        format!("i{}", rng.u32(1..=64))
    } else {
        format!("u{}", rng.u32(1..=63))
    }
}

fn random_field_offset(rng: &mut fastrand::Rng) -> String {
    if rng.u8(0..4) == 0 {
        format!("#{}", rng.u32(0..20))
    } else {
        rng.u32(0..300).to_string()
    }
}

fn random_field_value(rng: &mut fastrand::Rng) -> String {
    match rng.u8(0..3) {
        0 => rng.i64(..).to_string(),
        1 => rng.i64(-300..300).to_string(),
        _ => [i64::MAX, i64::MIN, 255, 256, -1, 127, -128][rng.usize(0..7)].to_string(),
    }
}

/// One random command over keys k0..k3.
fn random_command(rng: &mut fastrand::Rng) -> Vec<Vec<u8>> {
    let key = |rng: &mut fastrand::Rng| format!("k{}", rng.u8(0..4)).into_bytes();
    let s = |x: &str| x.as_bytes().to_vec();
    let k = key(rng);
    match rng.u8(0..20) {
        0 => vec![
            s("SETRANGE"),
            k,
            s(&rng.u32(0..64).to_string()),
            random_value(rng),
        ],
        1 => {
            let mut c = vec![s("GETRANGE"), k];
            c.extend(random_range(rng, 80).split(' ').map(s));
            c
        }
        2 => vec![s("APPEND"), k, random_value(rng)],
        3 => vec![
            s("SETBIT"),
            k,
            s(&rng.u32(0..600).to_string()),
            s(&rng.u8(0..2).to_string()),
        ],
        4 => vec![s("GETBIT"), k, s(&rng.u32(0..600).to_string())],
        5 => {
            let mut c = vec![s("BITCOUNT"), k];
            if rng.bool() {
                c.extend(random_range(rng, 600).split(' ').map(s));
                if rng.bool() {
                    c.push(s(if rng.bool() { "BIT" } else { "BYTE" }));
                }
            }
            c
        }
        6 => {
            let mut c = vec![s("BITPOS"), k, s(&rng.u8(0..2).to_string())];
            let extra = rng.u8(0..4);
            if extra >= 1 {
                c.push(s(&rng.i64(-80..80).to_string()));
            }
            if extra >= 2 {
                c.push(s(&rng.i64(-600..600).to_string()));
            }
            if extra >= 3 {
                c.push(s(if rng.bool() { "BIT" } else { "BYTE" }));
            }
            c
        }
        7 | 8 => {
            let ro = rng.u8(0..4) == 0;
            let mut c = vec![s(if ro { "BITFIELD_RO" } else { "BITFIELD" }), k];
            for _ in 0..rng.usize(1..5) {
                match rng.u8(0..4) {
                    0 => c.push(s("GET")),
                    1 => c.push(s("SET")),
                    2 => c.push(s("INCRBY")),
                    _ => {
                        c.push(s("OVERFLOW"));
                        c.push(s(["WRAP", "SAT", "FAIL"][rng.usize(0..3)]));
                        continue;
                    }
                }
                let is_get = c.last().expect("pushed") == b"GET";
                c.push(s(&random_field_type(rng)));
                c.push(s(&random_field_offset(rng)));
                if !is_get {
                    c.push(s(&random_field_value(rng)));
                }
            }
            c
        }
        9 => {
            let op = ["AND", "OR", "XOR", "NOT"][rng.usize(0..4)];
            let mut c = vec![s("BITOP"), s(op), k];
            let n = if op == "NOT" { 1 } else { rng.usize(1..4) };
            for _ in 0..n {
                c.push(key(rng));
            }
            c
        }
        10 => vec![s("GET"), k],
        11 => vec![s("STRLEN"), k],
        12 => vec![s("SET"), k, random_value(rng)],
        13 => vec![s("INCRBY"), k, s(&rng.i64(-100..100).to_string())],
        14 => vec![s("INCRBYFLOAT"), k, s(&random_float(rng))],
        15 => {
            let mut c = vec![s("LCS"), k, key(rng)];
            match rng.u8(0..4) {
                0 => c.push(s("LEN")),
                1 => c.push(s("IDX")),
                2 => c.extend([s("IDX"), s("MINMATCHLEN"), s(&rng.u8(0..4).to_string())]),
                _ => c.extend([s("IDX"), s("WITHMATCHLEN")]),
            }
            c
        }
        16 => vec![s("DEL"), k],
        17 => vec![s("GETSET"), k, random_value(rng)],
        18 => vec![
            s("MSETNX"),
            k,
            random_value(rng),
            key(rng),
            random_value(rng),
        ],
        _ => vec![s("GETDEL"), k],
    }
}

/// Runs 2,000 random commands per seed on both servers (pipelined in batches) and
/// compares every reply and the final values.
fn random_sequences(pair: &mut Pair, seeds: &[u64]) {
    for &seed in seeds {
        let mut rng = fastrand::Rng::with_seed(seed);
        pair.both(&args("FLUSHALL"));
        for _batch in 0..20 {
            let cmds: Vec<Vec<Vec<u8>>> = (0..100).map(|_| random_command(&mut rng)).collect();
            for c in &cmds {
                pair.a.send(c);
                pair.b.send(c);
            }
            for c in &cmds {
                let (ra, rb) = (pair.a.read(), pair.b.read());
                assert_eq!(
                    show(&ra),
                    show(&rb),
                    "seed {seed}: different replies for {:?}",
                    c.iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect::<Vec<_>>()
                );
            }
        }
        for i in 0..4 {
            let get = args(&format!("GET k{i}"));
            let (ra, rb) = pair.both(&get);
            assert_eq!(show(&ra), show(&rb), "seed {seed}: final value of k{i}");
        }
    }
}

#[test]
fn random_string_and_bit_sequences() {
    let Some(mut pair) = Pair::start(&[]) else {
        return;
    };
    random_sequences(&mut pair, &[1, 2, 3]);
}

#[test]
fn random_string_and_bit_sequences_resp3() {
    let Some(mut pair) = Pair::start(&[]) else {
        return;
    };
    if !pair.hello3() {
        eprintln!("RESP3 random sequences: skipped, our server has no HELLO yet");
        return;
    }
    random_sequences(&mut pair, &[4, 5]);
}

#[test]
fn reply_reader_finds_reply_ends() {
    assert_eq!(reply_end(b"+OK\r\n", 0), Some(5));
    assert_eq!(reply_end(b"$3\r\nfoo\r\n", 0), Some(9));
    assert_eq!(reply_end(b"$3\r\nfo", 0), None);
    assert_eq!(reply_end(b"*2\r\n:1\r\n$-1\r\n", 0), Some(13));
    assert_eq!(reply_end(b"%1\r\n+a\r\n:1\r\n", 0), Some(12));
    assert_eq!(reply_end(b"%1\r\n+a\r\n", 0), None);
}
