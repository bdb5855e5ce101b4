/* arm.h, host stand-in for common/arm.h: no CPSR to mask on the host, so the
 * interrupt masking that pmm.c's shell commands do becomes a no-op. */
#ifndef ARM_H
#define ARM_H

#include "types.h"

static inline u32 irq_save(void) { return 0; }
static inline void irq_restore(u32 cpsr) { (void)cpsr; }

#endif
