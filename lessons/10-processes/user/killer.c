/* killer PID...: ask the kernel to kill each PID, and print its answer. A process
 * may kill itself and its children; any other is refused with -EPERM (-1). */
#include "ulib.h"

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int pid = atoi(argv[i]);
        printf("kill %d: %d\n", pid, kill(pid));
    }
    return 0;
}
