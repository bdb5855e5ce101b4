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
/* BEGIN SOLUTION alloc_block */
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
/* BEGIN SOLUTION free_block */
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

void heap_stats(struct heap_stats *st)
{
    *st = (struct heap_stats){ .top = heap_top };
    for (struct block *b = first; b; b = b->next) {
        if (b->magic == BLOCK_USED)
            st->used_bytes += b->size, st->used_blocks++;
        else
            st->free_bytes += b->size, st->free_blocks++;
    }
}
