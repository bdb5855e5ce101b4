/*
 * heap.c - a first-fit heap on pages mapped on demand at HEAP_BASE.
 *
 * The heap is one run of virtual memory that grows upwards a page at a time:
 * each new page is a frame from the PMM, mapped with vmm_map. Blocks sit back to
 * back, each behind a 16-byte header; a list in address order links all of them,
 * free or not, so that a freed block can merge with free neighbours.
 *
 *   HEAP_BASE                                               heap_top
 *   | hdr | block ....... | hdr | block ... | hdr | free ...... |  (unmapped)
 */
#include "heap.h"
#include "arm.h"
#include "kprintf.h"
#include "kstring.h"
#include "panic.h"
#include "pmm.h"
#include "shell.h"
#include "vmm.h"

#define BLOCK_USED  0x55534544u     /* "USED": catches frees of wild pointers */
#define BLOCK_FREE  0x46524545u     /* "FREE": catches double frees */
#define ALIGN8(n)   (((n) + 7u) & ~7u)

struct block {
    u32 size;                       /* payload bytes, a multiple of 8 */
    u32 magic;
    struct block *next;             /* the next block in memory, or NULL */
    u32 pad;                        /* keeps the payload 8-byte aligned */
};
#define HDR ((u32)sizeof(struct block))

static struct block *first;         /* at HEAP_BASE once the heap has a page */
static u32 heap_top = HEAP_BASE;    /* first unmapped byte */

/* Map one more page at the top; the new memory joins the last block if it is
 * free, or becomes a new free block. Returns 0, or -1 when out of memory. */
static int grow(void)
{
    u32 pa;
    struct block *last = first, *b;

    if (heap_top >= HEAP_BASE + HEAP_MAX || !(pa = pmm_alloc()))
        return -1;
    if (vmm_map(&kernel_as, heap_top, pa, VM_WRITE) != VMM_OK) {
        pmm_free(pa);
        return -1;
    }
    while (last && last->next)
        last = last->next;
    if (last && last->magic == BLOCK_FREE) {
        last->size += PAGE_SIZE;
    } else {
        b = (struct block *)heap_top;
        *b = (struct block){ PAGE_SIZE - HDR, BLOCK_FREE, NULL, 0 };
        if (last)
            last->next = b;
        else
            first = b;
    }
    heap_top += PAGE_SIZE;
    return 0;
}

/* The block list is one for the whole kernel: like vmm.c, kmalloc and kfree hold
 * interrupts off (and with them preemption, lesson 09) while they change it. */
static void *alloc_block(u32 size);

void *kmalloc(u32 size)
{
    u32 s;
    void *p;

    if (size == 0 || size > HEAP_MAX)
        return NULL;
    s = irq_save();
    p = alloc_block(ALIGN8(size));
    irq_restore(s);
    return p;
}

static void *alloc_block(u32 size)
{
/* BEGIN SOLUTION
 * TODO: first fit: return the payload of the first free block of at least size bytes,
 * marked used, after splitting off the rest as a free block when it can hold a header
 * and 8 bytes; when no block fits, grow() the heap by a page and look again, or return
 * NULL if it cannot grow (README, "The kernel heap", "8. heap.c").
 * STUB:
 *     (void)size, (void)grow;
 *     return NULL;
 */
    for (;;) {
        for (struct block *b = first; b; b = b->next) {
            if (b->magic != BLOCK_FREE || b->size < size)
                continue;
            if (b->size >= size + HDR + 8) {        /* split off the rest */
                struct block *rest = (struct block *)((u8 *)(b + 1) + size);
                *rest = (struct block){ b->size - size - HDR, BLOCK_FREE, b->next, 0 };
                b->size = size;
                b->next = rest;
            }
            b->magic = BLOCK_USED;
            return b + 1;
        }
        if (grow() != 0)
            return NULL;
    }
/* END SOLUTION */
}

static struct block *block_of(const void *p)
{
    return (struct block *)p - 1;
}

int heap_owns(const void *p)
{
    for (struct block *b = first; b; b = b->next)
        if (b + 1 == p)
            return b->magic == BLOCK_USED;
    return 0;
}

static void free_block(void *p);

void kfree(void *p)
{
    u32 s = irq_save();
    free_block(p);
    irq_restore(s);
}

static void free_block(void *p)
{
    struct block *b = block_of(p), *prev = NULL;

    if (!heap_owns(p))
        panic("kfree: %p was not allocated by kmalloc (or was freed already)", p);
/* BEGIN SOLUTION
 * TODO: mark block b free and merge it with the next block and then with the previous
 * one (found by a walk from `first`) when they are free, so that freed neighbours
 * become one block (README, "8. heap.c").
 * STUB:
 *     (void)b, (void)prev;
 */
    b->magic = BLOCK_FREE;
    if (b->next && b->next->magic == BLOCK_FREE) {       /* merge with the next */
        b->size += HDR + b->next->size;
        b->next = b->next->next;
    }
    for (struct block *c = first; c != b; c = c->next)
        prev = c;
    if (prev && prev->magic == BLOCK_FREE) {             /* and with the previous */
        prev->size += HDR + b->size;
        prev->next = b->next;
    }
/* END SOLUTION */
}

/* ---- shell ------------------------------------------------------------------------ */

static int cmd_kmalloc(int argc, char **argv, const char *args)
{
    u32 size;
    void *p;
    (void)args;

    if (argc != 2 || parse_u32(argv[1], &size) != 0) {
        kprintf("usage: kmalloc SIZE\n");
        return -1;
    }
    if (size == 0 || size > HEAP_MAX) {
        kprintf("error: kmalloc %u: the size must be 1 to %u bytes\n", size, HEAP_MAX);
        return -1;
    }
    if (!(p = kmalloc(size))) {
        kprintf("error: kmalloc %u: out of memory\n", size);
        return -1;
    }
    kprintf("kmalloc %u: 0x%08x\n", size, (u32)(uintptr_t)p);
    return 0;
}
SHELL_COMMAND(kmalloc, "SIZE", "allocate SIZE bytes from the kernel heap", cmd_kmalloc);

static int cmd_kfree(int argc, char **argv, const char *args)
{
    u32 addr;
    (void)args;

    if (argc != 2 || parse_u32(argv[1], &addr) != 0) {
        kprintf("usage: kfree ADDR\n");
        return -1;
    }
    if (!heap_owns((void *)(uintptr_t)addr)) {
        kprintf("error: 0x%08x is not an allocated heap block\n", addr);
        return -1;
    }
    kfree((void *)(uintptr_t)addr);
    kprintf("freed 0x%08x\n", addr);
    return 0;
}
SHELL_COMMAND(kfree, "ADDR", "free a block from kmalloc", cmd_kfree);

static int cmd_heap(int argc, char **argv, const char *args)
{
    u32 used = 0, nused = 0, free = 0, nfree = 0;
    (void)argc, (void)argv, (void)args;

    for (struct block *b = first; b; b = b->next) {
        if (b->magic == BLOCK_USED)
            used += b->size, nused++;
        else
            free += b->size, nfree++;
    }
    kprintf("heap 0x%08x-0x%08x: %u pages; %u bytes in %u used blocks, %u bytes in %u free\n",
            HEAP_BASE, heap_top, (heap_top - HEAP_BASE) / PAGE_SIZE, used, nused, free, nfree);
    return 0;
}
SHELL_COMMAND(heap, "", "kernel heap statistics", cmd_heap);
