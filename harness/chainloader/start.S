/*
 * start.S - the chainloader's entry. The firmware loads it at 0x8000, exactly
 * where the kernel it receives must go, so it first copies itself to where it is
 * linked (0x01000000) - with pc-relative code only - and continues there.
 * r0-r2 from the firmware are kept for the loaded kernel.
 */
.section .text.boot, "ax"
.global _start
_start:
    cpsid   if                      @ no interrupts: nothing here uses them
    mov     r10, r0                 @ keep the firmware's r0-r2 for the kernel
    mov     r11, r1
    mov     r12, r2
    adr     r0, _start              @ where we run (0x8000)
    ldr     r1, =__image_start      @ where we are linked (0x01000000)
    ldr     r2, =__image_end
    sub     r2, r2, r1              @ bytes to copy
1:  ldr     r3, [r0], #4            @ copy, a word at a time
    str     r3, [r1], #4
    subs    r2, r2, #4
    bgt     1b
    ldr     pc, =relocated          @ continue in the copy
relocated:
    ldr     sp, =stack_top
    ldr     r0, =__bss_start        @ clear .bss
    ldr     r1, =__bss_end
    mov     r2, #0
2:  cmp     r0, r1
    strlo   r2, [r0], #4
    blo     2b
    mov     r0, r10
    mov     r1, r11
    mov     r2, r12
    bl      loader_main             @ never returns

/* jump_to_kernel(r0, r1, r2, entry): enter the received kernel as the firmware
 * would have: at 0x8000, SVC mode, interrupts off, r0-r2 as they were at boot.
 * The bytes at 0x8000 were the loader's own code a moment ago: make sure no
 * stale copy of them is fetched (caches should be off, but the firmware decides). */
.global jump_to_kernel
jump_to_kernel:
    mov     r4, #0
    mcr     p15, 0, r4, c7, c10, 4  @ DSB: the kernel's bytes are in memory
    mcr     p15, 0, r4, c7, c5, 0   @ invalidate the instruction cache
    mcr     p15, 0, r4, c7, c5, 6   @ and the branch predictor
    mcr     p15, 0, r4, c7, c5, 4   @ ISB: refetch from here on
    bx      r3

.section .stack, "aw", %nobits
.balign 16
    .space  8192
stack_top:
