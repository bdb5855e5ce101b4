/* flood BYTES | flood kill MS BYTES: write BYTES (up to 1 MB) of 64-byte blank lines
 * in one write(); or start a `flood BYTES` child, kill it after MS ms and report its exit
 * status. A kill must cut a long write short: the child must not go on printing
 * the rest of its buffer. */
#include "ulib.h"

static char buf[1 << 20];   /* in .bss: mapped by the loader, before the child runs */

int main(int argc, char **argv)
{
    if (argc > 3 && argv[1][0] == 'k') {
        const char *child[] = { "flood", argv[3], 0 };
        int pid = spawn("flood", child), status = -1;
        if (pid < 0) {
            printf("flood: spawn failed (%d)\n", pid);
            return 1;
        }
        sleep(atoi(argv[2]));
        int killed = kill(pid);
        wait(pid, &status);
        printf("\nflood: kill -> %d, status %d\n", killed, status);
        return 0;
    }
    int n = argc > 1 ? atoi(argv[1]) : 4096;
    if (n < 0 || n > (int)sizeof(buf))
        n = sizeof(buf);
    for (int i = 63; i < n; i += 64)    /* the rest stays 0: printed as spaces */
        buf[i] = '\n';
    write(1, buf, n);
    return 0;
}
