/* semihost.c - ending the machine through semihosting, or stopping in WFI. */
#include "semihost.h"
#include "arm.h"

#define SEMIHOST_SVC                0x123456    /* ARM-state SVC number */
#define SYS_EXIT_EXTENDED           0x20        /* r0: operation */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026    /* "the program ended" reason */

void machine_exit(int status)
{
    /* SYS_EXIT_EXTENDED takes a pointer to {reason, exit code}. */
    static volatile u32 block[2];
    block[0] = ADP_STOPPED_APPLICATION_EXIT;
    block[1] = (u32)status;

    register u32 r0 __asm__("r0") = SYS_EXIT_EXTENDED;
    register volatile u32 *r1 __asm__("r1") = block;
    /* On a Pi this is a real SVC taken in SVC mode, which overwrites lr. */
    __asm__ volatile("svc %[n]" : "+r"(r0) : "r"(r1), [n] "i"(SEMIHOST_SVC) : "memory", "lr");

    /* Still here: no semihosting host. Stop this core for good. */
    irq_fiq_disable();
    for (;;)
        wfi();
}
