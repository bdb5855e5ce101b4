/*
 * shell.c - the kernel shell: prompt "> ", read a line, split it into words, find
 * the command, run it. The test harness drives every lesson through it, so its
 * output is a contract (see lesson 02's README, "Shell commands").
 */
#include "shell.h"
#include "kprintf.h"
#include "kstring.h"
#include "panic.h"
#include "readline.h"
#include "semihost.h"

extern const struct shell_cmd __shell_cmds_start[], __shell_cmds_end[];

static const struct shell_cmd *find_command(const char *name)
{
    for (const struct shell_cmd *c = __shell_cmds_start; c < __shell_cmds_end; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* Split `line` in place at spaces into at most `max` words; if there are more, the
 * last word keeps the rest of the line (commands that take text, like echo, read
 * the raw arguments anyway). Returns the word count. */
static int split_words(char *line, char **argv, int max)
{
    int argc = 0;
    char *p = line;

    for (;;) {
        while (*p == ' ')
            *p++ = '\0';
        if (!*p)
            return argc;
        argv[argc++] = p;
        if (argc == max)
            return argc;
        while (*p && *p != ' ')
            p++;
    }
}

int shell_execute(char *line)
{
/* BEGIN SOLUTION shell_execute */
    static char raw[SHELL_LINE_MAX];
    char *argv[SHELL_ARGS_MAX];
    const char *args;
    const struct shell_cmd *cmd;
    int argc;

    /* Keep the text after the first word as typed: split_words() is about to
     * write NULs over the spaces in `line`. */
    while (*line == ' ')
        line++;
    args = strchr(line, ' ');
    args = args ? args + 1 : "";
    memcpy(raw, args, strlen(args) + 1);

    argc = split_words(line, argv, SHELL_ARGS_MAX);
    if (argc == 0)
        return -1;
    cmd = find_command(argv[0]);
    if (!cmd) {
        kprintf("error: unknown command '%s' (type 'help' for the list)\n", argv[0]);
        return -1;
    }
    return cmd->fn(argc, argv, raw);
/* END SOLUTION */
    return -1;
}

void shell_run(void)
{
    static char line[SHELL_LINE_MAX];

    for (;;) {
        kprintf("> ");
        if (readline(line, sizeof(line)) == READLINE_TOO_LONG) {
            kprintf("error: line too long (max %d characters)\n", SHELL_LINE_MAX - 1);
            continue;
        }
        shell_execute(line);
    }
}

/* ---- the built-in commands ---------------------------------------------------- */

static int cmd_help(int argc, char **argv, const char *args)
{
    (void)argc, (void)argv, (void)args;
    for (const struct shell_cmd *c = __shell_cmds_start; c < __shell_cmds_end; c++) {
        char usage[48];
        ksnprintf(usage, sizeof(usage), "%s %s", c->name, c->usage);
        kprintf("  %-24s %s\n", usage, c->help);
    }
    return 0;
}
SHELL_COMMAND(help, "", "list the commands", cmd_help);

static int cmd_echo(int argc, char **argv, const char *args)
{
    (void)argc, (void)argv;
    kprintf("%s\n", args);
    return 0;
}
SHELL_COMMAND(echo, "TEXT", "print TEXT exactly as typed", cmd_echo);

static int cmd_halt(int argc, char **argv, const char *args)
{
    (void)argc, (void)argv, (void)args;
    kprintf("halting\n");
    machine_exit(0);
}
SHELL_COMMAND(halt, "", "stop the machine (QEMU exits with status 0)", cmd_halt);

static int cmd_panic(int argc, char **argv, const char *args)
{
    (void)argc, (void)argv;
    panic("%s", *args ? args : "requested from the shell");
}
SHELL_COMMAND(panic, "[MESSAGE]", "panic: register dump, QEMU exits non-zero", cmd_panic);
