/*
 * ringbuf.h - a byte ring buffer for one producer and one consumer.
 *
 * The UART interrupt handler puts bytes in; the shell takes them out. Neither side
 * needs a lock as long as only the producer writes `head` and only the consumer
 * writes `tail`, and each publishes its index after touching the data. The size is
 * a power of two so that the indexes can run freely and wrap by masking: head - tail
 * is the fill level even after the counters overflow.
 *
 * "After" needs saying to the compiler, which may otherwise move the data access
 * past the index update: that is the barrier below. On one core (the BCM2835)
 * that is enough; with a reader on another core it would have to be a dmb().
 */
#ifndef RINGBUF_H
#define RINGBUF_H

#include "types.h"

#define RINGBUF_SIZE 4096u                  /* bytes; a power of two */

/* Keeps the compiler from moving memory accesses across this point. */
#define compiler_barrier() __asm__ volatile("" : : : "memory")

struct ringbuf {
    volatile u32 head;                      /* next slot to write (producer) */
    volatile u32 tail;                      /* next slot to read (consumer) */
    u8 data[RINGBUF_SIZE];
};

static inline u32 ringbuf_count(const struct ringbuf *rb)
{
    return rb->head - rb->tail;
}

static inline int ringbuf_empty(const struct ringbuf *rb)
{
    return rb->head == rb->tail;
}

/* Returns 0, or -1 if the buffer is full (the byte is dropped). */
static inline int ringbuf_put(struct ringbuf *rb, u8 byte)
{
    if (ringbuf_count(rb) == RINGBUF_SIZE)
        return -1;
    rb->data[rb->head & (RINGBUF_SIZE - 1)] = byte;
    compiler_barrier();
    rb->head = rb->head + 1;                /* publish after the data is written */
    return 0;
}

/* Returns the oldest byte (0-255), or -1 if the buffer is empty. */
static inline int ringbuf_get(struct ringbuf *rb)
{
    u8 byte;
    if (ringbuf_empty(rb))
        return -1;
    byte = rb->data[rb->tail & (RINGBUF_SIZE - 1)];
    compiler_barrier();
    rb->tail = rb->tail + 1;                /* free the slot after reading it */
    return byte;
}

#endif
