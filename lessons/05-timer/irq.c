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
/* BEGIN SOLUTION
 * TODO: For a source below IRQ_COUNT, write its bit (bank_bit) to the enable
 * register of its bank (bank_reg: bank 1, bank 2 or basic). Writing 1s enables;
 * 0s change nothing, so no read-modify-write. README, walkthrough 2.
 * STUB:
 *     (void)n, (void)bank_reg, (void)bank_bit;
 */
    if (n < IRQ_COUNT)
        mmio_write(bank_reg(n, IRQ_ENABLE_1, IRQ_ENABLE_2, IRQ_ENABLE_BASIC), bank_bit(n));
/* END SOLUTION */
}

void irq_disable(unsigned n)
{
/* BEGIN SOLUTION
 * TODO: The same with the bank's disable register. README, walkthrough 2.
 * STUB:
 *     (void)n;
 */
    if (n < IRQ_COUNT)
        mmio_write(bank_reg(n, IRQ_DISABLE_1, IRQ_DISABLE_2, IRQ_DISABLE_BASIC), bank_bit(n));
/* END SOLUTION */
}

/* The enable registers read back which sources are enabled [BCM p.116]. */
int irq_is_enabled(unsigned n)
{
/* BEGIN SOLUTION
 * TODO: 1 if source n is enabled: its bit in its bank's enable register, which
 * reads back the enabled sources; 0 for n >= IRQ_COUNT. README, walkthrough 2.
 * STUB:
 *     (void)n;
 *     return 0;
 */
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
/* BEGIN SOLUTION
 * TODO: Fill pending[0..2] (bank 1, bank 2, basic): read IRQ_BASIC_PENDING; read
 * pending 1/2 only if its bits 8/9 say so; add the sources of the shortcut bits set
 * (shortcut_irqs); keep only enabled sources (AND with the three enable registers).
 * The stub panics at the first interrupt. README, walkthrough 3.
 * STUB:
 *     (void)pending, (void)shortcut_irqs;
 *     panic("read_pending() is not written yet");
 */
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
/* BEGIN SOLUTION
 * TODO: Count the source in its slot and call its handler with its arg; a source
 * with no handler is counted in `unhandled` and disabled, else it would fire again
 * at once, forever. The stub panics. README, walkthrough 4.
 * STUB:
 *     panic("dispatch() is not written yet (source %u)", n);
 */
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

/* BEGIN SOLUTION
 * TODO: Read the pending sources (read_pending) and dispatch each one, bank by
 * bank, lowest bit first (source number = bank * 32 + bit); if none was pending
 * (raised and withdrawn before we looked), count a spurious interrupt. README,
 * walkthrough 4. The stub stops the kernel.
 * STUB:
 *     (void)pending, (void)any, (void)read_pending, (void)dispatch, (void)spurious;
 *     panic("irq_handle() is not written yet");
 */
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
