/*
 * mmu_cmds.c - shell commands for the MMU: l1, where.
 *
 * They let you (and the tests) drive mmu.c from the shell; none of them is
 * part of the subsystem itself.
 */
#include "mmu.h"
#include "arm.h"
#include "kprintf.h"
#include "shell.h"

static const char *access_name(u32 apx, u32 ap)
{
    static const char *const names[2][4] = {
        { "no access", "kernel rw", "kernel rw, user ro", "kernel rw, user rw" },
        { "reserved", "kernel ro", "kernel ro, user ro", "kernel ro, user ro" },
    };
    return names[apx ? 1 : 0][ap & 3];
}

static const char *memory_name(u32 tex, u32 c, u32 b)
{
    if (!tex && !c)
        return b ? "device" : "strongly-ordered";
    return "normal";
}

static void print_section(u32 va, u32 end, u32 pmd)
{
    kprintf("0x%08x-0x%08x -> 0x%08x section, %s, %s%s%s\n", va, end - 1,
            pmd & PMD_SECT_BASE_MASK,
            memory_name((pmd >> 12) & 7, pmd & PMD_SECT_C, pmd & PMD_SECT_B),
            access_name(pmd & PMD_SECT_APX, (pmd >> 10) & 3),
            (pmd & PMD_SECT_XN) ? ", xn" : "", (pmd & PMD_SECT_NG) ? ", ng" : "");
}

/* Which L1 table holds the entry for va. */
static u32 l1_entry(u32 i)
{
    return i < L1_USER_ENTRIES ? user_l1[i] : kernel_l1[i];
}

/* Print the L1 mappings, with runs of sections that continue each other (same
 * attributes, consecutive physical megabytes) as one line. */
static int cmd_l1(int argc, char **argv, const char *args)
{
    (void)argc, (void)argv, (void)args;
    for (u32 i = 0; i < L1_ENTRIES;) {
        u32 pmd = l1_entry(i), n = 1;

        if ((pmd & PMD_TYPE_MASK) == PMD_TYPE_TABLE) {
            kprintf("0x%08x-0x%08x -> L2 table at 0x%08x\n", i << 20, (i << 20) | 0xFFFFF,
                    pmd & PMD_TABLE_BASE_MASK);
        } else if ((pmd & PMD_TYPE_MASK) == PMD_TYPE_SECT) {
            while (i + n < L1_ENTRIES && l1_entry(i + n) == pmd + n * SECTION_SIZE)
                n++;
            print_section(i << 20, (i + n) << 20, pmd);
        }
        i += n;
    }
    return 0;
}
SHELL_COMMAND(l1, "", "the first-level page table: what each megabyte maps to", cmd_l1);

static int cmd_where(int argc, char **argv, const char *args)
{
    u32 pc, sp, sctlr = read_sctlr();
    (void)argc, (void)argv, (void)args;

    __asm__ volatile("mov %0, pc" : "=r"(pc));
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    kprintf("running at pc 0x%08x, sp 0x%08x (physical = virtual - 0x%08x)\n",
            pc, sp, KERNEL_BASE);
    kprintf("sctlr 0x%08x: mmu %s, d-cache %s, i-cache %s, branch prediction %s, "
            "vectors at 0x%08x\n", sctlr, sctlr & SCTLR_M ? "on" : "off",
            sctlr & SCTLR_C ? "on" : "off", sctlr & SCTLR_I ? "on" : "off",
            sctlr & SCTLR_Z ? "on" : "off", sctlr & SCTLR_V ? HIGH_VECTORS : 0);
    kprintf("ttbcr %u, ttbr0 0x%08x, ttbr1 0x%08x, dacr 0x%08x\n",
            read_ttbcr(), read_ttbr0(), read_ttbr1(), read_dacr());
    return 0;
}
SHELL_COMMAND(where, "", "where the kernel runs, and the MMU's state", cmd_where);
