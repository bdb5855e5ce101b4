/*
 * irq.h - the BCM2835 interrupt controller.
 *
 * Interrupt sources are numbered 0-71, as in the Linux bcm2835 driver:
 *    0-31  GPU peripherals, "IRQ pending 1"  (1, 3: system timer C1, C3)
 *   32-63  GPU peripherals, "IRQ pending 2"  (57: UART0)
 *   64-71  ARM-specific, "IRQ basic pending" bits 0-7 (64: ARM timer)
 */
#ifndef IRQ_H
#define IRQ_H

#include "arm.h"
#include "panic.h"
#include "types.h"

#define IRQ_COUNT           72
#define IRQ_GPU_BANK1       0               /* first source of each bank */
#define IRQ_GPU_BANK2       32
#define IRQ_BASIC           64

#define IRQ_SYSTIMER_1      1               /* system timer compare 1 [BCM p.113] */
#define IRQ_SYSTIMER_3      3
#define IRQ_UART0           57
#define IRQ_ARM_TIMER       64
#define IRQ_ARM_MAILBOX     65              /* a mailbox reply is waiting [BCM p.113] */

typedef void (*irq_handler)(void *arg);

void irq_init(void);                        /* all sources off, handlers cleared */
int irq_register(unsigned n, irq_handler handler, void *arg);  /* -1 if n >= 72 */
void irq_enable(unsigned n);
void irq_disable(unsigned n);
int irq_is_enabled(unsigned n);

/* Called by vectors.S on every IRQ exception. */
void irq_handle(struct regs *regs);

/* Statistics, for the `irqs` command and tests. */
u32 irq_count(unsigned n);
int irq_has_handler(unsigned n);
u32 irq_spurious_count(void);
u32 irq_unhandled_count(void);

#endif
