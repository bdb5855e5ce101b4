/* getc | getc kill MS: read one byte from the console and print it (or what read
 * returned); or start a `getc` child, let it block in read for MS ms with no key
 * typed, kill it and print its exit status. A kill must end a wait in read at once
 * (read returns -EINTR), and the dying reader must not take a key meant for the
 * shell. */
#include "ulib.h"

int main(int argc, char **argv)
{
    if (argc > 2 && argv[1][0] == 'k') {
        const char *child[] = { "getc", 0 };
        int pid = spawn("getc", child), status = -1;
        if (pid < 0) {
            printf("getc: spawn failed (%d)\n", pid);
            return 1;
        }
        sleep(atoi(argv[2]));
        printf("getc: kill %d -> %d\n", pid, kill(pid));
        printf("getc: wait -> %d, status %d\n", wait(pid, &status) == pid, status);
        return 0;
    }
    char c;
    int n = read(0, &c, 1);
    if (n == 1)
        printf("getc got 0x%02x\n", (unsigned)(unsigned char)c);
    else
        printf("getc: read returned %d\n", n);
    return 0;
}
