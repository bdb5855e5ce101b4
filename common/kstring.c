/* kstring.c - the C string and memory functions the kernel needs. memset and memcpy
 * store a word at a time where they can (the kernel zeroes 1 KB page tables, 16 KB
 * bitmaps and copies programs page by page: a byte at a time was three quarters of
 * the cost of a new page table); the rest go a byte at a time, simple to read. */
#include "kstring.h"

/* A u32 that may alias any other type: the word loops below store through it into
 * memory the caller may see as bytes or structs. */
typedef u32 __attribute__((may_alias)) word_t;

#define WORD_MASK (sizeof(word_t) - 1)

void *memset(void *dst, int c, size_t n)
{
    u8 *d = dst;
    word_t fill = (u8)c * 0x01010101u;      /* the byte in all four lanes */

    /* Bytes up to a word boundary (the ARM1176 must not store a word unaligned:
     * -mno-unaligned-access), then four words a turn (the loop's own compare and
     * branch paid once per 16 bytes), then single words, then the bytes left. */
    for (; n && ((uintptr_t)d & WORD_MASK); n--)
        *d++ = (u8)c;
    for (; n >= 4 * sizeof(word_t); n -= 4 * sizeof(word_t), d += 4 * sizeof(word_t)) {
        ((word_t *)d)[0] = fill;
        ((word_t *)d)[1] = fill;
        ((word_t *)d)[2] = fill;
        ((word_t *)d)[3] = fill;
    }
    for (; n >= sizeof(word_t); n -= sizeof(word_t), d += sizeof(word_t))
        *(word_t *)d = fill;
    for (; n; n--)
        *d++ = (u8)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    u8 *d = dst;
    const u8 *s = src;

    /* Words only when both can be word-aligned together: the same offset in a word.
     * Otherwise every byte (an ARMv6 word access must be aligned here). */
    if ((((uintptr_t)d ^ (uintptr_t)s) & WORD_MASK) == 0) {
        for (; n && ((uintptr_t)d & WORD_MASK); n--)
            *d++ = *s++;
        for (; n >= sizeof(word_t); n -= sizeof(word_t), d += sizeof(word_t),
             s += sizeof(word_t))
            *(word_t *)d = *(const word_t *)s;
    }
    for (; n; n--)                  /* front to back: memmove relies on it */
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    u8 *d = dst;
    const u8 *s = src;
    if (d < s)
        return memcpy(dst, src, n);     /* front to back never overwrites what it reads next */
    while (n--)                 /* overlap with dst after src: copy from the end */
        d[n] = s[n];
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const u8 *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (u8)*a - (u8)*b;
        if (!*a)
            break;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size) {
        size_t k = n < size - 1 ? n : size - 1;
        memcpy(dst, src, k);
        dst[k] = '\0';
    }
    return n;
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;                  /* larger than any base: "not a digit" */
}

int parse_u32(const char *s, u32 *out)
{
    int negative = 0;
    unsigned base = 10;
    u64 v = 0;

    if (*s == '-' || *s == '+')
        negative = (*s++ == '-');
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16, s += 2;
    else if (s[0] == '0' && s[1])
        base = 8, s++;
    if (!*s)
        return -1;
    for (; *s; s++) {
        unsigned d = (unsigned)digit_value(*s);
        if (d >= base)
            return -1;
        v = v * base + d;
        if (v > 0xFFFFFFFFu)
            return -1;
    }
    if (negative && v > 0x80000000u)
        return -1;              /* below INT32_MIN */
    *out = negative ? (u32)-(s64)v : (u32)v;
    return 0;
}
