/*
 * proc.c - user processes.
 *
 * A process is: an address space (an 8 KB L1 table for TTBR0, the lower 2 GB, and
 * the pages mapped in it), an ASID that tags its TLB entries, and a kernel thread
 * that enters user mode and comes back for system calls, interrupts and faults.
 * The kernel half (TTBR1) is the same for everyone.
 *
 *   ELF in the kernel image --elf_check--> elf_load: pages mapped, bytes copied
 *   user stack with argv  --> thread --> user_enter (vectors.S) --> USR mode
 *   ... svc / IRQ / fault --> kernel, on the thread's stack ... --> exit, zombie,
 *   wait (the parent collects the status) --> the slot is free again
 */
#include "proc.h"
#include "arm.h"
#include "heap.h"
#include "kprintf.h"
#include "kstring.h"
#include "pmm.h"
#include "user/syscall.h"

extern void user_enter(const struct regs *frame, u32 kernel_stack_top);  /* vectors.S */

static struct proc procs[PROC_MAX];
static int next_pid = 1;
static u8 asid_used[ASID_MAX + 1];
static struct waitq exited;                         /* parents waiting for children */
static const u8 zero_page[PAGE_SIZE];

/* The process whose address space TTBR0 holds: proc_switch_mm() sets it whenever
 * the scheduler runs a thread of another process, or a kernel thread after one, so
 * it is always the current thread's ->proc. A system call asks for it every time:
 * one load, where asking the scheduler took two calls. */
static struct proc *running;

struct proc *proc_current(void)
{
    return running;
}

const struct program *program_find(const char *name)
{
    for (const struct program *p = user_programs; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

/* ---- ELF: check every field before believing any --------------------------------- */

#define EI_NIDENT   16
#define ELF_MAGIC   0x464C457Fu     /* "\x7FELF", read as a little-endian word */
#define ELFCLASS32  1
#define ELFDATA2LSB 1
#define EV_CURRENT  1
#define ET_EXEC     2
#define EM_ARM      40
#define PT_LOAD     1
#define PF_X        1
#define PF_W        2
#define ELF_PHNUM_MAX 8

struct elf32_ehdr {
    u8 ident[EI_NIDENT];
    u16 type, machine;
    u32 version, entry, phoff, shoff, flags;
    u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf32_phdr {
    u32 type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

static const struct elf32_phdr *phdr(const u8 *elf, u32 i)
{
    const struct elf32_ehdr *eh = (const void *)elf;
    return (const void *)(elf + eh->phoff + i * sizeof(struct elf32_phdr));
}

/* Is [a, a + n) inside [lo, hi), without wrapping? */
static int inside(u32 a, u32 n, u32 lo, u32 hi)
{
    return a >= lo && n <= hi - lo && a - lo <= hi - lo - n;
}

const char *elf_check(const u8 *elf, u32 size)
{
/* BEGIN SOLUTION elf_check */
    const struct elf32_ehdr *eh = (const void *)elf;
    int entry_ok = 0;

    if (size < sizeof(*eh) || ((uintptr_t)elf & 3))
        return "too small for an ELF header";
    if (*(const u32 *)eh->ident != ELF_MAGIC)
        return "not an ELF file (magic)";
    if (eh->ident[4] != ELFCLASS32 || eh->ident[5] != ELFDATA2LSB || eh->ident[6] != EV_CURRENT)
        return "not 32-bit little-endian ELF version 1";
    if (eh->type != ET_EXEC || eh->machine != EM_ARM || eh->version != EV_CURRENT)
        return "not an ARM executable";
    if (eh->ehsize != sizeof(*eh) || eh->phentsize != sizeof(struct elf32_phdr))
        return "unexpected header sizes";
    if (eh->phnum == 0 || eh->phnum > ELF_PHNUM_MAX)
        return "bad number of program headers";
    if (!inside(eh->phoff, eh->phnum * sizeof(struct elf32_phdr), 0, size) || (eh->phoff & 3))
        return "program headers outside the file";
    for (u32 i = 0; i < eh->phnum; i++) {
        const struct elf32_phdr *ph = phdr(elf, i);
        if (ph->type != PT_LOAD || ph->memsz == 0)
            continue;                           /* (an empty segment loads nothing) */
        if (ph->filesz > ph->memsz || !inside(ph->offset, ph->filesz, 0, size))
            return "segment data outside the file";
        if (!inside(ph->vaddr, ph->memsz, USER_BASE, USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE))
            return "segment outside user space";
        if ((ph->flags & PF_W) && (ph->flags & PF_X))
            return "segment both writable and executable";
        for (u32 j = 0; j < i; j++) {           /* no two segments in one page */
            const struct elf32_phdr *q = phdr(elf, j);
            if (q->type == PT_LOAD && q->memsz &&
                (ph->vaddr & ~(PAGE_SIZE - 1)) < ((q->vaddr + q->memsz + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)) &&
                (q->vaddr & ~(PAGE_SIZE - 1)) < ((ph->vaddr + ph->memsz + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)))
                return "segments share a page";
        }
        if ((ph->flags & PF_X) && inside(eh->entry, 4, ph->vaddr, ph->vaddr + ph->memsz))
            entry_ok = 1;
    }
    if (!entry_ok || (eh->entry & 3))
        return "entry point not in an executable segment";
    return NULL;
/* END SOLUTION */
}

/* ---- address spaces and ASIDs --------------------------------------------------- */

static int asid_alloc(void)
{
    for (int a = 1; a <= ASID_MAX; a++)
        if (!asid_used[a]) {
            asid_used[a] = 1;
            /* Its last owner's entries may still be in the TLB, tagged with this
             * ASID: they would translate this process's addresses to the old
             * frames. Drop them before the ASID is reused. */
            tlb_invalidate_asid((u32)a);
            return a;
        }
    return -1;
}

int proc_asids_free(void)
{
    int n = 0;
    for (int a = 1; a <= ASID_MAX; a++)
        n += !asid_used[a];
    return n;
}

/* The PMM has no lock of its own: a preemptible caller holds interrupts off. */
static u32 frame_alloc(void)
{
    u32 s = irq_save(), pa = pmm_alloc();
    irq_restore(s);
    return pa;
}

static void frame_free(u32 pa)
{
    u32 s = irq_save();
    pmm_free(pa);
    irq_restore(s);
}

/* A fresh, zeroed, user-accessible page at va in p's address space; its frame. */
static u32 map_fresh(struct proc *p, u32 va, u32 flags)
{
    u32 pa = frame_alloc();
    if (!pa)
        return 0;
    vmm_write_phys(pa, zero_page, PAGE_SIZE);
    if (vmm_map(&p->as, va, pa, flags | VM_USER) != VMM_OK) {
        frame_free(pa);
        return 0;
    }
    return pa;
}

static int as_create(struct proc *p, int asid)
{
    u32 slot = (u32)(p - procs), va = USER_L1_WINDOW + slot * 2 * PAGE_SIZE, s;
    u32 pa, live_size = VMM_MEGABYTES(USER_BASE, USER_TOP) * sizeof(u16);
    u16 *live = kmalloc(live_size);     /* its tables' live entries (vmm.c) */

    s = irq_save();
    pa = live ? pmm_alloc_run(2, 2 * PAGE_SIZE) : 0;   /* TTBR0 wants 8 KB alignment */
    irq_restore(s);

    if (!pa) {
        kfree(live);
        return -ENOMEM;
    }
    memset(live, 0, live_size);
    vmm_write_phys(pa, zero_page, PAGE_SIZE);
    vmm_write_phys(pa + PAGE_SIZE, zero_page, PAGE_SIZE);
    if (vmm_map(&kernel_as, va, pa, VM_WRITE) || vmm_map(&kernel_as, va + PAGE_SIZE,
                                                          pa + PAGE_SIZE, VM_WRITE)) {
        vmm_unmap(&kernel_as, va, NULL);
        s = irq_save();
        pmm_free_run(pa, 2);
        irq_restore(s);
        kfree(live);
        return -ENOMEM;
    }
    p->as = (struct addr_space){ (u32 *)va, USER_BASE, USER_TOP, 0, (u32)asid, live };
    p->l1_pa = pa;
    return 0;
}

static void as_free(struct proc *p)
{
    u32 va = (u32)(uintptr_t)p->as.l1;

    vmm_destroy(&p->as);
    kfree(p->as.l2_live);
    tlb_invalidate_asid(p->as.asid);    /* all its pages at once */
    vmm_unmap(&kernel_as, va, NULL);
    vmm_unmap(&kernel_as, va + PAGE_SIZE, NULL);
    u32 s = irq_save();
    pmm_free_run(p->l1_pa, 2);
    asid_used[p->as.asid] = 0;
    irq_restore(s);
}

/*
 * TPIDRURW, the thread ID register, is one that user mode may write and read
 * (mcr/mrc p15, 0, rX, c13, c0, 2): a program's own, like its r0-r15. It holds one
 * process's value at a time, so it goes with the process: saved into the one that
 * had it, then the next one's loaded, 0 for a kernel thread. Without this, one
 * process reads what another left there (Linux had the same leak: CVE-2014-9870).
 * The one that had it is `running`, the process leaving the CPU: its slot cannot be
 * free and reused yet (proc_exit() switches off it first, and any other thread
 * that could reuse it runs only after this switch).
 */
static void switch_tpidrurw(struct proc *prev, struct proc *next)
{
    if (prev)
        prev->tpidrurw = read_tpidrurw();
    write_tpidrurw(next ? next->tpidrurw : 0);
}

/*
 * Load the address space the scheduler is about to run. TTBR0 and the ASID must
 * change together: a translation walked with the new table but cached under the
 * old ASID would be found later by the old process. So: first ASID 0, which no
 * process uses, then the table, then the new ASID [ARM ARM B4.10.2]. No TLB flush:
 * the ASIDs keep the two processes' entries apart. (QEMU flushes its whole TLB on
 * every CONTEXTIDR write, so it would not show a mistake here.)
 */
void proc_switch_mm(struct thread *t)
{
    struct proc *p = t->proc;
    u32 ttbr0 = p ? p->l1_pa : KERNEL_VIRT_TO_PHYS(user_l1);

    switch_tpidrurw(running, p);        /* (not the address space: a register) */
    running = p;                        /* proc_current() from now on */

/* BEGIN SOLUTION proc_switch_mm */
    dsb();                              /* earlier accesses all done [TRM 3.2.47] */
    write_contextidr(0);
    isb();
    write_ttbr0(ttbr0 | TTBR_WALK_CACHED);
    isb();
    write_contextidr(p ? ((u32)p->pid << 8) | p->as.asid : 0);
    isb();
    branch_predictor_invalidate();      /* it is indexed by virtual address */
    dsb();
    isb();                              /* no prediction made before it is used */
/* END SOLUTION */
}

/* ---- loading a program -------------------------------------------------------- */

static int elf_load(struct proc *p, const u8 *elf)
{
    const struct elf32_ehdr *eh = (const void *)elf;
    u32 end = 0;

/* BEGIN SOLUTION elf_load */
    for (u32 i = 0; i < eh->phnum; i++) {
        const struct elf32_phdr *ph = phdr(elf, i);
        u32 flags = (ph->flags & PF_W ? VM_WRITE : 0) | (ph->flags & PF_X ? VM_EXEC : 0);
        u32 first = ph->vaddr & ~(PAGE_SIZE - 1);

        if (ph->type != PT_LOAD || ph->memsz == 0)
            continue;
        for (u32 va = first; va < ph->vaddr + ph->memsz; va += PAGE_SIZE)
            if (!map_fresh(p, va, flags))
                return -ENOMEM;
        for (u32 done = 0; done < ph->filesz;) {    /* copy the file's bytes in */
            struct vmm_walk w;
            u32 va = ph->vaddr + done, n = PAGE_SIZE - (va & (PAGE_SIZE - 1));
            if (n > ph->filesz - done)
                n = ph->filesz - done;
            vmm_translate(&p->as, va, &w);
            vmm_write_phys(w.pa, elf + ph->offset + done, n);
            done += n;
        }
        if (ph->vaddr + ph->memsz > end)
            end = ph->vaddr + ph->memsz;
    }
/* END SOLUTION */
    p->heap_start = p->brk = (end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    p->start.pc = eh->entry;
    return 0;
}

/* The user stack, with the argument strings and argv[] at its top:
 *   USER_STACK_TOP:  "arg1\0" ... "name\0" | argv[0..argc-1], NULL | <- sp     */
static int build_stack(struct proc *p, int argc, const char *const *argv)
{
    u32 top_page = USER_STACK_TOP - PAGE_SIZE, pos = PAGE_SIZE, pa = 0, *vec;
    u8 *img = kmalloc(PAGE_SIZE);
    u32 uargv[PROC_ARGS_MAX];

    if (!img)
        return -ENOMEM;
    memset(img, 0, PAGE_SIZE);
    for (u32 i = 0; i < USER_STACK_PAGES; i++)
        if (!(pa = map_fresh(p, USER_STACK_TOP - (i + 1) * PAGE_SIZE, VM_WRITE))) {
            kfree(img);
            return -ENOMEM;
        }
/* BEGIN SOLUTION build_stack */
    for (int i = argc - 1; i >= 0; i--) {
        u32 len = strlen(argv[i]) + 1;
        pos -= len;
        memcpy(img + pos, argv[i], len);
        uargv[i] = top_page + pos;
    }
    pos = (pos - (u32)(argc + 1) * 4) & ~7u;       /* argv[], 8-byte aligned sp */
    vec = (u32 *)(img + pos);
    for (int i = 0; i < argc; i++)
        vec[i] = uargv[i];
    vec[argc] = 0;
/* END SOLUTION */
    {
        struct vmm_walk w;
        vmm_translate(&p->as, top_page, &w);
        vmm_write_phys(w.pa, img, PAGE_SIZE);
    }
    kfree(img);
    p->start.r[0] = (u32)argc;
    p->start.r[1] = top_page + pos;
    p->start.sp = top_page + pos;
    p->start.cpsr = CPSR_MODE_USR | CPSR_F;         /* user mode, IRQs on, FIQ off */
    return 0;
}

/* The thread of a process: go to user mode, never to come back here. */
static void proc_main(void *arg)
{
    struct proc *p = arg;
    user_enter(&p->start, (u32)(uintptr_t)thread_current()->stack + THREAD_STACK_SIZE);
}

static void release(struct proc *p)
{
    if (p->as.l1)
        as_free(p);
    p->as.l1 = NULL;
    p->state = P_FREE;
}

int proc_spawn(const char *name, int argc, const char *const *argv, struct proc *parent)
{
    const struct program *prog = program_find(name);
    struct proc *p = NULL;
    char tname[THREAD_NAME_MAX];
    int asid, err, tid;
    u32 s;

    if (!prog)
        return -ENOENT;
    if (elf_check(prog->start, (u32)(prog->end - prog->start)))
        return -EINVAL;
    if (argc < 1 || argc > PROC_ARGS_MAX)
        return -EINVAL;
    s = irq_save();
    for (int i = 0; i < PROC_MAX && !p; i++)
        if (procs[i].state == P_FREE)
            p = &procs[i];
    if (!p || (asid = asid_alloc()) < 0) {
        irq_restore(s);
        return -ENOMEM;
    }
    *p = (struct proc){ .pid = next_pid++, .state = P_ALIVE, .parent = parent };
    irq_restore(s);
    strlcpy(p->name, name, PROC_NAME_MAX);
    if ((err = as_create(p, asid)) != 0) {
        asid_used[asid] = 0;
        p->state = P_FREE;
        return err;
    }
    if ((err = elf_load(p, prog->start)) != 0 || (err = build_stack(p, argc, argv)) != 0) {
        release(p);
        return err;
    }
    /* The program's code reached memory through the data side (the scratch page);
     * the instruction cache may still hold what an earlier program had in those
     * frames. Invalidate it before anything runs from them (QEMU has no caches:
     * only a real Pi would run stale instructions). */
    icache_invalidate_all();
    branch_predictor_invalidate();
    dsb();
    isb();
    ksnprintf(tname, sizeof(tname), "%s.%d", name, p->pid);
    s = irq_save();                     /* the thread must not run before ->proc is set */
    tid = thread_create(tname, proc_main, p);
    if (tid < 0) {
        irq_restore(s);
        release(p);
        return -ENOMEM;
    }
    p->thread = thread_get(tid);
    p->thread->proc = p;
    irq_restore(s);
    return p->pid;
}

/* ---- the end of a process ------------------------------------------------------ */

void proc_exit(int status)
{
    struct proc *p = proc_current();
    u32 s;

    if (!p)
        panic("proc_exit: not a process");
    s = irq_save();
    thread_current()->proc = NULL;
    proc_switch_mm(thread_current());   /* off the address space we are about to free */
    irq_restore(s);
    as_free(p);
    p->as.l1 = NULL;
    irq_save();
    p->exit_status = status;
    /* An orphan's status has nobody to go to: its slot is free at once (its address
     * space went above). Otherwise orphans stayed zombies for ever, and a few runs
     * of a program that leaves children behind filled the table. */
    p->state = p->orphan ? P_FREE : P_ZOMBIE;
    for (int i = 0; i < PROC_MAX; i++)  /* orphans: nobody will wait for them */
        if (procs[i].parent == p) {
            procs[i].parent = NULL;
            procs[i].orphan = 1;
            if (procs[i].state == P_ZOMBIE)
                procs[i].state = P_FREE;
        }
    wake_all(&exited);
    thread_exit();
}

int proc_wait(struct proc *parent, int pid, int *status)
{
    u32 s = irq_save();

    for (;;) {
        int have = 0;
        for (int i = 0; i < PROC_MAX; i++) {
            struct proc *q = &procs[i];
            if (q->state == P_FREE || q->orphan || q->parent != parent ||
                (pid >= 0 && q->pid != pid))
                continue;                   /* (the shell does not wait for orphans) */
            have = 1;
            if (q->state == P_ZOMBIE) {
                int found = q->pid;
                *status = q->exit_status;
                q->state = P_FREE;
                irq_restore(s);
                return found;
            }
        }
        if (!have) {
            irq_restore(s);
            return -ECHILD;
        }
        if (parent && parent->killed) {
            irq_restore(s);
            return -EINTR;
        }
        wait_on(&exited);
    }
}

int proc_kill(int pid, const struct proc *by)
{
    u32 s = irq_save();
    for (int i = 0; i < PROC_MAX; i++)
        if (procs[i].state == P_ALIVE && procs[i].pid == pid) {
            if (by && &procs[i] != by && procs[i].parent != by) {
                irq_restore(s);
                return -EPERM;                  /* not yours */
            }
            procs[i].killed = 1;
            if (procs[i].thread)                /* (none yet while it is being created) */
                thread_interrupt(procs[i].thread);  /* out of a sleep or a wait */
            irq_restore(s);
            return 0;
        }
    irq_restore(s);
    return -ESRCH;
}

/* Where a dying process's exception return goes instead of back to user mode: SVC
 * mode, on its own kernel stack, to exit. */
static void exit_trampoline(int status)
{
    proc_exit(status);
}

static void redirect_to_exit(struct regs *regs, int status)
{
    regs->r[0] = (u32)status;
    regs->pc = (u32)(uintptr_t)exit_trampoline;
    regs->cpsr = CPSR_MODE_SVC | CPSR_F;        /* IRQs on, FIQ off */
}

void proc_fault(struct regs *regs, const char *what, int status)
{
    struct proc *p = proc_current();
    kprintf("[pid %d %s] killed: %s\n", p ? p->pid : -1, p ? p->name : "?", what);
    redirect_to_exit(regs, status);
}

void proc_return_to_user(struct regs *regs)
{
    struct proc *p = proc_current();
    if ((regs->cpsr & CPSR_MODE_MASK) == CPSR_MODE_USR && p && p->killed) {
        kprintf("[pid %d %s] killed\n", p->pid, p->name);
        redirect_to_exit(regs, EXIT_KILLED);
    }
}

void proc_init(void)
{
    for (int i = 0; i < PROC_MAX; i++)
        procs[i].state = P_FREE;
    /* No access to the VFP (coprocessors 10 and 11) for anyone: its registers are
     * not part of a context, so one process's values would leak into the next.
     * The reset value is 0 already; a boot loader may have left it on. A VFP
     * instruction is then undefined, and kills only the process. */
    write_cpacr(0);
    isb();
    sched_set_switch_mm(proc_switch_mm);
}

const struct proc *proc_slot(int i)
{
    return i >= 0 && i < PROC_MAX ? &procs[i] : NULL;
}
