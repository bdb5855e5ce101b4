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

static u16 kernel_l2_live[VMM_MEGABYTES(VMM_BASE, VMM_END)];
struct addr_space kernel_as = { kernel_l1, VMM_BASE, VMM_END, 0, 0, kernel_l2_live };

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
#define L2_FULL       ((1u << L2_QUARTERS) - 1)
#define SLOT_WORDS    (L2_FRAMES_MAX / 32)

static struct {
    u32 pa;                                 /* 0: slot unused */
    u8 used;                                /* bit q: quarter q holds a table */
    u8 zeroed;                              /* bit q: quarter q is free and all
                                             * zeros in memory (see l2_alloc) */
} l2_frames[L2_FRAMES_MAX];
static u32 l2_tables_in_use, l2_frames_in_use;

/* Lesson 08 looked for a free quarter by walking all 512 slots: when no frame had
 * one, some 7 700 instructions before it took a new frame - and in this lesson
 * every process's address space needs tables, so new frames are common. Two
 * bitmaps over the slots make each search at most 16 words: bit i of `l2_partial`
 * says slot i holds a frame with a free quarter, bit i of `l2_taken` that slot i
 * holds a frame at all. The choice is lesson 08's: the lowest such slot. */
static u32 l2_partial[SLOT_WORDS], l2_taken[SLOT_WORDS];

/* The lowest slot whose bit in map is `want`, or -1. */
static int first_slot(const u32 *map, int want)
{
    for (int w = 0; w < SLOT_WORDS; w++) {
        u32 bits = want ? map[w] : ~map[w];
        if (bits)
            return w * 32 + __builtin_ctz(bits);
    }
    return -1;
}

static void set_slot(u32 *map, int i, int on)
{
    if (on)
        map[i / 32] |= 1u << (i % 32);
    else
        map[i / 32] &= ~(1u << (i % 32));
}

/*
 * The L2 window: scratch slot 1, through which every L2 table is read and written
 * (slot 0 is vmm_write_phys()'s). Lesson 08 pointed the slot at the table's frame
 * in l2_open() and cleared it in l2_close(): two entry writes, each cleaned, and two
 * TLB invalidates, DSBs and ISBs on every map, unmap and translation - some 30
 * instructions of a map's 118. Here the slot stays pointed at the last frame
 * opened, and l2_open() remaps only for another frame: a frame holds four tables,
 * and a process's system calls look at the same few tables again and again
 * (vmm_user_ok). Leaving the mapping costs nothing: it is the kernel's own (kernel
 * read/write, never executable) and maps a frame of L2 tables, which nothing else
 * uses; a frame going back to the PMM leaves the window first (l2_free).
 */
static u32 l2_window;                       /* the frame slot 1 maps, or 0 */

/* Point the window at another frame. */
static void l2_window_move(u32 frame)
{
    scratch_map(1, frame);                  /* (TLB invalidate, DSB, ISB inside) */
    l2_window = frame;
}

/* The entries of the L2 table at physical `table`, mapped in the window. Inline:
 * when the window is right already, this is a compare and an add. */
static inline __attribute__((always_inline)) u32 *l2_open(u32 table)
{
    if ((table & ~(PAGE_SIZE - 1)) != l2_window)
        l2_window_move(table & ~(PAGE_SIZE - 1));
    return (u32 *)(SCRATCH_VA(1) + (table & (PAGE_SIZE - 1)));
}

/* Done with the table: the window stays (see above). */
static void l2_close(void)
{
}

/* The frame goes back to the PMM: it must not stay reachable through the window. */
static void l2_window_forget(u32 frame)
{
    if (frame == l2_window) {
        scratch_unmap(1);
        l2_window = 0;
    }
}

/* Zero a 1 KB table, 32 bytes a turn with two stm of four zero registers: memset
 * stores a word an instruction (GCC never turns stores of a value into stm), and
 * its loop was ~450 of the ~940 instructions of a map that needs a new frame;
 * this one is 128. */
static void l2_zero(u32 *table)
{
    register u32 z0 __asm__("r4") = 0, z1 __asm__("r5") = 0;   /* stm's registers */
    register u32 z2 __asm__("r6") = 0, z3 __asm__("r7") = 0;
    u32 *p = table;

    do
        __asm__ volatile("stmia %0!, {%1, %2, %3, %4}\n\t"   /* 16 bytes, p += 16 */
                         "stmia %0!, {%1, %2, %3, %4}"         /* and 16 more */
                         : "+r"(p) : "r"(z0), "r"(z1), "r"(z2), "r"(z3) : "memory");
    while (p < table + L2_ENTRIES);
}

/* A zeroed 1 KB L2 table; returns its physical address, or 0. Not inlined: it is
 * the rare path of map_page(), which then stays short enough to inline itself. */
static __attribute__((noinline)) u32 l2_alloc(void)
{
    /* (When the tables fill every frame, no slot has a free quarter: skip the
     * search, 16 words, and take a new frame at once.) */
    int i = l2_tables_in_use < L2_QUARTERS * l2_frames_in_use ? first_slot(l2_partial, 1) : -1;
    u32 pa;

    if (i >= 0) {                           /* a free quarter in a frame we have */
        unsigned q = (unsigned)__builtin_ctz(~l2_frames[i].used);
        l2_frames[i].used |= 1u << q;
        pa = l2_frames[i].pa + q * L2_TABLE_SIZE;
        if (l2_frames[i].zeroed & (1u << q)) {
            /* A table given back empty: all zeros in memory already. Zeroing and
             * cleaning it again were ~600 of the ~760 instructions of a map
             * that needs a table. */
            l2_frames[i].zeroed &= ~(1u << q);
            set_slot(l2_partial, i, l2_frames[i].used != L2_FULL);
            l2_tables_in_use++;
            return pa;
        }
    } else {                                /* a new frame, in the first unused slot */
        if ((i = first_slot(l2_taken, 0)) < 0 || !(pa = pmm_alloc()))
            return 0;
        l2_frames[i].pa = pa;
        l2_frames[i].used = 1;
        l2_frames[i].zeroed = 0;            /* whatever the frame held before */
        set_slot(l2_taken, i, 1);
        l2_frames_in_use++;
    }
    set_slot(l2_partial, i, l2_frames[i].used != L2_FULL);
    /* The frame is not mapped anywhere: clear the table through the L2 window (the
     * caller opens this table next, and finds it mapped already), and out of the
     * data cache (the walker reads memory). */
    u32 *table = l2_open(pa);
    l2_zero(table);
    dcache_clean_range(table, L2_TABLE_SIZE);
    l2_tables_in_use++;
    return pa;
}

/* Give back an L2 table whose entries are all zero (cleaned to memory by
 * pte_write): unmap_page() frees a table only once it is empty, vmm_destroy()
 * clears the entries first. So the quarter is marked zeroed, and l2_alloc() can
 * hand it out again without clearing it. */
static void l2_free(u32 pa)
{
    for (int i = 0; i < L2_FRAMES_MAX; i++) {
        if (l2_frames[i].pa != (pa & PTE_BASE_MASK))
            continue;
        l2_frames[i].used &= ~(1u << ((pa & (PAGE_SIZE - 1)) / L2_TABLE_SIZE));
        l2_frames[i].zeroed |= 1u << ((pa & (PAGE_SIZE - 1)) / L2_TABLE_SIZE);
        l2_tables_in_use--;
        set_slot(l2_partial, i, l2_frames[i].used != 0);    /* a quarter is free now */
        if (!l2_frames[i].used) {
            l2_window_forget(l2_frames[i].pa);
            pmm_free(l2_frames[i].pa);
            l2_frames[i].pa = 0;
            set_slot(l2_taken, i, 0);
            l2_frames_in_use--;
        }
        return;
    }
    panic("l2_free: 0x%08x is not an L2 table", pa);
}

/*
 * Lesson 08's unmap_page() asked whether the table was empty by reading all 256
 * entries: ~1 300 instructions for the last page of a megabyte, and every process
 * frees its tables at exit. Here each address space counts the live entries of
 * each megabyte's table (l2_live): vmm_map() adds one for each entry it writes,
 * unmap_page() takes one away for each it clears and frees the table at zero,
 * vmm_destroy() clears them all. The question is then one decrement.
 */
static inline u16 *l2_live(struct addr_space *as, u32 va)
{
    return &as->l2_live[L1_INDEX(va) - L1_INDEX(as->lo)];
}

/* Whether all 256 entries are zero: lesson 08's test, which the count replaces.
 * A starter's unmap_page() is lesson 08's until its student writes this lesson's,
 * and calls it. */
static __attribute__((unused)) int l2_is_empty(const u32 *l2)
{
    for (u32 i = 0; i < L2_ENTRIES; i++)
        if (l2[i])
            return 0;
    return 1;
}

/* ---- map, unmap, translate ------------------------------------------------------ */

static u32 pte_bits_for(u32 flags)
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

/* The same, remembered: there are only 16 combinations of the four VM_ flags, and
 * testing them one by one was a dozen instructions of every map (~90 in all); a
 * lookup is three. An entry is never 0 (PTE_TYPE_SMALL), so 0 means "not yet". */
static u32 pte_bits(u32 flags)
{
    static u32 known[VM_DEVICE << 1];
    u32 *bits = &known[flags & ((VM_DEVICE << 1) - 1)];

    if (!*bits)
        *bits = pte_bits_for(flags);
    return *bits;
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
    l2_close();
    if (!pte)
        return VMM_ERR_NOT_MAPPED;
    tlb_invalidate_mva_asid(va, as->asid); /* ...and the TLB forgets va (a process's
                                            * entries are tagged with its ASID) */
    dsb();
    isb();
    empty = --*l2_live(as, va) == 0;        /* that was the table's last entry */
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

    if (err == VMM_OK)
        ++*l2_live(as, va);                 /* one more live entry in va's table */
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

int vmm_user_ok(struct addr_space *as, u32 va, u32 len, int write)
{
    struct vmm_walk w;
    u32 end = va + len;

    if (len == 0)
        return 1;
    if (end < va || va < USER_BASE || end > USER_TOP)
        return 0;                               /* wraps, or not user space at all */
    for (u32 page = va & ~(PAGE_SIZE - 1); page < end; page += PAGE_SIZE) {
        vmm_translate(as, page, &w);
        if (!w.mapped || (w.l1_entry & PMD_TYPE_MASK) != PMD_TYPE_TABLE)
            return 0;
        /* AP[1] lets user mode read (AP 10 or 11); writing needs AP 11 and APX 0. */
        if (!(w.l2_entry & PTE_AP(2)))
            return 0;
        if (write && ((w.l2_entry & PTE_AP(3)) != PTE_AP(3) || (w.l2_entry & PTE_APX)))
            return 0;
    }
    return 1;
}

void vmm_write_phys(u32 pa, const void *src, u32 len)
{
    u32 s = irq_save();             /* the scratch page is shared: see vmm_map */

    while (len) {
        u32 off = pa & (PAGE_SIZE - 1), n = PAGE_SIZE - off < len ? PAGE_SIZE - off : len;
        u8 *dst = (u8 *)scratch_map(0, pa) + off;
        memcpy(dst, src, n);
        dcache_clean_range(dst, n);     /* (for an instruction fetch through another VA) */
        scratch_unmap(0);
        pa += n, src = (const u8 *)src + n, len -= n;
    }
    irq_restore(s);
}

void vmm_destroy(struct addr_space *as)
{
    u32 s = irq_save();             /* scratch page and L2 allocator: see vmm_map */

    for (u32 i = L1_INDEX(as->lo); i < L1_INDEX(as->hi - 1) + 1; i++) {
        u32 table = as->l1[i] & PMD_TABLE_BASE_MASK, *l2;
        if ((as->l1[i] & PMD_TYPE_MASK) != PMD_TYPE_TABLE)
            continue;
        l2 = l2_open(table);
        for (u32 j = 0; j < L2_ENTRIES; j++)
            if (l2[j]) {
                pmm_free(PTE_FRAME(l2[j]));
                pte_write(&l2[j], 0);           /* l2_free() takes empty tables only:
                                                 * l2_alloc() reuses them unzeroed */
            }
        l2_close();
        as->l2_live[i - L1_INDEX(as->lo)] = 0;
        pte_write(&as->l1[i], PMD_TYPE_FAULT);
        l2_free(table);
        as->l2_tables--;
    }
    irq_restore(s);
    /* The caller flushes the ASID's TLB entries (one operation, not one a page). */
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
