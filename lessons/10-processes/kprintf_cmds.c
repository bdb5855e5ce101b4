/*
 * kprintf_cmds.c - the shell command printf FORMAT [ARG...].
 *
 * Lets a test compare kprintf with the host's printf on values it chose. C cannot
 * build a va_list at run time, so the format is cut into pieces of one conversion
 * each, and each piece is formatted with its argument cast to the type that the
 * conversion and its length modifier ask for.
 */
#include "kprintf.h"
#include "kstring.h"
#include "shell.h"

#define PRINTF_OUT_MAX  512
#define PRINTF_SPEC_MAX 32

struct printf_state {
    char out[PRINTF_OUT_MAX];
    size_t used;
    char **args;
    int nargs;
};

static void append(struct printf_state *st, const char *fmt, ...)
{
    va_list ap;
    size_t room = sizeof(st->out) - st->used;

    va_start(ap, fmt);
    int n = kvsnprintf(st->out + st->used, room, fmt, ap);
    va_end(ap);
    st->used += (size_t)n < room ? (size_t)n : room - 1;
}

static int next_number(struct printf_state *st, char conv, u32 *v)
{
    if (st->nargs == 0) {
        kprintf("error: printf: missing argument for %%%c\n", conv);
        return -1;
    }
    if (parse_u32(*st->args, v) != 0) {
        kprintf("error: printf: '%s' is not a number\n", *st->args);
        return -1;
    }
    st->args++, st->nargs--;
    return 0;
}

/* Format one conversion `spec` ("%-08lx", NUL-terminated) into st->out. */
static int format_one(struct printf_state *st, const char *spec, char conv, int longs)
{
    u32 v = 0, width = 0;
    int star = strchr(spec, '*') != NULL;

    if (star && next_number(st, '*', &width) != 0)
        return -1;
    if (conv == 's') {
        if (st->nargs == 0)
            return next_number(st, 's', &v);    /* reports the missing argument */
        if (star)
            append(st, spec, (int)width, *st->args);
        else
            append(st, spec, *st->args);
        st->args++, st->nargs--;
        return 0;
    }
    if (next_number(st, conv, &v) != 0)
        return -1;
    /* One call per argument type: what the conversion reads must be what we pass. */
#define FORMAT_ARG(x) (star ? append(st, spec, (int)width, x) : append(st, spec, x))
    if (conv == 'p')
        FORMAT_ARG((void *)(uintptr_t)v);
    else if (conv == 'c')
        FORMAT_ARG((int)v);
    else if (conv == 'd' || conv == 'i')
        longs == 2 ? FORMAT_ARG((long long)(s32)v)
                   : longs == 1 ? FORMAT_ARG((long)(s32)v) : FORMAT_ARG((int)v);
    else
        longs == 2 ? FORMAT_ARG((unsigned long long)v)
                   : longs == 1 ? FORMAT_ARG((unsigned long)v) : FORMAT_ARG((unsigned)v);
#undef FORMAT_ARG
    return 0;
}

/* Copy the conversion starting at fmt ('%') into spec; return its length. */
static int take_spec(const char *fmt, char *spec, char *conv, int *longs)
{
    int n = 1;
    while (fmt[n] && strchr("-0+ ", fmt[n]))
        n++;
    if (fmt[n] == '*')
        n++;
    while (fmt[n] >= '0' && fmt[n] <= '9')
        n++;
    for (*longs = 0; fmt[n] == 'l'; n++)
        ++*longs;
    *conv = fmt[n];
    if (fmt[n])
        n++;
    if (n >= PRINTF_SPEC_MAX)
        return -1;
    memcpy(spec, fmt, (size_t)n);
    spec[n] = '\0';
    return n;
}

static int cmd_printf(int argc, char **argv, const char *args)
{
    static struct printf_state st;
    const char *fmt;
    (void)args;

    if (argc < 2) {
        kprintf("usage: printf FORMAT [ARG...]\n");
        return -1;
    }
    st.used = 0;
    st.out[0] = '\0';
    st.args = argv + 2;
    st.nargs = argc - 2;
    for (fmt = argv[1]; *fmt;) {
        char spec[PRINTF_SPEC_MAX], conv;
        int longs, n;

        if (*fmt != '%') {
            append(&st, "%c", *fmt++);
            continue;
        }
        n = take_spec(fmt, spec, &conv, &longs);
        if (n < 0) {
            kprintf("error: printf: conversion too long\n");
            return -1;
        }
        fmt += n;
        if (conv && strchr("diuxXpsc", conv)) {
            if (format_one(&st, spec, conv, longs) != 0)
                return -1;
        } else {
            append(&st, strchr(spec, '*') ? "%s" : spec, spec); /* %%, unknown ones */
        }
    }
    kprintf("%s\n", st.out);
    return 0;
}
SHELL_COMMAND(printf, "FORMAT [ARG...]", "kprintf FORMAT with numbers/strings", cmd_printf);
