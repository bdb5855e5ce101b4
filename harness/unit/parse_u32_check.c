/*
 * parse_u32_check.c - runs common/kstring.c's parse_u32 on each line of standard input
 * and prints one line per input: "ok VALUE" (VALUE in decimal, as the u32 it stored)
 * or "error". harness/test_unit_format.py feeds it random strings and compares each
 * answer with what Python computes for the same string.
 *
 * kstring.c defines memset, memcpy, strlen, ... under their standard names (gcc may
 * emit calls to them in the kernel). Linked into a host program those would replace the
 * C library's and AddressSanitizer's own, so the test compiles kstring.c on its own with
 * -fno-builtin and -Dmemset=kstring_memset (and so on for each of them): the kernel's
 * versions get other names, and this file calls parse_u32, which keeps its own.
 */
#include <stdio.h>
#include <string.h>

#include "types.h"

int parse_u32(const char *s, u32 *out);

int main(void)
{
    static char line[4096];

    while (fgets(line, sizeof(line), stdin)) {
        u32 value = 0xDEADBEEF;
        int ret;
        line[strcspn(line, "\n")] = '\0';
        ret = parse_u32(line, &value);
        if (ret == 0)
            printf("ok %u\n", value);
        else if (ret == -1)
            printf("error\n");
        else                    /* kstring.h promises 0 or -1 */
            printf("returned %d\n", ret);
    }
    return 0;
}
