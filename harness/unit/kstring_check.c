/*
 * kstring_check.c - runs common/kstring.c's memset, memcpy and memmove (renamed
 * kstring_*: see parse_u32_check.c) on random cases and compares every byte of a
 * buffer with what a byte-at-a-time model leaves there: each destination offset and
 * source offset within a word, lengths 0 to 300, fill values with the high bit set,
 * overlapping moves both ways, and canary bytes on both sides of every destination.
 *
 *   kstring_check SEED CASES    prints "ok CASES", or the first difference and exits 1
 */
#include <stdio.h>
#include <stdlib.h>

#include "types.h"

void *kstring_memset(void *dst, int c, size_t n);
void *kstring_memcpy(void *dst, const void *src, size_t n);
void *kstring_memmove(void *dst, const void *src, size_t n);

#define BUF 400

static u8 buf[BUF], model[BUF];

static void fill_random(void)
{
    for (int i = 0; i < BUF; i++)
        model[i] = buf[i] = (u8)rand();
}

static int compare(const char *what, long i, size_t dst, size_t src, size_t n, int c)
{
    for (int k = 0; k < BUF; k++)
        if (buf[k] != model[k]) {
            printf("case %ld: %s(dst=buf+%zu, src=buf+%zu, n=%zu, c=%d): byte %d is "
                   "0x%02x, expected 0x%02x\n", i, what, dst, src, n, c, k, buf[k],
                   model[k]);
            return 1;
        }
    return 0;
}

int main(int argc, char **argv)
{
    long cases;

    if (argc != 3)
        return 2;
    srand((unsigned)strtoul(argv[1], NULL, 10));
    cases = strtol(argv[2], NULL, 10);
    for (long i = 0; i < cases; i++) {
        size_t n = (size_t)rand() % 301, dst = 8 + (size_t)rand() % 40;
        size_t src = 8 + (size_t)rand() % 40;
        int c = rand() % 256 - (rand() % 2 ? 128 : 0), op = rand() % 3;
        void *ret;

        fill_random();
        if (op == 0) {
            for (size_t k = 0; k < n; k++)
                model[dst + k] = (u8)c;
            ret = kstring_memset(buf + dst, c, n);
        } else if (op == 1) {           /* memcpy: source and destination apart */
            src += BUF / 2 - 50;
            n = n > 150 ? 150 : n;
            for (size_t k = 0; k < n; k++)
                model[dst + k] = model[src + k];
            ret = kstring_memcpy(buf + dst, buf + src, n);
        } else {                        /* memmove: they may overlap, either way */
            u8 tmp[BUF];
            for (size_t k = 0; k < n; k++)
                tmp[k] = model[src + k];
            for (size_t k = 0; k < n; k++)
                model[dst + k] = tmp[k];
            ret = kstring_memmove(buf + dst, buf + src, n);
        }
        if (ret != buf + dst) {
            printf("case %ld: op %d returned %p, not dst %p\n", i, op, ret,
                   (void *)(buf + dst));
            return 1;
        }
        if (compare(op == 0 ? "memset" : op == 1 ? "memcpy" : "memmove", i, dst, src, n, c))
            return 1;
    }
    printf("ok %ld\n", cases);
    return 0;
}
