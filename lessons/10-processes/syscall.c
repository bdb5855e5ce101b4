/*
 * syscall.c - the system calls: what a user program may ask of the kernel.
 *
 * The number is the SVC's immediate (exc_svc decodes it from the instruction);
 * arguments arrive in the frame's r0-r3 and the result goes back in r0. Every
 * pointer a program passes is checked against its own address space before the
 * kernel touches it (vmm_user_ok): a kernel address, an unmapped page, a buffer
 * running off the end of one - all get -EFAULT, and the kernel never faults on
 * a program's behalf.
 */
#include "exceptions.h"
#include "arm.h"
#include "kprintf.h"
#include "kstring.h"
#include "pmm.h"
#include "proc.h"
#include "timer.h"
#include "uart.h"
#include "user/syscall.h"

#define IO_CHUNK    128         /* bytes copied per step of write */
#define SPAWN_NAME_MAX 32

typedef int (*syscall_fn)(struct proc *p, u32 a, u32 b, u32 c);

/* Copy a NUL-terminated string of at most max-1 bytes from user memory. */
static int copy_string(struct proc *p, u32 uaddr, char *dst, u32 max)
{
    for (u32 i = 0; i < max; i++) {
        if (!vmm_user_ok(&p->as, uaddr + i, 1, 0))
            return -EFAULT;
        dst[i] = *(const char *)(uintptr_t)(uaddr + i);
        if (!dst[i])
            return 0;
    }
    return -EINVAL;                         /* too long */
}

static int sys_exit(struct proc *p, u32 status, u32 b, u32 c)
{
    (void)p, (void)b, (void)c;
    proc_exit((int)(status & 0xFF));    /* an exit status is 8 bits, as on Unix */
}

/* A byte a program may not send to the terminal as it is: a control character
 * other than tab and newline (ESC starts the terminal's escape sequences; a
 * carriage return lets a program overwrite what the kernel printed), or DEL. */
static int is_control(char c)
{
    return ((u8)c < ' ' && c != '\t' && c != '\n') || c == 0x7F;
}

/* Console output: the characters a program wrote, on the UART. */

static int sys_write(struct proc *p, u32 fd, u32 buf, u32 len)
{
    char chunk[IO_CHUNK + 1];

    if (fd != STDOUT)
        return -EBADF;
/* BEGIN SOLUTION sys_write */
    if (!vmm_user_ok(&p->as, buf, len, 0))
        return -EFAULT;
    for (u32 done = 0; done < len;) {
        u32 n = len - done < IO_CHUNK ? len - done : IO_CHUNK;
        if (p->killed)                  /* a kill cuts a long write short */
            return done ? (int)done : -EINTR;
        memcpy(chunk, (const void *)(uintptr_t)(buf + done), n);
        chunk[n] = '\0';
        for (u32 i = 0; i < n; i++)     /* a NUL would end %s early... */
            if (!chunk[i])
                chunk[i] = ' ';
            else if (is_control(chunk[i]))  /* ...and a program must not drive */
                chunk[i] = '?';             /* the terminal or forge a line start */
        kprintf("%s", chunk);
        done += n;
    }
    return (int)len;
/* END SOLUTION */
}

/* One byte of console input per call (waits for it). */
static int sys_read(struct proc *p, u32 fd, u32 buf, u32 len)
{
    if (fd != STDIN)
        return -EBADF;
    if (len == 0)
        return 0;
    if (!vmm_user_ok(&p->as, buf, 1, 1))
        return -EFAULT;
    int c = uart_getc_unless(&p->killed);   /* a kill ends the wait */
    if (c < 0)
        return -EINTR;
    *(char *)(uintptr_t)buf = (char)c;
    return 1;
}

static int sys_getpid(struct proc *p, u32 a, u32 b, u32 c)
{
    (void)a, (void)b, (void)c;
    return p->pid;
}

static int sys_sleep(struct proc *p, u32 ms, u32 b, u32 c)
{
    u32 s;
    (void)b, (void)c;
    /* The check and the falling asleep are one step, IRQs masked throughout: a
     * kill in between (the shell runs it if this thread is preempted there) would
     * find the process runnable, so not wake it, and it would sleep the whole time. */
    s = irq_save();
    if (!p->killed)                     /* a kill that came first ends it now */
        thread_sleep_us((u64)ms * 1000);
    irq_restore(s);
    return p->killed ? -EINTR : 0;
}

/* Move the end of the heap by `increment` bytes (rounded to pages): map fresh
 * zeroed pages above the old break, or unmap and free those above the new one. */
static int sys_sbrk(struct proc *p, u32 increment, u32 b, u32 c)
{
    s32 inc = (s32)increment;
    u32 old = p->brk, new = old + (u32)inc;
    (void)b, (void)c;

/* BEGIN SOLUTION sys_sbrk */
    if ((inc > 0 && (new < old || new > p->heap_start + USER_HEAP_MAX)) ||
        (inc < 0 && (new > old || new < p->heap_start)))
        return -ENOMEM;
    for (u32 va = (old + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); va < new; va += PAGE_SIZE) {
        static const u8 zero[PAGE_SIZE];
        u32 s = irq_save(), pa = pmm_alloc();       /* (the PMM has no lock) */
        irq_restore(s);
        if (!pa)
            return -ENOMEM;
        vmm_write_phys(pa, zero, PAGE_SIZE);
        if (vmm_map(&p->as, va, pa, VM_USER | VM_WRITE) != VMM_OK) {
            s = irq_save();
            pmm_free(pa);
            irq_restore(s);
            return -ENOMEM;
        }
        p->brk = va + PAGE_SIZE < new ? va + PAGE_SIZE : new;
    }
    for (u32 va = (new + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); va < old; va += PAGE_SIZE) {
        u32 pa, s;
        if (vmm_unmap(&p->as, va, &pa) == VMM_OK) {
            s = irq_save();
            pmm_free(pa);
            irq_restore(s);
        }
    }
/* END SOLUTION */
    p->brk = new;
    return (int)old;
}

static int sys_wait(struct proc *p, u32 pid, u32 status_ptr, u32 c)
{
    int status, got;
    (void)c;

    if (status_ptr && ((status_ptr & 3) || !vmm_user_ok(&p->as, status_ptr, 4, 1)))
        return -EFAULT;                 /* (an unaligned word would fault: SCTLR.A) */
    got = proc_wait(p, (int)pid, &status);
    if (got > 0 && status_ptr)
        *(int *)(uintptr_t)status_ptr = status;
    return got;
}

static int sys_spawn(struct proc *p, u32 name_ptr, u32 argv_ptr, u32 c)
{
    char names[PROC_ARGS_MAX][PROC_ARG_LEN];  /* on this process's kernel stack: two
                                               * processes spawning at once must not
                                               * share it (512 bytes of 8 KB) */
    const char *argv[PROC_ARGS_MAX];
    char name[SPAWN_NAME_MAX];
    int argc = 1, err;
    (void)c;

    if ((err = copy_string(p, name_ptr, name, sizeof(name))) != 0)
        return err;
    argv[0] = name;
    for (; argv_ptr && argc < PROC_ARGS_MAX; argc++) {
        u32 uarg;
        if ((argv_ptr & 3) || !vmm_user_ok(&p->as, argv_ptr + 4 * (u32)argc, 4, 0))
            return -EFAULT;
        uarg = *(const u32 *)(uintptr_t)(argv_ptr + 4 * (u32)argc);
        if (!uarg)
            break;
        if ((err = copy_string(p, uarg, names[argc], PROC_ARG_LEN)) != 0)
            return err;
        argv[argc] = names[argc];
    }
    return proc_spawn(name, argc, argv, p);
}

static int sys_yield(struct proc *p, u32 a, u32 b, u32 c)
{
    (void)p, (void)a, (void)b, (void)c;
    thread_yield();
    return 0;
}

static int sys_time(struct proc *p, u32 a, u32 b, u32 c)
{
    (void)p, (void)a, (void)b, (void)c;
    return (int)(u32)timer_now_us();
}

static int sys_kill(struct proc *p, u32 pid, u32 b, u32 c)
{
    (void)b, (void)c;
    return proc_kill((int)pid, p);      /* itself or its children only */
}

static const syscall_fn syscalls[SYS_COUNT] = {
    [SYS_EXIT] = sys_exit,     [SYS_WRITE] = sys_write, [SYS_READ] = sys_read,
    [SYS_GETPID] = sys_getpid, [SYS_SLEEP] = sys_sleep, [SYS_SBRK] = sys_sbrk,
    [SYS_WAIT] = sys_wait,     [SYS_SPAWN] = sys_spawn, [SYS_YIELD] = sys_yield,
    [SYS_TIME] = sys_time,     [SYS_KILL] = sys_kill,
};

int syscall_dispatch(struct proc *p, u32 number, struct regs *regs)
{
    if (number >= SYS_COUNT || !syscalls[number])
        return -ENOSYS;
    return syscalls[number](p, regs->r[0], regs->r[1], regs->r[2]);
}
