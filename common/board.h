/*
 * board.h - every hardware fact about the BCM2835 that piOS uses, in one place.
 *
 * Source: "BCM2835 ARM Peripherals" (Broadcom, 2012), cited below as [BCM] with a
 * page number, and the ARM PrimeCell UART (PL011) TRM r1p5 (ARM DDI 0183), cited as
 * [PL011]. Drivers include this header and never spell an address themselves, so
 * porting to another board (BCM2836, Pi 2: peripherals at 0x3F000000) means
 * changing this file, not the drivers.
 *
 * Physical memory map of a Pi Zero / Pi 1 as the ARM sees it:
 *
 *   0x00000000 +---------------------------+
 *              | vectors, ATAGs/DTB (0x100)|  written by the firmware
 *   0x00008000 +---------------------------+
 *              | kernel image (kernel.img) |  .text .rodata .data .bss stacks
 *              +---------------------------+
 *              | free RAM                  |
 *   ARM top    +---------------------------+  (mailbox: ARM memory size)
 *              | GPU memory (gpu_mem)      |
 *   0x20000000 +---------------------------+
 *              | peripherals (16 MB)       |  bus address 0x7E000000
 *   0x21000000 +---------------------------+
 *
 * The peripheral manual gives bus addresses (0x7Exxxxxx); the ARM reaches the same
 * registers at 0x20xxxxxx.
 */
#ifndef BOARD_H
#define BOARD_H

/* From lesson 07 on, a lesson's memlayout.h draws its virtual memory map and says
 * where the peripherals appear (PERIPHERAL_BASE): include it first. */
#if __has_include("memlayout.h")
#include "memlayout.h"
#endif

/* The ARM physical address of the peripheral window. A lesson that moves the
 * peripherals elsewhere in virtual memory (lesson 07) defines PERIPHERAL_BASE first. */
#define PERIPHERAL_PHYS         0x20000000u
#define PERIPHERAL_SIZE         0x01000000u
#ifndef PERIPHERAL_BASE
#define PERIPHERAL_BASE         PERIPHERAL_PHYS
#endif

/* If the firmware does not say how much RAM the ARM has (mailbox tag 0x00010005):
 * less than any Pi 1 / Zero gives the ARM with the default GPU split. */
#define RAM_FALLBACK_SIZE       (128u << 20)

/* Where the firmware (and QEMU) loads and enters kernel.img. */
#define KERNEL_LOAD_ADDR        0x00008000u

/* The firmware wants mailbox buffers as VideoCore bus addresses. On the BCM2835 the
 * ARM's RAM accesses go through the VideoCore's L2 cache, whose coherent alias of
 * SDRAM is bus 0x40000000 [BCM p.5]; Linux uses the same (dma-ranges in bcm2835.dtsi).
 * The BCM2836 (Pi 2) uses the uncached alias 0xC0000000 instead. */
#define BUS_RAM_ALIAS           0x40000000u

/* ---- GPIO [BCM ch. 6, p.89] --------------------------------------------------- */
#define GPIO_BASE               (PERIPHERAL_BASE + 0x200000u)
#define GPFSEL0                 (GPIO_BASE + 0x00u)  /* function select, 10 pins each */
#define GPSET0                  (GPIO_BASE + 0x1Cu)
#define GPCLR0                  (GPIO_BASE + 0x28u)
#define GPLEV0                  (GPIO_BASE + 0x34u)
#define GPPUD                   (GPIO_BASE + 0x94u)  /* pull-up/down control */
#define GPPUDCLK0               (GPIO_BASE + 0x98u)  /* pull-up/down clock, pins 0-31 */

#define GPIO_PINS_PER_FSEL      10                   /* 3 bits per pin, 10 per register */
#define GPIO_FSEL_BITS          3
#define GPIO_FSEL_MASK          0x7u
#define GPIO_FUNC_INPUT         0x0u
#define GPIO_FUNC_OUTPUT        0x1u
#define GPIO_FUNC_ALT0          0x4u                 /* [BCM p.92] */
#define GPIO_PUD_OFF            0x0u
#define GPIO_PUD_DOWN           0x1u
#define GPIO_PUD_UP             0x2u
#define GPIO_PUD_SETUP_CYCLES   150                  /* [BCM p.101]: wait 150 cycles */

#define GPIO_UART0_TXD          14                   /* ALT0 = TXD0 [BCM p.102] */
#define GPIO_UART0_RXD          15                   /* ALT0 = RXD0 */

/* ---- PL011 UART0 [BCM ch. 13, p.175; PL011 ch. 3] ------------------------------- */
#define UART0_BASE              (PERIPHERAL_BASE + 0x201000u)
#define UART0_DR                (UART0_BASE + 0x00u) /* data */
#define UART0_RSRECR            (UART0_BASE + 0x04u) /* receive status / error clear */
#define UART0_FR                (UART0_BASE + 0x18u) /* flags */
#define UART0_IBRD              (UART0_BASE + 0x24u) /* integer baud divisor */
#define UART0_FBRD              (UART0_BASE + 0x28u) /* fractional baud divisor (6 bits) */
#define UART0_LCRH              (UART0_BASE + 0x2Cu) /* line control */
#define UART0_CR                (UART0_BASE + 0x30u) /* control */
#define UART0_IFLS              (UART0_BASE + 0x34u) /* FIFO interrupt levels */
#define UART0_IMSC              (UART0_BASE + 0x38u) /* interrupt mask set/clear */
#define UART0_RIS               (UART0_BASE + 0x3Cu) /* raw interrupt status */
#define UART0_MIS               (UART0_BASE + 0x40u) /* masked interrupt status */
#define UART0_ICR               (UART0_BASE + 0x44u) /* interrupt clear */

#define UART_DR_DATA_MASK       0xFFu
#define UART_DR_ERROR_MASK      0xF00u               /* OE BE PE FE, per received byte */
#define UART_FR_BUSY            (1u << 3)
#define UART_FR_RXFE            (1u << 4)            /* receive FIFO empty */
#define UART_FR_TXFF            (1u << 5)            /* transmit FIFO full */
#define UART_FR_RXFF            (1u << 6)
#define UART_FR_TXFE            (1u << 7)
#define UART_LCRH_FEN           (1u << 4)            /* FIFOs enabled */
#define UART_LCRH_WLEN_8        (3u << 5)            /* 8 data bits */
#define UART_CR_UARTEN          (1u << 0)
#define UART_CR_TXE             (1u << 8)
#define UART_CR_RXE             (1u << 9)
#define UART_INT_RX             (1u << 4)            /* IMSC/MIS/ICR: RXIM */
#define UART_INT_TX             (1u << 5)
#define UART_INT_RT             (1u << 6)            /* receive timeout */
#define UART_INT_ALL            0x7FFu

#define UART_BAUD               115200u
#define UART_CLOCK_FALLBACK_HZ  48000000u            /* config.txt init_uart_clock default */

/* ---- Mailbox, property channel [BCM (not in the manual); firmware wiki] ------ */
/* Two mailboxes: the ARM reads replies from mailbox 0 and writes requests to
 * mailbox 1, so "can I write?" is mailbox 1's status (Linux: bcm2835-mailbox.c). */
#define MBOX_BASE               (PERIPHERAL_BASE + 0x00B880u)
#define MBOX_READ               (MBOX_BASE + 0x00u)  /* mailbox 0 */
#define MBOX_STATUS             (MBOX_BASE + 0x18u)  /* mailbox 0: EMPTY = no reply */
#define MBOX_WRITE              (MBOX_BASE + 0x20u)  /* mailbox 1 */
#define MBOX_WRITE_STATUS       (MBOX_BASE + 0x38u)  /* mailbox 1: FULL = wait */
#define MBOX_CONFIG             (MBOX_BASE + 0x1Cu)  /* mailbox 0 configuration */
#define MBOX_CONFIG_IRQ_DATA    (1u << 0)            /* interrupt while a reply waits */
#define MBOX_STATUS_FULL        (1u << 31)
#define MBOX_STATUS_EMPTY       (1u << 30)
#define MBOX_CHANNEL_MASK       0xFu
#define MBOX_CH_PROPERTY        8u                   /* ARM -> VC property tags */
#define MBOX_REQUEST            0x00000000u
#define MBOX_RESPONSE_OK        0x80000000u
#define MBOX_TAG_RESPONSE       0x80000000u          /* set in a tag's size word on reply */
#define MBOX_TAG_END            0x00000000u
#define MBOX_TAG_GET_BOARD_REV  0x00010002u
#define MBOX_TAG_GET_ARM_MEMORY 0x00010005u
#define MBOX_TAG_GET_CLOCK_RATE 0x00030002u
#define MBOX_CLOCK_UART         2u
#define MBOX_CLOCK_ARM          3u

/* ---- Interrupt controller [BCM ch. 7, p.112] ------------------------------------ */
#define IRQ_BASE                (PERIPHERAL_BASE + 0x00B200u)
#define IRQ_BASIC_PENDING       (IRQ_BASE + 0x00u)
#define IRQ_PENDING_1           (IRQ_BASE + 0x04u)
#define IRQ_PENDING_2           (IRQ_BASE + 0x08u)
#define IRQ_FIQ_CONTROL         (IRQ_BASE + 0x0Cu)
#define IRQ_ENABLE_1            (IRQ_BASE + 0x10u)
#define IRQ_ENABLE_2            (IRQ_BASE + 0x14u)
#define IRQ_ENABLE_BASIC        (IRQ_BASE + 0x18u)
#define IRQ_DISABLE_1           (IRQ_BASE + 0x1Cu)
#define IRQ_DISABLE_2           (IRQ_BASE + 0x20u)
#define IRQ_DISABLE_BASIC       (IRQ_BASE + 0x24u)

/* IRQ basic pending: bits 0-7 are the ARM sources 64-71; bits 8 and 9 say "something
 * in pending 1 / pending 2"; bits 10-20 repeat eleven GPU sources so that a handler
 * can find them without a second read [BCM p.113-114]. */
#define IRQ_BASIC_ARM_MASK      0xFFu
#define IRQ_BASIC_PENDING1      (1u << 8)
#define IRQ_BASIC_PENDING2      (1u << 9)
#define IRQ_BASIC_SHORTCUT_FIRST 10
#define IRQ_BASIC_SHORTCUTS     { 7, 9, 10, 18, 19, 53, 54, 55, 56, 57, 62 }

/* ---- System timer [BCM ch. 12, p.172]: free-running 1 MHz counter ---------------- */
#define SYSTIMER_BASE           (PERIPHERAL_BASE + 0x003000u)
#define SYSTIMER_CS             (SYSTIMER_BASE + 0x00u) /* match flags, write 1 to clear */
#define SYSTIMER_CLO            (SYSTIMER_BASE + 0x04u)
#define SYSTIMER_CHI            (SYSTIMER_BASE + 0x08u)
#define SYSTIMER_C0             (SYSTIMER_BASE + 0x0Cu) /* C0..C3 every 4 bytes */
#define SYSTIMER_C(n)           (SYSTIMER_C0 + 4u * (n))
#define SYSTIMER_CS_M(n)        (1u << (n))             /* channel n matched */
#define SYSTIMER_HZ             1000000u

/* ---- Power management / watchdog (not in [BCM]; Linux bcm2835_wdt.c) ------------- */
#define PM_BASE                 (PERIPHERAL_BASE + 0x100000u)
#define PM_RSTC                 (PM_BASE + 0x1Cu)
#define PM_WDOG                 (PM_BASE + 0x24u)
#define PM_PASSWORD             0x5A000000u
#define PM_RSTC_FULLRESET       0x00000020u

#endif
