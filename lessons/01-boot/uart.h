/* uart.h - the serial console (PL011 UART0). */
#ifndef UART_H
#define UART_H

#include "types.h"

void uart_putc(char c);
void uart_puts(const char *s);      /* "\n" is sent as "\r\n" */
void uart_puthex(u32 v);            /* "0x" and 8 hex digits */

#endif
