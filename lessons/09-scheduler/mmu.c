/*
 * mmu.c - the kernel's page tables: built at boot with 1 MB sections (while the
 * code still runs at physical addresses), then refined once running at
 * 0x80000000: 4 KB pages with per-part permissions for the kernel image, the
 * peripherals at 0xF2000000, the vectors at 0xFFFF0000, no identity map.
 * [ARM ARM (DDI 0100I) B4 "Virtual Memory System Architecture"; ARM1176 TRM 6]
 */
#include "mmu.h"
#include "arm.h"
#include "board.h"
#include "kprintf.h"
#include "panic.h"
#include "shell.h"

#define KERNEL_IMAGE_MAX_MB 4               /* L2 tables for the image's megabytes */

/* The tables live in .pagetables: zeroed by start.S, never in kernel.img. */
#define PAGETABLE(align) __attribute__((aligned(align), section(".pagetables")))
u32 kernel_l1[L1_ENTRIES] PAGETABLE(16384);         /* TTBR1: all of it is ours */
u32 user_l1[L1_USER_ENTRIES] PAGETABLE(8192);        /* TTBR0: boot identity map */
static u32 image_l2[KERNEL_IMAGE_MAX_MB][L2_ENTRIES] PAGETABLE(1024);
u32 fixed_l2[L2_ENTRIES] PAGETABLE(1024);           /* the top megabyte */

extern char __kernel_start[], __kernel_end[], __text_start[], __text_end[];
extern char __rodata_start[], __rodata_end[], __vectors_start[];

#define SECT_KERNEL_RWX (PMD_TYPE_SECT | PMD_SECT_AP(AP_KERNEL_RW) | \
                         PMD_DOMAIN(DOMAIN_KERNEL) | SECT_NORMAL)
#define SECT_PERIPHERAL (PMD_TYPE_SECT | PMD_SECT_AP(AP_KERNEL_RW) | \
                         PMD_DOMAIN(DOMAIN_KERNEL) | SECT_DEVICE | PMD_SECT_XN)
#define L1_TABLE        (PMD_TYPE_TABLE | PMD_DOMAIN(DOMAIN_KERNEL))

/*
 * Runs from start.S before the MMU is on, at physical addresses, while every
 * symbol says virtual: so no calls, no global variables read or written by name,
 * only addresses taken and shifted by phys_offset (= physical - virtual).
 *
 * Three mappings, all 1 MB sections:
 *  - identity (TTBR0): the kernel's megabytes at their physical addresses, so the
 *    instruction after "MMU on" is still found where the pc points;
 *  - high (TTBR1): the same megabytes at 0x80000000 up, where the code is linked;
 *  - the peripherals at 0xF2000000, so the kernel can print from its first line.
 */
void mmu_boot_tables(u32 phys_offset)
{
/* BEGIN SOLUTION
 * TODO: through phys_offset (the tables' physical addresses), map every megabyte from
 * physical 0 to the end of the kernel twice with SECT_KERNEL_RWX sections: identity
 * in user_l1 and at KERNEL_PHYS_TO_VIRT in kernel_l1; then the 16 MB of peripherals
 * at PERIPHERAL_BASE with SECT_PERIPHERAL (README, "L1 descriptors", "4. mmu.c").
 * The stub maps one megabyte, and the peripherals as ordinary executable memory.
 * STUB:
 *     u32 *l1 = (u32 *)((u32)kernel_l1 + phys_offset);
 *
 *     ((u32 *)((u32)user_l1 + phys_offset))[0] = SECT_KERNEL_RWX;
 *     l1[L1_INDEX(KERNEL_BASE)] = SECT_KERNEL_RWX;
 *     for (u32 off = 0; off < PERIPHERAL_SIZE; off += SECTION_SIZE)
 *         l1[L1_INDEX(PERIPHERAL_BASE + off)] = (PERIPHERAL_PHYS + off) | SECT_KERNEL_RWX;
 */
    u32 *l1 = (u32 *)((u32)kernel_l1 + phys_offset);
    u32 *user = (u32 *)((u32)user_l1 + phys_offset);
    u32 end = (u32)__kernel_end + phys_offset;

    for (u32 pa = 0; pa < end; pa += SECTION_SIZE) {
        user[L1_INDEX(pa)] = pa | SECT_KERNEL_RWX;
        l1[L1_INDEX(KERNEL_PHYS_TO_VIRT(pa))] = pa | SECT_KERNEL_RWX;
    }
    for (u32 off = 0; off < PERIPHERAL_SIZE; off += SECTION_SIZE)
        l1[L1_INDEX(PERIPHERAL_BASE + off)] = (PERIPHERAL_PHYS + off) | SECT_PERIPHERAL;
/* END SOLUTION */
}

/* The small-page descriptor for a kernel-image page, by the part it lies in. */
static u32 image_pte(u32 va)
{
    u32 pte = KERNEL_VIRT_TO_PHYS(va) | PTE_TYPE_SMALL | PTE_NORMAL;

    if (va >= (u32)__text_start && va < (u32)__text_end)
        return pte | PTE_APX | PTE_AP(AP_KERNEL_RO);            /* code */
    if (va >= (u32)__rodata_start && va < (u32)__rodata_end)
        return pte | PTE_APX | PTE_AP(AP_KERNEL_RO) | PTE_XN;   /* constants */
    return pte | PTE_AP(AP_KERNEL_RW) | PTE_XN;                 /* data, stacks */
}

/* Replace the boot sections of the kernel image by L2 tables of 4 KB pages. The
 * new tables map every page the code runs from to the same place, so swapping an
 * L1 entry under our own feet is safe; the TLB still holds the old section until
 * it is invalidated. */
static void map_kernel_image(void)
{
    u32 first_mb = L1_INDEX(__kernel_start), last_mb = L1_INDEX((u32)__kernel_end - 1);

    if (last_mb - first_mb >= KERNEL_IMAGE_MAX_MB)
        panic("mmu: kernel image over %d MB", KERNEL_IMAGE_MAX_MB);
/* BEGIN SOLUTION
 * TODO: for each megabyte of the image, fill its image_l2 table (image_pte() for a
 * page between __kernel_start and __kernel_end, a fault entry for the rest), point
 * the kernel_l1 entry at the table's physical address, then DSB, invalidate the TLB,
 * ISB (README, "L2 descriptors", "Why the kernel needs 4 KB pages", "5. mmu.c").
 * STUB:
 *     (void)image_l2;
 *     (void)image_pte;
 */
    for (u32 mb = first_mb; mb <= last_mb; mb++) {
        u32 *l2 = image_l2[mb - first_mb];
        for (u32 i = 0; i < L2_ENTRIES; i++) {
            u32 va = (mb << 20) | (i << 12);
            l2[i] = (va >= (u32)__kernel_start && va < (u32)__kernel_end) ? image_pte(va) : 0;
        }
        kernel_l1[mb] = KERNEL_VIRT_TO_PHYS(l2) | L1_TABLE;
    }
    dsb();                      /* the table writes land before the TLB is flushed */
    tlb_invalidate_all();
    isb();
/* END SOLUTION */
}

/* The vector table's page, mapped a second time at 0xFFFF0000 through the fixed L2
 * table of the top megabyte (lesson 08 keeps its scratch page there too). */
static void map_high_vectors(void)
{
    fixed_l2[L2_INDEX(HIGH_VECTORS)] = KERNEL_VIRT_TO_PHYS(__vectors_start) |
        PTE_TYPE_SMALL | PTE_NORMAL | PTE_APX | PTE_AP(AP_KERNEL_RO);
    kernel_l1[L1_INDEX(FIXED_L2_BASE)] = KERNEL_VIRT_TO_PHYS(fixed_l2) | L1_TABLE;
    dsb();
    write_sctlr(read_sctlr() | SCTLR_V);    /* exceptions now vector to 0xFFFF0000 */
    isb();
}

/* Nothing below 0x80000000 is mapped any more: a NULL pointer faults. */
static void remove_identity_map(void)
{
    for (u32 i = 0; i < L1_USER_ENTRIES; i++)
        user_l1[i] = PMD_TYPE_FAULT;
    dsb();
    tlb_invalidate_all();
    isb();
}

/* The caches were off: nothing in them is valid, nothing is dirty. Invalidate,
 * then turn on the data cache, the instruction cache and branch prediction. */
static void caches_on(void)
{
    __asm__ volatile("mcr p15, 0, %0, c7, c7, 0" : : "r"(0) : "memory"); /* I and D */
    branch_predictor_invalidate();
    dsb();
    write_sctlr(read_sctlr() | SCTLR_C | SCTLR_I | SCTLR_Z);
    isb();
}

void mmu_init(void)
{
    map_kernel_image();
    map_high_vectors();
    remove_identity_map();
    caches_on();
}

/* ---- shell ------------------------------------------------------------------------ */

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
