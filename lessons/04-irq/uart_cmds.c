/*
 * uart_cmds.c - shell commands for the UART: busy.
 *
 * They let you (and the tests) drive uart.c from the shell; none of them is
 * part of the subsystem itself.
 */
#include "uart.h"
#include "board.h"
#include "kprintf.h"
#include "kstring.h"
#include "mmio.h"
#include "shell.h"

/* Keep the CPU busy (interrupts on) so that a test can send input meanwhile and
 * check that the interrupt handler caught all of it. Busy means polling the system
 * timer, not WFI: the point is a kernel that is not waiting for input. */
static int cmd_busy(int argc, char **argv, const char *args)
{
    struct uart_rx_stats before, after;
    u32 ms, start;
    (void)args;

    if (argc != 2 || parse_u32(argv[1], &ms) != 0 || ms > 10000) {
        kprintf("usage: busy MS   (at most 10000)\n");
        return -1;
    }
    uart_rx_stats(&before);
    start = mmio_read(SYSTIMER_CLO);
    while (mmio_read(SYSTIMER_CLO) - start < ms * 1000)
        ;
    uart_rx_stats(&after);
    kprintf("busy %u ms: received %u bytes meanwhile, %u buffered, %u dropped\n", ms,
            after.received - before.received, after.buffered, after.dropped);
    return 0;
}
SHELL_COMMAND(busy, "MS", "spin for MS ms with interrupts on; report input received", cmd_busy);
