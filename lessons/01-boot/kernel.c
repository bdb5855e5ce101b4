/*
 * kernel.c - lesson 01: prove that the boot code did its job.
 *
 * Three facts a test can check from outside: where _start was linked (compare with
 * the ELF's symbol table), which CPU mode we run in, and that every byte of .bss is
 * zero (the harness fills .bss with random bytes before boot, so this line is true
 * only if start.S cleared it).
 */
#include "arm.h"
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

static void print_range(const char *label, const void *start, const void *end)
{
    uart_puts(label);
    uart_puthex((u32)start);
    uart_puts("-");
    uart_puthex((u32)end);
    uart_puts("\n");
}

void kernel_main(void)
{
    u32 nonzero = count_nonzero_bss_words();

/* BEGIN SOLUTION kernel_main */
    uart_puts("piOS lesson " LESSON_NAME "\n");
    print_range("kernel: ", _start, __kernel_end);
    uart_puts("mode: ");
    uart_puts((read_cpsr() & CPSR_MODE_MASK) == CPSR_MODE_SVC ? "SVC" : "not SVC");
    uart_puts(" cpsr=");
    uart_puthex(read_cpsr());
    uart_puts("\n");
    print_range("bss: ", __bss_start, __bss_end);
    uart_puts(nonzero == 0 ? "bss: all zero" : "bss: NOT ZERO, non-zero words: ");
    if (nonzero)
        uart_puthex(nonzero);
    uart_puts("\n");
    uart_puts("halting\n");
/* END SOLUTION */
}
