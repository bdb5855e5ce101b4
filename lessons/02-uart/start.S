/*
 * start.S - the first instructions the ARM runs.
 *
 * The firmware (or QEMU) jumps to _start at 0x8000 in SVC mode with interrupts
 * masked. Nothing is set up: sp is 0 (under QEMU) or wherever the firmware left it,
 * .bss holds whatever was in RAM, and there are no exception vectors. C needs a
 * stack and a zeroed .bss, so we provide both, then call kernel_main().
 */
#define SVC_STACK_SIZE  16384

.section .text.boot, "ax"
.global _start
_start:
    cpsid   if                      @ IRQ and FIQ off: no handlers exist yet

/* BEGIN SOLUTION stack */
    ldr     sp, =svc_stack_top      @ a full-descending stack: sp starts at the top
/* END SOLUTION */

    bl      install_safety_vectors  @ any exception now stops cleanly (see below)

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

/*
 * The ARM takes every exception by jumping to a fixed address at 0x0 (reset 0x00,
 * undefined 0x04, SVC 0x08, prefetch abort 0x0C, data abort 0x10, IRQ 0x18, FIQ 0x1C).
 * Before lesson 03 writes real handlers, whatever is at 0x0 would run: under QEMU
 * that is zeroed RAM, which executes as harmless instructions all the way to 0x8000
 * and silently reboots the kernel. We copy in a table that sends every exception to
 * a WFI loop instead. machine_exit() relies on it on a real Pi: its semihosting SVC,
 * with no debugger to answer, lands here and the board stops.
 */
install_safety_vectors:
    ldr     r0, =safety_vectors     @ source: the table below
    mov     r1, #0                  @ destination: address 0
    ldmia   r0!, {r2-r9}            @ 8 instructions...
    stmia   r1!, {r2-r9}
    ldmia   r0!, {r2-r9}            @ ...and the 8 addresses they load
    stmia   r1!, {r2-r9}
    bx      lr

/* Position-independent: each `ldr pc, [pc, #24]` loads the word 32 bytes further
 * on (pc reads as the instruction's address + 8), so the table works wherever it
 * is copied to. */
safety_vectors:
    .rept 8
    ldr     pc, [pc, #24]           @ jump through the matching address below
    .endr
    .rept 8
    .word   stop                    @ every exception: stop
    .endr

stop:
    cpsid   if                      @ stay stopped: no interrupt wakes us to run on
1:  mcr     p15, 0, r0, c7, c0, 4   @ wait for interrupt (ARMv6 CP15 form of WFI)
    b       1b

/* The stack lives in its own section, after .bss, so clearing .bss leaves it alone. */
.section .stack, "aw", %nobits
.balign 16
    .space  SVC_STACK_SIZE
svc_stack_top:
