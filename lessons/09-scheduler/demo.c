/*
 * demo.c - the two-task demo: `demo` starts two threads that count steps (yielding
 * or not), so you can watch round robin and preemption share the CPU.
 */
#include "sched.h"
#include "kprintf.h"
#include "kstring.h"
#include "shell.h"

#define DEMO_TASKS 2

static struct {
    volatile int stop;
    int yields;                         /* 1: yield after every step; 0: never */
    u32 print_ms;                       /* 0: quiet */
    volatile u32 steps[DEMO_TASKS];
    int ids[DEMO_TASKS];
} demo;

static void demo_task(void *arg)
{
    int me = (int)(uintptr_t)arg;
    u64 next_print = timer_now_us() + (u64)demo.print_ms * 1000;

    while (!demo.stop) {
        demo.steps[me]++;
        if (demo.yields)
            thread_yield();
        if (demo.print_ms && timer_now_us() >= next_print) {
            kprintf("[task %c: %u steps]\n", 'A' + me, demo.steps[me]);
            next_print += (u64)demo.print_ms * 1000;
        }
    }
}

static int demo_running(void)
{
    for (int i = 0; i < DEMO_TASKS; i++)
        if (demo.ids[i] > 0 && thread_state(demo.ids[i]) != T_DEAD &&
            thread_state(demo.ids[i]) != T_UNUSED)
            return 1;
    return 0;
}

static int demo_start(int yields, u32 print_ms)
{
    if (demo_running()) {
        kprintf("error: the demo is running already (demo stop)\n");
        return -1;
    }
    demo.stop = 0;
    demo.yields = yields;
    demo.print_ms = print_ms;
    for (int i = 0; i < DEMO_TASKS; i++) {
        char name[THREAD_NAME_MAX] = "task A";
        name[5] = (char)('A' + i);
        demo.steps[i] = 0;
        demo.ids[i] = thread_create(name, demo_task, (void *)(uintptr_t)i);
        if (demo.ids[i] < 0) {
            demo.stop = 1;
            kprintf("error: no room for another thread\n");
            return -1;
        }
    }
    kprintf("demo started: tasks %d and %d, %s\n", demo.ids[0], demo.ids[1],
            yields ? "yielding after every step" : "never yielding (preemption only)");
    return 0;
}

static int cmd_demo(int argc, char **argv, const char *args)
{
    u32 print_ms = 0;
    (void)args;

    if (argc >= 2 && strcmp(argv[1], "stop") == 0 && argc == 2) {
        demo.stop = 1;
        while (demo_running())
            thread_yield();             /* let them notice and exit */
        kprintf("demo stopped: task A %u steps, task B %u steps\n",
                demo.steps[0], demo.steps[1]);
        return 0;
    }
    if (argc >= 3 && argc <= 4 && strcmp(argv[1], "start") == 0 &&
        (strcmp(argv[2], "yield") == 0 || strcmp(argv[2], "spin") == 0) &&
        (argc == 3 || parse_u32(argv[3], &print_ms) == 0))
        return demo_start(strcmp(argv[2], "yield") == 0, print_ms);
    kprintf("usage: demo start yield|spin [MS] | demo stop\n");
    return -1;
}
SHELL_COMMAND(demo, "start|stop ...",
              "start yield|spin [MS]: two counting threads (print every MS ms); stop",
              cmd_demo);

/* bench yield N (the command is bench.c's): the shell and a helper thread yield to
 * each other N times each. Under QEMU's -icount shift=0 one guest instruction
 * takes 1 ns, so the time per switch in ns is its cost in instructions. The loop
 * is here, not in bench.c, so that thread_yield() is inlined into it as into any
 * caller in this file. */
static volatile u32 bench_rounds;

static void bench_partner(void *arg)
{
    (void)arg;
    while (bench_rounds) {
        thread_yield();
    }
}

int sched_bench_yield(u32 n)
{
    u64 start, end;

    if (n == 0 || n > 1000000 || demo_running()) {
        kprintf("usage: bench yield N   (N up to 1000000; not while the demo runs)\n");
        return -1;
    }
    bench_rounds = n;
    if (thread_create("bench", bench_partner, NULL) < 0) {
        kprintf("error: no room for another thread\n");
        return -1;
    }
    thread_yield();                     /* let the partner start */
    start = timer_now_us();
    for (u32 i = 0; i < n; i++)
        thread_yield();
    end = timer_now_us();
    bench_rounds = 0;
    thread_yield();                     /* the partner exits */
    kprintf("%u yields each way: %llu us, %llu ns per switch\n", n, end - start,
            (end - start) * 1000 / (2 * (u64)n));
    return 0;
}
