/*
 * vmm.h - mapping 4 KB pages, with second-level tables made on demand.
 *
 * The kernel does not map all of RAM: a frame from the PMM cannot be touched until
 * it is mapped somewhere. That includes the frames that hold L2 tables, which is
 * the catch-22 this layer solves with a scratch page (see vmm.c). Callers never
 * see it: they map, unmap and translate.
 */
#ifndef VMM_H
#define VMM_H

#include "mmu.h"
#include "types.h"

/* What a mapping allows (read is always allowed). */
#define VM_WRITE    (1u << 0)
#define VM_EXEC     (1u << 1)
#define VM_USER     (1u << 2)       /* user mode may access it too (lesson 10) */
#define VM_DEVICE   (1u << 3)       /* device memory instead of normal cached RAM */

/* Errors (negative), with vmm_strerror(). */
#define VMM_OK          0
#define VMM_ERR_RANGE   (-1)        /* va outside the address space's VMM range */
#define VMM_ERR_ALIGN   (-2)        /* va or pa not page-aligned */
#define VMM_ERR_MAPPED  (-3)        /* va already mapped */
#define VMM_ERR_NOT_MAPPED (-4)     /* nothing mapped at va */
#define VMM_ERR_NOMEM   (-5)        /* no frame for a new L2 table */

/* An address space: an L1 table and the range of virtual addresses the VMM may
 * map in it (the kernel's: VMM_BASE..VMM_END through TTBR1). */
struct addr_space {
    u32 *l1;                /* its L1 table, at a virtual address that is mapped */
    u32 lo, hi;             /* mappable range [lo, hi) */
    u32 l2_tables;          /* L2 tables it owns */
    u32 asid;               /* a process's ASID (its TLB entries are tagged); 0: kernel */
    u16 *l2_live;           /* per megabyte of [lo, hi): its L2 table's live entries */
};

/* How many counts l2_live holds for the range [lo, hi): one a megabyte. */
#define VMM_MEGABYTES(lo, hi)   (L1_INDEX((hi) - 1) - L1_INDEX(lo) + 1)

extern struct addr_space kernel_as;

int vmm_map(struct addr_space *as, u32 va, u32 pa, u32 flags);
int vmm_unmap(struct addr_space *as, u32 va, u32 *pa);  /* *pa: what was mapped */
const char *vmm_strerror(int err);

/* The page-table walk for va, as the MMU would do it. */
struct vmm_walk {
    u32 l1_index, l1_entry;     /* L1[l1_index] = l1_entry */
    u32 l2_table;               /* physical address of the L2 table, or 0 */
    u32 l2_index, l2_entry;     /* L2[l2_index] = l2_entry, if there is an L2 */
    int mapped;
    u32 pa;                     /* the physical address va translates to */
};
void vmm_translate(struct addr_space *as, u32 va, struct vmm_walk *walk);

/* Whether user mode may access [va, va + len) in as (for writing too if `write`):
 * every page mapped with user permission. The system calls check every pointer a
 * process hands them with it. */
int vmm_user_ok(struct addr_space *as, u32 va, u32 len, int write);

/* Copy into a frame that need not be mapped anywhere (through the scratch page). */
void vmm_write_phys(u32 pa, const void *src, u32 len);

/* Unmap everything in as's range and free the frames and L2 tables (a process's
 * address space at exit). */
void vmm_destroy(struct addr_space *as);

/* Page-table memory: L2 tables in use, and the frames holding them. */
struct vmm_stats {
    u32 l2_tables;
    u32 l2_frames;
};
void vmm_stats(struct vmm_stats *stats);

#endif
