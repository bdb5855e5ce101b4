/*
 * loader.c - the UART chainloader: receive a kernel over the serial line, check
 * it, run it. Installed on the SD card once (as kernel.img), it saves swapping
 * cards for every build: `make install L=05 PORT=/dev/ttyUSB0`.
 *
 * The protocol (harness/tools/pios-send is the other side):
 *
 *   loader: "PIOS-LOADER READY\r\n"          every half second until a sender
 *                                            speaks, so either side may start first
 *   sender: "PIOS", size (4 bytes, little-endian), CRC-32 of the kernel (4 bytes)
 *   loader: "PIOS-LOADER GO\r\n"             or "PIOS-LOADER SIZE\r\n" (too big)
 *   sender: the kernel, size bytes
 *   loader: "PIOS-LOADER OK\r\n" and runs it at 0x8000, or
 *           "PIOS-LOADER CRC\r\n"            (damaged: the sender sends again), or
 *           "PIOS-LOADER TIMEOUT\r\n"        (a byte did not come within a second)
 *           and announces itself again.
 */
#include "board.h"
#include "mmio.h"
#include "types.h"

#define LOAD_ADDR       KERNEL_LOAD_ADDR
#define LOAD_MAX        (0x01000000u - LOAD_ADDR)   /* up to where the loader runs */
#define ANNOUNCE_US     500000u
#define BYTE_TIMEOUT_US 1000000u
#define MAGIC           "PIOS"

extern void jump_to_kernel(u32 r0, u32 r1, u32 r2, u32 entry) __attribute__((noreturn));

/* The UART as the firmware left it: config.txt's enable_uart=1 and
 * init_uart_clock set it up for 115200 8N1 (QEMU needs no setup at all). The
 * loader does not reprogram it, and keeps no driver of its own beyond these two:
 * the kernel it loads sets the UART up again anyway. */
static void uart_putc(char c)
{
    while (mmio_read(UART0_FR) & UART_FR_TXFF)
        ;
    mmio_write(UART0_DR, (u8)c);
}

static void uart_puts(const char *s)
{
    for (; *s; s++) {
        if (*s == '\n')
            uart_putc('\r');
        uart_putc(*s);
    }
}

static u32 now_us(void)
{
    return mmio_read(SYSTIMER_CLO);
}

/* A received byte (0-255), or -1 if none came within timeout_us. */
static int recv_byte(u32 timeout_us)
{
    u32 start = now_us();
    while (mmio_read(UART0_FR) & UART_FR_RXFE)
        if (now_us() - start >= timeout_us)
            return -1;
    return (int)(mmio_read(UART0_DR) & UART_DR_DATA_MASK);
}

static int recv_word(u32 *w)
{
    *w = 0;
    for (int i = 0; i < 4; i++) {
        int b = recv_byte(BYTE_TIMEOUT_US);
        if (b < 0)
            return -1;
        *w |= (u32)b << (8 * i);
    }
    return 0;
}

/* CRC-32 (IEEE 802.3, as zlib and Python's binascii.crc32 compute it), a bit at
 * a time: a table would be faster, but this runs once per boot. */
static u32 crc32(const u8 *p, u32 n)
{
    u32 crc = 0xFFFFFFFFu;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

/* Wait for "PIOS", announcing ourselves every half second meanwhile. */
static void wait_for_sender(void)
{
    u32 matched = 0;

    uart_puts("PIOS-LOADER READY\n");
    for (;;) {
        int b = recv_byte(ANNOUNCE_US);
        if (b < 0) {
            uart_puts("PIOS-LOADER READY\n");
            matched = 0;
            continue;
        }
        matched = (b == MAGIC[matched]) ? matched + 1 : (b == MAGIC[0]);
        if (matched == 4)
            return;
    }
}

/* One attempt: header, payload, check. Returns 0 when a good kernel is in place. */
static int receive_kernel(u32 *size_out)
{
    u32 size, crc;
    u8 *dst = (u8 *)LOAD_ADDR;

    wait_for_sender();
    if (recv_word(&size) || recv_word(&crc)) {
        uart_puts("PIOS-LOADER TIMEOUT\n");
        return -1;
    }
    if (size == 0 || size > LOAD_MAX) {
        uart_puts("PIOS-LOADER SIZE\n");
        return -1;
    }
    uart_puts("PIOS-LOADER GO\n");
    for (u32 i = 0; i < size; i++) {
        int b = recv_byte(BYTE_TIMEOUT_US);
        if (b < 0) {
            uart_puts("PIOS-LOADER TIMEOUT\n");
            return -1;
        }
        dst[i] = (u8)b;
    }
    if (crc32(dst, size) != crc) {
        uart_puts("PIOS-LOADER CRC\n");
        return -1;
    }
    *size_out = size;
    return 0;
}

void loader_main(u32 r0, u32 r1, u32 r2)
{
    u32 size;

    uart_puts("\npiOS chainloader: waiting for a kernel (make install L=NN PORT=...)\n");
    while (receive_kernel(&size) != 0)
        ;
    uart_puts("PIOS-LOADER OK\n");
    while (mmio_read(UART0_FR) & UART_FR_BUSY)
        ;                               /* the last byte out before the kernel resets it */
    jump_to_kernel(r0, r1, r2, LOAD_ADDR);
}
