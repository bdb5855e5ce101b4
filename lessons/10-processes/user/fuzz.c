/* fuzz SEED N: N random system calls with random arguments: small numbers, NULL,
 * user addresses (mapped and not), kernel addresses, peripherals. Every call must
 * come back with a result (or an error), never bring the kernel down. */
#include "ulib.h"

static u32 state;

static u32 rnd(void)             /* xorshift32 */
{
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

static u32 argument(void)
{
    static const u32 interesting[] = {
        0, 1, 0xFFFFFFFFu, 0x7FFFFFFFu, 0x80000000u, 0x80008000u, 0xF2201000u,
        0xFFFF0000u, 0x00001000u, 0x00010000u, 0x7FFFFFF0u, 0x00400000u,
    };
    switch (rnd() % 4) {
    case 0: return rnd() % 64;
    case 1: return interesting[rnd() % (sizeof(interesting) / sizeof(interesting[0]))];
    case 2: return 0x00010000u + rnd() % 0x20000u;      /* in or near the program */
    default: return rnd();
    }
}

int main(int argc, char **argv)
{
    u32 n = argc > 2 ? strtoul(argv[2], 0) : 1000, errors = 0;
    int last = 0;

    state = argc > 1 ? (u32)strtoul(argv[1], 0) | 1 : 1;
    for (u32 i = 0; i < n; i++) {
        int call = (int)(rnd() % (SYS_COUNT + 3));
        u32 a = argument(), b = argument(), c = argument();
        if (call == SYS_EXIT || call == SYS_KILL)
            continue;                   /* would end the run early */
        if (call == SYS_READ && a == STDIN)
            continue;                   /* would wait for a keyboard */
        if (call == SYS_SLEEP)
            a %= 3;                     /* keep the run short */
        if (call == SYS_WRITE && a == STDOUT && c < 0x80000000u)
            c %= 256;                   /* keep the console readable (several fuzzers
                                         * run at once); huge lengths still come */
        if (call == SYS_SBRK)
            a %= 8192;
        last = syscall4(call, a, b, c, argument());
        if (last < 0)
            errors++;
    }
    printf("fuzz seed %s: %u calls, %u errors\n", argc > 1 ? argv[1] : "1", n, errors);
    return 0;
}
