/* fault KIND [ADDR]: do something a user program must not do. The kernel kills
 * the process and goes on.
 *   undef    an undefined instruction         null     read through NULL
 *   kernel   read kernel memory (ADDR)        write    write to this program's text
 *   jump     jump to ADDR                     */
#include "ulib.h"

int main(int argc, char **argv)
{
    const char *kind = argc > 1 ? argv[1] : "null";
    u32 addr = argc > 2 ? strtoul(argv[2], 0) : 0x80008000u;

    if (kind[0] == 'u')
        __asm__ volatile(".word 0xe7f000f0");               /* UDF */
    else if (kind[0] == 'n')
        printf("read %u\n", *(volatile u32 *)0);
    else if (kind[0] == 'k')
        printf("read %u\n", *(volatile u32 *)addr);
    else if (kind[0] == 'w')
        *(volatile u32 *)(void *)main = 0;
    else if (kind[0] == 'j')
        ((void (*)(void))addr)();
    printf("fault %s: still alive?\n", kind);
    return 1;
}
