/* exceptions.h - exception handlers, fault reports and the kernel's SVC. */
#ifndef EXCEPTIONS_H
#define EXCEPTIONS_H

#include "panic.h"

/* Set the CPU up for the course's fault model: strict alignment checking. The
 * vectors themselves are installed by start.S. */
void exceptions_init(void);

/* Called from vectors.S with the interrupted registers. */
void exc_undefined(struct regs *regs);
void exc_svc(struct regs *regs);
void exc_prefetch_abort(struct regs *regs);
void exc_data_abort(struct regs *regs);
void exc_reserved(struct regs *regs);
void exc_fiq(void);
void exc_jump_to_zero(u32 lr);
void exc_entry_missing(void);

/* syscall.c: run system call `number` for process p, whose registers are regs. */
struct proc;
int syscall_dispatch(struct proc *p, u32 number, struct regs *regs);

/* A one-line description of a fault status value (FSR_STATUS of DFSR or IFSR). */
const char *fault_status_name(u32 status);

/* The number and address of the last SVC exc_svc() took (for the shell's `svc`). */
struct svc_seen {
    u32 number;
    u32 pc;
};
struct svc_seen exc_last_svc(void);

#endif
