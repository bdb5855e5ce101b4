/*
 * kernel.c - lesson 04: set up the UART, the exception model and interrupts,
 * report the boot, run the shell.
 *
 * The boot report keeps lesson 01's proofs (where _start was linked, the CPU mode,
 * .bss cleared) and adds what the UART driver chose.
 */
#include "arm.h"
#include "bench.h"
#include "board.h"
#include "exceptions.h"
#include "irq.h"
#include "kprintf.h"
#include "shell.h"
#include "uart.h"

extern char _start[], __bss_start[], __bss_end[], __kernel_end[];

static u32 count_nonzero_bss_words(void)
{
    u32 n = 0;
    for (volatile u32 *p = (u32 *)__bss_start; p < (u32 *)__bss_end; p++)
        if (*p)
            n++;
    return n;
}

static void report_boot(u32 bss_nonzero)
{
    const struct uart_config *uc = uart_config();
    u32 cpsr = read_cpsr();

    kprintf("kernel: 0x%08x-0x%08x\n", (u32)_start, (u32)__kernel_end);
    kprintf("mode: %s cpsr=0x%08x\n",
            (cpsr & CPSR_MODE_MASK) == CPSR_MODE_SVC ? "SVC" : "not SVC", cpsr);
    kprintf("bss: 0x%08x-0x%08x\n", (u32)__bss_start, (u32)__bss_end);
    if (bss_nonzero)
        kprintf("bss: NOT ZERO, non-zero words: %u\n", bss_nonzero);
    else
        kprintf("bss: all zero\n");
    kprintf("uart: %u baud, clock %u Hz (%s), IBRD %u FBRD %u\n", UART_BAUD,
            uc->clock_hz, uc->clock_from_firmware ? "from firmware" : "fallback",
            uc->ibrd, uc->fbrd);
}

void kernel_main(void)
{
    u32 nonzero = count_nonzero_bss_words();   /* before anything writes .bss */

    uart_init();
    exceptions_init();
    irq_init();
    uart_enable_rx_irq();
    irq_cpu_enable();           /* from here on, interrupts are taken */
    kprintf("piOS lesson " LESSON_NAME "\n");
    report_boot(nonzero);
    kprintf("Type 'help' for the commands.\n");
    bench_boot_done();          /* for `bench boot` */
    shell_run();
}
