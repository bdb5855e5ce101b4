/*
 * timer.c - the system timer: a periodic tick on compare channel 1, software timers
 * (one-shot and periodic callbacks) on channel 3, uptime and sleep.
 *
 * The counter CLO/CHI runs at 1 MHz from power-on and never stops. A compare
 * channel raises its interrupt when the low 32 bits of the counter become EQUAL to
 * its compare register (not "greater or equal"): a deadline written a moment too
 * late only matches after the counter wraps, 71 minutes later. Every place that
 * arms a channel here checks for that. [BCM ch. 12, p.172-174]
 */
#include "timer.h"
#include "arm.h"
#include "board.h"
#include "irq.h"
#include "kprintf.h"
#include "kstring.h"
#include "mmio.h"

#define TIMER_ARM_MAX_US 0x40000000u    /* arm a channel at most this far ahead */

static u32 tick_hz, tick_period_us;
static u32 tick_deadline;               /* what channel 1 was last armed with */
static volatile u64 ticks;
static u32 ticks_missed;
static struct timer *pending;           /* software timers, earliest first */

u64 timer_now_us(void)
{
/* BEGIN SOLUTION timer_now_us */
    u32 hi, lo;
    /* Two registers cannot be read at once: if CHI changed while we read CLO, CLO
     * wrapped in between, so read both again. */
    do {
        hi = mmio_read(SYSTIMER_CHI);
        lo = mmio_read(SYSTIMER_CLO);
    } while (hi != mmio_read(SYSTIMER_CHI));
    return ((u64)hi << 32) | lo;
/* END SOLUTION */
}

/* Is `deadline` (low 32 bits of the counter) still ahead of the counter? Signed
 * difference, so that it also works across the 32-bit wrap. */
static int in_future(u32 deadline)
{
/* BEGIN SOLUTION in_future */
    return (s32)(deadline - mmio_read(SYSTIMER_CLO)) > 0;
/* END SOLUTION */
}

/* Arm channel `ch` for `deadline`. Returns 0 if it will fire, -1 if the deadline
 * was already reached before (or while) we wrote it: then it would not fire for
 * 71 minutes, and the caller must act now. */
static int arm_channel(unsigned ch, u32 deadline)
{
    mmio_write(SYSTIMER_C(ch), deadline);
    return in_future(deadline) ? 0 : -1;
}

/* ---- the periodic tick (channel 1) ------------------------------------------------ */

static void tick_irq(void *arg)
{
    (void)arg;
/* BEGIN SOLUTION tick_irq */
    mmio_write(SYSTIMER_CS, SYSTIMER_CS_M(TIMER_TICK_CHANNEL));  /* acknowledge */
    ticks++;
    /* The next deadline counts from the previous deadline, not from "now": the time
     * it took to get here must not delay every later tick (drift). If interrupts
     * were off for longer than a period, count the ticks that were missed. */
    tick_deadline += tick_period_us;
    while (arm_channel(TIMER_TICK_CHANNEL, tick_deadline) != 0) {
        tick_deadline += tick_period_us;
        ticks++;
        ticks_missed++;
    }
/* END SOLUTION */
}

int timer_set_rate(u32 hz)
{
    if (hz == 0 || hz > TIMER_MAX_HZ)
        return -1;
/* BEGIN SOLUTION timer_set_rate */
    u32 s = irq_save();
    tick_hz = hz;
    tick_period_us = US_PER_S / hz;
    tick_deadline = mmio_read(SYSTIMER_CLO) + tick_period_us;
    arm_channel(TIMER_TICK_CHANNEL, tick_deadline);  /* a whole period ahead */
    irq_restore(s);
/* END SOLUTION */
    return 0;
}

void timer_tick_stats(struct tick_stats *stats)
{
    u32 s = irq_save();
    stats->hz = tick_hz;
    stats->ticks = ticks;
    stats->missed = ticks_missed;
    irq_restore(s);
}

/* ---- software timers (channel 3) -------------------------------------------------- */

static void insert(struct timer *t)
{
    struct timer **p = &pending;
    while (*p && (*p)->deadline <= t->deadline)
        p = &(*p)->next;
    t->next = *p;
    *p = t;
}

static void unlink(struct timer *t)
{
    for (struct timer **p = &pending; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            return;
        }
}

/* Run every timer whose deadline has come, then arm channel 3 for the earliest
 * one left. Called with IRQs masked (from the interrupt, or from timer_start). */
static void run_expired(void)
{
/* BEGIN SOLUTION run_expired */
    for (;;) {
        u64 now = timer_now_us();
        while (pending && pending->deadline <= now) {
            struct timer *t = pending;
            pending = t->next;
            if (t->period_us) {
                t->deadline += t->period_us;    /* from the deadline: no drift */
                insert(t);
            }
            t->fn(t, t->arg);
        }
        /* A deadline more than 2^31 us away would look "passed" to in_future():
         * arm an intermediate point instead; its interrupt finds nothing due and
         * arms again. */
        if (!pending)
            return;
        if (pending->deadline - now > TIMER_ARM_MAX_US)
            now += TIMER_ARM_MAX_US;
        else
            now = pending->deadline;
        if (arm_channel(TIMER_CALLBACK_CHANNEL, (u32)now) == 0)
            return;
        /* The earliest deadline passed while we were busy: go round again. */
    }
/* END SOLUTION */
}

static void callback_irq(void *arg)
{
    (void)arg;
    mmio_write(SYSTIMER_CS, SYSTIMER_CS_M(TIMER_CALLBACK_CHANNEL));
    run_expired();
}

void timer_start(struct timer *t, u64 delay_us, u32 period_us,
                 void (*fn)(struct timer *t, void *arg), void *arg)
{
/* BEGIN SOLUTION timer_start */
    u32 s = irq_save();
    unlink(t);                          /* restarting a pending timer is allowed */
    t->deadline = timer_now_us() + delay_us;
    t->period_us = period_us;
    t->fn = fn;
    t->arg = arg;
    insert(t);
    run_expired();                      /* arms the channel (or runs t if due) */
    irq_restore(s);
/* END SOLUTION */
}

void timer_stop(struct timer *t)
{
    u32 s = irq_save();
    unlink(t);
    irq_restore(s);
}

static void set_flag(struct timer *t, void *arg)
{
    (void)t;
    *(volatile int *)arg = 1;
}

/* Sleep in WFI: IRQs masked around the test of `done` so that the wake-up cannot
 * slip in between the test and the WFI (the same pattern as uart_getc). */
u32 timer_sleep_us(u64 us)
{
/* BEGIN SOLUTION timer_sleep_us */
    volatile int done = 0;
    struct timer t = { 0 };
    u32 wakeups = 0;

    timer_start(&t, us, 0, set_flag, (void *)&done);
    for (;;) {
        u32 s = irq_save();
        if (done) {
            irq_restore(s);
            return wakeups;
        }
        wfi();
        irq_restore(s);                 /* the interrupt handler runs here */
        wakeups++;
    }
/* END SOLUTION */
}

void timer_init(u32 hz)
{
    mmio_write(SYSTIMER_CS, SYSTIMER_CS_M(TIMER_TICK_CHANNEL) |
                            SYSTIMER_CS_M(TIMER_CALLBACK_CHANNEL));
    irq_register(IRQ_SYSTIMER_1, tick_irq, NULL);
    irq_register(IRQ_SYSTIMER_3, callback_irq, NULL);
    timer_set_rate(hz);
    irq_enable(IRQ_SYSTIMER_1);
    irq_enable(IRQ_SYSTIMER_3);
}
