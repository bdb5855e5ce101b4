/* kprintf.c - printf for the kernel: the shared formatting core (common/format.c)
 * with its output sent to the UART. */
#include "kprintf.h"
#include "arm.h"
#include "sched.h"
#include "uart.h"

static void console_out(char c, void *ctx)
{
    (void)ctx;
    if (c == '\n')
        uart_putc('\r');        /* terminals want CR LF */
    uart_putc(c);
}

/* One thread at a time prints a whole kprintf, so that lines from two threads do
 * not interleave. Not with IRQs masked (an interrupt handler, a panic, code
 * holding irq_save): such code may not sleep, and prints directly. */
static struct mutex console_lock;

int kvprintf(const char *fmt, va_list ap)
{
    int lock = sched_running() && !(read_cpsr() & CPSR_I), n;

    if (lock)
        mutex_lock(&console_lock);
    n = kvformat(console_out, NULL, fmt, ap);
    if (lock)
        mutex_unlock(&console_lock);
    return n;
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = kvprintf(fmt, ap);
    va_end(ap);
    return n;
}
