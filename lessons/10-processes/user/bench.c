/* bench syscall N | bench yield N | bench write N: time N null system calls
 * (getpid), N yields or N writes of a 64-byte line to the console. Under QEMU's
 * -icount shift=0, 1 us = 1000 guest instructions. The kernel's `bench` command
 * runs it (lesson 10's bench.c); `run bench ...` does too. */
#include "ulib.h"

int main(int argc, char **argv)
{
    static const char line[64] =
        "bench write: 64 bytes .........................................\n";
    int n = argc > 2 ? atoi(argv[2]) : 1000;
    char mode = argc > 1 ? argv[1][0] : 's';
    u32 start = time_us(), end;

    for (int i = 0; i < n; i++) {
        if (mode == 'y')
            yield();
        else if (mode == 'w')
            write(1, line, sizeof(line));
        else
            getpid();
    }
    end = time_us();
    printf("bench %s %d: %u us\n", mode == 'y' ? "yield" : mode == 'w' ? "write" : "syscall",
           n, end - start);
    return 0;
}
