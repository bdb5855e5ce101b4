/* badptr: hand the kernel pointers it must refuse - kernel memory, unmapped user
 * memory, NULL - and print what each call returns (a test expects -EFAULT). */
#include "ulib.h"

int main(void)
{
    int status;
    printf("write kernel %d\n", write(STDOUT, (void *)0x80008000u, 16));
    printf("write unmapped %d\n", write(STDOUT, (void *)0x00400000u, 8));
    printf("write null %d\n", write(STDOUT, (void *)0, 4));
    printf("read kernel %d\n", read(STDIN, (void *)0x80010000u, 4));
    printf("wait kernel %d\n", wait(-1, (int *)0x80000000u));
    printf("spawn kernel %d\n", spawn((const char *)0x80008000u, 0));
    printf("write straddling %d\n", write(STDOUT, (char *)sbrk(0) - 4, 8));
    printf("wait nochild %d\n", wait(-1, &status));
    printf("bad call %d\n", syscall4(99, 0, 0, 0, 0));
    return 0;
}
