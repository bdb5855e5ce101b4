/* tls set VALUE [MS] | tls get: write the user thread ID register (TPIDRURW),
 * sleep, and print what it holds; or only print it. A process must find only its
 * own value there, or 0 if it never wrote one: other processes run in between. */
#include "ulib.h"

static u32 tpidrurw(void)
{
    u32 v;
    __asm__ volatile("mrc p15, 0, %0, c13, c0, 2" : "=r"(v));    /* read TPIDRURW */
    return v;
}

static void set_tpidrurw(u32 v)
{
    __asm__ volatile("mcr p15, 0, %0, c13, c0, 2" : : "r"(v));   /* write TPIDRURW */
}

int main(int argc, char **argv)
{
    if (argc > 2 && argv[1][0] == 's') {
        set_tpidrurw((u32)strtoul(argv[2], 0));
        sleep(argc > 3 ? atoi(argv[3]) : 1);
    }
    printf("tls 0x%08x\n", tpidrurw());
    return 0;
}
