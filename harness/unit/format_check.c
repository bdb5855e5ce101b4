/*
 * format_check.c - compares common/format.c (ksnprintf) with the host C library's
 * snprintf on random cases. Built and run by harness/test_unit_format.py:
 *
 *     gcc -fsanitize=address,undefined ... -I common common/format.c \
 *         harness/unit/format_check.c -lffi -o format_check
 *     ./format_check SEED COUNT
 *
 * Each case is a random format with 1-4 conversions between random literal text, and
 * random arguments of exactly the C types the conversions read. Both functions format
 * it; the outputs (bytes and NUL) and the return values must be equal. Each case is
 * also formatted into short buffers (size 0 with a NULL buffer, 1, and a random size up
 * to the full length + 1), allocated with exactly that size so that AddressSanitizer
 * catches a write past the end, and compared again. A third kind of case checks what
 * format.h promises where printf has nothing to compare with: a conversion format.c
 * does not know is copied to the output as written, and the conversions after it still
 * get their own arguments.
 *
 * On a mismatch it prints the format, the arguments, the expected and the actual output
 * and return value, and exits 1 (after at most MAX_REPORTS mismatches). On success it
 * prints how many cases and calls it compared, and exits 0. The same SEED gives the
 * same cases.
 *
 * Why libffi: a case's argument list is chosen at run time (an int for '*', then a
 * long long, then a char *, ...), and C cannot build a variadic call from a list made
 * at run time. Passing every argument as one type (say long long) and letting va_arg
 * read an int would be undefined behaviour, and would hide exactly the bugs this test
 * is for (reading the wrong size for %ld or %lld). libffi makes a real variadic call
 * with each argument in its own C type, as the ABI passes it.
 *
 * What is not generated, and why (C11 7.21.6.1 unless said otherwise):
 *  - '0' with %s %c %p: undefined ("for other conversions, the behavior is undefined").
 *  - '+' and ' ' with %p: %p's output is implementation-defined, and glibc does print a
 *    sign there; format.c ignores them. (With %u %x %X %s %c they are allowed: they
 *    apply to signed conversions only, so both sides must ignore them.)
 *  - flags or a width with %%: undefined ("the complete conversion specification shall
 *    be %%").
 *  - a precision: format.c does not support one (it copies "%.3d" as written, checked
 *    by the unknown-conversion cases); with %c and %p it would be undefined anyway.
 *  - l/ll with %c %s %p: %lc and %ls are the wide-character conversions, which format.c
 *    does not have; ll with them and l/ll with %p are undefined.
 *  - '#', h, hh, j, z, t, L and the floating-point, %o and %n conversions: not supported
 *    by format.c, so never compared with snprintf.
 *  - widths above 99, and '*' widths outside -99..99: a width of INT_MAX or more makes
 *    glibc fail (EOVERFLOW), and -INT_MIN does not exist; a hundred columns is plenty
 *    to check padding.
 * Included on purpose although C leaves them open, because glibc defines them and
 * format.c promises to print the same: %s of NULL ("(null)") and %p of NULL ("(nil)").
 */
#include <ffi.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

#define MAX_CONVS   4
#define MAX_ARGS    (2 * MAX_CONVS)     /* a '*' width and a value per conversion */
#define MAX_STR     40
#define BIG         4096                /* larger than any output generated here */
#define MAX_REPORTS 10

_Static_assert(sizeof(long long) == 8, "ffi_type_sint64 stands for long long");
_Static_assert(sizeof(size_t) == sizeof(unsigned long), "ffi_type_ulong is size_t");

/* ---- random numbers: splitmix64, so that a seed means the same cases everywhere ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)           /* 0..n-1 (the bias is irrelevant here) */
{
    return rnd() % n;
}

static int chance(int percent)
{
    return (int)below(100) < percent;
}

/* A random 64-bit pattern whose magnitude is spread over all bit lengths, so that
 * small numbers (one digit, padding visible) are as common as huge ones. */
static uint64_t rnd_bits(void)
{
    unsigned bits = (unsigned)below(65);
    return bits == 64 ? rnd() : rnd() & ((1ull << bits) - 1);
}

/* ---- one test case ---------------------------------------------------------------- */

/* The C types a conversion can read, and libffi's name for each. */
enum cls { A_INT, A_UINT, A_LONG, A_ULONG, A_LLONG, A_ULLONG, A_PTR };
static ffi_type *const ffi_of[] = {
    [A_INT] = &ffi_type_sint,    [A_UINT] = &ffi_type_uint,
    [A_LONG] = &ffi_type_slong,  [A_ULONG] = &ffi_type_ulong,
    [A_LLONG] = &ffi_type_sint64, [A_ULLONG] = &ffi_type_uint64,
    [A_PTR] = &ffi_type_pointer,
};

struct arg {
    enum cls cls;
    int is_string;              /* A_PTR read by %s (print it as a string) */
    union {
        int i;
        unsigned u;
        long l;
        unsigned long ul;
        long long ll;
        unsigned long long ull;
        const void *p;
    } v;
};

struct tcase {
    char fmt[512];
    size_t len;
    int nargs;
    struct arg args[MAX_ARGS];
    char strs[MAX_CONVS][MAX_STR + 1];  /* what the %s arguments point to */
    int nstrs;
};

static void put(struct tcase *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n >= sizeof(t->fmt)) {
        fprintf(stderr, "format_check: format buffer too small\n");
        exit(2);
    }
    memcpy(t->fmt + t->len, s, n + 1);
    t->len += n;
}

static struct arg *new_arg(struct tcase *t, enum cls cls)
{
    struct arg *a = &t->args[t->nargs++];
    memset(a, 0, sizeof(*a));
    a->cls = cls;
    return a;
}

/* Literal text: printable ASCII (never '%'), now and then a byte above 0x7F. */
static void gen_literal(struct tcase *t, int maxlen)
{
    char s[16];
    int n = (int)below((uint64_t)maxlen + 1), i;
    for (i = 0; i < n; i++) {
        char c = chance(5) ? (char)(0x80 + below(0x80)) : (char)(' ' + below(95));
        s[i] = c == '%' ? '#' : c;
    }
    s[n] = '\0';
    put(t, s);
}

static void gen_string(struct tcase *t, struct arg *a)
{
    char *s;
    int n, i;
    a->is_string = 1;
    if (chance(10)) {
        a->v.p = NULL;          /* glibc prints "(null)" */
        return;
    }
    s = t->strs[t->nstrs++];
    n = chance(10) ? 0 : (int)below(MAX_STR + 1);
    for (i = 0; i < n; i++)
        s[i] = chance(5) ? (char)(0x80 + below(0x80)) : (char)(' ' + below(95));
    s[n] = '\0';
    a->v.p = s;
}

static void gen_value(struct arg *a)
{
    static const int ints[] = { INT_MIN, INT_MIN + 1, -1, 0, 1, 9, 10, INT_MAX };
    static const unsigned uints[] = { 0, 1, 15, 16, INT_MAX, (unsigned)INT_MAX + 1,
                                      UINT_MAX };
    static const long longs[] = { LONG_MIN, LONG_MIN + 1, (long)INT_MIN - 1, -1, 0,
                                  (long)INT_MAX + 1, LONG_MAX };
    static const unsigned long ulongs[] = { 0, 1, (unsigned long)UINT_MAX + 1,
                                            ULONG_MAX };
    static const long long llongs[] = { LLONG_MIN, LLONG_MIN + 1, -1, 0, LLONG_MAX };
    static const unsigned long long ullongs[] = { 0, 1, ULLONG_MAX, 1ull << 63 };
#define PICK(arr) arr[below(sizeof(arr) / sizeof(arr[0]))]
    int extreme = chance(25);
    uint64_t r = rnd_bits();
    int neg = chance(50);

    switch (a->cls) {
    case A_INT:
        a->v.i = extreme ? PICK(ints) : neg ? -(int)(r & INT_MAX) : (int)(r & INT_MAX);
        break;
    case A_UINT:
        a->v.u = extreme ? PICK(uints) : (unsigned)r;
        break;
    case A_LONG:
        a->v.l = extreme ? PICK(longs) : neg ? -(long)(r & LONG_MAX) : (long)(r & LONG_MAX);
        break;
    case A_ULONG:
        a->v.ul = extreme ? PICK(ulongs) : (unsigned long)r;
        break;
    case A_LLONG:
        a->v.ll = extreme ? PICK(llongs)
                          : neg ? -(long long)(r & LLONG_MAX) : (long long)(r & LLONG_MAX);
        break;
    case A_ULLONG:
        a->v.ull = extreme ? PICK(ullongs) : r;
        break;
    case A_PTR: {                           /* %p: NULL, edge values, anything */
        static const uintptr_t ptrs[] = { 0, 0, 0, 1, 0x8000, UINTPTR_MAX };
        a->v.p = (const void *)(extreme ? PICK(ptrs) : (uintptr_t)r);
        break;
    }
    }
#undef PICK
}

/* One conversion with its flags, width and length, and the arguments it reads. */
static void gen_conversion(struct tcase *t)
{
    static const char convs[] = "diuxXpsc%";
    char conv = convs[below(sizeof(convs) - 1)];
    int numeric = strchr("diuxX", conv) != NULL;
    char spec[32];
    int n = 0, nflags, i;
    struct arg *a;

    if (conv == '%') {          /* flags and widths with %% are undefined */
        put(t, "%%");
        return;
    }
    spec[n++] = '%';
    /* Flags in any order, repeats allowed (C allows "zero or more flags"). */
    nflags = chance(40) ? 0 : (int)below(4) + 1;
    for (i = 0; i < nflags; i++) {
        char f = "-0+ "[below(4)];
        if (f == '0' && !numeric)
            continue;               /* '0' with %s %c %p: undefined */
        if ((f == '+' || f == ' ') && conv == 'p')
            continue;               /* %p's sign handling is implementation-defined */
        spec[n++] = f;
    }
    if (chance(25)) {               /* width from the argument list, maybe negative */
        spec[n++] = '*';
        a = new_arg(t, A_INT);
        a->v.i = chance(20) ? 0 : (int)below(199) - 99;
    } else if (chance(50)) {        /* width as digits: 1..99 (a leading 0 is a flag) */
        n += sprintf(spec + n, "%d", chance(80) ? (int)below(20) + 1 : (int)below(99) + 1);
    }
    if (numeric) {
        int length = (int)below(3);
        for (i = 0; i < length; i++)
            spec[n++] = 'l';
        if (conv == 'd' || conv == 'i')
            a = new_arg(t, length == 0 ? A_INT : length == 1 ? A_LONG : A_LLONG);
        else
            a = new_arg(t, length == 0 ? A_UINT : length == 1 ? A_ULONG : A_ULLONG);
        gen_value(a);
    } else if (conv == 'c') {
        a = new_arg(t, A_INT);      /* any int: printed as (unsigned char)value */
        gen_value(a);
    } else if (conv == 's') {
        gen_string(t, new_arg(t, A_PTR));
    } else {
        gen_value(new_arg(t, A_PTR));
    }
    spec[n++] = conv;
    spec[n] = '\0';
    put(t, spec);
}

static void gen_case(struct tcase *t)
{
    int nconv = (int)below(MAX_CONVS) + 1, i;
    memset(t, 0, sizeof(*t));
    gen_literal(t, 6);
    for (i = 0; i < nconv; i++) {
        gen_conversion(t);
        gen_literal(t, 6);
    }
}

/* ---- calling ksnprintf and snprintf with the case's arguments --------------------- */

typedef int (*snprintf_fn)(char *, size_t, const char *, ...);

static int call(snprintf_fn fn, char *buf, size_t size, const struct tcase *t)
{
    ffi_cif cif;
    ffi_type *types[3 + MAX_ARGS];
    void *values[3 + MAX_ARGS];
    const char *fmt = t->fmt;
    ffi_arg ret;
    int i;

    types[0] = &ffi_type_pointer;
    types[1] = &ffi_type_ulong;
    types[2] = &ffi_type_pointer;
    values[0] = &buf;
    values[1] = &size;
    values[2] = &fmt;
    for (i = 0; i < t->nargs; i++) {
        types[3 + i] = ffi_of[t->args[i].cls];
        values[3 + i] = (void *)&t->args[i].v;
    }
    if (ffi_prep_cif_var(&cif, FFI_DEFAULT_ABI, 3, 3 + (unsigned)t->nargs,
                         &ffi_type_sint, types) != FFI_OK) {
        fprintf(stderr, "format_check: ffi_prep_cif_var failed\n");
        exit(2);
    }
    ffi_call(&cif, FFI_FN(fn), &ret, values);
    return (int)ret;
}

/* ---- reporting -------------------------------------------------------------------- */

static void print_escaped(const char *s, size_t n)
{
    size_t i;
    putchar('"');
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c >= ' ' && c < 0x7F)
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    putchar('"');
}

static void print_args(const struct tcase *t)
{
    int i;
    printf("  args:");
    for (i = 0; i < t->nargs; i++) {
        const struct arg *a = &t->args[i];
        putchar(' ');
        switch (a->cls) {
        case A_INT:    printf("(int)%d", a->v.i); break;
        case A_UINT:   printf("(unsigned)%u", a->v.u); break;
        case A_LONG:   printf("(long)%ld", a->v.l); break;
        case A_ULONG:  printf("(unsigned long)%lu", a->v.ul); break;
        case A_LLONG:  printf("(long long)%lld", a->v.ll); break;
        case A_ULLONG: printf("(unsigned long long)%llu", a->v.ull); break;
        case A_PTR:
            if (!a->v.p)
                printf(a->is_string ? "(char *)NULL" : "(void *)NULL");
            else if (a->is_string)
                print_escaped(a->v.p, strlen(a->v.p));
            else
                printf("(void *)0x%jx", (uintmax_t)(uintptr_t)a->v.p);
            break;
        }
        if (i + 1 < t->nargs)
            putchar(',');
    }
    putchar('\n');
}

static int mismatches;

static void report(const char *what, const struct tcase *t, size_t size,
                   const char *exp, int exp_len, int exp_ret,
                   const char *got, int got_len, int got_ret)
{
    mismatches++;
    if (mismatches > MAX_REPORTS)
        return;
    printf("MISMATCH (%s)\n  format: ", what);
    print_escaped(t->fmt, strlen(t->fmt));
    printf("\n");
    print_args(t);
    if (size != (size_t)-1)
        printf("  buffer size: %zu\n", size);
    printf("  expected (host snprintf): ");
    print_escaped(exp, (size_t)exp_len);
    printf(" returns %d\n  got      (ksnprintf):     ", exp_ret);
    print_escaped(got, (size_t)got_len);
    printf(" returns %d\n", got_ret);
}

/* ---- the checks ------------------------------------------------------------------- */

static long calls;

/* Format into a buffer of exactly `size` bytes (NULL when size is 0) with both, and
 * compare the return values and all `size` bytes (they start out equal). */
static void check_size(const struct tcase *t, size_t size, int full_len)
{
    char *exp = size ? malloc(size) : NULL, *got = size ? malloc(size) : NULL;
    int exp_ret, got_ret, shown;

    if (size) {
        memset(exp, 0x5A, size);
        memset(got, 0x5A, size);
    }
    exp_ret = call((snprintf_fn)snprintf, exp, size, t);
    got_ret = call(ksnprintf, got, size, t);
    calls++;
    if (exp_ret != full_len) {
        fprintf(stderr, "format_check: snprintf returned %d with size %zu, %d in full\n",
                exp_ret, size, full_len);
        exit(2);
    }
    if (got_ret != exp_ret || (size && memcmp(exp, got, size) != 0)) {
        shown = (int)size;
        report("truncated", t, size, exp ? exp : "", shown, exp_ret,
               got ? got : "", shown, got_ret);
    }
    free(exp);
    free(got);
}

static void check_case(const struct tcase *t)
{
    static char exp[BIG], got[BIG];
    int exp_ret, got_ret;

    memset(exp, 0x5A, sizeof(exp));
    memset(got, 0x5A, sizeof(got));
    exp_ret = call((snprintf_fn)snprintf, exp, sizeof(exp), t);
    got_ret = call(ksnprintf, got, sizeof(got), t);
    calls++;
    if (exp_ret < 0 || exp_ret >= BIG) {
        fprintf(stderr, "format_check: snprintf returned %d: the generator is wrong\n",
                exp_ret);
        exit(2);
    }
    if (got_ret != exp_ret || memcmp(exp, got, (size_t)exp_ret + 1) != 0) {
        report("full buffer", t, (size_t)-1, exp, exp_ret, exp_ret, got,
               got_ret >= 0 && got_ret < BIG ? got_ret : 0, got_ret);
        return;                 /* the truncated forms would only repeat it */
    }
    check_size(t, 0, exp_ret);
    check_size(t, 1, exp_ret);
    check_size(t, (size_t)below((uint64_t)exp_ret + 1) + 1, exp_ret);
}

/* format.h: "A conversion it does not know (or a precision) is copied to the output as
 * written". There is nothing to compare with here (printf knows other conversions, or
 * leaves them undefined), so the expected text is built from the pieces: literal, the
 * unknown specification exactly as written, literal, then a %d that must still print
 * its own argument. Also a lone '%' (with flags, width, length) at the end. */
static void check_unknown(void)
{
    /* Characters that end a specification and that format.c does not know. Not '*'
     * (it reads an argument), not flags, digits or 'l' (they continue the spec). */
    static const char unknown[] = "oeEfFgGaAnbBhjztLqkwyrvKYZ#.'!&~/:,;=?@[]^_{}|";
    struct tcase t;
    char spec[32], exp[BIG], got[BIG], num[16];
    int n = 0, i, nflags, got_ret, exp_len, at_end = chance(20);

    memset(&t, 0, sizeof(t));
    gen_literal(&t, 6);
    spec[n++] = '%';
    nflags = (int)below(3);
    for (i = 0; i < nflags; i++)
        spec[n++] = "-0+ "[below(4)];
    if (chance(50))
        n += sprintf(spec + n, "%d", (int)below(99) + 1);
    for (i = (int)below(3); i > 0; i--)
        spec[n++] = 'l';
    if (!at_end) {
        spec[n++] = unknown[below(sizeof(unknown) - 1)];
        if (spec[n - 1] == '.')     /* a precision: "%5.3d" is copied whole */
            n += sprintf(spec + n, "%dd", (int)below(10));
    }
    spec[n] = '\0';
    put(&t, spec);
    if (!at_end) {
        gen_literal(&t, 6);
        put(&t, "%d");
        gen_value(new_arg(&t, A_INT));
    }
    memcpy(exp, t.fmt, t.len + 1);
    exp_len = (int)t.len;
    if (!at_end) {
        exp_len -= 2;               /* the "%d" becomes the number */
        exp_len += sprintf(num, "%d", t.args[0].v.i);
        strcpy(exp + t.len - 2, num);
    }
    got_ret = call(ksnprintf, got, sizeof(got), &t);
    calls++;
    if (got_ret != exp_len || strcmp(got, exp) != 0)
        report("unknown conversion: copied as written", &t, (size_t)-1, exp, exp_len,
               exp_len, got, got_ret >= 0 && got_ret < BIG ? got_ret : 0, got_ret);
}

int main(int argc, char **argv)
{
    struct tcase t;
    long count, i;
    char *end;

    if (argc != 3) {
        fprintf(stderr, "usage: %s SEED COUNT\n", argv[0]);
        return 2;
    }
    rng_state = strtoull(argv[1], &end, 0);
    count = strtol(argv[2], NULL, 0);
    if (*end || count <= 0) {
        fprintf(stderr, "usage: %s SEED COUNT (numbers)\n", argv[0]);
        return 2;
    }
    for (i = 0; i < count; i++) {
        if (i % 10 == 9) {
            check_unknown();
        } else {
            gen_case(&t);
            check_case(&t);
        }
    }
    if (mismatches) {
        printf("format_check: seed %s: %d mismatches in %ld cases%s\n", argv[1],
               mismatches, count, mismatches > MAX_REPORTS ? " (first ones shown)" : "");
        return 1;
    }
    printf("format_check: seed %s: %ld cases OK (%ld calls compared)\n", argv[1], count,
           calls);
    return 0;
}
