/*
 * irq_cmds.c - shell commands for the interrupt controller: irqs, irqtest.
 *
 * They let you (and the tests) drive irq.c from the shell; none of them is
 * part of the subsystem itself.
 */
#include "irq.h"
#include "board.h"
#include "kprintf.h"
#include "mbox.h"
#include "mmio.h"
#include "shell.h"

static const char *source_name(unsigned n)
{
    switch (n) {
    case IRQ_SYSTIMER_1: return "system timer 1";
    case IRQ_SYSTIMER_3: return "system timer 3";
    case IRQ_UART0: return "uart0";
    case IRQ_ARM_TIMER: return "arm timer";
    case IRQ_ARM_MAILBOX: return "arm mailbox";
    }
    return "";
}

static int cmd_irqs(int argc, char **argv, const char *args)
{
    (void)argc, (void)argv, (void)args;
    kprintf("irq  count       state     handler  name\n");
    for (unsigned n = 0; n < IRQ_COUNT; n++) {
        if (!irq_count(n) && !irq_has_handler(n) && !irq_is_enabled(n))
            continue;
        kprintf("%3u  %-10u  %-8s  %-7s  %s\n", n, irq_count(n),
                irq_is_enabled(n) ? "enabled" : "disabled",
                irq_has_handler(n) ? "yes" : "none", source_name(n));
    }
    kprintf("spurious %u, unhandled %u\n", irq_spurious_count(),
            irq_unhandled_count());
    return 0;
}
SHELL_COMMAND(irqs, "", "interrupt counts per source, spurious and unhandled", cmd_irqs);

/* Make an interrupt that nobody handles: enable the mailbox source without a
 * handler, ask the mailbox to interrupt when a reply waits, and ask the firmware
 * something. (A timer channel would do too, but lesson 05's timer owns them.) */
static int cmd_irqtest(int argc, char **argv, const char *args)
{
    u32 before = irq_unhandled_count();
    (void)argc, (void)argv, (void)args;

    irq_register(IRQ_ARM_MAILBOX, NULL, NULL);
    irq_enable(IRQ_ARM_MAILBOX);
    mmio_write(MBOX_CONFIG, MBOX_CONFIG_IRQ_DATA);
    mbox_get_clock_rate(MBOX_CLOCK_UART);   /* the reply raises the interrupt */
    while (irq_unhandled_count() == before)
        wfi();
    mmio_write(MBOX_CONFIG, 0);
    kprintf("unhandled interrupt from source %u: counted and disabled (%s)\n",
            IRQ_ARM_MAILBOX, irq_is_enabled(IRQ_ARM_MAILBOX) ? "still enabled!" : "ok");
    return 0;
}
SHELL_COMMAND(irqtest, "", "raise an interrupt with no handler (mailbox, source 65)",
              cmd_irqtest);
