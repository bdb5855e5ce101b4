/* bench syscall N | bench yield N: time N null system calls (getpid) or N yields.
 * Under QEMU's -icount shift=0, 1 us = 1000 guest instructions. */
#include "ulib.h"

int main(int argc, char **argv)
{
    int n = argc > 2 ? atoi(argv[2]) : 1000;
    int yields = argc > 1 && argv[1][0] == 'y';
    u32 start = time_us(), end;

    for (int i = 0; i < n; i++) {
        if (yields)
            yield();
        else
            getpid();
    }
    end = time_us();
    printf("bench %s %d: %u us\n", yields ? "yield" : "syscall", n, end - start);
    return 0;
}
