/*
 * timer.h - time from the BCM2835 system timer: a free-running 64-bit microsecond
 * counter with four compare channels. The GPU firmware uses channels 0 and 2; the
 * ARM has channels 1 (the periodic tick) and 3 (one-shot and periodic callbacks).
 */
#ifndef TIMER_H
#define TIMER_H

#include "types.h"

#define TIMER_TICK_CHANNEL      1
#define TIMER_CALLBACK_CHANNEL  3
#define TIMER_DEFAULT_HZ        100
#define TIMER_MAX_HZ            10000
#define US_PER_S                1000000u

/* Start the tick at `hz` ticks per second (also to change the rate later). */
void timer_init(u32 hz);
int timer_set_rate(u32 hz);         /* -1 if hz is 0 or above TIMER_MAX_HZ */

u64 timer_now_us(void);             /* microseconds since the board started */

struct tick_stats {
    u32 hz;
    u64 ticks;          /* tick interrupts, plus ticks counted as missed */
    u32 missed;         /* ticks that passed while interrupts were off too long */
};
void timer_tick_stats(struct tick_stats *stats);

/* A software timer: calls fn(arg) in interrupt context at `deadline`, and again
 * every `period_us` if that is not 0. The caller owns the struct. */
struct timer {
    u64 deadline;
    u32 period_us;
    void (*fn)(struct timer *t, void *arg);
    void *arg;
    struct timer *next;     /* in the list of pending timers, earliest first */
};

void timer_start(struct timer *t, u64 delay_us, u32 period_us,
                 void (*fn)(struct timer *t, void *arg), void *arg);
void timer_stop(struct timer *t);

/* Sleep for at least `us` microseconds, in WFI. Returns how many times the CPU
 * woke up meanwhile (each interrupt wakes it). */
u32 timer_sleep_us(u64 us);

#endif
