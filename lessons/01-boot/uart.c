/*
 * uart.c - the smallest useful UART driver: polled transmit on PL011 UART0.
 *
 * The firmware has already configured UART0 when config.txt says enable_uart=1
 * (and QEMU accepts characters even before the UART is enabled), so this lesson only
 * writes bytes. Lesson 02 replaces it with a driver that sets the UART up itself.
 * [PL011 TRM 3.3.1 UARTDR, 3.3.3 UARTFR]
 */
#include "uart.h"
#include "board.h"
#include "mmio.h"

void uart_putc(char c)
{
/* BEGIN SOLUTION uart_putc */
    /* The transmit FIFO holds 16 bytes; writing while it is full loses the byte. */
    while (mmio_read(UART0_FR) & UART_FR_TXFF)
        ;
    mmio_write(UART0_DR, (u8)c);
/* END SOLUTION */
}

void uart_puts(const char *s)
{
/* BEGIN SOLUTION uart_puts */
    for (; *s; s++) {
        if (*s == '\n')
            uart_putc('\r');    /* a terminal needs CR to return to column 0 */
        uart_putc(*s);
    }
/* END SOLUTION */
}

void uart_puthex(u32 v)
{
/* BEGIN SOLUTION uart_puthex */
    uart_puts("0x");
    for (int shift = 28; shift >= 0; shift -= 4)
        uart_putc("0123456789abcdef"[(v >> shift) & 0xF]);
/* END SOLUTION */
}
