/*
 * mmio.h - reading and writing device registers.
 *
 * `volatile` makes the compiler perform every access, in order, exactly as written.
 * The barrier is for the hardware: the BCM2835's AXI bus may return the reads of two
 * different peripherals out of order, so [BCM p.7] asks for a memory barrier before
 * the first access to a peripheral and after the last. We put one on every access:
 * a little slower, never wrong, and a student's driver cannot forget it.
 */
#ifndef MMIO_H
#define MMIO_H

#include "arm.h"
#include "types.h"

static inline u32 mmio_read(u32 addr)
{
    u32 v = *(volatile u32 *)(uintptr_t)addr;
    dmb();
    return v;
}

static inline void mmio_write(u32 addr, u32 value)
{
    dmb();
    *(volatile u32 *)(uintptr_t)addr = value;
}

#endif
