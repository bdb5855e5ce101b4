/*
 * start.S - the first instructions the ARM runs.
 *
 * The firmware (or QEMU) jumps to _start at physical 0x8000 in SVC mode with
 * interrupts masked and the MMU off. From this lesson on the kernel is linked at
 * 0x80000000 + 0x8000: every symbol is a virtual address that does not exist yet.
 * So, until the MMU is on, this code uses only pc-relative instructions and turns
 * each symbol into a physical address by adding r10 = (physical - virtual).
 *
 *   1. clear .bss and the page tables (physical addresses)
 *   2. build the boot page tables (mmu_boot_tables, C written for this situation)
 *   3. turn the MMU on; the identity map keeps the next instructions in place
 *   4. jump to the virtual address of high_start: from here on, all is virtual
 *   5. a stack per mode, then kernel_main
 */
#include "arm.h"
#include "mmu.h"

#define SVC_STACK_SIZE  16384
#define MODE_STACK_SIZE 4096    /* IRQ, abort and undefined: short-lived handlers */

/* SCTLR bits set with the MMU: XP (ARMv6 page tables), U (ARMv6 alignment), A. */
#define SCTLR_BOOT      (SCTLR_M | SCTLR_XP | SCTLR_U | SCTLR_A)

.section .text.boot, "ax"
.global _start
_start:
    cpsid   if                      @ IRQ and FIQ off: no handlers exist yet
    adr     r0, _start              @ where we run: physical (pc-relative)
    ldr     r1, =_start             @ where we are linked: virtual
    sub     r10, r0, r1             @ r10 = physical - virtual, for the boot code

    ldr     sp, =svc_stack_top      @ a stack for mmu_boot_tables (C)...
    add     sp, sp, r10             @ ...at its physical address

/* BEGIN SOLUTION clear_bss */
    ldr     r0, =__bss_start        @ clear .bss and .pagetables, physically
    ldr     r1, =__pagetables_end
    add     r0, r0, r10
    add     r1, r1, r10
    mov     r2, #0
    mov     r3, #0
clear_bss:
    cmp     r0, r1                  @ done when r0 reaches the end
    stmlo   r0!, {r2-r3}            @ store 8 zero bytes, advance r0
    blo     clear_bss

    mov     r0, r10
    bl      mmu_boot_tables         @ identity + high sections, peripherals

    mov     r0, #0
    mcr     p15, 0, r0, c8, c7, 0   @ no stale TLB entries
    mcr     p15, 0, r0, c7, c7, 0   @ nor cache lines (caches are off, but be sure)
    mov     r0, #TTBCR_N_2GB
    mcr     p15, 0, r0, c2, c0, 2   @ TTBCR.N = 1: TTBR0 below 2 GB, TTBR1 above
    ldr     r0, =user_l1
    add     r0, r0, r10
    orr     r0, r0, #TTBR_WALK_CACHED
    mcr     p15, 0, r0, c2, c0, 0   @ TTBR0: the identity map (physical address)
    ldr     r0, =kernel_l1
    add     r0, r0, r10
    orr     r0, r0, #TTBR_WALK_CACHED
    mcr     p15, 0, r0, c2, c0, 1   @ TTBR1: the kernel's table
    mov     r0, #DACR_VALUE
    mcr     p15, 0, r0, c3, c0, 0   @ domain 0: client (permissions checked)
    mrc     p15, 0, r0, c1, c0, 0
    ldr     r1, =SCTLR_BOOT
    orr     r0, r0, r1
    mcr     p15, 0, r0, c1, c0, 0   @ MMU on: the next fetch is translated
    mov     r0, #0
    mcr     p15, 0, r0, c7, c5, 4   @ flush the pipeline (ISB)
    ldr     pc, =high_start         @ an absolute jump: to the virtual address
/* END SOLUTION */

high_start:
    /* Each exception mode has its own banked sp: set it by switching into the mode.
     * FIQ gets no stack: piOS never enables FIQ. */
    cps     #CPSR_MODE_IRQ
    ldr     sp, =irq_stack_top
    cps     #CPSR_MODE_ABT
    ldr     sp, =abt_stack_top
    cps     #CPSR_MODE_UND
    ldr     sp, =und_stack_top
    cps     #CPSR_MODE_SVC
    ldr     sp, =svc_stack_top      @ virtual now

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
