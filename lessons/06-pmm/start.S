/*
 * start.S - the first instructions the ARM runs.
 *
 * The firmware (or QEMU) jumps to _start at 0x8000 in SVC mode with interrupts
 * masked. Nothing is set up: sp is 0 (under QEMU) or wherever the firmware left it,
 * .bss holds whatever was in RAM, and there are no exception vectors. We give every
 * CPU mode that takes exceptions its own stack, install the vector table, clear
 * .bss, then call kernel_main().
 */
#include "arm.h"

#define SVC_STACK_SIZE  16384
#define MODE_STACK_SIZE 4096    /* IRQ, abort and undefined: short-lived handlers */

.section .text.boot, "ax"
.global _start
_start:
    cpsid   if                      @ IRQ and FIQ off: no handlers exist yet

/* BEGIN SOLUTION stack */
    /* Each exception mode has its own banked sp: set it by switching into the mode.
     * `cps` changes only the mode bits; interrupts stay masked throughout. FIQ gets
     * no stack: piOS never enables FIQ, and its vector reports it as unexpected. */
    cps     #CPSR_MODE_IRQ
    ldr     sp, =irq_stack_top
    cps     #CPSR_MODE_ABT
    ldr     sp, =abt_stack_top
    cps     #CPSR_MODE_UND
    ldr     sp, =und_stack_top
    cps     #CPSR_MODE_SVC          @ back to SVC, where the kernel runs
    ldr     sp, =svc_stack_top      @ a full-descending stack: sp starts at the top
/* END SOLUTION */

    bl      install_vectors         @ from now on a fault is reported, not a reboot

/* BEGIN SOLUTION clear_bss */
    ldr     r0, =__bss_start        @ from the linker script, 16-byte aligned
    ldr     r1, =__bss_end
    mov     r2, #0
    mov     r3, #0
clear_bss:
    cmp     r0, r1                  @ done when r0 reaches the end
    stmlo   r0!, {r2-r3}            @ store 8 zero bytes, advance r0
    blo     clear_bss
/* END SOLUTION */

    bl      kernel_main             @ C from here on
    mov     r0, #0                  @ kernel_main returned: exit status 0
    bl      machine_exit            @ never returns

/* The stacks live in their own section, after .bss, so clearing .bss leaves them
 * alone. 8-byte aligned tops, as the AAPCS requires at a call. */
.section .stack, "aw", %nobits
.balign 16
    .space  SVC_STACK_SIZE
.global svc_stack_top               @ vectors.S restarts on it after a FIQ or a jump to 0
svc_stack_top:
    .space  MODE_STACK_SIZE
irq_stack_top:
    .space  MODE_STACK_SIZE
abt_stack_top:
    .space  MODE_STACK_SIZE
und_stack_top:
