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
 * adds an empty timer tick; lesson 08 mapping and unmapping pages and the heap. Each
 * lesson adds its operations here, not in the subsystems' files.
 */
#include "bench.h"
#include "arm.h"
#include "board.h"
#include "heap.h"
#include "kprintf.h"
#include "kstring.h"
#include "mmio.h"
#include "pmm.h"
#include "shell.h"
#include "timer.h"
#include "vmm.h"

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

/* ---- lesson 08: pages and the heap ------------------------------------------------ */

#define BENCH_VA        0xD0000000u     /* megabytes no other code maps */
#define BENCH_MBS       8               /* megabytes for the "table exists" case */
#define MB(i)           (BENCH_VA + (i) * SECTION_SIZE)

static int map(u32 va, u32 pa)
{
    int err = vmm_map(&kernel_as, va, pa, VM_WRITE);

    if (err)
        kprintf("error: bench: cannot map 0x%08x: %s\n", va, vmm_strerror(err));
    return err;
}

static int unmap(u32 va)
{
    int err = vmm_unmap(&kernel_as, va, NULL);

    if (err)
        kprintf("error: bench: cannot unmap 0x%08x: %s\n", va, vmm_strerror(err));
    return err;
}

/* L2 quarters free in the frames that hold tables (a new table goes in one). */
static u32 free_quarters(void)
{
    struct vmm_stats st;

    vmm_stats(&st);
    return st.l2_frames * (PAGE_SIZE / L2_TABLE_SIZE) - st.l2_tables;
}

/* Map, then unmap, pages 1..per of BENCH_MBS megabytes that each have a table (an
 * anchor page mapped first, not timed). */
static int bench_vm_existing(u32 per, u32 frame)
{
    u32 start, map_ns, unmap_ns, mb, pg;
    int err = 0;

    for (mb = 0; mb < BENCH_MBS && !err; mb++)
        err = map(MB(mb), frame);
    start = stopwatch_start();
    for (mb = 0; mb < BENCH_MBS && !err; mb++)
        for (pg = 1; pg <= per && !err; pg++)
            err = map(MB(mb) + pg * PAGE_SIZE, frame);
    map_ns = stopwatch_ns(start) - empty_ns;
    start = stopwatch_start();
    for (mb = 0; mb < BENCH_MBS && !err; mb++)
        for (pg = 1; pg <= per && !err; pg++)
            err = unmap(MB(mb) + pg * PAGE_SIZE);
    unmap_ns = stopwatch_ns(start) - empty_ns;
    for (mb = 0; mb < BENCH_MBS && !err; mb++)
        err = unmap(MB(mb));
    if (!err) {
        report("map-existing", BENCH_MBS * per, map_ns);
        report("unmap-not-last", BENCH_MBS * per, unmap_ns);
    }
    return err;
}

/* n times: map a page in an empty megabyte (a new table), then unmap it (the
 * megabyte's last page: the table goes), each on the stopwatch. */
static int bench_vm_new(u32 n, u32 frame, u32 *map_ns, u32 *unmap_ns)
{
    u32 start;
    int err = 0;

    *map_ns = *unmap_ns = 0;
    for (u32 i = 0; i < n && !err; i++) {
        start = stopwatch_start();
        err = map(MB(BENCH_MBS), frame);
        *map_ns += stopwatch_ns(start) - empty_ns;
        start = stopwatch_start();
        if (!err)
            err = unmap(MB(BENCH_MBS));
        *unmap_ns += stopwatch_ns(start) - empty_ns;
    }
    return err;
}

/* bench vm N: map and unmap N pages in each case (the first case: N rounded up to
 * a multiple of BENCH_MBS). Interrupts stay masked: no tick lands in a figure. */
static void bench_vm(u32 n)
{
    u32 frame, s, map_ns, unmap_ns, fillers = 0;
    int err;

    sync_tick();
    calibrate();
    s = irq_save();
    frame = pmm_alloc();                /* every page maps this frame */
    err = !frame || bench_vm_existing((n + BENCH_MBS - 1) / BENCH_MBS, frame);
    /* A new table in a free quarter of a frame that holds tables already. If no
     * frame has one, a table made first (in a new frame) leaves three. */
    if (!err && !free_quarters())
        err = map(MB(BENCH_MBS + 1 + fillers++), frame);
    if (!err && !(err = bench_vm_new(n, frame, &map_ns, &unmap_ns))) {
        report("map-new-quarter", n, map_ns);
        report("unmap-last", n, unmap_ns);
    }
    /* A new table in a new frame: first fill every free quarter. */
    while (!err && free_quarters())
        err = map(MB(BENCH_MBS + 1 + fillers++), frame);
    if (!err && !(err = bench_vm_new(n, frame, &map_ns, &unmap_ns)))
        report("map-new-frame", n, map_ns);
    while (fillers && !err)
        err = unmap(MB(BENCH_MBS + fillers--));
    if (frame)
        pmm_free(frame);
    irq_restore(s);
    if (!frame)
        kprintf("error: bench: out of memory\n");
}

/* bench heap N: N kmalloc+kfree pairs of a small block, then of a page-sized one
 * (the first pair of each, not timed, grows the heap if it must). */
static void bench_heap(u32 n)
{
    static const u32 sizes[] = { 32, 4096 };
    static const char *const names[] = { "kmalloc-32", "kmalloc-4096" };
    u32 s, start, ns;

    sync_tick();
    calibrate();
    s = irq_save();
    for (u32 k = 0; k < 2; k++) {
        kfree(kmalloc(sizes[k]));
        start = stopwatch_start();
        for (u32 i = 0; i < n; i++)
            kfree(kmalloc(sizes[k]));
        ns = stopwatch_ns(start) - empty_ns;
        report(names[k], n, ns);
    }
    irq_restore(s);
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
    if (argc == 3 && strcmp(argv[1], "vm") == 0 && parse_u32(argv[2], &n) == 0 &&
        n >= 1 && n <= BENCH_MBS * (L2_ENTRIES - 1)) {
        bench_vm(n);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "heap") == 0 && parse_u32(argv[2], &n) == 0 &&
        n >= 1 && n <= 100000) {
        bench_heap(n);
        return 0;
    }
    kprintf("usage: bench boot | irq TICKS (1-10000) | vm N (1-2040)"
            " | heap N (1-100000)\n");
    return -1;
}
SHELL_COMMAND(bench, "boot | irq T | vm N | heap N",
              "what kernel paths cost (make bench)", cmd_bench);
