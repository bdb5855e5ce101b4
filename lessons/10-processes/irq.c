/*
 * irq.c - the BCM2835 interrupt controller: enable and disable sources, find out
 * which are pending, call their handlers.
 *
 * The controller has three banks (pending 1, pending 2, basic pending) and three
 * matching pairs of enable/disable registers; writing 1 to a bit of an enable or
 * disable register changes that source only, so no read-modify-write is needed.
 * [BCM ch. 7, p.109-118]
 */
#include "irq.h"
#include "board.h"
#include "kprintf.h"
#include "mbox.h"
#include "mmio.h"

struct irq_slot {
    irq_handler handler;
    void *arg;
    u32 count;          /* times this source was found pending */
};

static struct irq_slot slots[IRQ_COUNT];
static u32 spurious;    /* IRQ exceptions with nothing pending */
static u32 unhandled;   /* pending sources with no handler (then disabled) */

static const u8 shortcut_irqs[] = IRQ_BASIC_SHORTCUTS;

/* The register of source n's bank, among three: bank 1, bank 2, basic. */
static u32 bank_reg(unsigned n, u32 bank1, u32 bank2, u32 basic)
{
    return n < IRQ_GPU_BANK2 ? bank1 : n < IRQ_BASIC ? bank2 : basic;
}

static u32 bank_bit(unsigned n)
{
    return 1u << (n % 32);
}

void irq_enable(unsigned n)
{
/* BEGIN SOLUTION irq_enable */
    if (n < IRQ_COUNT)
        mmio_write(bank_reg(n, IRQ_ENABLE_1, IRQ_ENABLE_2, IRQ_ENABLE_BASIC), bank_bit(n));
/* END SOLUTION */
}

void irq_disable(unsigned n)
{
/* BEGIN SOLUTION irq_disable */
    if (n < IRQ_COUNT)
        mmio_write(bank_reg(n, IRQ_DISABLE_1, IRQ_DISABLE_2, IRQ_DISABLE_BASIC), bank_bit(n));
/* END SOLUTION */
}

/* The enable registers read back which sources are enabled [BCM p.116]. */
int irq_is_enabled(unsigned n)
{
/* BEGIN SOLUTION irq_is_enabled */
    if (n >= IRQ_COUNT)
        return 0;
    return (mmio_read(bank_reg(n, IRQ_ENABLE_1, IRQ_ENABLE_2, IRQ_ENABLE_BASIC))
            & bank_bit(n)) != 0;
/* END SOLUTION */
}

void irq_init(void)
{
    mmio_write(IRQ_DISABLE_1, 0xFFFFFFFFu);
    mmio_write(IRQ_DISABLE_2, 0xFFFFFFFFu);
    mmio_write(IRQ_DISABLE_BASIC, 0xFFFFFFFFu);
    mmio_write(IRQ_FIQ_CONTROL, 0);     /* no source routed to FIQ */
    for (unsigned n = 0; n < IRQ_COUNT; n++)
        slots[n] = (struct irq_slot){ 0 };
}

int irq_register(unsigned n, irq_handler handler, void *arg)
{
    if (n >= IRQ_COUNT)
        return -1;
    u32 s = irq_save();                 /* handler and arg change together */
    slots[n].handler = handler;
    slots[n].arg = arg;
    irq_restore(s);
    return 0;
}

/*
 * Which sources are pending, as three 32-bit masks (bank 1, bank 2, basic).
 * Basic pending is read first. Its bits 8/9 send us to pending 1/2; its shortcut
 * bits name some GPU sources directly. Real hardware and QEMU disagree on whether a
 * shortcut source also sets bit 8/9 (QEMU does), so we take the union of both: a
 * source is never missed and never handled twice. Only enabled sources count.
 */
static void read_pending(u32 pending[3])
{
/* BEGIN SOLUTION read_pending */
    u32 basic = mmio_read(IRQ_BASIC_PENDING);

    pending[0] = (basic & IRQ_BASIC_PENDING1) ? mmio_read(IRQ_PENDING_1) : 0;
    pending[1] = (basic & IRQ_BASIC_PENDING2) ? mmio_read(IRQ_PENDING_2) : 0;
    pending[2] = basic & IRQ_BASIC_ARM_MASK;
    for (unsigned i = 0; i < sizeof(shortcut_irqs); i++) {
        unsigned n = shortcut_irqs[i];
        if (basic & (1u << (IRQ_BASIC_SHORTCUT_FIRST + i)))
            pending[n / 32] |= bank_bit(n);
    }
    pending[0] &= mmio_read(IRQ_ENABLE_1);
    pending[1] &= mmio_read(IRQ_ENABLE_2);
    pending[2] &= mmio_read(IRQ_ENABLE_BASIC);
/* END SOLUTION */
}

static void dispatch(unsigned n)
{
/* BEGIN SOLUTION dispatch */
    struct irq_slot *slot = &slots[n];

    slot->count++;
    if (slot->handler) {
        slot->handler(slot->arg);
    } else {
        /* Nobody will clear its cause, so it would fire again at once, forever. */
        unhandled++;
        irq_disable(n);
    }
/* END SOLUTION */
}

void irq_handle(struct regs *regs)
{
    u32 pending[3];
    int any = 0;
    (void)regs;

/* BEGIN SOLUTION irq_handle */
    read_pending(pending);
    for (unsigned bank = 0; bank < 3; bank++) {
        while (pending[bank]) {
            unsigned bit = (unsigned)__builtin_ctz(pending[bank]);
            pending[bank] &= pending[bank] - 1;     /* clear the lowest set bit */
            dispatch(bank * 32 + bit);
            any = 1;
        }
    }
    if (!any)
        spurious++;     /* raised and withdrawn before we looked: harmless */
/* END SOLUTION */
}

u32 irq_count(unsigned n)
{
    return n < IRQ_COUNT ? slots[n].count : 0;
}

int irq_has_handler(unsigned n)
{
    return n < IRQ_COUNT && slots[n].handler != NULL;
}

u32 irq_spurious_count(void)
{
    return spurious;
}

u32 irq_unhandled_count(void)
{
    return unhandled;
}
