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
 * which the harness reads. This lesson has one: the boot, from reset to the
 * shell. Later lessons add their operations here, not in the subsystems' files.
 */
#include "bench.h"
#include "board.h"
#include "kprintf.h"
#include "kstring.h"
#include "mmio.h"
#include "shell.h"

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

static int cmd_bench(int argc, char **argv, const char *args)
{
    (void)args;
    if (argc == 2 && strcmp(argv[1], "boot") == 0) {
        bench_boot();
        return 0;
    }
    kprintf("usage: bench boot\n");
    return -1;
}
SHELL_COMMAND(bench, "boot", "what kernel paths cost: boot (reset to the shell)", cmd_bench);
