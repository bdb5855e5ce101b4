/* types.h - fixed-width integer names used across piOS (no libc here). */
#ifndef TYPES_H
#define TYPES_H

#include <stddef.h>   /* size_t, NULL: provided by the compiler, not libc */
#include <stdint.h>   /* likewise freestanding */
#include <stdarg.h>

/* Spelled out rather than uint32_t: arm-none-eabi's uint32_t is `unsigned long`,
 * which would make every "%u"/"%x" of a u32 a format warning. Both are 32 bits. */
typedef unsigned char       u8;
typedef unsigned short      u16;
typedef unsigned int        u32;
typedef unsigned long long  u64;
typedef int                 s32;
typedef long long           s64;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
