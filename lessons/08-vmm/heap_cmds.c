/*
 * heap_cmds.c - shell commands for the kernel heap: kmalloc, kfree, heap.
 *
 * They let you (and the tests) drive heap.c from the shell; none of them is
 * part of the subsystem itself.
 */
#include "heap.h"
#include "kprintf.h"
#include "kstring.h"
#include "pmm.h"
#include "shell.h"
#include "vmm.h"

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
    struct heap_stats st;
    (void)argc, (void)argv, (void)args;

    heap_stats(&st);
    kprintf("heap 0x%08x-0x%08x: %u pages; %u bytes in %u used blocks, %u bytes in %u free\n",
            HEAP_BASE, st.top, (st.top - HEAP_BASE) / PAGE_SIZE, st.used_bytes, st.used_blocks,
            st.free_bytes, st.free_blocks);
    return 0;
}
SHELL_COMMAND(heap, "", "kernel heap statistics", cmd_heap);
