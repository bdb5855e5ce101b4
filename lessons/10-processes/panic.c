/* panic.c - the last words of a kernel: message, registers, stop. */
#include "panic.h"
#include "kprintf.h"
#include "semihost.h"
#include "arm.h"

static const char *mode_name(u32 cpsr)
{
    switch (cpsr & CPSR_MODE_MASK) {
    case CPSR_MODE_USR: return "USR";
    case CPSR_MODE_FIQ: return "FIQ";
    case CPSR_MODE_IRQ: return "IRQ";
    case CPSR_MODE_SVC: return "SVC";
    case CPSR_MODE_ABT: return "ABT";
    case CPSR_MODE_UND: return "UND";
    case CPSR_MODE_SYS: return "SYS";
    }
    return "???";
}

void regs_dump(const struct regs *regs)
{
    for (int i = 0; i < 12; i++)
        kprintf("  r%-2d %08x%s", i, regs->r[i], i % 4 == 3 ? "\n" : "");
    kprintf("  r12 %08x  sp  %08x  lr  %08x  pc  %08x\n",
            regs->r[12], regs->sp, regs->lr, regs->pc);
    kprintf("  cpsr %08x (%s mode)\n", regs->cpsr, mode_name(regs->cpsr));
}

void panic(const char *fmt, ...)
{
    struct regs regs;
    va_list ap;

    /* r0-r12 as they are on entry to panic (the compiler has not yet reused them
     * much); lr is where panic was called from, the most useful line of the dump. */
    __asm__ volatile("stmia %0, {r0-r12}" : : "r"(regs.r) : "memory");
    __asm__ volatile("mov %0, sp" : "=r"(regs.sp));
    regs.lr = (u32)(uintptr_t)__builtin_return_address(0);
    regs.pc = (u32)(uintptr_t)panic;
    regs.cpsr = read_cpsr();

    irq_fiq_disable();
    kprintf("\nPANIC: ");
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\n");
    regs_dump(&regs);
    machine_exit(PANIC_EXIT_STATUS);
}
