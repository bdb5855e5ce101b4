/*
 * kstring.h - the few C string and memory functions the kernel needs. They keep the
 * standard names because gcc itself may emit calls to memset/memcpy (for a struct
 * copy or a zeroed array) even in freestanding code.
 */
#ifndef KSTRING_H
#define KSTRING_H

#include "types.h"

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

/* Copy at most size-1 bytes of src and a NUL (if size > 0); returns strlen(src), so
 * a result >= size means src was cut. (BSD's strlcpy.) */
size_t strlcpy(char *dst, const char *src, size_t size);

/* Parse a C-style integer: optional sign, then decimal, 0x hex or 0 octal digits.
 * Returns 0 and stores the value (wrapped to 32 bits) on success, -1 if `s` is not
 * entirely a number or does not fit in 32 bits (signed or unsigned). */
int parse_u32(const char *s, u32 *out);

#endif
