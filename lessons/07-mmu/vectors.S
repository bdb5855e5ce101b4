/*
 * vectors.S - the exception vector table and the code that saves and restores the
 * interrupted registers around a C handler.
 *
 * On an exception the ARM switches mode (UND, SVC, ABT, IRQ, FIQ), saves the return
 * address in that mode's lr and the old CPSR in its SPSR, masks IRQs, and jumps to
 * a fixed address: 0xFFFF0000 + 4 * kind (SCTLR.V = 1, "high vectors": the
 * low page 0x0 is user space from lesson 10 on, and a NULL jump must fault, not
 * vector). Each slot holds one instruction, so it jumps on to a handler.
 *
 * Every handler builds the same frame on its mode's stack, a struct regs (panic.h)
 * with one word of padding below it to keep sp 8-byte aligned for C:
 *
 *   sp+72 -> (stack before the exception)
 *   sp+68    cpsr  the interrupted CPSR (from SPSR)     } pushed by srsdb
 *   sp+64    pc    where to return / what faulted      }
 *   sp+60    lr    the interrupted mode's lr
 *   sp+56    sp    the interrupted mode's sp
 *   sp+4     r0-r12
 *   sp+0     (padding)
 *
 * The C handler gets a pointer to the frame (sp+4) and may change it: an SVC
 * handler writes its result into r0. exception_return puts everything back.
 */
#include "arm.h"

#define FRAME_SIZE      72          /* 17 words of struct regs + 1 of padding */
#define FRAME_SP        52          /* offsets in struct regs (the frame is at sp + 4) */
#define FRAME_PC        60
#define FRAME_CPSR      64

/* The table has a page of its own (.vectors in kernel.ld), which mmu.c maps at
 * 0xFFFF0000. The slots load absolute (virtual) addresses, so the table works at
 * any address it is mapped at. */
.section .vectors, "ax"
.global vectors
vectors:
    ldr     pc, [pc, #24]           @ 0x00 reset (in piOS: a jump to 0xffff0000)
    ldr     pc, [pc, #24]           @ 0x04 undefined instruction
    ldr     pc, [pc, #24]           @ 0x08 SVC
    ldr     pc, [pc, #24]           @ 0x0C prefetch abort
    ldr     pc, [pc, #24]           @ 0x10 data abort
    ldr     pc, [pc, #24]           @ 0x14 (reserved)
    ldr     pc, [pc, #24]           @ 0x18 IRQ
    ldr     pc, [pc, #24]           @ 0x1C FIQ
    .word   reset_entry             @ the addresses the slots above load
    .word   undef_entry
    .word   svc_entry
    .word   prefetch_entry
    .word   data_abort_entry
    .word   unused_entry
    .word   irq_entry
    .word   fiq_entry

.section .text

/*
 * EXCEPTION_ENTRY adjust, mode, handler
 *   adjust   what to subtract from lr to get the pc to return to or report
 *            (the ARM ARM's table: undef 4, SVC 0, prefetch 4, data abort 8, IRQ 4)
 *   mode     the mode this vector runs in (srsdb names the stack to push on)
 *   handler  C function taking struct regs *
 */
.macro EXCEPTION_ENTRY adjust, mode, handler
/* BEGIN SOLUTION exception_entry */
    .if \adjust
    sub     lr, lr, #\adjust        @ lr = the interesting pc
    .endif
    srsdb   sp!, #\mode             @ push lr (as pc) and SPSR (as cpsr)
    sub     sp, sp, #8              @ room for the interrupted sp and lr
    stmdb   sp!, {r0-r12}           @ push r0-r12
    sub     sp, sp, #4              @ padding: keep sp 8-byte aligned
    bl      save_banked_sp_lr       @ fill in the interrupted mode's sp and lr
    add     r0, sp, #4              @ r0 = struct regs * (the frame)
    bl      \handler
    b       exception_return
/* END SOLUTION */
.endm

undef_entry:      EXCEPTION_ENTRY 4, CPSR_MODE_UND, exc_undefined
svc_entry:        EXCEPTION_ENTRY 0, CPSR_MODE_SVC, exc_svc
prefetch_entry:   EXCEPTION_ENTRY 4, CPSR_MODE_ABT, exc_prefetch_abort
data_abort_entry: EXCEPTION_ENTRY 8, CPSR_MODE_ABT, exc_data_abort
irq_entry:        EXCEPTION_ENTRY 4, CPSR_MODE_IRQ, irq_handle
unused_entry:     EXCEPTION_ENTRY 0, CPSR_MODE_UND, exc_reserved

/* FIQ has no stack (piOS never unmasks FIQ) and reset is not an exception here but
 * a jump to address 0, in whatever mode the caller was: report both on the SVC
 * stack, with a fresh frame, and never return. */
fiq_entry:
    cpsid   if, #CPSR_MODE_SVC      @ to SVC mode, interrupts masked
    ldr     sp, =svc_stack_top      @ the old SVC stack may be the problem
    b       exc_fiq                 @ reports and stops
reset_entry:
    cpsid   if, #CPSR_MODE_SVC
    mov     r0, lr                  @ where the jump to 0 came from (if by bl/blx)
    ldr     sp, =svc_stack_top
    b       exc_jump_to_zero

/*
 * Restore the frame at sp and return to the interrupted code: r0-r12 (possibly
 * changed by the handler), then `rfeia`, which loads pc and CPSR together, so the
 * mode switch and the jump happen as one step. The interrupted sp and lr are not
 * restored: they are banked in the other mode and the handler did not touch them.
 */
exception_return:
/* BEGIN SOLUTION exception_return */
    add     sp, sp, #4              @ drop the padding
    ldmia   sp!, {r0-r12}           @ restore r0-r12
    add     sp, sp, #8              @ skip the saved sp and lr
    rfeia   sp!                     @ pc and cpsr from the frame, and go
/* END SOLUTION */

/* Where the starter's stubs of EXCEPTION_ENTRY and exception_return lead: the
 * report needs a stack that works, so take SVC mode's, as FIQ and reset do. */
exception_entry_missing:
    cpsid   if, #CPSR_MODE_SVC      @ to SVC mode, interrupts masked
    ldr     sp, =svc_stack_top      @ a stack known to be good
    b       exc_entry_missing       @ reports and stops

/*
 * Store the interrupted mode's sp and lr into the frame. They are banked: only code
 * running in that mode can read them. So switch to it (USR's registers are read
 * from SYS mode, which shares them) with interrupts masked, copy, and switch back.
 * If the exception came from the mode we are in (an SVC from SVC code), lr was
 * overwritten by the exception itself and sp is ours: compute sp from the frame.
 * Entered with sp = the frame - 4; uses r0-r3, which the frame already holds.
 */
save_banked_sp_lr:
    mrs     r0, cpsr                @ our mode, to come back to
    ldr     r1, [sp, #4 + FRAME_CPSR] @ the interrupted CPSR
    and     r1, r1, #CPSR_MODE_MASK
    cmp     r1, #CPSR_MODE_USR
    moveq   r1, #CPSR_MODE_SYS      @ USR registers are visible from SYS
    and     r2, r0, #CPSR_MODE_MASK
    cmp     r1, r2
    beq     1f                      @ same mode: no switch possible or needed
    orr     r1, r1, #(CPSR_I | CPSR_F)
    msr     cpsr_c, r1              @ into the interrupted mode
    mov     r2, sp
    mov     r3, lr
    msr     cpsr_c, r0              @ and back
    b       2f
1:  add     r2, sp, #FRAME_SIZE     @ our sp before the frame was pushed
    ldr     r3, [sp, #4 + FRAME_PC] @ lr was clobbered: report the return address
2:  add     r1, sp, #4 + FRAME_SP   @ &frame->sp
    stmia   r1, {r2, r3}            @ frame->sp, frame->lr
    bx      lr
