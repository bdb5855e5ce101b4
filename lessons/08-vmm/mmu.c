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
/* BEGIN SOLUTION mmu_boot_tables */
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
/* BEGIN SOLUTION map_kernel_image */
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
