/* pair A B N MS: start two counters (counter A N MS and counter B N MS) with
 * spawn, so that they begin at the same moment, and wait for both: their lines
 * interleave. Shows spawn and wait from user space. */
#include "ulib.h"

int main(int argc, char **argv)
{
    const char *n = argc > 3 ? argv[3] : "5", *ms = argc > 4 ? argv[4] : "2";
    const char *first[] = { "counter", argc > 1 ? argv[1] : "A", n, ms, 0 };
    const char *second[] = { "counter", argc > 2 ? argv[2] : "B", n, ms, 0 };
    int a = spawn("counter", first), b = spawn("counter", second), status[2] = { -1, -1 };

    if (a < 0 || b < 0) {
        printf("pair: spawn failed (%d, %d)\n", a, b);
        return 1;
    }
    for (int i = 0; i < 2; i++) {
        int pid = wait(-1, &status[i]);
        printf("pair: child %d exited with status %d\n", pid, status[i]);
    }
    return status[0] | status[1];
}
