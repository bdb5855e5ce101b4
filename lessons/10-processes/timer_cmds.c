/*
 * timer_cmds.c - shell commands for the system timer: uptime, sleep, ticks, tick, cli,
 * timers.
 *
 * They let you (and the tests) drive timer.c from the shell; none of them is
 * part of the subsystem itself.
 */
#include "timer.h"
#include "board.h"
#include "kprintf.h"
#include "kstring.h"
#include "mmio.h"
#include "shell.h"

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
