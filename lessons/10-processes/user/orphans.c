/* orphans N MS: start N copies of this program that sleep MS ms and exit quietly,
 * and exit at once without waiting for them: they become orphans, which the kernel
 * must free when they exit, since nobody will wait for them. */
#include "ulib.h"

int main(int argc, char **argv)
{
    if (argc > 2 && argv[1][0] == 'c') {            /* a child: "orphans c MS" */
        sleep(atoi(argv[2]));
        return 0;
    }
    int n = argc > 1 ? atoi(argv[1]) : 3;
    const char *child[] = { "orphans", "c", argc > 2 ? argv[2] : "100", 0 };
    for (int i = 0; i < n; i++)
        if (spawn("orphans", child) < 0)
            printf("orphans: spawn %d failed\n", i + 1);
    printf("orphans: %d started\n", n);
    return 0;
}
