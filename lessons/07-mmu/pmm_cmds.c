/*
 * pmm_cmds.c - shell commands for the physical memory manager: alloc, free, pmm.
 *
 * They let you (and the tests) drive pmm.c from the shell; none of them is
 * part of the subsystem itself.
 */
#include "pmm.h"
#include "arm.h"
#include "kprintf.h"
#include "kstring.h"
#include "shell.h"

static int cmd_alloc(int argc, char **argv, const char *args)
{
    u32 count = 1, align = PAGE_SIZE, pa;
    (void)args;

    if (argc > 3 || (argc > 1 && parse_u32(argv[1], &count) != 0) ||
        (argc > 2 && parse_u32(argv[2], &align) != 0) || count == 0 ||
        align < PAGE_SIZE || (align & (align - 1))) {
        kprintf("usage: alloc [COUNT [ALIGN]]   (ALIGN: a power of two, at least %u)\n",
                PAGE_SIZE);
        return -1;
    }
    /* A plain `alloc` takes one frame the usual way; with arguments, a run. The
     * allocator has no lock: its callers hold interrupts off (from lesson 09 on,
     * other threads and processes allocate too). */
    u32 s = irq_save();
    pa = argc == 1 ? pmm_alloc() : pmm_alloc_run(count, align);
    irq_restore(s);
    if (!pa) {
        kprintf("error: out of memory: no free run of %u frames aligned to 0x%x\n",
                count, align);
        return -1;
    }
    kprintf("allocated %u frames at 0x%08x\n", count, pa);
    return 0;
}
SHELL_COMMAND(alloc, "[COUNT [ALIGN]]", "allocate COUNT contiguous frames (default 1)",
              cmd_alloc);

static int cmd_free(int argc, char **argv, const char *args)
{
    u32 pa, count = 1;
    int err;
    (void)args;

    if (argc < 2 || argc > 3 || parse_u32(argv[1], &pa) != 0 ||
        (argc == 3 && parse_u32(argv[2], &count) != 0)) {
        kprintf("usage: free ADDR [COUNT]\n");
        return -1;
    }
    u32 s = irq_save();                 /* (see cmd_alloc) */
    err = pmm_free_run(pa, count);
    irq_restore(s);
    if (err != PMM_OK) {
        kprintf("error: cannot free 0x%08x (%u frames): %s\n", pa, count, pmm_strerror(err));
        return -1;
    }
    kprintf("freed %u frames at 0x%08x\n", count, pa);
    return 0;
}
SHELL_COMMAND(free, "ADDR [COUNT]", "free frames allocated with alloc", cmd_free);

static int cmd_pmm(int argc, char **argv, const char *args)
{
    struct pmm_stats st;
    (void)argc, (void)argv, (void)args;

    pmm_stats(&st);
    kprintf("ram 0x%08x-0x%08x: %u frames of %u bytes\n", st.ram_base,
            st.ram_base + st.ram_size, st.total, PAGE_SIZE);
    kprintf("free %u, allocated %u, reserved %u\n", st.free, st.allocated, st.reserved);
    return 0;
}
SHELL_COMMAND(pmm, "", "physical memory statistics", cmd_pmm);
