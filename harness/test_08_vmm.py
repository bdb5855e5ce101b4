"""Lesson 08: the VMM. Pages are mapped at random virtual addresses in random
megabytes; what is written through them must read back, an unmapped page must
fault, L2 tables must come and go with the megabytes that have mappings, aliases
must alias, a stale TLB entry must never be used, and the walk the kernel prints
must be what QEMU finds in physical memory (read with the monitor's `xp`, from
outside the guest)."""

import os
import re

import pytest

LESSON = 8

PAGE = 4096
MB = 1 << 20
MAP_LO, MAP_HI = 0xB0000000, 0xE0000000     # above the heap, below lesson 10's L1 window
HEAP_BASE = 0xA0000000


def random_pages(rng, megabytes, per_mb):
    """`per_mb` distinct random pages in each of `megabytes` distinct random MBs."""
    mbs = rng.sample(range(MAP_LO // MB, MAP_HI // MB), megabytes)
    return {mb: sorted(rng.sample(range(256), per_mb)) for mb in mbs}


def va_of(mb, page):
    return mb * MB + page * PAGE


def map_page(kernel, va, pa=None):
    out = kernel.cmd(f"map {va:#x}" + (f" {pa:#x}" if pa is not None else ""))
    m = re.fullmatch(rf"mapped 0x{va:08x} -> 0x([0-9a-f]{{8}})( \(new L2 table\))?", out)
    assert m, f"map {va:#x}: expected 'mapped 0x{va:08x} -> 0x...', got {out!r}"
    return int(m[1], 16), bool(m[2])


def unmap_page(kernel, va):
    out = kernel.cmd(f"unmap {va:#x}")
    m = re.fullmatch(rf"unmapped 0x{va:08x} \(was 0x([0-9a-f]{{8}})(, frame freed)?\)"
                     r"(, L2 table freed)?", out)
    assert m, f"unmap {va:#x}: expected 'unmapped 0x{va:08x} (was ...)', got {out!r}"
    return int(m[1], 16), bool(m[3])


def peek(kernel, va):
    out = kernel.cmd(f"peek {va:#x}")
    m = re.fullmatch(rf"0x{va:08x}: 0x([0-9a-f]{{8}})", out)
    assert m, f"peek {va:#x}: expected '0x{va:08x}: 0x...', got {out!r}"
    return int(m[1], 16)


def poke(kernel, va, value):
    out = kernel.cmd(f"poke {va:#x} {value:#x}")
    assert out == f"0x{va:08x}: 0x{value:08x}", f"poke {va:#x} {value:#x}: got {out!r}"


def vmstat(kernel):
    m = re.search(r"L2 tables: (\d+) \((\d+) bytes\) in (\d+) frames", kernel.cmd("vmstat"))
    return int(m[1]), int(m[3])


@pytest.mark.points(3)
def test_map_write_read_unmap_then_fault(kernel, rng):
    pages = random_pages(rng, 4, 3)
    values = {}
    for mb, idx in pages.items():
        for p in idx:
            va = va_of(mb, p) + rng.randrange(0, PAGE, 4)
            map_page(kernel, va & ~(PAGE - 1))
            values[va] = rng.randrange(1 << 32)
            poke(kernel, va, values[va])
    for va, value in values.items():            # all written first: no two pages alias
        assert peek(kernel, va) == value, f"0x{va:08x} lost its value"
    for mb, idx in pages.items():
        for p in idx:
            unmap_page(kernel, va_of(mb, p))
    victim = rng.choice(sorted(values))
    kernel.send(f"peek {victim:#x}\r")
    kernel.expect(rf"PANIC: data abort at pc 0x[0-9a-f]{{8}}: translation \((section|page)\) "
                  rf"fault on read of 0x{victim:08x}\r\n", what="the fault after unmap")
    assert kernel.wait_exit() != 0


@pytest.mark.points(1)
def test_l2_tables_follow_the_megabytes(kernel, rng):
    base_tables, base_frames = vmstat(kernel)
    pages = random_pages(rng, rng.randrange(3, 9), rng.randrange(1, 4))
    for n, (mb, idx) in enumerate(pages.items(), start=1):
        for i, p in enumerate(idx):
            _, new_table = map_page(kernel, va_of(mb, p))
            assert new_table == (i == 0), "a new L2 table exactly for a megabyte's first page"
        tables, frames = vmstat(kernel)
        assert tables == base_tables + n, f"{n} megabytes touched, {tables - base_tables} L2 tables"
        assert frames == (tables + 3) // 4, "L2 tables are 1 KB: four share a frame"
    for n, (mb, idx) in enumerate(pages.items(), start=1):
        for i, p in enumerate(idx):
            _, freed = unmap_page(kernel, va_of(mb, p))
            assert freed == (i == len(idx) - 1), "the table goes with the megabyte's last page"
        assert vmstat(kernel)[0] == base_tables + len(pages) - n
    assert vmstat(kernel) == (base_tables, base_frames)


@pytest.mark.points(2)
def test_two_vas_alias_one_frame(kernel, rng):
    (mb1, p1), (mb2, p2) = [(mb, idx[0]) for mb, idx in random_pages(rng, 2, 1).items()]
    va1, va2 = va_of(mb1, p1), va_of(mb2, p2)
    pa, _ = map_page(kernel, va1)
    assert map_page(kernel, va2, pa)[0] == pa
    off = rng.randrange(0, PAGE, 4)
    for writer, reader in ((va1, va2), (va2, va1)):
        value = rng.randrange(1 << 32)
        poke(kernel, writer + off, value)
        assert peek(kernel, reader + off) == value
    assert unmap_page(kernel, va2)[0] == pa
    assert unmap_page(kernel, va1)[0] == pa


@pytest.mark.points(2)
def test_a_stale_translation_is_never_used(kernel, rng):
    """Remap a page to another frame: the new frame must answer through va. QEMU
    drops its whole TLB on any TLB invalidate (docs/qemu.md), so this checks the
    mapping, not the invalidate: test_lint_unmap_invalidates_va checks that."""
    frames = []
    for _ in range(2):
        m = re.fullmatch(r"allocated 1 frames at 0x([0-9a-f]{8})", kernel.cmd("alloc"))
        frames.append(int(m[1], 16))
    (mb, idx), = random_pages(rng, 1, 2).items()
    va, other = va_of(mb, idx[0]), va_of(mb, idx[1])
    v1, v2 = rng.sample(range(1 << 32), 2)
    map_page(kernel, va, frames[0])
    poke(kernel, va, v1)
    map_page(kernel, other, frames[1])
    poke(kernel, other, v2)
    assert peek(kernel, va) == v1               # the TLB now holds va -> frame 0
    unmap_page(kernel, va)
    map_page(kernel, va, frames[1])
    assert peek(kernel, va) == v2, "va still reaches the old frame: stale TLB entry"


def parse_walk(out):
    l1 = re.search(r"^L1\[0x([0-9a-f]{3})\] = 0x([0-9a-f]{8})", out, re.M)
    l2 = re.search(r"^L2 table at 0x([0-9a-f]{8})$", out, re.M) or \
        re.search(r": L2 table at 0x([0-9a-f]{8})", out)
    l2e = re.search(r"^L2\[0x([0-9a-f]{2})\] = 0x([0-9a-f]{8})", out, re.M)
    pa = re.search(r"-> 0x([0-9a-f]{8})$", out, re.M)
    return (int(l1[1], 16), int(l1[2], 16), int(l2[1], 16) if l2 else None,
            (int(l2e[1], 16), int(l2e[2], 16)) if l2e else None, int(pa[1], 16) if pa else None)


@pytest.mark.points(2)
def test_walk_agrees_with_the_tables_in_physical_memory(boot, lesson, rng):
    k = boot(monitor=True)
    k.read_boot()
    ttbr1 = int(re.search(r"ttbr1 0x([0-9a-f]{8})", k.cmd("where"))[1], 16) & ~0x3FFF
    mapped = []
    for mb, idx in random_pages(rng, 3, 2).items():
        for p in idx:
            va = va_of(mb, p) + rng.randrange(0, PAGE, 4)
            map_page(k, va & ~(PAGE - 1))
            poke(k, va, rng.randrange(1 << 32))
            mapped.append(va)
    kernel_text = rng.randrange(lesson.symbol("__text_start"), lesson.symbol("__text_end"), 4)
    for va in mapped + [kernel_text, 0xF2201000, 0xFFFF0000]:
        l1_index, l1_entry, l2_table, l2, pa = parse_walk(k.cmd(f"walk {va:#x}"))
        assert l1_index == va >> 20
        assert k.monitor.read_phys_word(ttbr1 + 4 * l1_index) == l1_entry, \
            f"L1 entry for 0x{va:08x} differs from physical memory"
        if l2_table is not None:
            assert l2[0] == (va >> 12) & 0xFF
            assert k.monitor.read_phys_word(l2_table + 4 * l2[0]) == l2[1], \
                f"L2 entry for 0x{va:08x} differs from physical memory"
            assert pa == (l2[1] & ~0xFFF) | (va & 0xFFF)
        else:
            assert pa == (l1_entry & ~0xFFFFF) | (va & 0xFFFFF)
        if va in mapped or va == kernel_text:
            assert k.monitor.read_phys_word(pa) == peek(k, va), "va and pa hold different data"
    unmapped = rng.randrange(MAP_LO, MAP_HI, PAGE)
    out = k.cmd(f"walk {unmapped:#x}")
    assert out.endswith(f"0x{unmapped:08x} is not mapped")


def heap_stats(kernel):
    m = re.search(r": (\d+) pages; (\d+) bytes in (\d+) used blocks, (\d+) bytes in (\d+) free$",
                  kernel.cmd("heap"))
    assert m, "unexpected heap output"
    return tuple(int(x) for x in m.groups())   # pages, used bytes, used, free bytes, free


@pytest.mark.points(3)
def test_heap_blocks_are_distinct_and_hold_their_data(kernel, rng):
    # Later lessons allocate at boot (lesson 09: the idle thread's stack): count
    # from what is there.
    _, used0, nused0, _, nfree0 = heap_stats(kernel)
    live = {}
    for _ in range(25):
        if live and rng.random() < 0.3:
            addr = rng.choice(sorted(live))
            del live[addr]
            assert kernel.cmd(f"kfree {addr:#x}") == f"freed 0x{addr:08x}"
            continue
        size = rng.choice([rng.randrange(1, 64), rng.randrange(64, 1024), rng.randrange(1024, 9000)])
        m = re.fullmatch(rf"kmalloc {size}: 0x([0-9a-f]{{8}})", kernel.cmd(f"kmalloc {size}"))
        assert m
        addr = int(m[1], 16)
        assert addr % 8 == 0 and HEAP_BASE <= addr < HEAP_BASE + (16 << 20)
        for other, (osize, _) in live.items():
            assert addr + size <= other or other + osize <= addr, "heap blocks overlap"
        stamp = rng.randrange(1 << 32)
        live[addr] = (size, stamp)
        for word in {addr, addr + ((size - 1) & ~3)}:
            poke(kernel, word, stamp)
    for addr, (size, stamp) in live.items():    # nothing written later clobbered them
        assert peek(kernel, addr) == stamp
        assert peek(kernel, addr + ((size - 1) & ~3)) == stamp
    _, used, nused, _, _ = heap_stats(kernel)
    assert nused == nused0 + len(live)
    asked = sum((size + 7) & ~7 for size, _ in live.values())
    # A block may be a little bigger than asked: a remainder too small to be a block
    # of its own (header + 8 bytes) stays with it.
    assert asked <= used - used0 <= asked + 24 * len(live)
    for addr in live:
        kernel.cmd(f"kfree {addr:#x}")
    _, used, nused, _, nfree = heap_stats(kernel)
    assert (used, nused) == (used0, nused0)
    assert nfree <= max(nfree0, 1), "freed neighbours must merge back into one block"


@pytest.mark.points(1)
def test_bad_requests_are_refused(kernel, rng):
    va = rng.randrange(MAP_LO, MAP_HI, PAGE)
    assert kernel.cmd(f"map {va + 4:#x}") == f"error: cannot map 0x{va + 4:08x}: not page-aligned"
    for bad in (0x1000, 0x80008000, 0xF2000000):
        assert kernel.cmd(f"map {bad:#x}") == \
            f"error: cannot map 0x{bad:08x}: outside the mappable range"
    heap = HEAP_BASE + rng.randrange(0, 16 << 20, PAGE)
    assert kernel.cmd(f"map {heap:#x}") == \
        f"error: 0x{heap:08x} is the kernel heap's (0xa0000000-0xa0ffffff)"
    map_page(kernel, va)
    assert kernel.cmd(f"map {va:#x}") == f"error: cannot map 0x{va:08x}: already mapped"
    unmap_page(kernel, va)
    assert kernel.cmd(f"unmap {va:#x}") == f"error: cannot unmap 0x{va:08x}: not mapped"
    bogus = HEAP_BASE + rng.randrange(0, 1 << 20, 8)
    assert kernel.cmd(f"kfree {bogus:#x}") == f"error: 0x{bogus:08x} is not an allocated heap block"
    m = re.fullmatch(r"kmalloc 40: 0x([0-9a-f]{8})", kernel.cmd("kmalloc 40"))
    addr = int(m[1], 16)
    kernel.cmd(f"kfree {addr:#x}")
    assert kernel.cmd(f"kfree {addr:#x}") == f"error: 0x{addr:08x} is not an allocated heap block"


@pytest.mark.points(1)
@pytest.mark.given
def test_gdb_pios_walk_reads_the_tables(lesson, rng):
    """The repo's GDB command pios-walk, used as `make debug` loads it (gdb batch
    mode, stopped in the shell): it must find what the MMU finds, reading the
    tables from physical memory."""
    import subprocess
    from pathlib import Path
    from pios.sandbox import kill_tree
    tools = Path(__file__).parent / "tools"
    text = rng.randrange(lesson.symbol("__text_start"), lesson.symbol("__text_end"), 4)
    dev = 0xF2000000 + rng.randrange(0, 1 << 24, 4)
    hole = rng.randrange(MAP_LO, MAP_HI, PAGE)
    cmds = ["-batch", "-ex", "break shell_run", "-ex", "continue"]
    for va in (text, 0xFFFF0000, dev, hole):
        cmds += ["-ex", f"pios-walk {va:#x}"]
    # no semihosting: under GDB the guest's file calls would reach the host
    p = subprocess.Popen([str(tools / "pios-qemu"), "debug", str(lesson.elf)] + cmds,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         stdin=subprocess.DEVNULL, env=dict(os.environ, PIOS_SEMIHOSTING="off"))
    try:
        out = p.communicate(timeout=60)[0]
    finally:            # a kernel GDB never stops in: QEMU, GDB and any sandbox go too
        kill_tree(p.pid)
        p.wait()
    l1 = lesson.virt_to_phys(lesson.symbol("kernel_l1"))
    assert f"L1[0x{text >> 20:03x}] @ 0x{l1 + 4 * (text >> 20):08x} (TTBR1)" in out, out
    assert re.search(rf"small page 0x{(text - 0x80000000) & ~0xFFF:08x}, normal, kernel ro\n"
                     rf"0x{text:08x} -> 0x{text - 0x80000000:08x}", out), out
    vectors = lesson.virt_to_phys(lesson.symbol("__vectors_start"))
    assert f"0xffff0000 -> 0x{vectors:08x}" in out, out
    assert re.search(rf"section 0x{(dev - 0xF2000000 + 0x20000000) & ~0xFFFFF:08x}, device, "
                     rf"kernel rw, xn\n0x{dev:08x} -> 0x{dev - 0xF2000000 + 0x20000000:08x}", out), out
    assert f"0x{hole:08x} is not mapped" in out, out


# ---- what QEMU cannot show: the lint (harness/pios/lint.py, `make lint L=08`) ----------

@pytest.mark.points(2)
def test_lint_page_table_entries_are_cleaned(lesson):
    """Every page-table entry vmm.c writes is cleaned from the data cache, then a
    DSB, before the table can be walked: the ARM1176's walker reads memory, not the
    cache. QEMU has no cache: a plain store works there."""
    from pios import lint
    lint.check(lesson, "pte-clean", as_of=LESSON)


@pytest.mark.points(2)
def test_lint_scratch_page_is_invalidated_before_use(lesson):
    """A scratch page's entry written, then a TLB invalidate of that page, DSB,
    ISB, before the page is used or the function returns; QEMU would show a stale
    scratch mapping only by luck (its TLB is flushed by any other invalidate)."""
    from pios import lint
    lint.check(lesson, "scratch", as_of=LESSON)


@pytest.mark.points(2)
def test_lint_unmap_invalidates_va(lesson):
    """unmap_page invalidates va in the TLB after clearing its entry and before
    the table is freed, with a DSB: QEMU's own flushes hide a missing one."""
    from pios import lint
    lint.check(lesson, "unmap", as_of=LESSON)


@pytest.mark.points(0)     # a tool's check: it needs the lesson's mapping code to run
def test_pt_draws_what_the_mmu_walks(boot, lesson, rng):
    """The page-table view (`make pt`, harness/pios/pagetable.py), on a mapping the
    test makes: a random page mapped to a frame from `alloc` must be found by its
    walk of physical memory, as a kernel read/write page of that frame, drawn with
    its address, and the scratch pages marked."""
    from pios import pagetable
    k = boot(monitor=True)
    k.read_boot()
    frame = int(re.fullmatch(r"allocated 1 frames at 0x([0-9a-f]{8})", k.cmd("alloc"))[1], 16)
    va = rng.randrange(0xB0000000, 0xF0000000, 0x1000)
    assert k.cmd(f"map {va:#x} {frame:#x}").startswith(f"mapped 0x{va:08x} -> 0x{frame:08x}")
    tables, marks_mb, marks_va, _ = pagetable.capture(k.monitor, lesson)
    kernel_table = tables[0]
    assert pagetable.walk(kernel_table, va + 0x123) == frame + 0x123
    pte = kernel_table.l2[va >> 20][(va >> 12) & 0xFF]
    assert (pte.kind, pte.base, pte.access, pte.ng) == ("page", frame, "kernel rw", False)
    assert pagetable.walk(kernel_table, lesson.symbol("kernel_main")) == \
        lesson.virt_to_phys(lesson.symbol("kernel_main"))
    html = pagetable.page("t", tables, marks_mb, marks_va)
    assert f"0x{va:08x}: page 0x{frame:08x}: kernel rw" in html
    assert "scratch page 1" in html
