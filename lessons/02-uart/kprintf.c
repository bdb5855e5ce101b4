/* kprintf.c - printf for the kernel: the shared formatting core (common/format.c)
 * with its output sent to the UART. */
#include "kprintf.h"
#include "uart.h"

static void console_out(char c, void *ctx)
{
    (void)ctx;
    if (c == '\n')
        uart_putc('\r');        /* terminals want CR LF */
    uart_putc(c);
}

int kvprintf(const char *fmt, va_list ap)
{
    return kvformat(console_out, NULL, fmt, ap);
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
