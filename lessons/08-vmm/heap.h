/* heap.h - the kernel heap: kmalloc and kfree. */
#ifndef HEAP_H
#define HEAP_H

#include "types.h"

/* size bytes, 8-byte aligned, or NULL when memory (or the heap's range) runs out. */
void *kmalloc(u32 size);

/* Give back what kmalloc returned. Anything else is a kernel bug: panic. */
void kfree(void *p);

/* Whether p is a block kmalloc handed out and nobody freed (for the shell). */
int heap_owns(const void *p);

/* The heap's extent (HEAP_BASE to top) and its blocks, for the `heap` command. */
struct heap_stats {
    u32 top;
    u32 used_bytes, used_blocks;
    u32 free_bytes, free_blocks;
};
void heap_stats(struct heap_stats *st);

#endif
