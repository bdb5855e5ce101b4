/*
 * bench.c - the `bench` command: what the kernel's paths cost, in instructions.
 *
 * `make bench` (harness/pios/bench.py) boots the kernel under QEMU with
 * -icount shift=0,sleep=off: each guest instruction advances guest time by
 * 2^0 = 1 ns, and the BCM2835 system timer counts microseconds of that time. So
 * an operation that takes T ns costs T instructions - the same on every run and
 * every host. (On a Pi the same commands time the real thing, in real ns.)
 *
 * Each figure is one line, "bench OP N: T ns" (N operations took T ns in all),
 * which the harness reads. Lesson 02 has one, the boot from reset to the shell;
 * lesson 05 adds an empty timer tick. Later lessons add their operations here,
 * not in the subsystems' files.
 */
#include "bench.h"
#include "arm.h"
#include "board.h"
#include "kprintf.h"
#include "kstring.h"
#include "mmio.h"
#include "shell.h"
#include "timer.h"

/* The system timer's low word, read here rather than through a timer driver so
 * that the lessons before the timer's can time too. A difference of two readings
 * is right across the wrap (every 71 minutes). */
static u32 now_us(void)
{
    return mmio_read(SYSTIMER_CLO);
}

/* ---- a stopwatch with a resolution of a few ns ------------------------------------ *
 * The timer ticks once a microsecond: a reading is up to 1 us late. So a stopwatch
 * starts just after a tick (spinning until the reading changes), and stops by
 * spinning until the next tick while counting the loop's turns: the time of the
 * turns, known from a calibration, comes off. One turn (a few instructions) is
 * what is left of the rounding. */

#define CALIBRATE_US 100

static u32 spin_ns_x1000;       /* one turn of the loop below, in ns / 1000 */
static u32 empty_ns;            /* what an empty start..stop measures */

/* Spin until the reading changes: returns the new reading, *turns counts the loop. */
static u32 next_tick(u32 *turns)
{
    u32 t = now_us(), now, n = 0;

    while ((now = now_us()) == t)
        n++;
    *turns = n;
    return now;
}

static u32 stopwatch_start(void)
{
    u32 turns;
    return next_tick(&turns);
}

/* ns since `start`, to within one turn of the spin loop. */
static u32 stopwatch_ns(u32 start)
{
    u32 turns, end = next_tick(&turns);
    return (end - start) * 1000 - turns * spin_ns_x1000 / 1000;
}

/* Time one turn of next_tick's loop over CALIBRATE_US us, and the stopwatch's own
 * cost, once. */
static void calibrate(void)
{
    u32 start, turns = 0, total = 0;

    if (spin_ns_x1000)
        return;
    start = stopwatch_start();
    while (now_us() - start < CALIBRATE_US)
        turns++;
    spin_ns_x1000 = CALIBRATE_US * 1000u * 1000u / turns;
    for (int i = 0; i < 16; i++)
        total += stopwatch_ns(stopwatch_start());
    empty_ns = total / 16;
}

/* ---- the figures -------------------------------------------------------------------- */

static u32 boot_end, boot_turns;

void bench_boot_done(void)
{
    /* The timer started at 0 with the board: the boot took until the next tick,
     * minus the turns spent waiting for it. */
    boot_end = next_tick(&boot_turns);
}

static void report(const char *op, u32 n, u32 ns)
{
    kprintf("bench %s %u: %u ns\n", op, n, ns);
}

static void bench_boot(void)
{
    calibrate();
    report("boot", 1, boot_end * 1000 - boot_turns * spin_ns_x1000 / 1000);
}

/* Exactly two instructions a turn, whatever the compiler would make of a C loop. */
static void spin(u32 turns)
{
    __asm__ volatile("1: subs %0, %0, #1\n\t"    /* one turn less... */
                     "bne 1b"                     /* ...until none is left */
                     : "+r"(turns) : : "cc");
}

/* bench irq N: what an empty tick costs - IRQ entry, the tick handler with nothing
 * due, the return. With the tick at TIMER_MAX_HZ, the same spin runs twice: with
 * IRQs masked, then taking them. The difference is the ticks' time; divided by
 * the ticks counted meanwhile, one tick. (timer_set_rate() restarts the period,
 * so the ticks fall at the same points of the spin on every run.) */
static void bench_irq(u32 n)
{
    u32 turns = n * (SYSTIMER_HZ / TIMER_MAX_HZ) * 1000 / 2, start, masked, taken, s;
    struct tick_stats old, before, after;

    calibrate();
    timer_tick_stats(&old);
    timer_set_rate(TIMER_MAX_HZ);
    s = irq_save();
    start = stopwatch_start();
    spin(turns);
    masked = stopwatch_ns(start);
    irq_restore(s);                     /* the tick that came meanwhile is taken here */
    start = stopwatch_start();
    timer_tick_stats(&before);
    spin(turns);
    timer_tick_stats(&after);
    taken = stopwatch_ns(start);
    timer_set_rate(old.hz);
    report("irq", (u32)(after.ticks - before.ticks), taken - masked);
}

static int cmd_bench(int argc, char **argv, const char *args)
{
    u32 n = 0;
    (void)args;

    if (argc == 2 && strcmp(argv[1], "boot") == 0) {
        bench_boot();
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "irq") == 0 && parse_u32(argv[2], &n) == 0 &&
        n >= 1 && n <= 10000) {
        bench_irq(n);
        return 0;
    }
    kprintf("usage: bench boot | bench irq TICKS (1-10000)\n");
    return -1;
}
SHELL_COMMAND(bench, "boot | irq TICKS",
              "what kernel paths cost: boot (reset to the shell), an empty tick", cmd_bench);
