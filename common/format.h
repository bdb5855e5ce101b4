/*
 * format.h - the printf formatting core shared by kprintf and ksnprintf.
 *
 * Supported: conversions %d %i %u %x %X %p %s %c %%; flags '-' (left-justify),
 * '0' (zero-pad numbers), '+' and ' ' (sign of %d/%i); a width as digits or '*';
 * length modifiers l and ll. Output matches the C library's printf for all of these
 * (a host-side test compares them on thousands of random cases). A conversion it
 * does not know (or a precision) is copied to the output as written, so a typo
 * shows up instead of silently eating an argument.
 */
#ifndef FORMAT_H
#define FORMAT_H

#include "types.h"

/* Where formatted characters go, one at a time. */
typedef void (*format_out_fn)(char c, void *ctx);

/* Formats `fmt` with `ap`, sending each character to out(c, ctx). Returns the
 * number of characters produced. */
int kvformat(format_out_fn out, void *ctx, const char *fmt, va_list ap);

/* Like vsnprintf/snprintf: writes at most size-1 characters and a NUL (if size > 0);
 * returns the length the whole result would have had. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
