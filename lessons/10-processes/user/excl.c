/* excl hold VALUE MS | excl steal VALUE: take an exclusive reservation (LDREX) on a
 * word holding VALUE and sleep; or store to the same word with STREX, without a
 * LDREX of its own, and print whether the store went through. It must not: other
 * processes run in between, and a reservation one of them left behind would let
 * its store-exclusive succeed - the kernel clears it on every switch (CLREX). */
#include "ulib.h"

static volatile u32 word;           /* at the same address in every process */

static u32 load_exclusive(volatile u32 *p)
{
    u32 v;
    __asm__ volatile("ldrex %0, [%1]" : "=r"(v) : "r"(p) : "memory");
    return v;
}

static u32 store_exclusive(volatile u32 *p, u32 v)
{
    u32 failed;
    __asm__ volatile("strex %0, %2, [%1]" : "=&r"(failed) : "r"(p), "r"(v) : "memory");
    return failed;                  /* 0: stored, 1: no reservation */
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    word = (u32)strtoul(argv[2], 0);
    if (argv[1][0] == 'h') {
        load_exclusive(&word);
        sleep(argc > 3 ? atoi(argv[3]) : 1000);
        return 0;
    }
    printf("excl strex %s\n", store_exclusive(&word, word + 1) ? "failed" : "stored");
    return 0;
}
