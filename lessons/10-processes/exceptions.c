/*
 * exceptions.c - what the kernel does when the CPU takes an exception.
 *
 * Faults (undefined instruction, prefetch abort, data abort) taken in the kernel are
 * kernel bugs: report everything a person needs to find the bug - what happened,
 * where, in which mode, with which registers, at which address and why - and stop.
 * A fault in user mode is the program's: proc_fault() kills it with the same facts,
 * and the kernel goes on.
 * An SVC is a deliberate call into the exception handler: the number comes from the
 * instruction itself, the arguments and the result travel in r0-r3 of the frame.
 *
 * [ARM ARM (DDI 0100I) A2.6 exceptions, B4.6 fault status; ARM1176 TRM 3.2.21-25]
 */
#include "exceptions.h"
#include "arm.h"
#include "kprintf.h"
#include "kstring.h"
#include "semihost.h"
#include "proc.h"

#define INSN_SVC_IMM_MASK   0x00FFFFFFu /* ARM-state SVC: the number is bits 23:0 */
#define SEMIHOST_SVC        0x123456u   /* machine_exit() without a debugger */
#define FSR_DEBUG_EVENT     0x02u       /* BKPT: a prefetch abort with this status */

void exceptions_init(void)
{
    /* A = 1: an unaligned load or store faults instead of silently touching other
     * bytes. U = 1: the ARMv6 alignment model, which QEMU implements (docs/qemu.md). */
    write_sctlr(read_sctlr() | SCTLR_A | SCTLR_U);
    isb();
}

/* VMSAv6 fault status encodings (FS[4] is DFSR bit 10) [ARM ARM B4-20, table B4-1]. */
const char *fault_status_name(u32 status)
{
/* BEGIN SOLUTION fault_status_name */
    switch (status) {
    case 0x01: return "alignment";
    case 0x03: return "access flag (section)";
    case FSR_DEBUG_EVENT: return "debug event";
    case 0x04: return "instruction cache maintenance";
    case 0x05: return "translation (section)";
    case 0x07: return "translation (page)";
    case 0x06: return "access flag (page)";
    case 0x08: return "precise external abort";
    case 0x09: return "domain (section)";
    case 0x0B: return "domain (page)";
    case 0x0C: return "external abort on translation (first level)";
    case 0x0D: return "permission (section)";
    case 0x0E: return "external abort on translation (second level)";
    case 0x0F: return "permission (page)";
    case 0x16: return "imprecise external abort";
    }
    return "unknown";
/* END SOLUTION */
}

static const char *mode_of(u32 cpsr)
{
/* BEGIN SOLUTION mode_of */
    static const struct { u32 mode; const char *name; } modes[] = {
        { CPSR_MODE_USR, "USR" }, { CPSR_MODE_FIQ, "FIQ" }, { CPSR_MODE_IRQ, "IRQ" },
        { CPSR_MODE_SVC, "SVC" }, { CPSR_MODE_ABT, "ABT" }, { CPSR_MODE_UND, "UND" },
        { CPSR_MODE_SYS, "SYS" },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(modes); i++)
        if (modes[i].mode == (cpsr & CPSR_MODE_MASK))
            return modes[i].name;
    return "???";
/* END SOLUTION */
}

static void stop(void) __attribute__((noreturn));
static void stop(void)
{
    irq_fiq_disable();
    machine_exit(PANIC_EXIT_STATUS);
}

static int from_user(const struct regs *regs)
{
    return (regs->cpsr & CPSR_MODE_MASK) == CPSR_MODE_USR;
}

/* The common end of every fatal exception: the PANIC line, details, registers. */
static void fault_panic(const struct regs *regs) __attribute__((noreturn));
static void fault_panic(const struct regs *regs)
{
    kprintf("  in %s mode, cpsr 0x%08x\n", mode_of(regs->cpsr), regs->cpsr);
    regs_dump(regs);
    stop();
}

void exc_undefined(struct regs *regs)
{
    if (regs->cpsr & CPSR_T)    /* Thumb: lr was the instruction + 2, not + 4 */
        regs->pc += 2;
    if (from_user(regs)) {              /* a program's fault, not the kernel's */
        char what[80];
        ksnprintf(what, sizeof(what), "undefined instruction at pc 0x%08x", regs->pc);
        proc_fault(regs, what, EXIT_ILLEGAL);
        return;
    }
/* BEGIN SOLUTION exc_undefined */
    kprintf("\nPANIC: undefined instruction at pc 0x%08x\n", regs->pc);
    kprintf("  instruction 0x%08x\n", *(volatile u32 *)(uintptr_t)regs->pc);
/* END SOLUTION */
    fault_panic(regs);
}

/* A user program's abort: kill it, with the same facts a kernel panic would give. */
static int user_abort(const char *kind, struct regs *regs, u32 fsr, u32 far, int is_data)
{
    char what[120];

    if (!from_user(regs))
        return 0;
    if (is_data)
        ksnprintf(what, sizeof(what), "%s at pc 0x%08x: %s fault on %s of 0x%08x", kind,
                  regs->pc, fault_status_name(FSR_STATUS(fsr)),
                  (fsr & FSR_WRITE) ? "write" : "read", far);
    else
        ksnprintf(what, sizeof(what), "%s at pc 0x%08x: %s fault", kind, regs->pc,
                  fault_status_name(FSR_STATUS(fsr)));
    proc_fault(regs, what, EXIT_FAULT);
    return 1;
}

static void report_abort(const char *kind, const struct regs *regs, u32 fsr, u32 far,
                         int is_data)
{
/* BEGIN SOLUTION report_abort */
    u32 status = FSR_STATUS(fsr);

    kprintf("\nPANIC: %s at pc 0x%08x: %s fault", kind, regs->pc, fault_status_name(status));
    if (is_data)
        kprintf(" on %s of 0x%08x", (fsr & FSR_WRITE) ? "write" : "read", far);
    kprintf("\n  fault status 0x%03x (%s), ", fsr & 0xFFF, fault_status_name(status));
    if (status == FSR_DEBUG_EVENT)
        kprintf("no fault address (a breakpoint)");     /* FAR is not written */
    else
        kprintf("address 0x%08x", far);
    if (is_data)                /* (IFSR has no domain field) */
        kprintf(", domain %u", FSR_DOMAIN(fsr));
    kprintf("\n");
/* END SOLUTION */
}

void exc_prefetch_abort(struct regs *regs)
{
    /* Address 0 is unmapped now (high vectors), so a call through a NULL function
     * pointer is a prefetch abort at 0: say what it most likely was. */
    if (user_abort("prefetch abort", regs, read_ifsr(), read_ifar(), 0))
        return;
    if (regs->pc == 0) {
        kprintf("\nPANIC: jump to address 0 (unmapped): a call through a NULL function "
                "pointer? lr 0x%08x\n", regs->lr);
        fault_panic(regs);
    }
/* BEGIN SOLUTION exc_prefetch_abort */
    report_abort("prefetch abort", regs, read_ifsr(), read_ifar(), 0);
/* END SOLUTION */
    fault_panic(regs);
}

void exc_data_abort(struct regs *regs)
{
    if (user_abort("data abort", regs, read_dfsr(), read_dfar(), 1))
        return;
/* BEGIN SOLUTION exc_data_abort */
    report_abort("data abort", regs, read_dfsr(), read_dfar(), 1);
/* END SOLUTION */
    fault_panic(regs);
}

/* Vector 0x14 was the "address exception" of 26-bit ARMs; ARMv6 never uses it. */
void exc_reserved(struct regs *regs)
{
    kprintf("\nPANIC: exception through the reserved vector 0x14 at pc 0x%08x\n", regs->pc);
    fault_panic(regs);
}

void exc_fiq(void)
{
    kprintf("\nPANIC: FIQ taken, but piOS never enables FIQ\n");
    stop();
}

/* The starter's stubs of EXCEPTION_ENTRY and exception_return (vectors.S) come
 * here: an exception was taken before the code that saves the registers exists. */
void exc_entry_missing(void)
{
    kprintf("\nPANIC: an exception was taken, but EXCEPTION_ENTRY and exception_return "
            "(vectors.S) are not written yet\n");
    stop();
}

void exc_jump_to_zero(u32 lr)
{
    kprintf("\nPANIC: jump to the reset vector (0xffff0000), lr 0x%08x\n", lr);
    stop();
}

/* ---- SVC ------------------------------------------------------------------------- */

/* What the last SVC saw, for the shell's report. */
static struct svc_seen last_svc;

struct svc_seen exc_last_svc(void)
{
    return last_svc;
}

void exc_svc(struct regs *regs)
{
    u32 number;

    if (from_user(regs) && (regs->cpsr & CPSR_T)) {
        /* A Thumb SVC is 2 bytes, its number 8 bits: not the ABI. (Reading a word
         * at pc - 4 could even be unaligned: a kernel fault for a user's mistake.) */
        proc_fault(regs, "system call from Thumb state", EXIT_ILLEGAL);
        return;
    }
/* BEGIN SOLUTION exc_svc */
    /* regs->pc is the instruction after the SVC; the SVC itself holds the number. */
    u32 insn = *(volatile u32 *)(uintptr_t)(regs->pc - 4);
    number = insn & INSN_SVC_IMM_MASK;
/* END SOLUTION */
    if (from_user(regs)) {
        /* A system call. It may block (read, sleep, wait): let interrupts in, on
         * this process's kernel stack, while it runs (cpsie/cpsid: an instruction
         * each). The process is looked up once and handed on; a kill that came
         * meanwhile ends it here instead of in user mode (proc_return_to_user). */
        struct proc *p = proc_current();
        irq_cpu_enable();
        regs->r[0] = (u32)syscall_dispatch(p, number, regs);
        irq_cpu_disable();
        if (p->killed)
            proc_return_to_user(regs);
        return;
    }
    if (number == SEMIHOST_SVC) {
        /* machine_exit() on a real Pi: no debugger answered, so stop here. */
        irq_fiq_disable();
        for (;;)
            wfi();
    }
    last_svc.number = number;
    last_svc.pc = regs->pc - 4;
    /* The demonstration service, for the kernel's own SVCs (the shell's `svc`): the
     * result is the number itself. A program's SVC went to syscall_dispatch(). */
    regs->r[0] = number;
}
