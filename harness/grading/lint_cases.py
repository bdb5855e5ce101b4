"""The lint's fixtures: broken kernels it must reject, correct ones it must accept.

A Case edits copies of the reference sources (each `find` must occur exactly once in
its file, a path from the repository's root) and may add compiler flags. A mutant
drops, swaps or misdirects one cache, TLB or barrier operation -- the bugs QEMU
runs without a murmur -- and the lint must report it under `rule`. A variant is a
correct kernel written differently (a helper not inlined, other registers, an extra
barrier, a stronger operation), and the lint must report nothing at all.

harness/test_lint.py checks every case; `harness/tools/pios-lint --fixtures`
prints the kill table. These are reference code: never handed out.
"""

from collections import namedtuple

Case = namedtuple("Case", "name lesson rule edits cflags why")


def case(name, lesson, rule, edits, why, cflags=""):
    return Case(name, lesson, rule, edits, cflags, why)


L07, L08, L10 = "lessons/07-mmu", "lessons/08-vmm", "lessons/10-processes"
START_S = L07 + "/start.S"
ARM_H = "common/arm.h"

# The reference lines the cases edit.
TLB_BOOT = "    mcr     p15, 0, r0, c8, c7, 0   @ no stale TLB entries\n"
ISB_BOOT = "    mcr     p15, 0, r0, c7, c5, 4   @ flush the pipeline (ISB)\n"
TTBR1_BOOT = ("    ldr     r0, =kernel_l1\n    add     r0, r0, r10\n    orr     r0, r0, #TTBR_WALK_CACHED\n"
              "    mcr     p15, 0, r0, c2, c0, 1   @ TTBR1: the kernel's table\n")
DACR_BOOT = ("    mov     r0, #DACR_VALUE\n"
             "    mcr     p15, 0, r0, c3, c0, 0   @ domain 0: client (permissions checked)\n")
SCTLR_BOOT = ("    mrc     p15, 0, r0, c1, c0, 0\n    ldr     r1, =SCTLR_BOOT\n    orr     r0, r0, r1\n"
              "    mcr     p15, 0, r0, c1, c0, 0   @ MMU on: the next fetch is translated\n")
MAP_IMAGE_DSB = "    dsb();                      /* the table writes land before the TLB is flushed */\n"
PTE_CLEAN = "    dcache_clean_range(entry, sizeof(*entry));\n"
CLEAN_DSB = ("        __asm__ volatile(\"mcr p15, 0, %0, c7, c10, 1\" : : \"r\"(a) : \"memory\");\n"
             "    dsb();\n")
SCR_MAP_INV = "    tlb_invalidate_mva(va); /* the TLB may still hold the frame mapped here last */\n"
SCR_MAP_DSB = "    dsb();                  /* the invalidate has finished... */\n"
SCR_MAP_ISB = "    isb();                  /* ...before the next instructions use the translation */\n"
SCR_MAP_WRITE = ("    pte_write(&fixed_l2[L2_INDEX(va)], (pa & PTE_BASE_MASK) | PTE_TYPE_SMALL |\n"
                 "              PTE_NORMAL | PTE_AP(AP_KERNEL_RW) | PTE_XN);\n")
SCR_UNMAP_INV = "    tlb_invalidate_mva(va); /* ...and no cached translation lets a stray access in */\n"
MAP_WRITE = "        pte_write(&l2[L2_INDEX(va)], pa | pte_bits(flags)); /* in memory (DSB) */\n"
UNMAP_CLEAR = "        pte_write(&l2[L2_INDEX(va)], 0);    /* the cleared entry is in memory... */\n"
UNMAP_INV_08 = "    tlb_invalidate_mva(va); /* ...and the TLB forgets va: from now on it faults */\n"
UNMAP_INV_10 = "    tlb_invalidate_mva_asid(va, as->asid); /* ...and the TLB forgets va (a process's\n"
UNMAP_TAIL_08 = UNMAP_INV_08 + "    dsb();\n    isb();\n    if (empty) {\n"
SW_DSB = "    dsb();                              /* earlier accesses all done [TRM 3.2.47] */\n"
SW_CTX0 = "    write_contextidr(0);\n    isb();\n"
SW_TTBR = "    write_ttbr0(ttbr0 | TTBR_WALK_CACHED);\n    isb();\n"
SW_CTX = "    write_contextidr(p ? ((u32)p->pid << 8) | p->as.asid : 0);\n    isb();\n"
SW_BP = "    branch_predictor_invalidate();      /* it is indexed by virtual address */\n"
SW_END = "    dsb();\n    isb();                              /* no prediction made before it is used */\n"
LOAD_IC = "    icache_invalidate_all();\n    branch_predictor_invalidate();\n    dsb();\n    isb();\n"
WRITE_CLEAN = "        dcache_clean_range(dst, n);     /* (for an instruction fetch through another VA) */\n"
ICACHE_4 = ("                     \"mcr     p15, 0, %1, c7, c5, 0\\n\\t\"   /* invalidate the I-cache... */\n"
            "                     \"mcr     p15, 0, %1, c7, c5, 0\\n\\t\"   /* ...four times over */\n"
            "                     \"mcr     p15, 0, %1, c7, c5, 0\\n\\t\"\n"
            "                     \"mcr     p15, 0, %1, c7, c5, 0\\n\\t\"\n")
ICACHE_MASK = "                     \"cpsid   if\\n\\t\"                      /* nothing runs in between */\n"

MUTANTS = [
    # ---- mmu-on (07) ------------------------------------------------------------------
    case("boot-no-tlb-invalidate", "07-mmu", "mmu-on", [(START_S, TLB_BOOT, "")],
         "the MMU is switched on without invalidating the TLB first"),
    case("boot-no-isb", "07-mmu", "mmu-on", [(START_S, ISB_BOOT, "")],
         "no prefetch flush after SCTLR.M: fetched instructions ran untranslated"),
    case("boot-dacr-after-mmu", "07-mmu", "mmu-on",
         [(START_S, DACR_BOOT + SCTLR_BOOT, SCTLR_BOOT + DACR_BOOT)],
         "the domains are set after the MMU is on (the swap of two steps)"),
    case("boot-no-ttbr1", "07-mmu", "mmu-on", [(START_S, TTBR1_BOOT, "")],
         "TTBR1 never written: the high half walks whatever it holds at reset"),
    case("image-no-dsb", "07-mmu", "mmu-on", [(L07 + "/mmu.c", MAP_IMAGE_DSB, "")],
         "map_kernel_image flushes the TLB before its table writes are complete"),
    # ---- pte-clean (08) -------------------------------------------------------------------
    case("pte-not-cleaned", "08-vmm", "pte-clean", [(L08 + "/mmu.h", PTE_CLEAN, "")],
         "pte_write stores the entry and never cleans it: the walker reads memory"),
    case("pte-wrong-line", "08-vmm", "pte-clean",
         [(L08 + "/mmu.h", PTE_CLEAN, "    dcache_clean_range(entry + 8, sizeof(*entry));\n")],
         "the clean is of the line after the entry's"),
    case("map-plain-store", "08-vmm", "pte-clean",
         [(L08 + "/vmm.c", MAP_WRITE, "        l2[L2_INDEX(va)] = pa | pte_bits(flags);\n")],
         "map_page writes its L2 entry with a plain store, not pte_write"),
    case("clean-no-dsb", "08-vmm", "pte-clean", [(ARM_H, CLEAN_DSB, CLEAN_DSB.replace("    dsb();\n", ""))],
         "the clean is never waited for: no DSB after it"),
    # ---- scratch (08) -------------------------------------------------------------------
    case("scratch-no-invalidate", "08-vmm", "scratch", [(L08 + "/vmm.c", SCR_MAP_INV, "")],
         "scratch_map leaves the TLB's old translation of the scratch page"),
    case("scratch-no-dsb", "08-vmm", "scratch", [(L08 + "/vmm.c", SCR_MAP_DSB, "")],
         "the invalidate is not waited for before the page is used"),
    case("scratch-no-isb", "08-vmm", "scratch", [(L08 + "/vmm.c", SCR_MAP_ISB, "")],
         "no ISB: already-fetched instructions may use the old translation"),
    case("scratch-invalidates-pa", "08-vmm", "scratch",
         [(L08 + "/vmm.c", SCR_MAP_INV, "    tlb_invalidate_mva(pa);\n")],
         "the wrong register: the frame's physical address is invalidated, not the VA"),
    case("scratch-invalidate-first", "08-vmm", "scratch",
         [(L08 + "/vmm.c", SCR_MAP_WRITE + "                            /* (cleaned to memory, DSB: in place before the refill) */\n" + SCR_MAP_INV,
           SCR_MAP_INV + SCR_MAP_WRITE)],
         "invalidate, then write the entry: a walk in between refills the old one"),
    case("scratch-unmap-no-invalidate", "08-vmm", "scratch", [(L08 + "/vmm.c", SCR_UNMAP_INV, "")],
         "scratch_unmap clears the entry but the TLB keeps the translation"),
    # ---- unmap (08, 10) ------------------------------------------------------------------
    case("unmap-no-invalidate", "08-vmm", "unmap", [(L08 + "/vmm.c", UNMAP_INV_08, "")],
         "unmap_page clears the entry and never tells the TLB"),
    case("unmap-invalidate-first", "08-vmm", "unmap",
         [(L08 + "/vmm.c", "    if (pte)\n" + UNMAP_CLEAR, "    tlb_invalidate_mva(va);\n    if (pte)\n" + UNMAP_CLEAR),
          (L08 + "/vmm.c", UNMAP_INV_08, "")],
         "the invalidate comes before the entry is cleared"),
    case("unmap-invalidates-pte", "08-vmm", "unmap",
         [(L08 + "/vmm.c", UNMAP_INV_08, "    tlb_invalidate_mva(pte);\n")],
         "the wrong register: the old entry's frame address, not va"),
    case("unmap-no-dsb", "08-vmm", "unmap",
         [(L08 + "/vmm.c", UNMAP_TAIL_08, UNMAP_INV_08 + "    isb();\n    if (empty) {\n")],
         "the invalidate is not waited for before unmap_page returns"),
    case("unmap-untagged", "10-processes", "unmap",
         [(L10 + "/vmm.c", UNMAP_INV_10, "    tlb_invalidate_mva(va);  /* (a process's\n")],
         "lesson 08's invalidate in lesson 10: it misses the process's non-global entry"),
    case("unmap-other-asid", "10-processes", "unmap",
         [(L10 + "/vmm.c", UNMAP_INV_10, "    tlb_invalidate_mva_asid(va, 0); /* (a process's\n")],
         "tagged with ASID 0 (a constant), not the address space's"),
    # ---- switch (10) ---------------------------------------------------------------------
    case("switch-no-dsb", "10-processes", "switch", [(L10 + "/proc.c", SW_DSB, "")],
         "the switch starts before earlier accesses are complete"),
    case("switch-no-reserved-asid", "10-processes", "switch", [(L10 + "/proc.c", SW_CTX0, "")],
         "TTBR0 changes while CONTEXTIDR holds the previous process's ASID"),
    case("switch-no-isb-after-asid0", "10-processes", "switch",
         [(L10 + "/proc.c", SW_CTX0, "    write_contextidr(0);\n")],
         "no ISB between the reserved ASID and TTBR0"),
    case("switch-no-isb-after-ttbr0", "10-processes", "switch",
         [(L10 + "/proc.c", SW_TTBR, "    write_ttbr0(ttbr0 | TTBR_WALK_CACHED);\n")],
         "no ISB between TTBR0 and the new ASID"),
    case("switch-asid-never-written", "10-processes", "switch", [(L10 + "/proc.c", SW_CTX, "")],
         "every process runs with the reserved ASID 0"),
    case("switch-asid-before-ttbr0", "10-processes", "switch",
         [(L10 + "/proc.c", SW_CTX0 + SW_TTBR + SW_CTX, SW_CTX + SW_TTBR)],
         "the new ASID set before TTBR0 (the swap the reserved ASID exists to avoid)"),
    case("switch-no-bp-invalidate", "10-processes", "switch", [(L10 + "/proc.c", SW_BP, "")],
         "the branch predictor keeps the old process's branch targets"),
    case("switch-no-final-isb", "10-processes", "switch",
         [(L10 + "/proc.c", SW_BP + SW_END, SW_BP + "    dsb();\n")],
         "nothing flushes the prefetch after the predictor invalidate"),
    # ---- code-load (10) ------------------------------------------------------------------
    case("load-no-icache", "10-processes", "code-load",
         [(L10 + "/proc.c", LOAD_IC, "    branch_predictor_invalidate();\n    dsb();\n    isb();\n")],
         "the new program may run what an earlier one left in the I-cache"),
    case("load-one-icache-invalidate", "10-processes", "code-load",
         [(ARM_H, ICACHE_4, ICACHE_4.split("\n")[0] + "\n")],
         "one I-cache invalidate: erratum 411920 lets it miss a line"),
    case("load-icache-irqs-on", "10-processes", "code-load", [(ARM_H, ICACHE_MASK, "")],
         "the four invalidates with IRQs on: an interrupt between them breaks the workaround"),
    case("load-no-bp-invalidate", "10-processes", "code-load",
         [(L10 + "/proc.c", LOAD_IC, "    icache_invalidate_all();\n    dsb();\n    isb();\n")],
         "the branch predictor keeps predictions for the old program's code"),
    case("load-no-isb", "10-processes", "code-load",
         [(L10 + "/proc.c", LOAD_IC, "    icache_invalidate_all();\n    branch_predictor_invalidate();\n    dsb();\n")],
         "no prefetch flush after the invalidates"),
    case("load-not-cleaned", "10-processes", "code-load", [(L10 + "/vmm.c", WRITE_CLEAN, "")],
         "the program's code stays in the D-cache: the instruction fetch reads memory"),
]

VARIANTS = [
    # ---- mmu-on --------------------------------------------------------------------------
    case("boot-ttbr1-first", "07-mmu", "mmu-on",
         [(START_S, TTBR1_BOOT, ""),
          (START_S, "    mov     r0, #TTBCR_N_2GB\n    mcr", TTBR1_BOOT + "    mov     r0, #TTBCR_N_2GB\n    mcr")],
         "TTBR1 written before TTBCR and TTBR0"),
    case("boot-extra-dsb", "07-mmu", "mmu-on",
         [(START_S, DACR_BOOT, DACR_BOOT + "    mov     r0, #0\n"
           "    mcr     p15, 0, r0, c7, c10, 4  @ DSB\n")],
         "a DSB before SCTLR (stronger than needed)"),
    case("boot-tlb-late", "07-mmu", "mmu-on",
         [(START_S, TLB_BOOT, ""),
          (START_S, DACR_BOOT, DACR_BOOT + "    mov     r0, #0\n" + TLB_BOOT)],
         "the TLB invalidated last, just before SCTLR"),
    case("boot-os", "07-mmu", "mmu-on", [], "built with -Os: other registers, other code",
         cflags="-Os"),
    # ---- pte-clean -----------------------------------------------------------------------
    case("pte-clean-invalidate", "08-vmm", "pte-clean",
         [(L08 + "/mmu.h", PTE_CLEAN,
           "    __asm__ volatile(\"mcr p15, 0, %0, c7, c14, 1\" : : \"r\"(entry) : \"memory\");\n"
           "    dsb();\n")],
         "clean and invalidate by MVA, by hand, instead of dcache_clean_range"),
    case("pte-write-not-inlined", "08-vmm", "pte-clean",
         [(L08 + "/mmu.h", "static inline void pte_write(u32 *entry, u32 value)",
           "static __attribute__((noinline, unused)) void pte_write(u32 *entry, u32 value)")],
         "pte_write a function of its own (one copy per file), not inlined"),
    case("pte-extra-barriers", "08-vmm", "pte-clean",
         [(L08 + "/mmu.h", PTE_CLEAN, PTE_CLEAN + "    dsb();\n    isb();\n")],
         "a DSB and an ISB more after every entry"),
    case("vmm-os", "08-vmm", "pte-clean", [], "lesson 08 built with -Os", cflags="-Os"),
    # ---- scratch -------------------------------------------------------------------------
    case("scratch-invalidate-all", "08-vmm", "scratch",
         [(L08 + "/vmm.c", SCR_MAP_INV, "    tlb_invalidate_all();\n"),
          (L08 + "/vmm.c", SCR_UNMAP_INV, "    tlb_invalidate_all();\n")],
         "the whole TLB flushed instead of one page (slow, correct)"),
    case("scratch-not-inlined", "08-vmm", "scratch",
         [(L08 + "/vmm.c", "static u32 *scratch_map(unsigned slot, u32 pa)",
           "static __attribute__((noinline)) u32 *scratch_map(unsigned slot, u32 pa)"),
          (L08 + "/vmm.c", "static void scratch_unmap(unsigned slot)",
           "static __attribute__((noinline)) void scratch_unmap(unsigned slot)")],
         "scratch_map and scratch_unmap real functions: the slot is a variable"),
    case("scratch-extra-isb", "08-vmm", "scratch",
         [(L08 + "/vmm.c", SCR_MAP_ISB, SCR_MAP_ISB + "    dsb();\n    isb();\n")],
         "another DSB and ISB at the end of scratch_map"),
    case("scratch-os", "09-scheduler", "scratch", [], "lesson 09 built with -Os", cflags="-Os"),
    # ---- unmap ---------------------------------------------------------------------------
    case("unmap-invalidate-all", "08-vmm", "unmap",
         [(L08 + "/vmm.c", UNMAP_INV_08, "    tlb_invalidate_all();\n")],
         "the whole TLB flushed on unmap"),
    case("unmap-asid-by-hand", "10-processes", "unmap",
         [(L10 + "/vmm.c", UNMAP_INV_10,
           "    __asm__ volatile(\"mcr p15, 0, %0, c8, c7, 1\" : : \"r\"(va | as->asid) : \"memory\");"
           " /* (a process's\n")],
         "the ASID-tagged invalidate written out by hand (va is page-aligned)"),
    case("unmap-asid-flush", "10-processes", "unmap",
         [(L10 + "/vmm.c", UNMAP_INV_10, "    tlb_invalidate_asid(as->asid); /* (a process's\n")],
         "every entry of the address space's ASID dropped"),
    case("unmap-os", "10-processes", "unmap", [], "lesson 10 built with -Os", cflags="-Os"),
    # ---- switch --------------------------------------------------------------------------
    case("switch-ctx-first", "10-processes", "switch",
         [(L10 + "/proc.c", SW_DSB, "    u32 ctx = p ? ((u32)p->pid << 8) | p->as.asid : 0;\n\n" + SW_DSB),
          (L10 + "/proc.c", SW_CTX, "    write_contextidr(ctx);\n    isb();\n")],
         "the new CONTEXTIDR value computed before the sequence"),
    case("switch-helper", "10-processes", "switch",
         [(L10 + "/proc.c", "void proc_switch_mm(struct thread *t)\n",
           "static __attribute__((noinline)) void set_context(u32 v)\n{\n    write_contextidr(v);\n"
           "    isb();\n}\n\nvoid proc_switch_mm(struct thread *t)\n"),
          (L10 + "/proc.c", SW_CTX0, "    set_context(0);\n"),
          (L10 + "/proc.c", SW_CTX, "    set_context(p ? ((u32)p->pid << 8) | p->as.asid : 0);\n")],
         "CONTEXTIDR written (and the ISB) by a helper that is not inlined"),
    case("switch-extra-barriers", "10-processes", "switch",
         [(L10 + "/proc.c", SW_TTBR, "    dsb();\n" + SW_TTBR + "    dsb();\n    isb();\n")],
         "more DSBs and ISBs than needed"),
    case("switch-os", "10-processes", "switch", [], "lesson 10 built with -Os", cflags="-Os"),
    # ---- code-load -----------------------------------------------------------------------
    case("load-helper", "10-processes", "code-load",
         [(L10 + "/proc.c", LOAD_IC, "    sync_code();\n"),
          (L10 + "/proc.c", "static int elf_load(struct proc *p, const u8 *elf)\n",
           "static __attribute__((noinline)) void sync_code(void)\n{\n" + LOAD_IC + "}\n\n"
           "static int elf_load(struct proc *p, const u8 *elf)\n")],
         "the I-cache and predictor invalidates in a helper that is not inlined"),
    case("load-bp-first", "10-processes", "code-load",
         [(L10 + "/proc.c", LOAD_IC, "    branch_predictor_invalidate();\n    icache_invalidate_all();\n"
           "    dsb();\n    isb();\n")],
         "the branch predictor invalidated before the I-cache"),
    case("load-irqs-only", "10-processes", "code-load",
         [(ARM_H, ICACHE_MASK, "                     \"cpsid   i\\n\\t\"                       /* IRQs off */\n")],
         "only IRQs masked (FIQ is never enabled in piOS)"),
    case("load-os", "10-processes", "code-load", [], "lesson 10 built with -Os", cflags="-Os"),
]
