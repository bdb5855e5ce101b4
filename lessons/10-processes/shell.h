/*
 * shell.h - the kernel shell and its command table.
 *
 * Any file adds a command with
 *
 *     static int cmd_echo(int argc, char **argv, const char *args) { ... }
 *     SHELL_COMMAND(echo, "TEXT", "print TEXT", cmd_echo);
 *
 * The macro puts a struct shell_cmd into its own section; the linker script gathers
 * them, sorted by name, between __shell_cmds_start and __shell_cmds_end. So a lesson
 * adds commands in its own file without touching the shell.
 */
#ifndef SHELL_H
#define SHELL_H

#define SHELL_LINE_MAX  256     /* bytes, including the terminating NUL */
#define SHELL_ARGS_MAX  16

/* argv[0] is the command name. `args` is the raw text after the name and one
 * space, for commands (like echo) that want it exactly as typed. Returns 0 on
 * success; a command prints its own error message. */
typedef int (*shell_fn)(int argc, char **argv, const char *args);

struct shell_cmd {
    const char *name;
    const char *usage;      /* arguments, for help */
    const char *help;       /* one line */
    shell_fn fn;
};

#define SHELL_COMMAND(name_, usage_, help_, fn_)                                \
    static const struct shell_cmd shell_cmd_##name_                             \
    __attribute__((used, section(".shell_cmd." #name_), aligned(4))) =          \
        { #name_, usage_, help_, fn_ }

/* Run one command line. Returns the command's result, or -1 for an empty line
 * or an unknown command. */
int shell_execute(char *line);

/* Prompt, read, execute, forever. */
void shell_run(void) __attribute__((noreturn));

#endif
