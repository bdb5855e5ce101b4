/*
 * stubs/shell.h - the host's stand-in for a lesson's shell.h, for the host unit
 * tests (harness/test_unit_pmm.py).
 *
 * SHELL_COMMAND() defines the same struct shell_cmd as the kernel's macro, so its
 * arguments are type-checked as in the kernel and the command function stays
 * referenced (no -Wunused-function), but in an ordinary static object: there is no
 * linker-built table on the host, and nothing is registered or run.
 */
#ifndef SHELL_H
#define SHELL_H

#define SHELL_LINE_MAX  256
#define SHELL_ARGS_MAX  16

typedef int (*shell_fn)(int argc, char **argv, const char *args);

struct shell_cmd {
    const char *name;
    const char *usage;
    const char *help;
    shell_fn fn;
};

#define SHELL_COMMAND(name_, usage_, help_, fn_)                                \
    static const struct shell_cmd shell_cmd_##name_ __attribute__((used)) =     \
        { #name_, usage_, help_, fn_ }

int shell_execute(char *line);

#endif
