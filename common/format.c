/* format.c - the printf formatting core. No hardware here: the same file is
 * compiled for the host and tested against its printf (harness/unit). */
#include "format.h"

#define FORMAT_WIDTH_MAX 4096       /* wider fields are cut to this */

/* One conversion's flags and width, parsed from "%-08lx". */
struct spec {
    int left;       /* '-' */
    int zero;       /* '0' */
    int plus;       /* '+' */
    int space;      /* ' ' */
    int width;
    int length;     /* number of 'l's: 0, 1 or 2 */
};

struct sink {
    format_out_fn out;
    void *ctx;
    int count;
};

static void emit(struct sink *s, char c)
{
    s->out(c, s->ctx);
    s->count++;
}

static void emit_n(struct sink *s, char c, int n)
{
    while (n-- > 0)
        emit(s, c);
}

static void emit_str(struct sink *s, const char *str, int len)
{
    while (len-- > 0)
        emit(s, *str++);
}

/* Write `body` (len chars) preceded by `prefix` ("-", "0x", ...) padded to the
 * width: spaces before the prefix, zeros between prefix and body, or spaces after. */
static void emit_padded(struct sink *s, const struct spec *sp, const char *prefix,
                        const char *body, int len, int zero_ok)
{
    int plen = 0, pad;
    while (prefix[plen])
        plen++;
    pad = sp->width - plen - len;
    if (!sp->left && !(sp->zero && zero_ok))
        emit_n(s, ' ', pad);
    emit_str(s, prefix, plen);
    if (!sp->left && sp->zero && zero_ok)
        emit_n(s, '0', pad);
    emit_str(s, body, len);
    if (sp->left)
        emit_n(s, ' ', pad);
}

/* Digits of v in base 10 or 16, written backwards from the end of buf[24]. Returns
 * the first digit. A u64 has at most 20 decimal digits. */
static char *utoa(u64 v, unsigned base, int upper, char *end)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;
    do {
        *--p = digits[v % base];
        v /= base;
    } while (v);
    return p;
}

static void emit_number(struct sink *s, const struct spec *sp, char conv, u64 uv, int neg)
{
    char buf[24], *end = buf + sizeof(buf), *p;
    const char *prefix = "";
    unsigned base = (conv == 'x' || conv == 'X' || conv == 'p') ? 16 : 10;

    p = utoa(uv, base, conv == 'X', end);
    if (neg)
        prefix = "-";
    else if (conv == 'd' && sp->plus)
        prefix = "+";
    else if (conv == 'd' && sp->space)
        prefix = " ";
    else if (conv == 'p')
        prefix = "0x";
    emit_padded(s, sp, prefix, p, (int)(end - p), 1);
}

/* Fetch a signed argument of the size the length modifier says and split it into
 * magnitude and sign (the magnitude of INT_MIN does not fit a signed type). */
static u64 signed_arg(va_list *ap, int length, int *neg)
{
    s64 v;
    if (length >= 2)
        v = va_arg(*ap, long long);
    else if (length == 1)
        v = va_arg(*ap, long);
    else
        v = va_arg(*ap, int);
    *neg = v < 0;
    return *neg ? (u64)0 - (u64)v : (u64)v;
}

static u64 unsigned_arg(va_list *ap, int length)
{
    if (length >= 2)
        return va_arg(*ap, unsigned long long);
    if (length == 1)
        return va_arg(*ap, unsigned long);
    return va_arg(*ap, unsigned int);
}

/* Parse flags, width and length after a '%'. Returns a pointer to the conversion
 * character. */
static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
    *sp = (struct spec){0};
    for (;; f++) {
        if (*f == '-')
            sp->left = 1;
        else if (*f == '0')
            sp->zero = 1;
        else if (*f == '+')
            sp->plus = 1;
        else if (*f == ' ')
            sp->space = 1;
        else
            break;
    }
    if (*f == '*') {
        int w = va_arg(*ap, int);
        if (w < 0) {                /* C: a negative '*' width means '-' */
            sp->left = 1;
            w = w < -FORMAT_WIDTH_MAX ? FORMAT_WIDTH_MAX : -w;
        }
        sp->width = w > FORMAT_WIDTH_MAX ? FORMAT_WIDTH_MAX : w;
        f++;
    }
    while (*f >= '0' && *f <= '9') {
        sp->width = sp->width * 10 + (*f++ - '0');
        if (sp->width > FORMAT_WIDTH_MAX)
            sp->width = FORMAT_WIDTH_MAX;   /* no int overflow on absurd widths */
    }
    while (*f == 'l' && sp->length < 2)
        sp->length++, f++;
    return f;
}

/* Handle one conversion; returns 0 if `conv` is not one we know. */
static int convert(struct sink *s, const struct spec *sp, char conv, va_list *ap)
{
    int neg = 0;
    char c;
    const char *str;

    switch (conv) {
    case 'd': case 'i': {
        u64 magnitude = signed_arg(ap, sp->length, &neg);   /* sets neg first */
        emit_number(s, sp, 'd', magnitude, neg);
        return 1;
    }
    case 'u': case 'x': case 'X':
        emit_number(s, sp, conv, unsigned_arg(ap, sp->length), 0);
        return 1;
    case 'p': {
        uintptr_t v = (uintptr_t)va_arg(*ap, void *);
        if (v)
            emit_number(s, sp, 'p', v, 0);
        else                        /* what glibc prints, so tests can compare */
            emit_padded(s, sp, "", "(nil)", 5, 0);
        return 1;
    }
    case 's':
        str = va_arg(*ap, const char *);
        if (!str)
            str = "(null)";
        emit_padded(s, sp, "", str, (int)__builtin_strlen(str), 0);
        return 1;
    case 'c':
        c = (char)va_arg(*ap, int);
        emit_padded(s, sp, "", &c, 1, 0);
        return 1;
    case '%':
        emit(s, '%');
        return 1;
    }
    return 0;
}

int kvformat(format_out_fn out, void *ctx, const char *fmt, va_list ap)
{
    struct sink s = { out, ctx, 0 };
    struct spec sp;
    va_list args;

    va_copy(args, ap);
    while (*fmt) {
        const char *start = fmt, *conv;
        if (*fmt != '%') {
            emit(&s, *fmt++);
            continue;
        }
        conv = parse_spec(fmt + 1, &sp, &args);
        if (*conv && convert(&s, &sp, *conv, &args)) {
            fmt = conv + 1;
            continue;
        }
        /* Unknown conversion: show it as written, consume nothing more. */
        emit_str(&s, start, (int)(conv - start));
        fmt = conv;
    }
    va_end(args);
    return s.count;
}

struct buffer {
    char *buf;
    size_t size;
    size_t used;
};

static void buffer_out(char c, void *ctx)
{
    struct buffer *b = ctx;
    if (b->used + 1 < b->size)
        b->buf[b->used] = c;
    b->used++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buffer b = { buf, size, 0 };
    int n = kvformat(buffer_out, &b, fmt, ap);
    if (size)
        buf[b.used < size ? b.used : size - 1] = '\0';
    return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
