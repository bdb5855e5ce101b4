/*
 * uart.c - PL011 UART0 driver: 115200 baud, 8 data bits, no parity, 1 stop bit,
 * FIFOs on, polled transmit and receive.
 *
 * [PL011 TRM ch. 3 (registers), 3.3.6 (baud divisor); BCM ch. 13 p.175-191]
 */
#include "uart.h"
#include "board.h"
#include "gpio.h"
#include "mbox.h"
#include "mmio.h"
#include "semihost.h"

static struct uart_config config;

/*
 * The UART divides its reference clock by 16 * BAUDDIV, where BAUDDIV has a 16-bit
 * integer part (IBRD) and a 6-bit fraction (FBRD, in 64ths):
 *
 *     BAUDDIV = clock / (16 * baud)
 *     with the firmware's 3 MHz clock: 3000000 / (16 * 115200) = 1.6276
 *     IBRD = 1, FBRD = round(0.6276 * 64) = round(40.17) = 40
 *
 * In integers: 64 * BAUDDIV = 4 * clock / baud; add baud/2 to round to nearest.
 * The real rate is then 3000000 / (16 * (1 + 40/64)) = 115385 baud, 0.16% fast,
 * well inside what a UART tolerates (about 2%).
 */
static void compute_divisor(u32 clock_hz, u32 baud, u32 *ibrd, u32 *fbrd)
{
    u32 div64 = (4 * clock_hz + baud / 2) / baud;
    *ibrd = div64 >> 6;
    *fbrd = div64 & 0x3F;
}

void uart_init(void)
{
/* BEGIN SOLUTION uart_init */
    /* The TRM's order: disable, let the last character leave, then reprogram. */
    mmio_write(UART0_CR, 0);
    while (mmio_read(UART0_FR) & UART_FR_BUSY)
        ;
    mmio_write(UART0_LCRH, 0);          /* FEN = 0 flushes the transmit FIFO */

    /* GPIO 14/15 carry TXD0/RXD0 in ALT0. No pulls: the adapter drives RX. */
    gpio_set_function(GPIO_UART0_TXD, GPIO_FUNC_ALT0);
    gpio_set_function(GPIO_UART0_RXD, GPIO_FUNC_ALT0);
    gpio_set_pull(GPIO_UART0_TXD, GPIO_PUD_OFF);
    gpio_set_pull(GPIO_UART0_RXD, GPIO_PUD_OFF);

    config.clock_hz = mbox_get_clock_rate(MBOX_CLOCK_UART);
    config.clock_from_firmware = config.clock_hz != 0;
    if (!config.clock_from_firmware)
        config.clock_hz = UART_CLOCK_FALLBACK_HZ;
    compute_divisor(config.clock_hz, UART_BAUD, &config.ibrd, &config.fbrd);

    mmio_write(UART0_ICR, UART_INT_ALL);  /* no stale interrupt state */
    mmio_write(UART0_IBRD, config.ibrd);
    mmio_write(UART0_FBRD, config.fbrd);
    mmio_write(UART0_LCRH, UART_LCRH_WLEN_8 | UART_LCRH_FEN); /* latches IBRD/FBRD */
    mmio_write(UART0_CR, UART_CR_UARTEN | UART_CR_TXE | UART_CR_RXE);
/* END SOLUTION */
}

const struct uart_config *uart_config(void)
{
    return &config;
}

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

char uart_getc(void)
{
/* BEGIN SOLUTION uart_getc */
    while (mmio_read(UART0_FR) & UART_FR_RXFE)
        ;
    /* The upper bits of DR flag framing/parity/overrun errors for this byte; a
     * console has no better use for a damaged byte than to show it. */
    return (char)(mmio_read(UART0_DR) & UART_DR_DATA_MASK);
/* END SOLUTION */
}
