/*
 * sched.c - kernel threads, round robin, preemption from the timer tick.
 *
 * The threads live in a fixed table. Lesson 09 walked the table round robin from
 * the current thread to find the next READY one, up to 16 slots a switch; here the
 * READY threads wait in a run queue, a FIFO linked through run_next: a thread joins
 * its tail when it becomes READY (make_ready) or when its turn ends while it can
 * still run, and the head runs next. Choosing costs the same whatever the table
 * holds (README, "What it costs"). Thread 0 is the boot thread (it runs the
 * shell); thread 1 is the idle thread, which is never queued: it runs only when
 * the queue is empty, and waits in WFI.
 *
 * Everything that looks at or changes thread states runs with IRQs masked: the
 * timer and UART interrupts change them too (sleepers wake, input arrives).
 */
#include "sched.h"
#include "arm.h"
#include "heap.h"
#include "kprintf.h"
#include "kstring.h"
#include "panic.h"

extern void cpu_switch(u32 *old_sp, u32 new_sp);   /* switch.S */

/* Loads the next thread's address space: proc_switch_mm(), which proc_init()
 * registers. A hook, not a call, because processes are built on threads and not
 * the other way round: the scheduler knows nothing of proc.h. */
static void (*switch_mm)(struct thread *next);

static struct thread threads[THREADS_MAX];
static struct thread *current, *idle;
static struct thread *runq_head, *runq_tail;    /* READY threads, oldest first */
static volatile int need_resched;
static int slice_left;
static int running;

struct thread *thread_current(void)
{
    return current;
}

int sched_running(void)
{
    return running;
}

/* To the tail of the run queue. */
static void runq_append(struct thread *t)
{
    t->run_next = NULL;
    if (runq_head)
        runq_tail->run_next = t;
    else
        runq_head = t;
    runq_tail = t;
}

/* t becomes READY: it queues, unless it is the current thread (woken before it
 * got off the CPU: a zero sleep), which pick_next() queues when its turn ends, or
 * idle, which never queues. IRQs masked. */
static void make_ready(struct thread *t)
{
    t->state = T_READY;
    if (t != current && t != idle)
        runq_append(t);
}

/* The next thread to run: the head of the run queue, after the current thread, if
 * it can still run, has gone to its tail (round robin: it is the current one again
 * only if nobody else is READY); idle if the queue is empty. */
static struct thread *pick_next(void)
{
    struct thread *t;

    if ((current->state == T_RUNNING || current->state == T_READY) && current != idle)
        runq_append(current);
    t = runq_head;
    if (!t)
        return idle;
    runq_head = t->run_next;
    return t;
}

/* Switch to the thread pick_next() chooses. IRQs must be masked. Returns when
 * this thread is chosen again. */
static void schedule(void)
{
    struct thread *prev = current, *next;

/* BEGIN SOLUTION schedule */
    need_resched = 0;
    slice_left = SLICE_TICKS;
    next = pick_next();
    if (next == prev) {
        prev->state = T_RUNNING;
        return;
    }
    if (prev->state == T_RUNNING)
        prev->state = T_READY;          /* preempted or yielded: still runnable */
    next->state = T_RUNNING;
    next->switches++;
    current = next;
    if (next->proc || prev->proc)
        switch_mm(next);                /* its address space (lesson 10) */
    cpu_switch(&prev->sp, next->sp);    /* ...and, later, back here */
/* END SOLUTION */
}

void thread_yield(void)
{
    u32 s = irq_save();
    schedule();
    irq_restore(s);
}

/* Every thread starts here, on its new stack, from the cpu_switch in schedule(),
 * which ran with IRQs masked. */
static void thread_start(void)
{
    irq_cpu_enable();
    current->entry(current->arg);
    thread_exit();
}

/* Free the stacks of threads that exited (never the current one: we would be
 * freeing the stack we run on). */
static void reap(void)
{
    for (int i = 0; i < THREADS_MAX; i++)
        if (threads[i].state == T_DEAD && &threads[i] != current) {
            kfree(threads[i].stack);
            threads[i].state = T_UNUSED;
        }
}

int thread_create(const char *name, void (*entry)(void *arg), void *arg)
{
    struct thread *t = NULL;
    u32 *sp, s = irq_save();

    reap();
    for (int i = 0; i < THREADS_MAX && !t; i++)
        if (threads[i].state == T_UNUSED)
            t = &threads[i];
    if (!t || !(t->stack = kmalloc(THREAD_STACK_SIZE))) {
        irq_restore(s);
        return -1;
    }
    *t = (struct thread){ .id = (int)(t - threads), .stack = t->stack,
                          .entry = entry, .arg = arg };
    strlcpy(t->name, name, THREAD_NAME_MAX);
/* BEGIN SOLUTION thread_create */
    /* A stack that looks as if the thread had called cpu_switch: r4-r11 (zero)
     * and a return address, thread_start. The top is 8-byte aligned, and popping
     * the nine words leaves sp exactly there. */
    sp = (u32 *)((u8 *)t->stack + THREAD_STACK_SIZE);
    *--sp = (u32)(uintptr_t)thread_start;            /* lr, popped into pc */
    for (int r = 11; r >= 4; r--)
        *--sp = 0;                                   /* r11 .. r4 */
    t->sp = (u32)(uintptr_t)sp;
/* END SOLUTION */
    make_ready(t);                      /* (its state was T_UNUSED until now) */
    irq_restore(s);
    return t->id;
}

void thread_exit(void)
{
    irq_save();
    current->state = T_DEAD;            /* reap() frees the stack later */
    schedule();
    panic("thread_exit: a dead thread was scheduled");
}

static void wake_sleeper(struct timer *timer, void *arg)
{
    struct thread *t = arg;
    (void)timer;
    if (t->state == T_SLEEPING) {
        make_ready(t);
        need_resched = 1;               /* let it run soon, not after a whole slice */
    }
}

void thread_sleep_us(u64 us)
{
/* BEGIN SOLUTION thread_sleep_us */
    u32 s = irq_save();
    current->state = T_SLEEPING;
    timer_start(&current->timer, us, 0, wake_sleeper, current);
    if (current->state == T_SLEEPING)   /* (a zero sleep may have woken us already) */
        schedule();
    else
        current->state = T_RUNNING;
    irq_restore(s);
/* END SOLUTION */
}

void wait_on(struct waitq *wq)
{
    if (current->wait_next || wq->first == current)
        panic("wait_on: thread %d is in a wait queue already", current->id);
    current->state = T_BLOCKED;
    current->wait_next = wq->first;
    current->waiting_on = wq;
    wq->first = current;
    schedule();
}

void wake_all(struct waitq *wq)
{
    struct thread *t = wq->first, *next;

    wq->first = NULL;
    for (; t; t = next) {           /* unlink each one: it may wait again at once */
        next = t->wait_next;
        t->wait_next = NULL;
        if (t->state == T_BLOCKED) {
            make_ready(t);
            t->waiting_on = NULL;
            need_resched = 1;
        }
    }
}

struct thread *thread_get(int id)
{
    return id >= 0 && id < THREADS_MAX ? &threads[id] : NULL;
}

void thread_interrupt(struct thread *t)
{
    u32 s = irq_save();
    if (t->state == T_SLEEPING) {
        timer_stop(&t->timer);
        make_ready(t);
    } else if (t->state == T_BLOCKED && t->waiting_on) {
        struct thread **pp = &t->waiting_on->first;     /* out of its queue */
        while (*pp && *pp != t)
            pp = &(*pp)->wait_next;
        if (*pp)
            *pp = t->wait_next;
        t->wait_next = NULL;
        t->waiting_on = NULL;
        make_ready(t);
    }
    need_resched = 1;
    irq_restore(s);
}

void mutex_lock(struct mutex *m)
{
    u32 s = irq_save();
    if (m->owner == current)
        panic("mutex_lock: thread %d holds it already", current->id);
    while (m->owner)
        wait_on(&m->waiters);
    m->owner = current;
    irq_restore(s);
}

void mutex_unlock(struct mutex *m)
{
    u32 s = irq_save();
    m->owner = NULL;
    wake_all(&m->waiters);
    irq_restore(s);
}

void sched_tick(void)
{
/* BEGIN SOLUTION sched_tick */
    if (!running)
        return;
    current->ticks++;
    if (--slice_left <= 0)
        need_resched = 1;               /* the slice is over: switch at IRQ exit */
/* END SOLUTION */
}

/* On the way out of an IRQ, on the interrupted thread's stack, IRQs masked. */
void sched_irq_exit(void)
{
    if (running && need_resched)
        schedule();
}

/* Runs when nothing else can. WFI with IRQs masked cannot miss a wake-up: it
 * returns at once if an interrupt is already pending. */
static void idle_loop(void *arg)
{
    (void)arg;
    for (;;) {
        u32 s = irq_save();
        if (!need_resched)
            wfi();
        irq_restore(s);                 /* the interrupt is taken here */
        thread_yield();
    }
}

void sched_init(void)
{
    struct thread *boot = &threads[0];

    *boot = (struct thread){ .id = 0, .state = T_RUNNING };
    strlcpy(boot->name, "shell", THREAD_NAME_MAX);
    current = boot;
    idle = &threads[thread_create("idle", idle_loop, NULL)];
    runq_head = NULL;                   /* (it queued before it was known as idle) */
    slice_left = SLICE_TICKS;
    running = 1;
}

void sched_snapshot(struct thread out[THREADS_MAX])
{
    u32 s = irq_save();                 /* a consistent picture */
    memcpy(out, threads, sizeof(threads));
    irq_restore(s);
}

enum thread_state thread_state(int id)
{
    return id >= 0 && id < THREADS_MAX ? threads[id].state : T_UNUSED;
}

void sched_set_switch_mm(void (*fn)(struct thread *next))
{
    switch_mm = fn;
}
