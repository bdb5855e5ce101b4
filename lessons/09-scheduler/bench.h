/*
 * bench.h - the `bench` command: what the kernel's paths cost (bench.c).
 */
#ifndef BENCH_H
#define BENCH_H

#include "types.h"

/* Note the time the boot reached the shell (kernel.c, just before shell_run()). */
void bench_boot_done(void);

#endif
