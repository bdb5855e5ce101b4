"""The CP15 and barrier lint: rules QEMU cannot check, read off the built kernel.

QEMU models no caches and flushes its whole TLB on every ASID change and on
any TLB invalidate, so a missing clean, invalidate or barrier passes every test
there and crashes a real Pi (docs/qemu.md). Each rule here walks every path of the
functions that matter (armsym.py) and checks the order of their CP15 operations,
stores and calls:

    pte-clean   a page-table entry is cleaned from the data cache, then a DSB,
                before anything can walk it (08-10)
    scratch     a scratch page's entry written, then a TLB invalidate of that page,
                DSB, ISB, before the page is used or the function returns (08-10)
    unmap       the TLB invalidate of va comes after its entry is cleared and before
                the table is freed; from lesson 10 it is tagged with the ASID (08-10)
    switch      DSB; CONTEXTIDR <- 0; ISB; TTBR0; ISB; CONTEXTIDR <- the new ASID;
                ISB; branch predictor invalidate; ISB (10)
    code-load   a program's code: D-cache cleaned as it is copied; then the I-cache
                invalidated as ARM1176 erratum 411920 requires, the branch predictor
                invalidated and an ISB, before its thread exists (10)
    mmu-on      the translation registers and a TLB invalidate before SCTLR.M; an ISB
                after it; table writes finished (DSB) before the TLB is flushed (07-10)

`run(lesson_dir)` returns the findings, each with the source line it is about.
"""

import re
import sys
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import armsym
from .armsym import difference_range, depends_on, atoms_of

TRM = "ARM1176JZF-S TRM (DDI 0301H)"
ARM = "ARM ARM (DDI 0100I)"

RULES = {
    # name: (first lesson, what it checks, where the rule comes from)
    "mmu-on": (7, "TTBCR, TTBR0, TTBR1, DACR and a TLB invalidate before SCTLR.M; an "
               "ISB before the first translated fetch; table writes, DSB, then the TLB "
               "flush", f"{TRM} 3.2.7 (c1 Control Register), 3.2.22 (Flush Prefetch "
               f"Buffer, Data Synchronization Barrier); {ARM} B4.2.1"),
    "pte-clean": (8, "a page-table entry store is cleaned from the D-cache (by MVA), then "
                  "a DSB, before the table can be walked", f"{TRM} 3.2.13-3.2.15 (the "
                  "walker cannot read the level one cache: clean the entries)"),
    "scratch": (8, "a scratch page's entry write, then TLB invalidate by MVA of that "
                "page, DSB, ISB, before the page is used or the function returns",
                f"{TRM} 3.2.23 (c8 TLB operations), 3.2.22; {ARM} B4.2.1 (TLB "
                "maintenance)"),
    "unmap": (8, "unmap_page: the TLB invalidate of va (ASID-tagged from lesson 10) after "
              "its entry is cleared, a DSB, before the table is freed or unmap_page "
              "returns", f"{TRM} 3.2.23 (invalidate by MVA matches the ASID of "
              "non-global entries); " f"{ARM} B4.2.1"),
    "switch": (10, "proc_switch_mm: DSB; CONTEXTIDR <- reserved ASID 0; ISB; TTBR0; ISB; "
               "CONTEXTIDR <- the new ASID; ISB; branch predictor invalidate; ISB",
               f"{TRM} 3.2.47 (c13 Context ID: change the ASID and TTBR0 through a "
               "reserved ASID), 3.2.22"),
    "code-load": (10, "proc_spawn: after the program is copied (D-cache cleaned by "
                  "vmm_write_phys), the I-cache invalidated with IRQs masked, four "
                  "times (erratum 411920), the branch predictor invalidated, an ISB, "
                  "before the thread is created", f"{TRM} 3.2.22 (c7 cache operations); "
                  "ARM1176 erratum 411920 (Invalidate Instruction Cache can fail)"),
}

TABLE_SYMBOLS = ("kernel_l1", "user_l1", "fixed_l2", "image_l2")
WALK = {"TLBIALL", "TLBIMVA", "TLBIASID", "TTBR0", "TTBR1", "CONTEXTIDR", "SCTLR"}
CLEAN_LINE = {"DCCMVAC", "DCCIMVAC"}
CLEAN_ALL = {"DCCALL", "DCCIALL"}
FREE = {"l2_free", "pmm_free", "pmm_free_run", "kfree"}
# Functions whose first argument is the struct addr_space (its l1 pointer first)
# and second the virtual address: vmm_map/vmm_unmap hold map_page/unmap_page
# when the compiler inlines them (-Os does).
AS_FIRST = ("map_page", "unmap_page", "vmm_map", "vmm_unmap")


@dataclass
class Finding:
    rule: str
    addr: int           # the instruction the finding is about
    text: str
    where: str = ""     # file:line, filled in by run()

    def __str__(self):
        return f"{self.where}: {self.text} [{self.rule}; {RULES[self.rule][2]}]"


class Kernel:
    """One built kernel: its code, its symbols and the lesson's memory layout."""

    def __init__(self, lesson_dir, elf=None):
        self.dir = Path(lesson_dir)
        self.number = int(self.dir.name[:2])
        self.as_of = self.number        # the lesson whose rules apply (run(as_of=))
        self.elf = Path(elf) if elf else self.dir / "build" / "kernel.elf"
        self.img = armsym.load_image(self.elf)
        self.walker = armsym.Walker(self.img)
        self.scratch = self._scratch_window()
        self._paths = {}

    def _scratch_window(self):
        """(first VA, pages) of the scratch pages, from the lesson's memlayout.h."""
        text = (self.dir / "memlayout.h").read_text() if (self.dir / "memlayout.h").exists() else ""
        base = re.search(r"#define\s+SCRATCH_VA\(n\)\s+\((0x[0-9A-Fa-f]+)\s*\+", text)
        pages = re.search(r"#define\s+SCRATCH_PAGES\s+(\d+)", text)
        fixed = re.search(r"#define\s+FIXED_L2_BASE\s+(0x[0-9A-Fa-f]+)", text)
        if not (base and pages and fixed):
            return None
        return int(base.group(1), 16), int(pages.group(1)), int(fixed.group(1), 16)

    def has(self, name):
        return name in self.img.functions and self.img.symbols[name][0] in self.img.insns

    def paths(self, name):
        if name not in self._paths:
            self._paths[name] = self.walker.paths(name)
        return self._paths[name]

    def functions_in(self, filename):
        return sorted(n for n in self.img.functions if self.has(n)
                      and self.walker.file_of(n).endswith("/" + filename))

    # ---- what an address is
    def table_symbol(self, addr):
        """The page-table symbol an address points into, or None."""
        const = addr if isinstance(addr, int) else addr.const
        hit = self.img.symbol_at(const)
        return hit[0] if hit and hit[0] in TABLE_SYMBOLS else None

    def scratch_va(self, addr):
        """The scratch page an address falls in (its VA), or None."""
        if not self.scratch:
            return None
        base, pages, _ = self.scratch
        const = addr if isinstance(addr, int) else addr.const
        if base <= const < base + pages * 0x1000:
            return const & ~0xFFF
        return None

    def scratch_entry_va(self, addr):
        """For a store into fixed_l2: the VA the entry maps, when it is a scratch page
        (None for other entries, e.g. the high vectors); 'any' when the index is not
        a constant."""
        if not self.scratch or self.table_symbol(addr) != "fixed_l2":
            return None
        start = self.img.symbols["fixed_l2"][0]
        if not isinstance(addr, int):
            return "any"
        va = self.scratch[2] + ((addr - start) // 4) * 0x1000
        return va if self.scratch_va(va) is not None else None

    def is_pte_store(self, e, as_arg=None):
        if e.kind != "store" or e.size != 4:
            return False
        if self.table_symbol(e.addr) or self.scratch_va(e.addr) is not None:
            return True
        # through the address space's l1 pointer (struct addr_space's first field)
        return as_arg is not None and isinstance(e.addr, armsym.Lin) and any(
            a[0] == "ld" and a[1] == armsym.atom(("arg", as_arg)) and c == 1
            for a, c in e.addr.terms)


# ---- the rules -----------------------------------------------------------------------

def first(events, start, pred, stop=None):
    """Index of the first event after `start` that satisfies pred, before one that
    satisfies stop; None if there is none."""
    for i in range(start + 1, len(events)):
        if pred(events[i]):
            return i
        if stop and stop(events[i]):
            return None
    return None


def cp(e, *what):
    return e.kind == "cp15" and e.what in what


def covers(clean, store_addr):
    """A clean by MVA of `clean`'s line covers the store's address."""
    r = difference_range(clean.value, store_addr)
    return r is not None and 0 <= r[0] and r[1] < 32


def walk_point(e):
    """Where the table walker may read the tables (or another CPU agent could)."""
    return (cp(e, *WALK) or e.kind in ("ret", "jump")
            or (e.kind == "call" and e.value != "followed"))


def rule_pte_clean(k):
    out, stores = [], 0
    for fn in k.functions_in("vmm.c"):
        as_arg = 0 if fn in AS_FIRST else None
        for end, ev in k.paths(fn):
            for i, e in enumerate(ev):
                if not k.is_pte_store(e, as_arg):
                    continue
                stores += 1
                stop = first(ev, i, walk_point)
                limit = stop if stop is not None else len(ev)
                c = next((j for j in range(i + 1, limit) if cp(ev[j], *CLEAN_ALL)
                          or (cp(ev[j], *CLEAN_LINE) and covers(ev[j], e.addr))), None)
                if c is None:
                    out.append(Finding("pte-clean", e.ins.addr, "page-table entry written "
                                       "here is not cleaned from the data cache before "
                                       + where_text(ev, stop) + ": the table walker reads "
                                       "memory, and may read the old entry"))
                    continue
                dsb = first(ev, c, lambda x: cp(x, "DSB"))
                if dsb is None or dsb > limit:
                    out.append(Finding("pte-clean", ev[c].ins.addr, "page-table entry "
                                       "cleaned, but no DSB before " + where_text(ev, stop)
                                       + ": the clean may not have reached memory"))
    if not stores:
        out.append(Finding("pte-clean", 0, "vmm.c writes no page-table entry at all "
                           "(map_page and the scratch pages write them): nothing to check"))
    return out


def where_text(ev, i):
    if i is None or i >= len(ev):
        return "the function returns"
    e = ev[i]
    if e.kind == "ret":
        return "the function returns"
    if e.kind == "call":
        return f"the call to {e.what}()"
    if e.kind == "jump":
        return "the jump"
    return f"the {e.what} write" if e.what in ("TTBR0", "TTBR1", "CONTEXTIDR", "SCTLR") \
        else f"the {e.what}"


def rule_scratch(k):
    out, maps = [], 0
    for fn in k.functions_in("vmm.c"):
        for end, ev in k.paths(fn):
            for i, e in enumerate(ev):
                if e.kind != "store":
                    continue
                va = k.scratch_entry_va(e.addr)
                if va is None:
                    continue
                maps += 1

                def is_use(x, va=va):
                    if x.kind not in ("load", "store") or x is e:
                        return False
                    used = k.scratch_va(x.addr)
                    return used is not None and (va == "any" or used == va)

                def same_entry(x):
                    return x.kind == "store" and x.addr == e.addr

                stop = first(ev, i, lambda x: is_use(x) or same_entry(x)
                             or x.kind in ("ret", "jump"))
                limit = stop if stop is not None else len(ev)
                tlb = next((j for j in range(i + 1, limit) if cp(ev[j], "TLBIALL")
                            or (cp(ev[j], "TLBIMVA") and invalidates(k, ev[j].value, va))), None)
                if tlb is None:
                    what = f"0x{va:08X}" if va != "any" else "the page"
                    out.append(Finding("scratch", e.ins.addr, f"scratch page {what} "
                                       "(re)mapped here with no TLB invalidate of it before "
                                       + use_text(ev, stop) + ": the TLB may still hold the "
                                       "frame mapped there before"))
                    continue
                dsb = first(ev, tlb, lambda x: cp(x, "DSB"))
                isb = first(ev, dsb, lambda x: cp(x, "ISB")) if dsb is not None else None
                if dsb is None or dsb > limit:
                    out.append(Finding("scratch", ev[tlb].ins.addr, "TLB invalidate of the "
                                       "scratch page with no DSB after it before "
                                       + use_text(ev, stop)))
                elif isb is None or isb > limit:
                    out.append(Finding("scratch", ev[dsb].ins.addr, "no ISB after the TLB "
                                       "invalidate and DSB before " + use_text(ev, stop)
                                       + ": instructions already fetched may use the old "
                                       "translation"))
    if not maps:
        out.append(Finding("scratch", 0, "no scratch page is ever mapped (no write to its "
                           "entry in fixed_l2): scratch_map() does nothing yet"))
    return out


def invalidates(k, value, va):
    """A TLB invalidate by MVA of `value` drops the translation of va."""
    if va == "any":
        return k.scratch_va(value) is not None or not isinstance(value, int)
    if isinstance(value, int):
        return value & ~0xFFF == va
    return k.scratch_va(value) == va or value.const & ~0xFFF == va


def use_text(ev, i):
    if i is None or i >= len(ev) or ev[i].kind in ("ret", "jump"):
        return "the function returns"
    e = ev[i]
    return "the page is " + ("read" if e.kind == "load" else "written") + \
        f" ({{0x{e.ins.addr:08x}}})"


def rule_unmap(k):
    out = []
    fn = next((f for f in ("unmap_page", "vmm_unmap") if k.has(f)), None)
    if fn is None:
        return [Finding("unmap", 0, "no unmap_page() or vmm_unmap() in the kernel")]
    tagged, clears = k.as_of >= 10, 0
    for end, ev in k.paths(fn):
        for i, e in enumerate(ev):
            if not (e.kind == "store" and k.scratch_va(e.addr) is not None and e.value == 0):
                continue
            clears += 1
            stop = first(ev, i, lambda x: x.kind in ("ret", "jump")
                         or (x.kind == "call" and x.what in FREE))
            limit = stop if stop is not None else len(ev)
            inv = [j for j in range(len(ev)) if cp(ev[j], "TLBIMVA") and depends_on(ev[j].value, 1)]
            after = [j for j in inv if i < j < limit]
            if not after:
                before = [j for j in inv if j < i]
                text = ("TLB invalidate of va comes before its entry is cleared here: a walk "
                        "in between can load the old entry again" if before else
                        "entry for va cleared here, but va is never invalidated in the TLB "
                        "before " + where_text(ev, stop))
                if not any(cp(x, "TLBIALL", "TLBIASID") for x in ev[i:limit]):
                    out.append(Finding("unmap", e.ins.addr, text))
                continue
            j = after[0]
            if tagged and not asid_tagged(ev[j].value):
                out.append(Finding("unmap", ev[j].ins.addr, "TLB invalidate of va is not "
                                   "tagged with the address space's ASID: a process's pages "
                                   "are non-global, and an invalidate for another ASID "
                                   "leaves them in the TLB"))
            dsb = first(ev, j, lambda x: cp(x, "DSB"))
            if dsb is None or dsb > limit:
                out.append(Finding("unmap", ev[j].ins.addr, "no DSB after the TLB invalidate "
                                   "before " + where_text(ev, stop)))
    if not clears:
        out.append(Finding("unmap", k.img.symbols[fn][0], "unmap_page() never "
                           "clears a page's L2 entry: nothing is unmapped"))
    return out


def asid_tagged(value):
    """value = (va & ~0xFFF) | asid: something beside va's page, not a constant."""
    for a in atoms_of(value, "op"):
        if a[1] == "orr":
            x, y = a[2], a[3]
            for va_part, asid_part in ((x, y), (y, x)):
                if depends_on(va_part, 1) and not isinstance(asid_part, int) \
                        and not depends_on(asid_part, 1):
                    return True
    return False


def rule_switch(k):
    if not k.has("proc_switch_mm"):
        return [Finding("switch", 0, "no proc_switch_mm() function in the kernel")]
    out = []
    for end, ev in k.paths("proc_switch_mm"):
        if end != "ret":
            continue
        t = next((i for i, e in enumerate(ev) if cp(e, "TTBR0")), None)
        if t is None:
            out.append(Finding("switch", ev[-1].ins.addr, "TTBR0 is never written: every "
                               "process would run in the same address space"))
            continue
        ctx_before = [i for i in range(t) if cp(ev[i], "CONTEXTIDR")]
        if not ctx_before or ev[ctx_before[-1]].value != 0:
            out.append(Finding("switch", ev[t].ins.addr, "TTBR0 written while CONTEXTIDR holds "
                               "a process's ASID (set the reserved ASID 0 first): in between, "
                               "a walk of the new table is tagged with the old ASID"))
            continue
        c0 = ctx_before[-1]
        if not any(cp(ev[i], "DSB") for i in range(c0)):
            out.append(Finding("switch", ev[c0].ins.addr, "no DSB before the switch starts: "
                               "earlier page-table writes may not be complete"))
        if not any(cp(ev[i], "ISB") for i in range(c0 + 1, t)):
            out.append(Finding("switch", ev[t].ins.addr, "no ISB between the CONTEXTIDR write "
                               "and the TTBR0 write"))
        c1 = first(ev, t, lambda e: cp(e, "CONTEXTIDR"))
        if c1 is None:
            out.append(Finding("switch", ev[t].ins.addr, "the new ASID is never written to "
                               "CONTEXTIDR after TTBR0: the process runs with the reserved "
                               "ASID 0 and its pages are never told apart"))
        else:
            if not any(cp(ev[i], "ISB") for i in range(t + 1, c1)):
                out.append(Finding("switch", ev[c1].ins.addr, "no ISB between the TTBR0 write "
                                   "and the new ASID's CONTEXTIDR write"))
            if first(ev, c1, lambda e: cp(e, "ISB")) is None:
                out.append(Finding("switch", ev[c1].ins.addr, "no ISB after the new ASID is "
                                   "written: user code may run before it takes effect"))
        bp = first(ev, t, lambda e: cp(e, "BPIALL"))
        if bp is None:
            out.append(Finding("switch", ev[t].ins.addr, "no branch predictor invalidate after "
                               "TTBR0 is changed: it is indexed by virtual address and holds "
                               "the old process's branches"))
        elif first(ev, bp, lambda e: cp(e, "ISB")) is None:
            out.append(Finding("switch", ev[bp].ins.addr, "no ISB (prefetch flush) after the "
                               "branch predictor invalidate"))
    return out


def rule_code_load(k):
    out = []
    if not k.has("proc_spawn"):
        return [Finding("code-load", 0, "no proc_spawn() function in the kernel")]
    # vmm_write_phys (if anything calls it): every copy through the scratch page is
    # cleaned before the page is unmapped (its entry rewritten) or the function returns
    for end, ev in (k.paths("vmm_write_phys") if k.has("vmm_write_phys") else []):
        for i, e in enumerate(ev):
            if not (e.kind == "call" and e.what in ("memcpy", "memmove", "memset")):
                continue
            stop = first(ev, i, lambda x: (x.kind == "store" and k.scratch_entry_va(x.addr))
                         or x.kind in ("ret", "jump"))
            limit = stop if stop is not None else len(ev)
            if not any(cp(x, *CLEAN_LINE, *CLEAN_ALL) for x in ev[i:limit]):
                out.append(Finding("code-load", e.ins.addr, "data copied through the scratch "
                                   "page is not cleaned from the D-cache before the page is "
                                   "unmapped: an instruction fetch reads memory"))
    paths = [ev for end, ev in k.paths("proc_spawn")
             if any(e.kind == "call" and e.what == "thread_create" for e in ev)]
    if not paths:
        # No path gets there: the loader always fails (a starter's stub does). The
        # code before thread_create() is checked in address order instead.
        paths = [linear_events(k, "proc_spawn")]
    for ev in paths:
        tc = next((i for i, e in enumerate(ev) if e.kind == "call" and e.what == "thread_create"), None)
        if tc is None:
            # thread_create() is not even in the code (the compiler dropped it
            # after a loader that always fails): no program runs, nothing to check
            # here, and every test that runs one fails
            return out
        last_copy = max((i for i, e in enumerate(ev[:tc]) if e.kind == "call"
                         and e.what == "vmm_write_phys"), default=-1)
        seg = list(range(last_copy + 1, tc))
        ic = [i for i in seg if cp(ev[i], "ICIALLU", "IDCIALL")]
        where = ev[tc].ins.addr
        if not ic:
            out.append(Finding("code-load", where, "the thread is created with no I-cache "
                               "invalidate after the program was copied: it may run what an "
                               "earlier program left in the instruction cache"))
            continue
        if not erratum_safe(ev, ic):
            out.append(Finding("code-load", ev[ic[0]].ins.addr, "I-cache invalidate without the "
                               "ARM1176 erratum 411920 workaround (IRQs masked, four "
                               "invalidates in a row): one invalidate can miss a line"))
        bp = [i for i in seg if cp(ev[i], "BPIALL") and i > ic[0]] or \
             [i for i in seg if cp(ev[i], "BPIALL")]
        if not bp:
            out.append(Finding("code-load", ev[ic[-1]].ins.addr, "no branch predictor "
                               "invalidate after new code was loaded"))
        elif not any(cp(ev[i], "ISB") for i in seg if i > max(bp[-1], ic[-1])):
            out.append(Finding("code-load", ev[bp[-1]].ins.addr, "no ISB after the I-cache "
                               "and branch predictor invalidates"))
    return out


def linear_events(k, name, depth=0):
    """A function's CP15 operations, IRQ masking and calls in address order (its
    helpers' too), without values: for code no path the walker follows reaches."""
    out = []
    if depth == 0:
        k.walker.root_file = k.walker.file_of(name)
    for ins in k.img.function(name):
        base = armsym.decode(ins.mnem)[0]
        if base == "mcr" and armsym.cp15_op(ins):
            out.append(armsym.Event("cp15", ins, what=armsym.cp15_op(ins)[0]))
        elif base in ("cpsid", "cpsie") and "i" in ins.ops[0]:
            out.append(armsym.Event("irq", ins, what="off" if base == "cpsid" else "on"))
        elif base == "msr" and "cpsr" in ins.text.lower():
            out.append(armsym.Event("irq", ins, what="restore"))
        elif base == "bl" and ins.target:
            helper = depth < 2 and k.walker.follow(ins.target, _NoFrames)
            out.append(armsym.Event("call", ins, what=ins.target,
                                    value="followed" if helper else None))
            if helper:
                out += linear_events(k, ins.target, depth + 1)
    return out


class _NoFrames:
    frames = ()


def erratum_safe(ev, ic):
    """Four I-cache invalidates in a row (no other CP15 operation between) with IRQs
    masked around them."""
    for start in ic:
        run = [start]
        j = start + 1
        while j < len(ev) and len(run) < 4:
            if cp(ev[j], "ICIALLU", "IDCIALL"):
                run.append(j)
            elif ev[j].kind in ("cp15", "call", "irq"):
                break
            j += 1
        if len(run) < 4:
            continue
        # IRQs masked right there: an 'off' after the last call before the run (what
        # a caller or callee did to the masks is not known) and no unmask since
        state = None
        for e in ev[:start]:
            if e.kind == "irq":
                state = e.what
            elif e.kind == "call" and e.value != "followed":
                state = None
        if state == "off":
            return True
    return False


def rule_mmu_on(k):
    out = []
    if not k.has("_start") and "_start" not in k.img.symbols:
        return [Finding("mmu-on", 0, "no _start in the kernel")]
    for end, ev in k.paths("_start"):
        m = next((i for i, e in enumerate(ev) if cp(e, "SCTLR") and sets_m(e.value)), None)
        if m is None:
            if end == "jump":
                out.append(Finding("mmu-on", ev[-1].ins.addr, "_start jumps to the kernel's "
                                   "virtual address without setting SCTLR.M"))
            continue
        for reg in ("TTBCR", "TTBR0", "TTBR1", "DACR", "TLBIALL"):
            if not any(cp(e, reg) for e in ev[:m]):
                text = ("no TLB invalidate before the MMU is switched on: entries left "
                        "from before reset are not guaranteed invalid") if reg == "TLBIALL" \
                    else f"SCTLR.M set before {reg} was written"
                out.append(Finding("mmu-on", ev[m].ins.addr, text))
        stop = next((i for i in range(m + 1, len(ev)) if ev[i].kind in ("jump", "ret", "call")
                     or ev[i].kind in ("load", "store")), len(ev))
        if not any(cp(e, "ISB") for e in ev[m + 1:stop]):
            out.append(Finding("mmu-on", ev[m].ins.addr, "no ISB (prefetch flush) after "
                               "SCTLR.M is set, before " + ("the jump to the virtual address"
                                                            if stop < len(ev) else "the end")))
    if k.has("mmu_init"):
        for end, ev in k.paths("mmu_init"):
            for i, e in enumerate(ev):
                if not (e.kind == "store" and k.table_symbol(e.addr)):
                    continue
                flush = first(ev, i, lambda x: cp(x, "TLBIALL", "TLBIMVA", "SCTLR", "TTBR0",
                                                    "TTBR1") or x.kind in ("ret", "jump"))
                if flush is None:
                    continue
                if not any(cp(x, "DSB") for x in ev[i + 1:flush]):
                    out.append(Finding("mmu-on", e.ins.addr, "page-table write not followed "
                                       "by a DSB before " + where_text(ev, flush)))
    return out


def sets_m(value):
    if isinstance(value, int):
        return bool(value & 1)
    return any(a[1] == "orr" and isinstance(a[3], int) and a[3] & 1
               for a in atoms_of(value, "op"))


CHECKS = {"mmu-on": rule_mmu_on, "pte-clean": rule_pte_clean, "scratch": rule_scratch,
          "unmap": rule_unmap, "switch": rule_switch, "code-load": rule_code_load}


def rules_for(number):
    return [r for r, (first_lesson, _, _) in RULES.items() if number >= first_lesson]


_KERNELS = {}


def kernel(lesson_dir, elf=None):
    """A Kernel, read once per build (the tests ask one build several questions)."""
    path = Path(elf) if elf else Path(lesson_dir) / "build" / "kernel.elf"
    key = (str(Path(lesson_dir).resolve()), str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _KERNELS:
        _KERNELS.clear()
        _KERNELS[key] = Kernel(lesson_dir, path)
    return _KERNELS[key]


def run(lesson_dir, rules=None, elf=None, as_of=None):
    """The findings for a lesson's built kernel: {rule: [Finding]}, one Finding per
    distinct instruction and message. as_of: check it by an earlier lesson's rules
    (lesson 08's unmap rule does not ask for the ASID that lesson 10 adds)."""
    k = kernel(lesson_dir, elf)
    k.as_of = as_of or k.number
    result = {}
    for rule in rules or rules_for(k.as_of):
        try:
            found = CHECKS[rule](k)
        except RuntimeError as e:      # too many paths: say so, never pass silently
            found = [Finding(rule, 0, f"the lint could not follow the code: {e}")]
        result[rule] = found
    _locate(k, [f for fs in result.values() for f in fs])
    for rule, found in result.items():
        # one finding per source line and kind of mistake (an inlined helper's
        # mistake shows once, not once per copy)
        seen, unique = set(), []
        for f in found:
            key = (f.where, f.text.split(" before ")[0].split(":")[0])
            if key not in seen:
                seen.add(key)
                unique.append(f)
        result[rule] = unique
    return result


def check(lesson, rule, as_of):
    """For a test: fail with the findings, each at its source line, and how to see
    them again."""
    found = run(lesson.path, [rule], as_of=as_of)[rule]
    if found:
        what = RULES[rule][1]
        raise AssertionError(
            f"the lint's {rule!r} rule ({what}) found {len(found)} problem"
            f"{'s' if len(found) > 1 else ''} QEMU cannot show:\n"
            + "\n".join(f"  {f.where}: {f.text}" for f in found)
            + f"\n(source: {RULES[rule][2]}. Run it yourself: make lint L={lesson.number:02d})")


def _locate(k, findings):
    """file:line of each finding, and of each {0x...} address in its text: the
    innermost frame in a lesson's .c or .S file (not a header's one-line helper)."""
    addrs = {f.addr for f in findings if f.addr}
    for f in findings:
        addrs |= {int(a, 16) for a in re.findall(r"\{0x([0-9a-f]+)\}", f.text)}
    where = {a: _source_line(k.elf, a) for a in sorted(addrs)}
    for f in findings:
        f.where = where.get(f.addr, k.dir.name)
        f.text = re.sub(r"\{0x([0-9a-f]+)\}", lambda m: where[int(m[1], 16)], f.text)


def _source_line(elf, addr):
    lines = subprocess.run(["arm-none-eabi-addr2line", "-i", "-e", str(elf), hex(addr)],
                           capture_output=True, text=True).stdout.split("\n")
    lines = [ln.split(" (discriminator")[0] for ln in lines if ln.strip()]
    own = [ln for ln in lines if "/common/" not in ln]
    own = [ln for ln in own if not ln.rsplit(":", 1)[0].endswith(".h")] or own or lines
    path, _, line = (own[0] if own else "?:?").rpartition(":")
    return f"{Path(path).name}:{line.strip() or '?'}"


# ---- the fixtures (grading/lint_cases.py) and the command line -------------------------

def build_case(c, workdir):
    """Build a lint fixture in workdir: a copy of common/ and of the lesson, with the
    case's edits. Returns the lesson folder."""
    import shutil
    from .lessons import REPO_ROOT
    work = Path(workdir)
    shutil.copytree(REPO_ROOT / "common", work / "common")
    dest = work / "lessons" / c.lesson
    shutil.copytree(REPO_ROOT / "lessons" / c.lesson, dest,
                    ignore=shutil.ignore_patterns("build", "README.md"))
    for path, find, replace in c.edits:
        parts_ = Path(path).parts
        target = work / "common" / parts_[-1] if parts_[0] == "common" else \
            dest / Path(*parts_[2:])
        text = target.read_text()
        if text.count(find) != 1:
            raise ValueError(f"{c.name}: {path} holds {find!r} {text.count(find)} times, not once")
        target.write_text(text.replace(find, replace))
    r = subprocess.run(["make", "-s", "-C", str(dest), f"EXTRA_CFLAGS={c.cflags}"],
                       capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{c.name}: the build failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return dest


def judge(c, lesson_dir):
    """(findings of the case's rule, findings of every rule) for a built fixture."""
    result = run(lesson_dir)
    return result.get(c.rule, []), [f for fs in result.values() for f in fs]


def fixtures_table(cases_module, jobs=2):
    """Build and lint every fixture; print the mutant kill table and the variants."""
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    def one(c):
        with tempfile.TemporaryDirectory(prefix="pios-lint-") as tmp:
            try:
                own, every = judge(c, build_case(c, tmp))
            except (RuntimeError, ValueError) as e:
                return c, None, str(e)
            return c, own, every

    cases = cases_module.MUTANTS + cases_module.VARIANTS
    with ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(one, cases))
    ok = True
    print("| mutant | rule | killed | first message |\n| --- | --- | --- | --- |")
    for c, own, every in results[:len(cases_module.MUTANTS)]:
        killed = bool(own)
        ok &= killed
        msg = f"{own[0].where}: {own[0].text}" if own else (every if isinstance(every, str)
                                                            else "; ".join(map(str, every)) or "-")
        print(f"| {c.name} | {c.rule} | {'yes' if killed else 'NO'} | {msg} |")
    print("\n| variant | rule | accepted | findings |\n| --- | --- | --- | --- |")
    for c, own, every in results[len(cases_module.MUTANTS):]:
        accepted = every == []
        ok &= accepted
        msg = every if isinstance(every, str) else "; ".join(map(str, every)) or "-"
        print(f"| {c.name} | {c.rule} | {'yes' if accepted else 'NO'} | {msg} |")
    return ok


def main(argv=None):
    import argparse
    from .lessons import REPO_ROOT, COURSE
    ap = argparse.ArgumentParser(prog="pios-lint", description=__doc__.split("\n")[0])
    ap.add_argument("lesson", nargs="?", help="a lesson folder name, e.g. 10-processes")
    ap.add_argument("--elf", help="a kernel.elf other than the lesson's build/kernel.elf")
    ap.add_argument("--rule", action="append", help="check only this rule (repeatable)")
    ap.add_argument("--rules", action="store_true", help="list the rules and exit")
    ap.add_argument("--all", action="store_true", help="every lesson that has rules")
    ap.add_argument("--fixtures", action="store_true",
                    help="build every mutant and variant (harness/grading/lint_cases.py) "
                         "and print which the lint rejects and accepts")
    args = ap.parse_args(argv)
    if args.fixtures:
        sys.path.insert(0, str(REPO_ROOT / "harness"))
        from grading import lint_cases
        return 0 if fixtures_table(lint_cases) else 1
    if args.all:
        worst = 0
        for name in COURSE:
            if rules_for(int(name[:2])):
                worst = max(worst, main([name]))
        return worst
    if args.rules or not args.lesson:
        for name, (first_lesson, what, source) in RULES.items():
            print(f"{name:10} lessons {first_lesson:02d}-10  {what}\n{'':22}({source})")
        return 0 if args.rules else 2
    folder = Path(args.lesson)
    if not folder.is_dir():
        folder = REPO_ROOT / "lessons" / next((c for c in COURSE if c.startswith(args.lesson)
                                               or c.endswith(args.lesson)), args.lesson)
    rules = args.rule or rules_for(int(folder.name[:2]))
    if not rules:
        print(f"{folder.name}: no lint rules before lesson 07 (no MMU, no caches to manage)")
        return 0
    elf = Path(args.elf) if args.elf else folder / "build" / "kernel.elf"
    if not elf.is_file():
        print(f"pios-lint: {elf} does not exist: build the lesson first (make build L=..)",
              file=sys.stderr)
        return 2
    result = run(folder, rules, elf)
    bad = 0
    for rule in rules:
        found = result[rule]
        bad += len(found)
        print(f"{'FAIL' if found else 'ok  '}  {rule:10} {RULES[rule][1]}")
        for f in found:
            print(f"      {f.where}: {f.text}")
    print(f"{folder.name}: {bad} finding{'s' if bad != 1 else ''} "
          f"({', '.join(rules)}). Rules and sources: pios-lint --rules")
    return 1 if bad else 0
