/*
 * mmu.h - ARMv6 page tables (VMSAv6 short descriptors, SCTLR.XP = 1) and the
 * kernel's address space.
 *
 * A virtual address is split in two levels [ARM ARM B4.7]:
 *
 *   31                  20 19          12 11           0
 *  +----------------------+--------------+--------------+
 *  | L1 index (4096)      | L2 index(256)| page offset  |
 *  +----------------------+--------------+--------------+
 *
 * An L1 entry (Linux: pgd) maps 1 MB: as a section, or by pointing to a 1 KB L2
 * table (Linux: pte table) of 256 entries mapping 4 KB small pages.
 * With TTBCR.N = 1, addresses below 0x80000000 are looked up in the table of
 * TTBR0 (2048 entries, 8 KB: user space, one per process in lesson 10), those
 * above in the table of TTBR1 (the kernel's, 16 KB, the same for everyone).
 * One domain for everything, as a "client": the AP bits are checked. DACR has
 * two bits per domain.
 */
#ifndef MMU_H
#define MMU_H

#include "memlayout.h"

/* Used by start.S too: no 'u' suffixes, no casts. */
#define DOMAIN_KERNEL       0
#define DACR_CLIENT         1               /* permissions checked ("manager": not) */
#define DACR_VALUE          (DACR_CLIENT << (2 * DOMAIN_KERNEL))
/* Table walks: outer (L2) write-back cacheable, TTBR RGN = 01. The ARM1176's
 * walker never looks in the L1 data cache, whatever TTBR says: a table entry
 * written with the data cache on must be cleaned to memory before the MMU can
 * see it (lesson 08's pte_write). Here every table is written before the caches
 * are turned on. */
#define TTBR_WALK_CACHED    (1 << 3)
#define TTBCR_N_2GB         1               /* TTBR0 below 0x80000000 */

#ifndef __ASSEMBLER__

#include "arm.h"
#include "types.h"

#define L1_INDEX(va)        ((u32)(va) >> 20)
#define L2_INDEX(va)        (((u32)(va) >> 12) & 0xFFu)
#define SECTION_SIZE        0x00100000u
#define SMALL_PAGE_SIZE     0x00001000u
#define L1_ENTRIES          4096u
#define L1_USER_ENTRIES     2048u           /* TTBR0's table with TTBCR.N = 1 */
#define L2_ENTRIES          256u
#define L2_TABLE_SIZE       1024u

/* L1 descriptors [ARM ARM B4-27] */
#define PMD_TYPE_MASK       0x3u
#define PMD_TYPE_FAULT      0x0u
#define PMD_TYPE_TABLE      0x1u            /* "coarse page table" */
#define PMD_TYPE_SECT       0x2u
#define PMD_SECT_B          (1u << 2)
#define PMD_SECT_C          (1u << 3)
#define PMD_SECT_XN         (1u << 4)
#define PMD_DOMAIN(d)       ((u32)(d) << 5)
#define PMD_SECT_AP(ap)     ((u32)(ap) << 10)   /* AP[1:0] */
#define PMD_SECT_TEX(t)     ((u32)(t) << 12)
#define PMD_SECT_APX        (1u << 15)
#define PMD_SECT_S          (1u << 16)
#define PMD_SECT_NG         (1u << 17)
#define PMD_SECT_BASE_MASK  0xFFF00000u
#define PMD_TABLE_BASE_MASK 0xFFFFFC00u

/* L2 small page descriptors, SCTLR.XP = 1 [ARM ARM B4-31] */
#define PTE_TYPE_SMALL      0x2u            /* bit 1; bit 0 is XN */
#define PTE_XN              (1u << 0)
#define PTE_B               (1u << 2)
#define PTE_C               (1u << 3)
#define PTE_AP(ap)          ((u32)(ap) << 4)
#define PTE_TEX(t)          ((u32)(t) << 6)
#define PTE_APX             (1u << 9)
#define PTE_S               (1u << 10)
#define PTE_NG              (1u << 11)
#define PTE_BASE_MASK       0xFFFFF000u

/* Access permissions, APX:AP[1:0] [ARM ARM B4-9]:
 *   0:01 kernel read/write, user none     1:01 kernel read-only, user none
 *   0:11 kernel and user read/write       1:10 kernel and user read-only      */
#define AP_KERNEL_RW        0x1u
#define AP_USER_RW          0x3u
#define AP_KERNEL_RO        0x1u            /* with APX */
#define AP_USER_RO          0x2u            /* with APX */

/* Memory types, TEX:C:B [ARM ARM B4-12]:
 *   normal memory, write-back write-allocate:  TEX 001, C 1, B 1
 *   shared device (peripherals):               TEX 000, C 0, B 1           */
#define SECT_NORMAL         (PMD_SECT_TEX(1) | PMD_SECT_C | PMD_SECT_B)
#define SECT_DEVICE         (PMD_SECT_B)
#define PTE_NORMAL          (PTE_TEX(1) | PTE_C | PTE_B)

/* Write one page-table entry while the data cache is on. The ARM1176's table
 * walker reads memory, not the L1 data cache, so the entry must be cleaned out of
 * the cache before the MMU may need it (Linux does the same in
 * cpu_v6_set_pte_ext). QEMU models no caches: leaving this out never shows there,
 * and breaks on a Pi. dcache_clean_range ends with a DSB. */
static inline void pte_write(u32 *entry, u32 value)
{
    *entry = value;
    dcache_clean_range(entry, sizeof(*entry));
}

/* Before the MMU is on (called from start.S, at physical addresses). */
void mmu_boot_tables(u32 phys_offset);

/* Once running high: the final kernel mappings, no identity map, caches on. */
void mmu_init(void);

/* The tables (start.S loads their physical addresses into TTBR0/TTBR1). */
extern u32 kernel_l1[L1_ENTRIES];
extern u32 user_l1[L1_USER_ENTRIES];

#endif /* __ASSEMBLER__ */

#endif
