/* sbrk PAGES: grow the heap by PAGES pages, fill every word, check it, shrink it
 * back. Prints where the memory was and a checksum a test can recompute. A .bss
 * three pages long, filled first and checked last, shows the heap starts after all
 * of it (the loader must take the image's end from memsz, not filesz). */
#include "ulib.h"

#define BSS_WORDS (3 * 1024)

static u32 bss[BSS_WORDS];

int main(int argc, char **argv)
{
    int pages = argc > 1 ? atoi(argv[1]) : 4;
    u32 *p = sbrk(pages * 4096), sum = 0;
    u32 words = (u32)pages * 1024;

    for (u32 i = 0; i < BSS_WORDS; i++)
        bss[i] = ~i;
    if ((int)p < 0) {
        printf("sbrk: error %d\n", (int)p);
        return 1;
    }
    for (u32 i = 0; i < words; i++)
        p[i] = i * 2654435761u;
    for (u32 i = 0; i < words; i++) {
        if (p[i] != i * 2654435761u) {
            printf("sbrk: word %u lost its value\n", i);
            return 2;
        }
        sum += p[i];
    }
    for (u32 i = 0; i < BSS_WORDS; i++) {
        if (bss[i] != ~i) {
            printf("sbrk: .bss word %u changed: the heap overlaps it\n", i);
            return 3;
        }
    }
    printf("sbrk: %d pages at %p, checksum 0x%08x\n", pages, (void *)p, sum);
    sbrk(-pages * 4096);
    printf("sbrk: break back at %p\n", sbrk(0));
    return 0;
}
