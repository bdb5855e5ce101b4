/*
 * bench.c - the `bench` command: what the kernel's paths cost, in instructions.
 *
 * `make bench` (harness/pios/bench.py) boots the kernel under QEMU with
 * -icount shift=0,sleep=off: each guest instruction advances guest time by
 * 2^0 = 1 ns, and the BCM2835 system timer counts microseconds of that time. So
 * an operation that takes T ns costs T instructions - the same on every run and
 * every host. (On a Pi the same commands time the real thing, in real ns.)
 *
 * Each figure is one line, "bench OP N: T ns" (N operations took T ns in all), which
 * the harness reads. Lesson 02 has one, the boot from reset to the shell; lesson 05
 * adds an empty timer tick. Each lesson adds its operations here, not in the
 * subsystems' files.
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

/* ---- a stopwatch good to a few ns ---------------------------------------------------- *
 * The timer ticks once a microsecond, so one reading can be up to 1 us late. The
 * stopwatch starts just after a tick of the timer (spinning until the reading
 * changes) and stops by spinning until the next tick, counting the loop's turns:
 * their time, known from calibrate(), comes off. What is left of the rounding is
 * less than one turn of the loop (a few instructions). */

#define CALIBRATE_US 100

static u32 turn_ns;             /* one turn of spin_until()'s loop */
static u32 empty_ns;            /* what the stopwatch measures around nothing */

/* Spin until the reading reaches `until`: returns the reading, *turns counts the
 * loop. (A signed difference: an interrupt may carry the reading past `until`.) */
static u32 spin_until(u32 until, u32 *turns)
{
    u32 now, n = 0;

    while ((s32)((now = now_us()) - until) < 0)
        n++;
    *turns = n;
    return now;
}

static u32 stopwatch_start(void)
{
    u32 turns;
    return spin_until(now_us() + 1, &turns);
}

/* ns since `start`, to within one turn of the loop. */
static u32 stopwatch_ns(u32 start)
{
    u32 turns, end = spin_until(now_us() + 1, &turns);
    return (end - start) * 1000 - turns * turn_ns;
}

/* Time a turn of spin_until()'s loop: a whole number of instructions, so of ns,
 * whatever the phase the count started at. Then the stopwatch's own cost. */
static void calibrate(void)
{
    u32 start, turns, total = 0, s = irq_save();    /* no interrupt meanwhile */

    start = stopwatch_start();
    spin_until(start + CALIBRATE_US, &turns);
    turn_ns = (CALIBRATE_US * 1000 + turns / 2) / turns;
    for (int i = 0; i < 16; i++)
        total += stopwatch_ns(stopwatch_start());
    empty_ns = total / 16;
    irq_restore(s);
}

static void report(const char *op, u32 n, u32 ns)
{
    kprintf("bench %s %u: %u ns\n", op, n, ns);
}

/* ---- the boot ------------------------------------------------------------------------- */

static u32 boot_end, boot_turns;

void bench_boot_done(void)
{
    /* The timer started at 0 with the board: the boot took until the next tick
     * of the timer, minus the turns spent waiting for it. */
    boot_end = spin_until(now_us() + 1, &boot_turns);
}

static void bench_boot(void)
{
    calibrate();
    report("boot", 1, boot_end * 1000 - boot_turns * turn_ns);
}

/* ---- lesson 05: an empty tick ------------------------------------------------------ */

/* Wait for the next tick. With -icount sleep=off the WFI ends exactly at the
 * tick's deadline, a fixed point of guest time: everything after it happens at
 * the same guest time on every run, whenever the command's line arrived. */
static void sync_tick(void)
{
    struct tick_stats before, now;

    timer_tick_stats(&before);
    do {
        wfi();
        timer_tick_stats(&now);
    } while (now.ticks == before.ticks);
}

/* Exactly two instructions a turn, whatever the compiler would make of a C loop. */
static void spin(u32 turns)
{
    __asm__ volatile("1: subs %0, %0, #1\n\t"    /* one turn less... */
                     "bne 1b"                     /* ...until none is left */
                     : "+r"(turns) : : "cc");
}

/* bench irq N: what an empty tick costs - IRQ entry, the tick handler with nothing
 * due, the return. With the tick at TIMER_MAX_HZ, the same spin of about N tick
 * periods runs twice: with IRQs masked, then taking them. The difference is the
 * ticks' time; divided by the ticks counted meanwhile, one tick. */
static void bench_irq(u32 n)
{
    u32 turns = n * (SYSTIMER_HZ / TIMER_MAX_HZ) * 1000 / 2, start, masked, taken, s;
    struct tick_stats old, before, after;

    sync_tick();
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

/* ---- the command ---------------------------------------------------------------------- */

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
    kprintf("usage: bench boot | irq TICKS (1-10000)\n");
    return -1;
}
SHELL_COMMAND(bench, "boot | irq T", "what kernel paths cost (make bench)", cmd_bench);
