/* fault KIND [ADDR]: do something a user program must not do. The kernel kills
 * the process and goes on.
 *   undef    an undefined instruction         null     read through NULL
 *   kernel   read kernel memory (ADDR)        write    write to this program's text
 *   jump     jump to ADDR                     thumb    an undefined Thumb instruction
 *   vfp      a VFP instruction (the kernel gives no process the VFP)
 * (fault_udf and fault_thumb_udf are global: a test finds their addresses.) */
#include "ulib.h"

/* A Thumb function of one undefined instruction: the kernel must report its own
 * address, as for an ARM one, though a Thumb instruction is 2 bytes long. */
void fault_thumb_udf(void);
__asm__(".thumb\n"
        ".thumb_func\n"
        ".global fault_thumb_udf\n"
        "fault_thumb_udf: .short 0xde00\n"                 /* UDF #0 (Thumb) */
        ".arm\n");

int main(int argc, char **argv)
{
    const char *kind = argc > 1 ? argv[1] : "null";
    u32 addr = argc > 2 ? strtoul(argv[2], 0) : 0x80008000u;

    if (kind[0] == 'u')
        __asm__ volatile(".global fault_udf\nfault_udf: .word 0xe7f000f0");   /* UDF */
    else if (kind[0] == 't')
        fault_thumb_udf();
    else if (kind[0] == 'v')
        __asm__ volatile(".global fault_vfp\nfault_vfp: .word 0xeeb00a40");  /* vmov.f32 s0, s0 */
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
