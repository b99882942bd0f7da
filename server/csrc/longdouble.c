/* C `long double` arithmetic for the server, which Rust has no type for.
 *
 * Redis does INCRBYFLOAT (and HINCRBYFLOAT) in long double: it parses with strtold and
 * prints with "%.17Lf". To give the very same digits we do the same operations with
 * the C library here. Values cross the FFI boundary as opaque 16-byte blobs. */

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(long double) <= 16, "long double must fit the 16-byte blob");

/* Longest text accepted as a number, as Redis's MAX_LONG_DOUBLE_CHARS. */
#define LD_MAX_CHARS (5 * 1024)

static long double ld_get(const unsigned char *blob) {
    long double v;
    memcpy(&v, blob, sizeof(v));
    return v;
}

static void ld_put(unsigned char *blob, long double v) {
    memset(blob, 0, 16);
    memcpy(blob, &v, sizeof(v));
}

/* Parses exactly `len` bytes. Returns 1 and stores the value on success; 0 when the
 * text is not a finite-or-infinite number as Redis accepts it (empty, too long,
 * leading space, trailing bytes, overflow to infinity, underflow to zero, NaN). */
int rs_ld_parse(const char *s, size_t len, unsigned char *out) {
    char buf[LD_MAX_CHARS];
    char *end;
    long double v;

    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (isspace((unsigned char)buf[0])) return 0;
    errno = 0;
    v = strtold(buf, &end);
    if (*end != '\0' || (size_t)(end - buf) != len) return 0;
    if (errno == ERANGE && (isinf(v) || v == 0)) return 0;
    if (errno == EINVAL || isnan(v)) return 0;
    ld_put(out, v);
    return 1;
}

/* out = (long double)n, exact for every 64-bit integer. */
void rs_ld_from_i64(long long n, unsigned char *out) {
    ld_put(out, (long double)n);
}

/* out = a + b; returns 1 if the sum is finite, 0 for NaN or an infinity. */
int rs_ld_add(const unsigned char *a, const unsigned char *b, unsigned char *out) {
    long double r = ld_get(a) + ld_get(b);
    ld_put(out, r);
    return !(isnan(r) || isinf(r));
}

/* Writes the "human" form Redis uses ("%.17Lf", then trailing zeros and a trailing
 * dot removed, "-0" shown as "0"). Returns the length, or 0 if it does not fit. */
size_t rs_ld_format_human(const unsigned char *a, char *buf, size_t cap) {
    long double v = ld_get(a);
    int n;
    size_t l;

    if (isinf(v)) {
        const char *t = v > 0 ? "inf" : "-inf";
        l = strlen(t);
        if (l + 1 > cap) return 0;
        memcpy(buf, t, l + 1);
        return l;
    }
    n = snprintf(buf, cap, "%.17Lf", v);
    if (n < 0 || (size_t)n + 1 > cap) return 0;
    l = (size_t)n;
    if (memchr(buf, '.', l) != NULL) {
        while (l > 0 && buf[l - 1] == '0') l--;
        if (l > 0 && buf[l - 1] == '.') l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    buf[l] = '\0';
    return l;
}
