/*
 * semihost.h - ending the machine.
 *
 * Under QEMU with -semihosting, the instruction `svc 0x123456` is a request to the
 * emulator rather than a real exception (ARM semihosting spec, "SVC semihosting").
 * The harness uses it to end a test run with an exit status. On a real Pi there is
 * no debugger to answer: the SVC becomes an ordinary SVC exception, and the kernel's
 * vector table (start.S) sends it to a WFI loop, so the board simply stops.
 */
#ifndef SEMIHOST_H
#define SEMIHOST_H

/* End the machine with `status` (QEMU's exit code). Never returns. */
void machine_exit(int status) __attribute__((noreturn));

#endif
