/*
 * switch.S - cpu_switch(&old->sp, new->sp): stop running one thread, run another.
 *
 * Called like a function, so the AAPCS already lets it destroy r0-r3 and r12 and
 * expects the caller to have saved anything it needed from them. What a function
 * must preserve for its caller - r4-r11, sp and lr (the return address) - is what
 * a switched-out thread needs back when it resumes. So: push r4-r11 and lr on the
 * old thread's stack, save sp, load the new thread's sp, pop its r4-r11 and
 * return - into the new thread, at the place where it once called cpu_switch.
 * The CPSR needs no saving: both sides run in SVC mode with IRQs masked (the
 * scheduler masks them), and each thread restores its own mask on the way out.
 * No VFP registers: piOS never enables the VFP.
 * CLREX first: the exclusive monitor (LDREX/STREX) is one per CPU, and a
 * reservation the old thread took must not let the new thread's STREX succeed
 * (ARMv6K: clear it on every context switch).
 */

.section .text
.global cpu_switch
cpu_switch:
    clrex                           @ no thread may use the reservation of another
/* BEGIN SOLUTION cpu_switch */
    push    {r4-r11, lr}            @ the callee-saved registers, onto the old stack
    str     sp, [r0]                @ old->sp = where they are
    mov     sp, r1                  @ the new thread's stack...
    pop     {r4-r11, pc}            @ ...its registers, and return into it
/* END SOLUTION */
