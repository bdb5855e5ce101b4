/*
 * uart.c - PL011 UART0 driver: 115200 baud, 8 data bits, no parity, 1 stop bit,
 * FIFOs on, polled transmit, receive by interrupt into a ring buffer.
 *
 * [PL011 TRM ch. 3 (registers), 3.3.6 (baud divisor); BCM ch. 13 p.175-191]
 */
#include "uart.h"
#include "board.h"
#include "gpio.h"
#include "irq.h"
#include "kstring.h"
#include "mbox.h"
#include "mmio.h"
#include "ringbuf.h"

static struct uart_config config;
static struct ringbuf rx;       /* filled by the interrupt handler */
static u32 rx_received, rx_dropped;
static int rx_irq_on;

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

/* Polled receive: used until interrupts are on. */
static char uart_getc_polled(void)
{
    while (mmio_read(UART0_FR) & UART_FR_RXFE)
        ;
    /* The upper bits of DR flag framing/parity/overrun errors for this byte; a
     * console has no better use for a damaged byte than to show it. */
    return (char)(mmio_read(UART0_DR) & UART_DR_DATA_MASK);
}

/* Move everything in the receive FIFO into the ring buffer. */
static void drain_rx_fifo(void)
{
/* BEGIN SOLUTION drain_rx_fifo */
    while (!(mmio_read(UART0_FR) & UART_FR_RXFE)) {
        u8 byte = (u8)(mmio_read(UART0_DR) & UART_DR_DATA_MASK);
        if (ringbuf_put(&rx, byte) == 0)
            rx_received++;
        else
            rx_dropped++;
    }
/* END SOLUTION */
}

/* The interrupt handler: RX (FIFO reached its trigger level) or RT (bytes have
 * waited for 32 bit-times below the trigger level). Either way, empty the FIFO.
 * Clear first, then drain: a byte that lands after the clear raises the interrupt
 * again, whereas one that landed between a drain and a later clear would have its
 * interrupt wiped out and sit in the FIFO unnoticed. */
static void uart_rx_irq(void *arg)
{
    (void)arg;
/* BEGIN SOLUTION uart_rx_irq */
    mmio_write(UART0_ICR, UART_INT_RX | UART_INT_RT);
    drain_rx_fifo();
/* END SOLUTION */
}

/*
 * The order matters. Clear old interrupt state first; then unmask; then empty the
 * FIFO. A byte that arrived before the clear sits in the FIFO and, on QEMU, raises
 * no interrupt of its own (docs/qemu.md): the drain takes it. A byte that arrives
 * after the clear raises the interrupt as it should. Clearing after the drain
 * instead would wipe out the interrupt of a byte that came in between, and every
 * later byte would wait behind it, unseen. (CPU IRQs are still masked here.)
 */
void uart_enable_rx_irq(void)
{
/* BEGIN SOLUTION uart_enable_rx_irq */
    irq_register(IRQ_UART0, uart_rx_irq, NULL);
    mmio_write(UART0_ICR, UART_INT_ALL);
    mmio_write(UART0_IMSC, UART_INT_RX | UART_INT_RT);
    irq_enable(IRQ_UART0);
    drain_rx_fifo();
/* END SOLUTION */
    rx_irq_on = 1;
}

/*
 * Wait for a byte without spinning: sleep in WFI until an interrupt. IRQs are
 * masked while we test the buffer, so a byte that arrives between the test and the
 * WFI cannot be missed: WFI wakes for a pending interrupt even while it is masked,
 * and irq_restore() then lets the handler run.
 */
char uart_getc(void)
{
    if (!rx_irq_on)
        return uart_getc_polled();
/* BEGIN SOLUTION uart_getc */
    for (;;) {
        u32 s = irq_save();
        int c = ringbuf_get(&rx);
        if (c < 0)
            wfi();
        irq_restore(s);
        if (c >= 0)
            return (char)c;
    }
/* END SOLUTION */
}

void uart_rx_stats(struct uart_rx_stats *stats)
{
    u32 s = irq_save();
    stats->received = rx_received;
    stats->dropped = rx_dropped;
    stats->buffered = ringbuf_count(&rx);
    irq_restore(s);
}
