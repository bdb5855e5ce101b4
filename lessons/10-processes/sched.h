/*
 * sched.h - kernel threads and a round-robin scheduler with preemption.
 *
 * Each thread has its own stack; the CPU runs one at a time. A thread stops
 * running when it yields, sleeps, waits, exits - or when the timer tick says its
 * time slice is over (preemption). Threads run in SVC mode, all in the kernel.
 */
#ifndef SCHED_H
#define SCHED_H

#include "timer.h"
#include "types.h"

#define THREADS_MAX         16
#define THREAD_STACK_SIZE   8192
#define THREAD_NAME_MAX     16
#define SLICE_TICKS         1       /* a thread runs for at most one tick at a time */

enum thread_state { T_UNUSED, T_RUNNING, T_READY, T_SLEEPING, T_BLOCKED, T_DEAD };

struct thread {
    u32 sp;                         /* saved stack pointer while not running */
    int id;
    char name[THREAD_NAME_MAX];
    enum thread_state state;
    u32 switches;                   /* times it was switched to */
    u32 ticks;                      /* ticks that found it running */
    void *stack;                    /* from kmalloc */
    void (*entry)(void *arg);
    void *arg;
    struct timer timer;             /* wakes it from thread_sleep_us */
    struct thread *wait_next;       /* in a wait queue */
    struct thread *run_next;        /* in the run queue, while READY (sched.c) */
    struct waitq *waiting_on;       /* the queue it is in, while T_BLOCKED */
    struct proc *proc;              /* the user process it runs, or NULL */
};

struct proc;
struct waitq;

/* A list of threads waiting for something (input, a lock). */
struct waitq {
    struct thread *first;
};

/* A lock that sleeps instead of spinning. */
struct mutex {
    struct thread *owner;
    struct waitq waiters;
};

void sched_init(void);              /* the caller becomes thread 0 */
int sched_running(void);
struct thread *thread_current(void);

int thread_create(const char *name, void (*entry)(void *arg), void *arg);  /* id or -1 */
void thread_yield(void);
void thread_sleep_us(u64 us);
void thread_exit(void) __attribute__((noreturn));
struct thread *thread_get(int id);

/* Make a sleeping or waiting thread runnable at once (its sleep or wait returns
 * early; the caller of the wait must check why). For kill. */
void thread_interrupt(struct thread *t);

/* Block the current thread on wq until wake_all(wq). Call with IRQs masked, after
 * checking the condition, so that a wake-up cannot slip in between. */
void wait_on(struct waitq *wq);
void wake_all(struct waitq *wq);

void mutex_lock(struct mutex *m);
void mutex_unlock(struct mutex *m);

/* bench yield N: time N thread switches each way (for bench.c's command). */
int sched_bench_yield(u32 n);

/* For the shell: a copy of the thread table taken with IRQs masked, and one
 * thread's state (T_UNUSED for an id out of range). */
void sched_snapshot(struct thread out[THREADS_MAX]);
enum thread_state thread_state(int id);

/* Lesson 10: fn loads a thread's address space; schedule() calls it, with IRQs
 * masked and before cpu_switch(), whenever the next or the previous thread runs a
 * process. proc_init() registers proc_switch_mm(). */
void sched_set_switch_mm(void (*fn)(struct thread *next));

/* From the timer tick, and on the way out of every IRQ. */
void sched_tick(void);
void sched_irq_exit(void);

#endif
