/* counter LABEL N MS: print "LABEL i" N times, sleeping MS ms in between. Two of
 * them running at once interleave their lines. */
#include "ulib.h"

int main(int argc, char **argv)
{
    int n = argc > 2 ? atoi(argv[2]) : 5, ms = argc > 3 ? atoi(argv[3]) : 2;
    const char *label = argc > 1 ? argv[1] : "count";

    for (int i = 1; i <= n; i++) {
        printf("%s %d\n", label, i);
        sleep(ms);
    }
    return 0;
}
