/*
 * sched_cmds.c - shell commands for the scheduler: ps.
 *
 * They let you (and the tests) drive sched.c from the shell; none of them is
 * part of the subsystem itself.
 */
#include "sched.h"
#include "kprintf.h"
#include "shell.h"

static const char *state_name(enum thread_state st)
{
    static const char *const names[] = { "unused", "running", "ready", "sleeping",
                                         "blocked", "dead" };
    return names[st];
}

static int cmd_ps(int argc, char **argv, const char *args)
{
    static struct thread snap[THREADS_MAX];
    (void)argc, (void)argv, (void)args;

    sched_snapshot(snap);
    kprintf(" id  name            state     switches  ticks\n");
    for (int i = 0; i < THREADS_MAX; i++)
        if (snap[i].state != T_UNUSED && snap[i].state != T_DEAD)
            kprintf("%3d  %-15s %-9s %-9u %u\n", snap[i].id, snap[i].name,
                    state_name(snap[i].state), snap[i].switches, snap[i].ticks);
    return 0;
}
SHELL_COMMAND(ps, "", "threads: id, name, state, switches, ticks run", cmd_ps);

