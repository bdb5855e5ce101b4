/* memcheck VALUE MS: store VALUE in a variable, sleep, and print what the variable
 * holds. Two of them at once use the same virtual address and must each see their
 * own value: every process has its own memory. */
#include "ulib.h"

static volatile u32 cell;

int main(int argc, char **argv)
{
    cell = argc > 1 ? (u32)strtoul(argv[1], 0) : 0;
    sleep(argc > 2 ? atoi(argv[2]) : 5);
    printf("pid %d: cell at %p holds 0x%08x\n", getpid(), (void *)&cell, cell);
    return 0;
}
