/*
 * vmm_cmds.c - shell commands for the virtual memory manager: map, unmap, peek, poke,
 * walk, vmstat.
 *
 * They let you (and the tests) drive vmm.c from the shell; none of them is
 * part of the subsystem itself.
 */
#include "vmm.h"
#include "kprintf.h"
#include "kstring.h"
#include "pmm.h"
#include "shell.h"

/* Frames that `map VA` took from the PMM, so that `unmap VA` gives them back (a
 * mapping of a PA the user named is not ours to free). */
#define SHELL_FRESH_MAX 256
static struct { u32 va, pa; } fresh[SHELL_FRESH_MAX];

static int remember_fresh(u32 va, u32 pa)
{
    for (int i = 0; i < SHELL_FRESH_MAX; i++)
        if (!fresh[i].va) {
            fresh[i].va = va;
            fresh[i].pa = pa;
            return 0;
        }
    return -1;
}

static u32 forget_fresh(u32 va)
{
    for (int i = 0; i < SHELL_FRESH_MAX; i++)
        if (fresh[i].va == va) {
            fresh[i].va = 0;
            return fresh[i].pa;
        }
    return 0;
}

/* The shell's map and unmap work on kernel_as, which also holds the kernel heap and
 * the processes' L1 tables: pages the kernel owns, which a command must not take
 * away (unmapping a process's L1 table made its exit panic in vmm_destroy). */
static int kernels_own(u32 va)
{
    if (va >= HEAP_BASE && va < HEAP_BASE + HEAP_MAX) {
        kprintf("error: 0x%08x is the kernel heap's (0x%08x-0x%08x)\n", va, HEAP_BASE,
                HEAP_BASE + HEAP_MAX - 1);
        return 1;
    }
    if (va >= USER_L1_WINDOW && va < USER_L1_WINDOW + USER_L1_WINDOW_SIZE) {
        kprintf("error: 0x%08x is the processes' page tables' (0x%08x-0x%08x)\n", va,
                USER_L1_WINDOW, USER_L1_WINDOW + USER_L1_WINDOW_SIZE - 1);
        return 1;
    }
    return 0;
}

static int cmd_map(int argc, char **argv, const char *args)
{
    u32 va, pa = 0, l2_before = kernel_as.l2_tables;
    int err, own = 0;
    (void)args;

    if (argc < 2 || argc > 3 || parse_u32(argv[1], &va) != 0 ||
        (argc == 3 && parse_u32(argv[2], &pa) != 0)) {
        kprintf("usage: map VA [PA]   (without PA: a fresh frame)\n");
        return -1;
    }
    if (kernels_own(va))
        return -1;
    u32 s = irq_save();     /* the frame allocator has no lock: see lesson 06's alloc */
    if (argc == 2) {
        if (!(pa = pmm_alloc())) {
            irq_restore(s);
            kprintf("error: out of memory\n");
            return -1;
        }
        own = 1;
    }
    err = vmm_map(&kernel_as, va, pa, VM_WRITE);
    if (!err && own && remember_fresh(va, pa) != 0) {
        vmm_unmap(&kernel_as, va, NULL);
        err = VMM_ERR_NOMEM;
    }
    if (err && own)
        pmm_free(pa);
    irq_restore(s);
    if (err) {
        kprintf("error: cannot map 0x%08x: %s\n", va, vmm_strerror(err));
        return -1;
    }
    kprintf("mapped 0x%08x -> 0x%08x%s\n", va, pa,
            kernel_as.l2_tables != l2_before ? " (new L2 table)" : "");
    return 0;
}
SHELL_COMMAND(map, "VA [PA]", "map a page at VA (0xA1000000-0xEFFFFFFF)", cmd_map);

static int cmd_unmap(int argc, char **argv, const char *args)
{
    u32 va, pa, l2_before = kernel_as.l2_tables, own;
    int err;
    (void)args;

    if (argc != 2 || parse_u32(argv[1], &va) != 0) {
        kprintf("usage: unmap VA\n");
        return -1;
    }
    if (kernels_own(va))
        return -1;
    if ((err = vmm_unmap(&kernel_as, va, &pa)) != 0) {
        kprintf("error: cannot unmap 0x%08x: %s\n", va, vmm_strerror(err));
        return -1;
    }
    own = forget_fresh(va);
    if (own) {
        u32 s = irq_save();             /* (see cmd_map) */
        pmm_free(own);
        irq_restore(s);
    }
    kprintf("unmapped 0x%08x (was 0x%08x%s)%s\n", va, pa, own ? ", frame freed" : "",
            kernel_as.l2_tables != l2_before ? ", L2 table freed" : "");
    return 0;
}
SHELL_COMMAND(unmap, "VA", "unmap the page at VA", cmd_unmap);

/* peek and poke access memory like any kernel code: an unmapped address is a data
 * abort, and the kernel panics - as it must when its own code does that. */
static int cmd_peek(int argc, char **argv, const char *args)
{
    u32 va;
    (void)args;

    if (argc != 2 || parse_u32(argv[1], &va) != 0 || (va & 3)) {
        kprintf("usage: peek VA   (word-aligned)\n");
        return -1;
    }
    kprintf("0x%08x: 0x%08x\n", va, *(volatile u32 *)(uintptr_t)va);
    return 0;
}
SHELL_COMMAND(peek, "VA", "read the word at VA", cmd_peek);

static int cmd_poke(int argc, char **argv, const char *args)
{
    u32 va, value;
    (void)args;

    if (argc != 3 || parse_u32(argv[1], &va) != 0 || parse_u32(argv[2], &value) != 0 ||
        (va & 3)) {
        kprintf("usage: poke VA VALUE   (word-aligned)\n");
        return -1;
    }
    *(volatile u32 *)(uintptr_t)va = value;
    kprintf("0x%08x: 0x%08x\n", va, value);
    return 0;
}
SHELL_COMMAND(poke, "VA VALUE", "write the word at VA", cmd_poke);

static const char *pte_access(u32 pte)
{
    static const char *const names[2][4] = {
        { "no access", "kernel rw", "kernel rw, user ro", "kernel rw, user rw" },
        { "reserved", "kernel ro", "kernel ro, user ro", "kernel ro, user ro" },
    };
    return names[(pte & PTE_APX) ? 1 : 0][(pte >> 4) & 3];
}

static int cmd_walk(int argc, char **argv, const char *args)
{
    struct vmm_walk w;
    u32 va;
    (void)args;

    if (argc != 2 || parse_u32(argv[1], &va) != 0) {
        kprintf("usage: walk VA\n");
        return -1;
    }
    vmm_translate(va < KERNEL_BASE ? &(struct addr_space){ .l1 = user_l1 } : &kernel_as,
                  va, &w);
    kprintf("L1[0x%03x] = 0x%08x: ", w.l1_index, w.l1_entry);
    if ((w.l1_entry & PMD_TYPE_MASK) == PMD_TYPE_SECT)
        kprintf("section 0x%08x\n", w.l1_entry & PMD_SECT_BASE_MASK);
    else if (w.l2_table) {
        kprintf("L2 table at 0x%08x\n", w.l2_table);
        kprintf("L2[0x%02x] = 0x%08x: ", w.l2_index, w.l2_entry);
        if (w.mapped)
            kprintf("small page 0x%08x, %s%s%s\n", w.l2_entry & PTE_BASE_MASK, pte_access(w.l2_entry),
                    (w.l2_entry & PTE_XN) ? ", xn" : "", (w.l2_entry & PTE_NG) ? ", ng" : "");
        else
            kprintf("fault\n");
    } else
        kprintf("fault\n");
    if (w.mapped)
        kprintf("0x%08x -> 0x%08x\n", va, w.pa);
    else
        kprintf("0x%08x is not mapped\n", va);
    return 0;
}
SHELL_COMMAND(walk, "VA", "the page-table walk for VA, entry by entry", cmd_walk);

static int cmd_vmstat(int argc, char **argv, const char *args)
{
    struct vmm_stats st;
    (void)argc, (void)argv, (void)args;

    vmm_stats(&st);
    kprintf("L1 tables: 1 (%u bytes) + user %u bytes\n", L1_ENTRIES * 4, L1_USER_ENTRIES * 4);
    kprintf("L2 tables: %u (%u bytes) in %u frames (%u bytes)\n", st.l2_tables,
            st.l2_tables * L2_TABLE_SIZE, st.l2_frames, st.l2_frames * PAGE_SIZE);
    return 0;
}
SHELL_COMMAND(vmstat, "", "page-table memory: L1 and L2 tables", cmd_vmstat);
