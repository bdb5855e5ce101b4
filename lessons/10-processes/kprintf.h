/* kprintf.h - formatted output on the console. Formats: see common/format.h. */
#ifndef KPRINTF_H
#define KPRINTF_H

#include "format.h"

int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char *fmt, va_list ap);

#endif
