/*
 * proc.h - user processes: a program from the kernel image, loaded into an
 * address space of its own, run in USR mode by a kernel thread, talking to the
 * kernel through system calls (syscall.c).
 */
#ifndef PROC_H
#define PROC_H

#include "panic.h"
#include "sched.h"
#include "vmm.h"

#ifndef PROC_MAX                    /* a stretch exercise sets a smaller one */
#define PROC_MAX        16
#endif
#define PROC_NAME_MAX   16
#define PROC_ARGS_MAX   8           /* argv entries, the name included */
#define PROC_ARG_LEN    64
#ifndef ASID_MAX                    /* a stretch exercise sets a smaller one */
#define ASID_MAX        255         /* 8-bit ASIDs; 0 is "no process" */
#endif
#define EXIT_KILLED     137         /* 128 + 9, as a Unix shell reports SIGKILL */
#define EXIT_FAULT      139         /* 128 + 11: SIGSEGV */
#define EXIT_ILLEGAL    132         /* 128 + 4: SIGILL */

enum proc_state { P_FREE, P_ALIVE, P_ZOMBIE };

struct proc {
    int pid;
    char name[PROC_NAME_MAX];
    enum proc_state state;
    struct proc *parent;            /* NULL: started by the shell */
    int exit_status;
    int killed;                     /* exit at the next return to user mode */
    int orphan;                     /* its parent exited first: nobody waits for it */
    struct addr_space as;           /* TTBR0's half: 0x00001000-0x80000000 */
    u32 l1_pa;                      /* its 8 KB L1 table (TTBR0) */
    u32 heap_start, brk;            /* sbrk's heap */
    struct thread *thread;
    struct regs start;              /* the user registers it starts with */
    u32 tpidrurw;                   /* its TPIDRURW while another process runs */
};

void proc_init(void);

/* Start program `name` with argv[0..argc) (argv[0] is the name), as a child of
 * parent (NULL: the shell). Returns the pid, or -ERRNO. */
int proc_spawn(const char *name, int argc, const char *const *argv, struct proc *parent);

/* Wait for a child of parent (pid, or any if pid < 0) to exit; returns its pid and
 * stores its status, or -ECHILD / -EINTR. */
int proc_wait(struct proc *parent, int pid, int *status);

/* Kill pid on behalf of `by`: a process may kill itself and its children (-EPERM
 * for any other); by = NULL is the shell, the operator, who may kill any. 0, -ESRCH
 * or -EPERM. */
int proc_kill(int pid, const struct proc *by);
void proc_exit(int status) __attribute__((noreturn));

struct proc *proc_current(void);    /* NULL in a kernel thread */

/* The scheduler calls this before running thread t: load its address space. */
void proc_switch_mm(struct thread *t);

/* A fault in user mode: report it, and make the exception return end the process
 * instead of going back to the faulting instruction. */
void proc_fault(struct regs *regs, const char *what, int status);

/* Called on the way back to user mode: a killed process ends here. */
void proc_return_to_user(struct regs *regs);

/* The user programs built into the kernel image (build/programs.S), a table ended
 * by a NULL name; program_find() looks one up by name (NULL: no such program). */
struct program {
    const char *name;
    const u8 *start, *end;
};
extern const struct program user_programs[];
const struct program *program_find(const char *name);

/* For the `procs` command: slot i of the process table (NULL past PROC_MAX), and
 * how many ASIDs are free. */
const struct proc *proc_slot(int i);
int proc_asids_free(void);

/* Validate an ELF image; NULL if it may be loaded, else why not. */
const char *elf_check(const u8 *elf, u32 size);

#endif
