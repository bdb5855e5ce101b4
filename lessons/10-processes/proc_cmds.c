/*
 * proc_cmds.c - shell commands for user processes: run, wait, kill, progs, procs,
 * elfcheck.
 *
 * They let you (and the tests) drive proc.c from the shell; none of them is
 * part of the subsystem itself.
 */
#include "proc.h"
#include "heap.h"
#include "kprintf.h"
#include "kstring.h"
#include "shell.h"
#include "user/syscall.h"

static const char *errno_name(int err)
{
    switch (-err) {
    case ENOENT: return "no such program";
    case ENOMEM: return "out of memory or processes";
    case EINVAL: return "invalid program or arguments";
    case ECHILD: return "no child processes";
    case ESRCH: return "no such process";
    }
    return "error";
}

static void report_exit(int pid, int status)
{
    kprintf("[pid %d] exited with status %d\n", pid, status);
}

static int cmd_run(int argc, char **argv, const char *args)
{
    int background = argc > 2 && strcmp(argv[argc - 1], "&") == 0, pid, status;
    (void)args;

    if (argc < 2) {
        kprintf("usage: run PROGRAM [ARGS...] [&]   (see progs)\n");
        return -1;
    }
    if (background)
        argc--;
    pid = proc_spawn(argv[1], argc - 1, (const char *const *)argv + 1, NULL);
    if (pid < 0) {
        kprintf("error: cannot run %s: %s\n", argv[1], errno_name(pid));
        return -1;
    }
    if (background) {
        kprintf("[pid %d] started in the background\n", pid);
        return 0;
    }
    pid = proc_wait(NULL, pid, &status);
    report_exit(pid, status);
    return 0;
}
SHELL_COMMAND(run, "PROG [ARGS] [&]", "run a user program (& in the background)", cmd_run);

static int cmd_wait(int argc, char **argv, const char *args)
{
    u32 pid = (u32)-1;
    int status, got;
    (void)args;

    if (argc > 2 || (argc == 2 && parse_u32(argv[1], &pid) != 0)) {
        kprintf("usage: wait [PID]\n");
        return -1;
    }
    got = proc_wait(NULL, (int)pid, &status);
    if (got < 0) {
        kprintf("error: %s\n", errno_name(got));
        return -1;
    }
    report_exit(got, status);
    return 0;
}
SHELL_COMMAND(wait, "[PID]", "wait for a background process to exit", cmd_wait);

static int cmd_kill(int argc, char **argv, const char *args)
{
    u32 pid;
    (void)args;

    if (argc != 2 || parse_u32(argv[1], &pid) != 0) {
        kprintf("usage: kill PID\n");
        return -1;
    }
    if (proc_kill((int)pid, NULL) != 0) {     /* the shell is the operator */
        kprintf("error: no process %u\n", pid);
        return -1;
    }
    kprintf("pid %u will be killed\n", pid);
    return 0;
}
SHELL_COMMAND(kill, "PID", "end a process", cmd_kill);

static int cmd_progs(int argc, char **argv, const char *args)
{
    (void)argc, (void)argv, (void)args;
    for (const struct program *p = user_programs; p->name; p++)
        kprintf("  %-10s %6u bytes of ELF\n", p->name, (u32)(p->end - p->start));
    return 0;
}
SHELL_COMMAND(progs, "", "the user programs in the kernel image", cmd_progs);

static int cmd_procs(int argc, char **argv, const char *args)
{
    static const char *const states[] = { "free", "alive", "zombie" };
    (void)argc, (void)argv, (void)args;
    kprintf("pid  name        state   parent  asid  L2 tables\n");
    for (int i = 0; i < PROC_MAX; i++) {
        const struct proc *p = proc_slot(i);
        if (p->state != P_FREE)
            kprintf("%-4d %-11s %-7s %-7d %-5u %u\n", p->pid, p->name, states[p->state],
                    p->parent ? p->parent->pid : 0, p->as.asid, p->as.l2_tables);
    }
    kprintf("free ASIDs: %d of %d\n", proc_asids_free(), ASID_MAX);
    return 0;
}
SHELL_COMMAND(procs, "", "processes: pid, state, parent, ASID", cmd_procs);

/* elfcheck PROG OFFSET VALUE: copy PROG's ELF, set the byte at OFFSET to VALUE, and
 * ask elf_check about the result (a test corrupts headers at random). */
static int cmd_elfcheck(int argc, char **argv, const char *args)
{
    const struct program *prog;
    u32 off, value, size;
    const char *why;
    u8 *copy;
    (void)args;

    if (argc != 4 || !(prog = program_find(argv[1])) || parse_u32(argv[2], &off) != 0 ||
        parse_u32(argv[3], &value) != 0 || value > 0xFF) {
        kprintf("usage: elfcheck PROG OFFSET BYTE\n");
        return -1;
    }
    size = (u32)(prog->end - prog->start);
    if (off >= size || !(copy = kmalloc(size))) {
        kprintf("error: offset outside the file (%u bytes)\n", size);
        return -1;
    }
    memcpy(copy, prog->start, size);
    copy[off] = (u8)value;
    why = elf_check(copy, size);
    kfree(copy);
    kprintf("%s\n", why ? why : "ok");
    return 0;
}
SHELL_COMMAND(elfcheck, "PROG OFFSET BYTE", "patch a byte of an ELF and check it", cmd_elfcheck);
