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
 * Every handler builds the same frame, a struct regs (panic.h), on the stack of
 * the mode it runs in (for an IRQ: the interrupted thread's SVC stack):
 *
 *   frame+68 -> (stack before the exception)
 *   frame+64    cpsr  the interrupted CPSR (from SPSR)     } pushed by srsdb
 *   frame+60    pc    where to return / what faulted      }
 *   frame+56    lr    the interrupted mode's lr
 *   frame+52    sp    the interrupted mode's sp
 *   frame+0     r0-r12
 *
 * The C handler gets a pointer to the frame and may change it: an SVC handler
 * writes its result into r0. exception_return puts everything back.
 */
#include "arm.h"

#define FRAME_SIZE      68          /* struct regs: 17 words */
#define FRAME_SP        52          /* offsets in struct regs */
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
 * From this lesson on, a frame may be pushed on a thread's stack at any
 * instruction (an IRQ), where sp need not be 8-byte aligned, and a handler may
 * switch threads before it returns. So the frame (struct regs, 68 bytes) is
 * followed by a word that remembers where the frame is, placed so that sp is
 * 8-byte aligned for the C handler whatever it was before:
 *
 *   frame + 68 -> (stack before the exception)
 *   frame        struct regs: r0-r12, sp, lr, pc, cpsr
 *                (0 or 4 bytes of alignment)
 *   sp + 4       (unused)
 *   sp           the frame's address    <- sp, 8-byte aligned, for C
 *
 * EXCEPTION_ENTRY adjust, mode, handler
 *   adjust   what to subtract from lr to get the pc to return to or report
 *            (the ARM ARM's table: undef 4, SVC 0, prefetch 4, data abort 8, IRQ 4)
 *   mode     the mode this vector runs in (srsdb names the stack to push on)
 *   handler  C function taking struct regs *
 */
.macro EXCEPTION_ENTRY adjust, mode, handler
    .if \adjust
    sub     lr, lr, #\adjust        @ lr = the interesting pc
    .endif
    srsdb   sp!, #\mode             @ push lr (as pc) and SPSR (as cpsr)
    sub     sp, sp, #8              @ room for the interrupted sp and lr
    stmdb   sp!, {r0-r12}           @ push r0-r12: the frame is complete but for sp, lr
    mov     r0, sp                  @ r0 = the frame
    bl      save_banked_sp_lr       @ fill in the interrupted mode's sp and lr
    ALIGN_AND_CALL \handler
.endm

/* sp = frame in r0. Align sp down to 8, remember the frame below it, call the
 * handler with the frame, then return through it. */
.macro ALIGN_AND_CALL handler
    bic     sp, sp, #7              @ 8-byte aligned, as the AAPCS wants for C
    sub     sp, sp, #8              @ two words: the frame's address, and padding
    str     r0, [sp]                @ where exception_return finds the frame
    bl      \handler                @ r0 = struct regs *
    b       exception_return
.endm

undef_entry:      EXCEPTION_ENTRY 4, CPSR_MODE_UND, exc_undefined
prefetch_entry:   EXCEPTION_ENTRY 4, CPSR_MODE_ABT, exc_prefetch_abort
data_abort_entry: EXCEPTION_ENTRY 8, CPSR_MODE_ABT, exc_data_abort
unused_entry:     EXCEPTION_ENTRY 0, CPSR_MODE_UND, exc_reserved

/*
 * SVC. From user mode it is a system call, which every program makes all the time,
 * so it skips save_banked_sp_lr: the program's sp and lr are stored straight from
 * the USR bank with stm ^, as irq_entry does (a mode switch there and back costs
 * some ten instructions more, and a system call is ~70 in all). An SVC from SVC
 * mode (the shell's `svc` command) takes the general path.
 */
svc_entry:
    srsdb   sp!, #CPSR_MODE_SVC     @ push lr (as pc) and SPSR (as cpsr)
    sub     sp, sp, #8              @ room for the interrupted sp and lr
    stmdb   sp!, {r0-r12}           @ push r0-r12
    mov     r0, sp                  @ r0 = the frame
    mrs     r1, spsr                @ from user mode?
    and     r1, r1, #CPSR_MODE_MASK
    cmp     r1, #CPSR_MODE_USR
    addeq   r1, r0, #FRAME_SP
    stmeqia r1, {sp, lr}^           @ then frame->sp, frame->lr: the USR bank's (^)
    blne    save_banked_sp_lr       @ else the general way
    ALIGN_AND_CALL exc_svc

/*
 * An IRQ is handled in SVC mode, on the stack of the thread it interrupted, not
 * on the IRQ stack: then the handler can switch threads (preemption) simply by
 * calling schedule(), and the frame waits on that thread's own stack until it is
 * its turn again. srsdb can push onto another mode's stack; then we switch to SVC.
 * The interrupted thread's lr (SVC's lr) is still live: save it before any call.
 */
irq_entry:
    sub     lr, lr, #4              @ the instruction to return to
    srsdb   sp!, #CPSR_MODE_SVC     @ push it and the SPSR onto the SVC stack
    cpsid   i, #CPSR_MODE_SVC       @ into SVC mode; IRQs stay masked
    sub     sp, sp, #8              @ room for sp and lr
    stmdb   sp!, {r0-r12}
    add     r0, sp, #FRAME_SIZE     @ the thread's sp before the frame
    add     r1, sp, #FRAME_SP
    stmia   r1, {r0, lr}            @ frame->sp, frame->lr (SVC's, untouched)
    ldr     r2, [sp, #FRAME_CPSR]   @ from user mode? then the user's sp and lr:
    and     r2, r2, #CPSR_MODE_MASK
    cmp     r2, #CPSR_MODE_USR
    stmeqia r1, {sp, lr}^           @ (^: the USR bank's registers)
    mov     r0, sp
    bic     sp, sp, #7              @ align for C, remember the frame (as above)
    sub     sp, sp, #8
    str     r0, [sp]
    bl      irq_handle              @ run the handlers...
    bl      sched_irq_exit          @ ...then perhaps switch threads (preemption)
    ldr     r0, [sp]
    bl      proc_return_to_user     @ a killed process does not go back
    b       exception_return        @ back into whichever thread this stack is

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
 * Return through the frame whose address is at sp: lr and r0-r12 (possibly changed
 * by the handler), then `rfeia`, which loads pc and CPSR together, so the mode
 * switch and the jump happen as one step.
 *
 * lr matters for an IRQ: its handler ran in SVC mode, and every `bl` it made
 * overwrote SVC's lr - the interrupted thread's live return address (a leaf
 * function like uart_putc returns through lr without ever saving it). For the
 * other exceptions, whose handlers ran in a mode of their own, loading the frame's
 * lr into that mode's lr does no harm. sp needs no restoring: an IRQ's frame sits
 * on the thread's own stack, and popping it brings sp back; other modes' sp were
 * never touched.
 */
.global exception_return
exception_return:
    ldr     sp, [sp]                @ back to the frame
    ldr     lr, [sp, #FRAME_SP + 4] @ frame->lr (see above)
    ldr     r0, [sp, #FRAME_CPSR]   @ going to user mode? (lesson 10)
    and     r0, r0, #CPSR_MODE_MASK
    cmp     r0, #CPSR_MODE_USR
    add     r0, sp, #FRAME_SP
    ldmeqia r0, {sp, lr}^           @ then the user's sp and lr (^: USR bank)
    nop                             @ (no banked register access right after ldm^)
    ldmia   sp!, {r0-r12}           @ restore r0-r12
    add     sp, sp, #8              @ skip the saved sp and lr
    rfeia   sp!                     @ pc and cpsr from the frame, and go

/*
 * Store the interrupted mode's sp and lr into the frame at r0. They are banked:
 * only code running in that mode can read them. So switch to it (USR's registers
 * are read from SYS mode, which shares them) with interrupts masked, copy, and
 * switch back. If the exception came from the mode we are in (an SVC from SVC
 * code), lr was overwritten by the exception itself and sp is ours: compute sp
 * from the frame. Preserves r0; uses r1-r3, which the frame already holds.
 */
save_banked_sp_lr:
    ldr     r1, [r0, #FRAME_CPSR]   @ the interrupted CPSR
    and     r1, r1, #CPSR_MODE_MASK
    cmp     r1, #CPSR_MODE_USR
    moveq   r1, #CPSR_MODE_SYS      @ USR registers are visible from SYS
    mrs     r3, cpsr                @ our mode, to come back to
    and     r2, r3, #CPSR_MODE_MASK
    cmp     r1, r2
    beq     1f                      @ same mode: no switch possible or needed
    orr     r1, r1, #(CPSR_I | CPSR_F)
    msr     cpsr_c, r1              @ into the interrupted mode
    mov     r2, sp
    mov     r1, lr
    msr     cpsr_c, r3              @ and back
    b       2f
1:  add     r2, r0, #FRAME_SIZE     @ our sp before the frame was pushed
    ldr     r1, [r0, #FRAME_PC]     @ lr was clobbered: report the return address
2:  str     r2, [r0, #FRAME_SP]     @ frame->sp
    str     r1, [r0, #FRAME_SP + 4] @ frame->lr
    bx      lr

/*
 * user_enter(frame, kernel_stack_top): start a process. Copy the frame it starts
 * with to the top of this thread's kernel stack and return through it, as if the
 * process had been interrupted there: exception_return loads the user's sp and lr,
 * and rfeia switches to USR mode at the entry point. From then on, every
 * exception from the process lands on this kernel stack, which is empty again.
 */
.global user_enter
user_enter:
    cpsid   i                       @ exception_return runs with IRQs masked
    sub     r2, r1, #FRAME_SIZE     @ where the frame goes
    mov     r3, #0
1:  ldr     r12, [r0, r3]           @ copy it, a word at a time
    str     r12, [r2, r3]
    add     r3, r3, #4
    cmp     r3, #FRAME_SIZE
    blo     1b
    mov     sp, r2
    bic     sp, sp, #7              @ as the entries do: sp aligned, frame below it
    sub     sp, sp, #8
    str     r2, [sp]
    b       exception_return
