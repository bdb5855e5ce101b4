/* panic.h - stopping the kernel when something that must not happen did. */
#ifndef PANIC_H
#define PANIC_H

#include "types.h"

#define PANIC_EXIT_STATUS   1   /* QEMU's exit status after a panic */

/* The registers as saved at a panic (and, from lesson 03, at an exception). */
struct regs {
    u32 r[13];      /* r0-r12 */
    u32 sp, lr, pc;
    u32 cpsr;
};

void regs_dump(const struct regs *regs);

/* Print "PANIC: " and the message, dump the registers, end the machine. */
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
