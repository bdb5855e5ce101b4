/*
 * stubs/kprintf.h - the host's stand-in for a lesson's kprintf.h, for the host unit
 * tests (harness/test_unit_pmm.py). Kernel code that prints (a shell command, an
 * error report) compiles unchanged on the host and prints with the C library.
 *
 * The test copies the lesson's .c file into a directory of its own before compiling
 * it: a quoted #include looks first in the including file's own directory, so in
 * place the lesson's real kprintf.h would win over this one whatever -I says.
 */
#ifndef KPRINTF_H
#define KPRINTF_H

#include <stdio.h>

#include "types.h"

#define kprintf printf
#define kvprintf vprintf

#endif
