/*
 * ulib.c - the user library: one function per system call, each with its own
 * `svc #N` (the number lives in the instruction), and printf on top of write.
 */
#include "ulib.h"
#include "format.h"         /* the same formatting core the kernel uses */

/* svc #n with up to four arguments; the result comes back in r0. The SVC
 * instruction is taken in USR mode, so no register but r0 changes. */
#define SVC4(n, a, b, c, d) ({                                                  \
    register u32 r0 __asm__("r0") = (u32)(a);                                   \
    register u32 r1 __asm__("r1") = (u32)(b);                                   \
    register u32 r2 __asm__("r2") = (u32)(c);                                   \
    register u32 r3 __asm__("r3") = (u32)(d);                                   \
    __asm__ volatile("svc %[num]" : "+r"(r0)                                    \
                     : [num] "i"(n), "r"(r1), "r"(r2), "r"(r3) : "memory");     \
    (int)r0; })

void exit(int status)
{
    SVC4(SYS_EXIT, status, 0, 0, 0);
    for (;;)
        ;                   /* not reached: the kernel never returns from exit */
}

int write(int fd, const void *buf, int len) { return SVC4(SYS_WRITE, fd, buf, len, 0); }
int read(int fd, void *buf, int len) { return SVC4(SYS_READ, fd, buf, len, 0); }
int getpid(void) { return SVC4(SYS_GETPID, 0, 0, 0, 0); }
int sleep(int ms) { return SVC4(SYS_SLEEP, ms, 0, 0, 0); }
void *sbrk(int increment) { return (void *)SVC4(SYS_SBRK, increment, 0, 0, 0); }
int wait(int pid, int *status) { return SVC4(SYS_WAIT, pid, status, 0, 0); }
int spawn(const char *name, const char *const *argv) { return SVC4(SYS_SPAWN, name, argv, 0, 0); }
int yield(void) { return SVC4(SYS_YIELD, 0, 0, 0, 0); }
u32 time_us(void) { return (u32)SVC4(SYS_TIME, 0, 0, 0, 0); }
int kill(int pid) { return SVC4(SYS_KILL, pid, 0, 0, 0); }

/* Any call number at run time: a switch with one svc per number (the number must
 * be an immediate), and one unknown number for everything else. */
int syscall4(int n, u32 a, u32 b, u32 c, u32 d)
{
    switch (n) {
    case 0: return SVC4(0, a, b, c, d);
    case 1: return SVC4(1, a, b, c, d);
    case 2: return SVC4(2, a, b, c, d);
    case 3: return SVC4(3, a, b, c, d);
    case 4: return SVC4(4, a, b, c, d);
    case 5: return SVC4(5, a, b, c, d);
    case 6: return SVC4(6, a, b, c, d);
    case 7: return SVC4(7, a, b, c, d);
    case 8: return SVC4(8, a, b, c, d);
    case 9: return SVC4(9, a, b, c, d);
    case 10: return SVC4(10, a, b, c, d);
    default: return SVC4(0xBAD, a, b, c, d);
    }
}

/* printf formats into a buffer and writes it with one system call, so that lines
 * of two processes never interleave within a line. */
struct out {
    char buf[256];
    int len;
};

static void out_char(char c, void *ctx)
{
    struct out *o = ctx;
    if (o->len == (int)sizeof(o->buf)) {
        write(STDOUT, o->buf, o->len);
        o->len = 0;
    }
    o->buf[o->len++] = c;
}

int printf(const char *fmt, ...)
{
    struct out o = { .len = 0 };
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = kvformat(out_char, &o, fmt, ap);
    va_end(ap);
    if (o.len)
        write(STDOUT, o.buf, o.len);
    return n;
}

int strlen(const char *s)
{
    int n = 0;
    while (s[n])
        n++;
    return n;
}

unsigned long strtoul(const char *s, int base)
{
    unsigned long v = 0;
    if (base == 0) {
        base = 10;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
            base = 16, s += 2;
    }
    for (;; s++) {
        int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 :
                *s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : 99;
        if (d >= base)
            return v;
        v = v * (unsigned long)base + (unsigned long)d;
    }
}

int atoi(const char *s)
{
    return *s == '-' ? -(int)strtoul(s + 1, 0) : (int)strtoul(s, 0);
}

/* The compiler may call these itself (to clear a struct, to copy one). */
void *memset(void *dst, int c, unsigned int n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

void *memcpy(void *dst, const void *src, unsigned int n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}
