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
#include "sched.h"
#include "shell.h"

#define US_PER_S    1000000u
#define TIMER_ARM_MAX_US 0x40000000u    /* arm a channel at most this far ahead */

static u32 tick_hz, tick_period_us;
static u32 tick_deadline;               /* what channel 1 was last armed with */
static volatile u64 ticks;
static u32 ticks_missed;
static struct timer *pending;           /* software timers, earliest first */

u64 timer_now_us(void)
{
/* BEGIN SOLUTION
 * TODO: The whole 64-bit counter, CHI:CLO. The two cannot be read at once: if CHI
 * changes while you read CLO, CLO wrapped in between, so read both again. The stub
 * returns CLO alone, which wraps after 71 minutes. README, walkthrough 3.
 * STUB:
 *     return mmio_read(SYSTIMER_CLO);
 */
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
/* BEGIN SOLUTION
 * TODO: 1 if deadline is still ahead of CLO, 0 if it has come: compare the signed
 * 32-bit difference, so that the answer is right across the wrap. The stub says
 * "ahead" always. README, walkthrough 3.
 * STUB:
 *     (void)deadline;
 *     return 1;
 */
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
/* BEGIN SOLUTION
 * TODO: Acknowledge channel 1 in SYSTIMER_CS, count the tick, and re-arm: advance
 * tick_deadline by tick_period_us (from the last deadline, not from CLO, so the tick
 * does not drift); while arm_channel() says that deadline has passed already, advance
 * again and count a tick and a missed tick. The stub counts nothing and re-arms the
 * deadline that has just passed: the next tick comes after the counter wraps, 71
 * minutes later. README, walkthrough 4.
 * STUB:
 *     mmio_write(SYSTIMER_CS, SYSTIMER_CS_M(TIMER_TICK_CHANNEL));
 *     arm_channel(TIMER_TICK_CHANNEL, tick_deadline);
 */
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
    sched_tick();                       /* time slices (lesson 09) */
}

int timer_set_rate(u32 hz)
{
    if (hz == 0 || hz > TIMER_MAX_HZ)
        return -1;
/* BEGIN SOLUTION
 * TODO: With IRQs masked (the tick must not run halfway through): set tick_hz and
 * tick_period_us, and arm channel 1 a whole period from now. The stub sets the rate
 * but arms nothing: no tick. README, walkthrough 4.
 * STUB:
 *     tick_hz = hz;
 *     tick_period_us = US_PER_S / hz;
 */
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
/* BEGIN SOLUTION
 * TODO: Take every timer whose deadline has come off the head of `pending`
 * (re-insert a periodic one at deadline + period_us before calling its fn), then arm
 * channel 3 for the new head, at most TIMER_ARM_MAX_US ahead; if that deadline has
 * passed meanwhile, go round again. The stub panics (sleep and timers use it).
 * README, walkthrough 5.
 * STUB:
 *     panic("run_expired() is not written yet");
 */
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
/* BEGIN SOLUTION
 * TODO: With IRQs masked: take t off the list if it is there (restarting a pending
 * timer is allowed), fill it in (deadline = now + delay_us), insert it in deadline
 * order, and let run_expired() arm the channel - or run t at once if it is due.
 * README, walkthrough 5.
 * STUB:
 *     (void)t, (void)delay_us, (void)period_us, (void)fn, (void)arg;
 *     (void)unlink, (void)insert;
 *     panic("timer_start() is not written yet");
 */
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
 * slip in between the test and the WFI (the same pattern as uart_getc). Once the
 * scheduler runs, sleeping means blocking the thread: the others (or the idle
 * thread, in WFI) run meanwhile, and the sleeper wakes once. */
u32 timer_sleep_us(u64 us)
{
    volatile int done = 0;
    struct timer t = { 0 };
    u32 wakeups = 0;

    if (sched_running()) {
        thread_sleep_us(us);
        return 1;
    }

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

/* ---- shell ------------------------------------------------------------------------ */

static int parse_arg(const char *s, u32 max, u32 *out)
{
    return parse_u32(s, out) == 0 && *out <= max ? 0 : -1;
}

static int cmd_uptime(int argc, char **argv, const char *args)
{
    struct tick_stats st;
    u64 now = timer_now_us();
    (void)argc, (void)argv, (void)args;

    timer_tick_stats(&st);
    kprintf("uptime %llu.%06llu s (%llu ticks at %u Hz)\n",
            now / US_PER_S, now % US_PER_S, st.ticks, st.hz);
    return 0;
}
SHELL_COMMAND(uptime, "", "time since boot, from the system timer", cmd_uptime);

/* Reports what it measured itself, from the counter and the tick count: the time
 * between two shell commands says nothing (under QEMU's -icount sleep=off, guest
 * time races ahead while the guest idles waiting for input). */
static int cmd_sleep(int argc, char **argv, const char *args)
{
    struct tick_stats before, after;
    u32 ms, wakeups;
    u64 start, end;
    (void)args;

    if (argc != 2 || parse_arg(argv[1], 3600000, &ms) != 0) {
        kprintf("usage: sleep MS   (at most 3600000)\n");
        return -1;
    }
    timer_tick_stats(&before);
    start = timer_now_us();
    wakeups = timer_sleep_us((u64)ms * 1000);
    end = timer_now_us();
    timer_tick_stats(&after);
    kprintf("slept %u ms: %llu us by the timer, %llu ticks, %u wakeups\n", ms, end - start,
            after.ticks - before.ticks, wakeups);
    return 0;
}
SHELL_COMMAND(sleep, "MS", "sleep MS milliseconds (the shell blocks; idle waits in WFI)",
              cmd_sleep);

static int cmd_ticks(int argc, char **argv, const char *args)
{
    struct tick_stats st;
    (void)argc, (void)argv, (void)args;

    timer_tick_stats(&st);
    kprintf("tick %u Hz (every %u us): %llu ticks, %u missed\n",
            st.hz, US_PER_S / st.hz, st.ticks, st.missed);
    return 0;
}
SHELL_COMMAND(ticks, "", "tick rate and counts", cmd_ticks);

static int cmd_tick(int argc, char **argv, const char *args)
{
    u32 hz;
    (void)args;

    if (argc != 2 || parse_u32(argv[1], &hz) != 0 || timer_set_rate(hz) != 0) {
        kprintf("usage: tick HZ   (1 to %u)\n", TIMER_MAX_HZ);
        return -1;
    }
    kprintf("tick rate %u Hz (every %u us)\n", hz, US_PER_S / hz);
    return 0;
}
SHELL_COMMAND(tick, "HZ", "set the tick rate", cmd_tick);

/* cli MS: hold interrupts off for MS ms (polling the counter), as a long critical
 * section would. The tick interrupt is late: once taken, its handler must count
 * the ticks that passed and arm a deadline still ahead - else the channel would
 * wait for a match that already went by, and the tick would stop for 71 minutes. */
static int cmd_cli(int argc, char **argv, const char *args)
{
    struct tick_stats before, after;
    u32 ms, start, s;
    (void)args;

    if (argc != 2 || parse_arg(argv[1], 1000, &ms) != 0 || ms == 0) {
        kprintf("usage: cli MS   (1 to 1000)\n");
        return -1;
    }
    timer_tick_stats(&before);
    s = irq_save();
    start = mmio_read(SYSTIMER_CLO);
    while (mmio_read(SYSTIMER_CLO) - start < ms * 1000)
        ;
    irq_restore(s);                     /* the late tick is taken here */
    timer_tick_stats(&after);
    kprintf("interrupts off for %u ms: %llu ticks, %u missed\n", ms,
            after.ticks - before.ticks, after.missed - before.missed);
    return 0;
}
SHELL_COMMAND(cli, "MS", "hold interrupts off for MS ms; ticks catch up", cmd_cli);

/* timers MS COUNT: a periodic software timer, fired COUNT times; for each firing,
 * when it was due and when its callback ran. */
#define TIMERS_MAX 32

struct firing_log {
    u64 due[TIMERS_MAX], ran[TIMERS_MAX];
    volatile u32 count;
    u32 wanted;
};

static void log_firing(struct timer *t, void *arg)
{
    struct firing_log *log = arg;
    u32 i = log->count;

    log->ran[i] = timer_now_us();
    log->due[i] = t->deadline - t->period_us;   /* already advanced to the next one */
    log->count = i + 1;
    if (log->count == log->wanted)
        timer_stop(t);
}

static int cmd_timers(int argc, char **argv, const char *args)
{
    static struct firing_log log;
    struct timer t = { 0 };
    u32 ms, count;
    u64 start;
    (void)args;

    if (argc != 3 || parse_arg(argv[1], 60000, &ms) != 0 || ms == 0 ||
        parse_arg(argv[2], TIMERS_MAX, &count) != 0 || count == 0) {
        kprintf("usage: timers MS COUNT   (MS 1-60000, COUNT 1-%u)\n", TIMERS_MAX);
        return -1;
    }
    log.count = 0;
    log.wanted = count;
    u32 s = irq_save();             /* start = exactly the time timer_start counted from */
    timer_start(&t, (u64)ms * 1000, ms * 1000, log_firing, &log);
    start = t.deadline - (u64)ms * 1000;
    irq_restore(s);
    while (log.count < count) {
        u32 s = irq_save();
        if (log.count < count)
            wfi();
        irq_restore(s);
    }
    kprintf("started at %llu us\n", start);
    for (u32 i = 0; i < count; i++)
        kprintf("firing %u: due +%llu us, ran +%llu us (late %llu us)\n", i + 1,
                log.due[i] - start, log.ran[i] - start, log.ran[i] - log.due[i]);
    return 0;
}
SHELL_COMMAND(timers, "MS COUNT", "a periodic callback every MS ms, COUNT times", cmd_timers);
