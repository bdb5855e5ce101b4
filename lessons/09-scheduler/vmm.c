/*
 * vmm.c - mapping 4 KB pages, with L2 tables allocated on demand through the
 * scratch page.
 *
 * The catch-22. To map a page at va, the L2 table of va's megabyte must be
 * written. If that megabyte has no L2 table yet, we take a frame from the PMM -
 * but the kernel does not map all of RAM, so the new frame cannot be written (to
 * zero it) until it is mapped, and mapping it may need a new L2 table, and so on.
 * ARMv6 offers no way around it from the table formats alone: an L1 entry pointing
 * to itself ("recursive mapping") would need L1 and L2 entries to share a format,
 * and on ARMv6 they do not.
 *
 * The way out: a page whose L2 entry always exists. The top megabyte's L2 table
 * (fixed_l2) is in the kernel image, so it is always mapped and always writable.
 * Its entries for SCRATCH_VA(0) and SCRATCH_VA(1) are the scratch pages: to touch
 * any frame - a fresh L2 table, another L2 table, a page to clear - point a scratch
 * entry at it, use it through SCRATCH_VA, and clear the entry again. Mapping never
 * needs mapping.
 *
 * Every step that changes a translation the MMU may already have used is followed
 * by the maintenance the ARMv6 rules ask for [ARM ARM B4.2.2 "TLB maintenance";
 * ARM1176 TRM 6.7]; the reason is written next to each.
 */
#include "vmm.h"
#include "arm.h"
#include "kprintf.h"
#include "kstring.h"
#include "panic.h"
#include "pmm.h"

extern u32 fixed_l2[L2_ENTRIES];        /* mmu.c: the top megabyte's L2 table */

struct addr_space kernel_as = { kernel_l1, VMM_BASE, VMM_END, 0 };

#define PTE_FRAME(pte)      ((pte) & PTE_BASE_MASK)
#define L2_QUARTERS         (PAGE_SIZE / L2_TABLE_SIZE)     /* four L2 tables a frame */

/* ---- the scratch pages ---------------------------------------------------------- */

static u32 *scratch_map(unsigned slot, u32 pa)
{
    u32 va = SCRATCH_VA(slot);

    if (slot >= SCRATCH_PAGES)
        panic("scratch_map: no scratch page %u", slot);
/* BEGIN SOLUTION scratch_map */
    pte_write(&fixed_l2[L2_INDEX(va)], (pa & PTE_BASE_MASK) | PTE_TYPE_SMALL |
              PTE_NORMAL | PTE_AP(AP_KERNEL_RW) | PTE_XN);
                            /* (cleaned to memory, DSB: in place before the refill) */
    tlb_invalidate_mva(va); /* the TLB may still hold the frame mapped here last */
    dsb();                  /* the invalidate has finished... */
    isb();                  /* ...before the next instructions use the translation */
/* END SOLUTION */
    return (u32 *)va;
}

static void scratch_unmap(unsigned slot)
{
    u32 va = SCRATCH_VA(slot);
/* BEGIN SOLUTION scratch_unmap */
    pte_write(&fixed_l2[L2_INDEX(va)], 0);  /* the cleared entry is in memory... */
    tlb_invalidate_mva(va); /* ...and no cached translation lets a stray access in */
    dsb();
    isb();
/* END SOLUTION */
}

/* ---- L2 tables: 1 KB each, four to a frame ---------------------------------------- */

#define L2_FRAMES_MAX 512                   /* 2048 tables: 2 GB of megabytes */

static struct {
    u32 pa;                                 /* 0: slot unused */
    u8 used;                                /* bit q: quarter q holds a table */
} l2_frames[L2_FRAMES_MAX];
static u32 l2_tables_in_use, l2_frames_in_use;

/* A zeroed 1 KB L2 table; returns its physical address, or 0. */
static u32 l2_alloc(void)
{
    int free_slot = -1;
    u32 pa = 0;

    for (int i = 0; i < L2_FRAMES_MAX && !pa; i++) {
        if (!l2_frames[i].pa) {
            if (free_slot < 0)
                free_slot = i;
        } else if (l2_frames[i].used != (1u << L2_QUARTERS) - 1) {
            unsigned q = (unsigned)__builtin_ctz(~l2_frames[i].used);
            l2_frames[i].used |= 1u << q;
            pa = l2_frames[i].pa + q * L2_TABLE_SIZE;
        }
    }
    if (!pa) {
        if (free_slot < 0 || !(pa = pmm_alloc()))
            return 0;
        l2_frames[free_slot].pa = pa;
        l2_frames[free_slot].used = 1;
        l2_frames_in_use++;
    }
    /* The frame is not mapped anywhere: clear the table through the scratch page,
     * and out of the data cache (the walker reads memory). */
    u8 *table = (u8 *)scratch_map(0, pa) + (pa & (PAGE_SIZE - 1));
    memset(table, 0, L2_TABLE_SIZE);
    dcache_clean_range(table, L2_TABLE_SIZE);
    scratch_unmap(0);
    l2_tables_in_use++;
    return pa;
}

static void l2_free(u32 pa)
{
    for (int i = 0; i < L2_FRAMES_MAX; i++) {
        if (l2_frames[i].pa != (pa & PTE_BASE_MASK))
            continue;
        l2_frames[i].used &= ~(1u << ((pa & (PAGE_SIZE - 1)) / L2_TABLE_SIZE));
        l2_tables_in_use--;
        if (!l2_frames[i].used) {
            pmm_free(l2_frames[i].pa);
            l2_frames[i].pa = 0;
            l2_frames_in_use--;
        }
        return;
    }
    panic("l2_free: 0x%08x is not an L2 table", pa);
}

/* Map the L2 table at physical `table` through scratch slot 1 (slot 0 stays free
 * for zeroing new tables); returns its entries. */
static u32 *l2_open(u32 table)
{
    return (u32 *)((u8 *)scratch_map(1, table) + (table & (PAGE_SIZE - 1)));
}

static void l2_close(void)
{
    scratch_unmap(1);
}

static int l2_is_empty(const u32 *l2)
{
    for (u32 i = 0; i < L2_ENTRIES; i++)
        if (l2[i])
            return 0;
    return 1;
}

/* ---- map, unmap, translate ------------------------------------------------------ */

static u32 pte_bits(u32 flags)
{
    u32 pte = PTE_TYPE_SMALL;

    pte |= (flags & VM_DEVICE) ? PTE_B : PTE_NORMAL;
    if (!(flags & VM_EXEC))
        pte |= PTE_XN;
    if (flags & VM_USER)
        pte |= PTE_NG | ((flags & VM_WRITE) ? PTE_AP(AP_USER_RW) : PTE_APX | PTE_AP(AP_USER_RO));
    else
        pte |= (flags & VM_WRITE) ? PTE_AP(AP_KERNEL_RW) : PTE_APX | PTE_AP(AP_KERNEL_RO);
    return pte;
}

static int check_range(struct addr_space *as, u32 va)
{
    if (va < as->lo || va >= as->hi)
        return VMM_ERR_RANGE;
    return (va & (PAGE_SIZE - 1)) ? VMM_ERR_ALIGN : VMM_OK;
}

static int map_page(struct addr_space *as, u32 va, u32 pa, u32 flags)
{
    int err = check_range(as, va);
    u32 *pmd, *l2, table;

    if (err)
        return err;
    if (pa & (PAGE_SIZE - 1))
        return VMM_ERR_ALIGN;
/* BEGIN SOLUTION map_page */
    pmd = &as->l1[L1_INDEX(va)];
    if ((*pmd & PMD_TYPE_MASK) == PMD_TYPE_FAULT) {
        /* The megabyte's first page: give it an L2 table. No TLB maintenance: the
         * TLB never holds a translation that faulted, so nothing stale exists. */
        if (!(table = l2_alloc()))
            return VMM_ERR_NOMEM;
        pte_write(pmd, table | PMD_TYPE_TABLE | PMD_DOMAIN(DOMAIN_KERNEL));
        as->l2_tables++;
    } else if ((*pmd & PMD_TYPE_MASK) != PMD_TYPE_TABLE) {
        return VMM_ERR_MAPPED;                      /* a section: not ours to split */
    }
    table = *pmd & PMD_TABLE_BASE_MASK;
    l2 = l2_open(table);
    err = l2[L2_INDEX(va)] ? VMM_ERR_MAPPED : VMM_OK;
    if (!err)
        pte_write(&l2[L2_INDEX(va)], pa | pte_bits(flags)); /* in memory (DSB) */
    l2_close();
    isb();          /* (no TLB invalidate: va had no translation to go stale) */
    return err;
/* END SOLUTION */
}

static int unmap_page(struct addr_space *as, u32 va, u32 *pa)
{
    int err = check_range(as, va), empty;
    u32 *pmd, *l2, table, pte;

    if (err)
        return err;
/* BEGIN SOLUTION unmap_page */
    pmd = &as->l1[L1_INDEX(va)];
    if ((*pmd & PMD_TYPE_MASK) != PMD_TYPE_TABLE)
        return VMM_ERR_NOT_MAPPED;
    table = *pmd & PMD_TABLE_BASE_MASK;
    l2 = l2_open(table);
    pte = l2[L2_INDEX(va)];
    if (pte)
        pte_write(&l2[L2_INDEX(va)], 0);    /* the cleared entry is in memory... */
    empty = l2_is_empty(l2);
    l2_close();
    if (!pte)
        return VMM_ERR_NOT_MAPPED;
    tlb_invalidate_mva(va); /* ...and the TLB forgets va: from now on it faults */
    dsb();
    isb();
    if (empty) {
        /* The megabyte's last page went: free its table. Its entries were all
         * invalidated one by one, and an ARMv6 TLB caches only whole translations
         * (no walk cache), so after clearing the L1 entry nothing refers to it. */
        pte_write(pmd, PMD_TYPE_FAULT);
        l2_free(table);
        as->l2_tables--;
    }
/* END SOLUTION */
    if (pa)
        *pa = PTE_FRAME(pte);
    return VMM_OK;
}

static void walk(struct addr_space *as, u32 va, struct vmm_walk *w)
{
    *w = (struct vmm_walk){ .l1_index = L1_INDEX(va), .l2_index = L2_INDEX(va) };
    w->l1_entry = as->l1[w->l1_index];
    if ((w->l1_entry & PMD_TYPE_MASK) == PMD_TYPE_SECT) {
        w->mapped = 1;
        w->pa = (w->l1_entry & PMD_SECT_BASE_MASK) | (va & (SECTION_SIZE - 1));
    } else if ((w->l1_entry & PMD_TYPE_MASK) == PMD_TYPE_TABLE) {
        w->l2_table = w->l1_entry & PMD_TABLE_BASE_MASK;
        w->l2_entry = l2_open(w->l2_table)[w->l2_index];
        l2_close();
        if (w->l2_entry & PTE_TYPE_SMALL) {
            w->mapped = 1;
            w->pa = PTE_FRAME(w->l2_entry) | (va & (PAGE_SIZE - 1));
        }
    }
}

/*
 * The public functions hold interrupts off while they work: the scratch pages and
 * the L2 allocator are one for the whole kernel, and a thread preempted between
 * scratch_map() and scratch_unmap() (lesson 09) would find its scratch entry
 * pointed elsewhere, or cleared, when it runs again.
 */
int vmm_map(struct addr_space *as, u32 va, u32 pa, u32 flags)
{
    u32 s = irq_save();
    int err = map_page(as, va, pa, flags);
    irq_restore(s);
    return err;
}

int vmm_unmap(struct addr_space *as, u32 va, u32 *pa)
{
    u32 s = irq_save();
    int err = unmap_page(as, va, pa);
    irq_restore(s);
    return err;
}

void vmm_translate(struct addr_space *as, u32 va, struct vmm_walk *w)
{
    u32 s = irq_save();
    walk(as, va, w);
    irq_restore(s);
}

const char *vmm_strerror(int err)
{
    switch (err) {
    case VMM_OK: return "ok";
    case VMM_ERR_RANGE: return "outside the mappable range";
    case VMM_ERR_ALIGN: return "not page-aligned";
    case VMM_ERR_MAPPED: return "already mapped";
    case VMM_ERR_NOT_MAPPED: return "not mapped";
    case VMM_ERR_NOMEM: return "out of memory for a page table";
    }
    return "unknown error";
}

void vmm_stats(struct vmm_stats *st)
{
    st->l2_tables = l2_tables_in_use;
    st->l2_frames = l2_frames_in_use;
}
