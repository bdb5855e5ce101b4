/* mbox.h - asking the VideoCore firmware for facts through the mailbox. */
#ifndef MBOX_H
#define MBOX_H

#include "types.h"

/* Send a property-tag buffer (16-byte aligned) on the property channel and wait
 * for the answer. Returns 0 if the firmware answered "success", -1 otherwise. */
int mbox_call(volatile u32 *buf);

/* Clock rate in Hz of clock `id` (MBOX_CLOCK_*), or 0 if the firmware did not say. */
u32 mbox_get_clock_rate(u32 id);

#endif
