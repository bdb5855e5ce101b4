/* mbox.h - asking the VideoCore firmware for facts through the mailbox. */
#ifndef MBOX_H
#define MBOX_H

#include "types.h"

/* Send a property-tag buffer (16-byte aligned) on the property channel and wait
 * for the answer. Returns 0 if the firmware answered "success", -1 otherwise. */
int mbox_call(volatile u32 *buf);

/* Clock rate in Hz of clock `id` (MBOX_CLOCK_*), or 0 if the firmware did not say. */
u32 mbox_get_clock_rate(u32 id);

/* The RAM the ARM may use (the rest belongs to the GPU). Returns 0, or -1 if the
 * firmware did not answer. */
int mbox_get_arm_memory(u32 *base, u32 *size);

#endif
