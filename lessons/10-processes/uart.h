/* uart.h - the serial console (PL011 UART0). */
#ifndef UART_H
#define UART_H

#include "types.h"

void uart_init(void);
void uart_putc(char c);
void uart_puts(const char *s);      /* "\n" is sent as "\r\n" */
char uart_getc(void);               /* waits for a byte (in WFI once IRQs are on) */
int uart_getc_unless(const volatile int *stop);  /* a byte, or -1 once *stop is set */

/* Switch receiving to interrupts: from now on the UART interrupt handler moves
 * bytes into a ring buffer and uart_getc() takes them from there. */
void uart_enable_rx_irq(void);

/* Receive statistics. */
struct uart_rx_stats {
    u32 received;       /* bytes moved into the ring buffer */
    u32 dropped;        /* bytes lost because the ring buffer was full */
    u32 buffered;       /* bytes waiting in the ring buffer now */
};
void uart_rx_stats(struct uart_rx_stats *stats);

/* What uart_init() chose, for the boot report. */
struct uart_config {
    u32 clock_hz;       /* UART reference clock */
    int clock_from_firmware;    /* 0: the firmware did not answer, fallback used */
    u32 ibrd, fbrd;     /* baud rate divisor, integer and 1/64ths */
};
const struct uart_config *uart_config(void);

#endif
