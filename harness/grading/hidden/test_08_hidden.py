"""Hidden tests, lesson 08: the VMM and the kernel heap from angles the public
tests do not take.

- Two pages on either side of a megabyte boundary: two L1 entries, two L2 tables,
  the last entry (0xff) of one and the first (0x00) of the other; each megabyte's
  table goes with its own last page, and an unmapped page whose table stays is a
  *page* translation fault.
- Heap coalescing seen from outside: blocks freed in a random order must merge
  back into one free block, big enough to take a request of its whole size
  without the heap growing.
- The heap's limit: a request it can never satisfy is an error (no hang, no
  crash), and the heap recovers: megabyte-sized blocks are then handed out, mapped
  to their last word.

A kernel tuned to the visible tests still has to be right here. Instructor-only:
never handed out."""

import re

import pytest

from test_08_vmm import map_page, peek, poke, unmap_page     # the public helpers

LESSON = 8

PAGE = 4096
MB = 1 << 20
MAP_LO, MAP_HI = 0xB0000000, 0xE0000000     # above the heap, below lesson 10's L1 window
HEAP_BASE = 0xA0000000
HEAP_MAX = 16 << 20


def l2_tables(kernel):
    m = re.search(r"L2 tables: (\d+) ", kernel.cmd("vmstat"))
    assert m, "vmstat: no 'L2 tables: N' line"
    return int(m[1])


def walk(kernel, va):
    out = kernel.cmd(f"walk {va:#x}")
    l1 = re.search(r"^L1\[0x([0-9a-f]{3})\] = 0x[0-9a-f]{8}: L2 table at 0x([0-9a-f]{8})$",
                   out, re.M)
    l2 = re.search(r"^L2\[0x([0-9a-f]{2})\] = 0x([0-9a-f]{8})", out, re.M)
    pa = re.search(rf"^0x{va:08x} -> 0x([0-9a-f]{{8}})$", out, re.M)
    assert l1 and l2 and pa, f"walk {va:#x}: expected an L1 table entry, an L2 entry and " \
                             f"the physical address, got:\n{out}"
    return int(l1[1], 16), int(l1[2], 16), int(l2[1], 16), int(pa[1], 16)


def heap_stats(kernel):
    out = kernel.cmd("heap")
    m = re.search(r": (\d+) pages; (\d+) bytes in (\d+) used blocks, (\d+) bytes in (\d+) free$",
                  out)
    assert m, f"unexpected heap output: {out!r}"
    return tuple(int(x) for x in m.groups())   # pages, used bytes, used, free bytes, free


def kmalloc(kernel, size):
    out = kernel.cmd(f"kmalloc {size}")
    m = re.fullmatch(rf"kmalloc {size}: 0x([0-9a-f]{{8}})", out)
    assert m, f"kmalloc {size}: expected 'kmalloc {size}: 0x...', got {out!r}"
    addr = int(m[1], 16)
    assert addr % 8 == 0 and HEAP_BASE <= addr and addr + size <= HEAP_BASE + HEAP_MAX, \
        f"kmalloc {size} returned 0x{addr:08x}: not an 8-byte aligned block in the heap"
    return addr


def kfree(kernel, addr):
    out = kernel.cmd(f"kfree {addr:#x}")
    assert out == f"freed 0x{addr:08x}", f"kfree {addr:#x}: got {out!r}"


@pytest.mark.points(3)
def test_pages_either_side_of_a_megabyte_boundary(kernel, rng):
    b = rng.randrange(MAP_LO // MB + 1, MAP_HI // MB) * MB      # the boundary
    below, above = b - PAGE, b                                   # L2[0xff] and L2[0x00]
    other = b + PAGE * rng.randrange(1, 256)                     # another page above it
    base = l2_tables(kernel)
    pa_below, new = map_page(kernel, below)
    assert new, f"0x{below:08x} is the first page of megabyte 0x{below >> 20:03x}: " \
                "expected a new L2 table"
    pa_above, new = map_page(kernel, above)
    assert new, f"0x{above:08x} is in the next megabyte: expected a new L2 table of its own"
    pa_other, new = map_page(kernel, other)
    assert not new, f"0x{other:08x} shares 0x{above:08x}'s megabyte: no new table"
    assert l2_tables(kernel) == base + 2

    values = dict(zip((b - 4, b, other + rng.randrange(0, PAGE, 4)),
                      rng.sample(range(1 << 32), 3)))
    for va, v in values.items():
        poke(kernel, va, v)
    for va, v in values.items():
        got = peek(kernel, va)
        assert got == v, f"0x{va:08x}: poked 0x{v:08x}, read back 0x{got:08x}"

    for va, index, pa in ((b - 4, 0xFF, pa_below), (b, 0x00, pa_above)):
        l1, table, l2, phys = walk(kernel, va)
        assert (l1, l2, phys) == (va >> 20, index, pa | (va & 0xFFF)), \
            f"walk 0x{va:08x}: expected L1[0x{va >> 20:03x}], L2[0x{index:02x}] -> " \
            f"0x{pa | (va & 0xFFF):08x}; got L1[{l1:#x}], L2[{l2:#x}] -> 0x{phys:08x}"
    assert walk(kernel, b - 4)[1] != walk(kernel, b)[1], "two megabytes, two L2 tables"

    assert unmap_page(kernel, below) == (pa_below, True), \
        f"0x{below:08x} was its megabyte's only page: its L2 table must be freed with it"
    assert l2_tables(kernel) == base + 1
    for va in list(values)[1:]:
        assert peek(kernel, va) == values[va], f"0x{va:08x} lost its value"
    assert unmap_page(kernel, above) == (pa_above, False), \
        f"0x{other:08x} is still mapped: 0x{above:08x}'s L2 table must stay"
    assert peek(kernel, list(values)[2]) == values[list(values)[2]]

    kernel.send(f"peek {above:#x}\r")       # unmapped, its table still there
    m = kernel.expect(r"PANIC: data abort at pc 0x[0-9a-f]{8}: ([a-z ()]+) fault on read of "
                      r"0x([0-9a-f]{8})\r\n|\r\n0x([0-9a-f]{8}): 0x[0-9a-f]{8}\r\n",
                      what=f"a fault after unmap {above:#x}")
    assert m[1] == "translation (page)" and int(m[2], 16) == above, \
        f"peek 0x{above:08x} after its unmap: expected a translation (page) fault at " \
        f"0x{above:08x}, got {m[0]!r}"
    assert kernel.wait_exit() != 0


@pytest.mark.points(2)
def test_freed_blocks_merge_into_one_that_takes_their_whole_size(kernel, rng):
    _, used0, nused0, _, nfree0 = heap_stats(kernel)
    blocks, stamps = [], {}
    for _ in range(rng.randrange(5, 9)):
        size = rng.randrange(100, 3000)
        addr = kmalloc(kernel, size)
        blocks.append(addr)
        end = (addr + size - 1) & ~3                # its first word and its last four
        for va in (addr, end - 12, end - 8, end - 4, end):
            stamps[va] = rng.randrange(1 << 32)
            poke(kernel, va, stamps[va])
    for va, v in stamps.items():                    # nothing written since clobbered them
        got = peek(kernel, va)
        assert got == v, f"0x{va:08x}: poked 0x{v:08x}, read back 0x{got:08x} after more kmallocs"
    pages1 = heap_stats(kernel)[0]
    rng.shuffle(blocks)
    for addr in blocks:
        kfree(kernel, addr)
    pages, used, nused, free_bytes, nfree = heap_stats(kernel)
    assert (pages, used, nused) == (pages1, used0, nused0), \
        f"after freeing every block: expected {pages1} pages, {used0} bytes in {nused0} " \
        f"used blocks, got {pages} pages, {used} bytes in {nused}"
    assert nfree == 1, f"every free byte is in one run: expected 1 free block, got {nfree} " \
                       f"(the heap started with {nfree0})"
    whole = free_bytes - free_bytes % 8
    addr = kmalloc(kernel, whole)
    pages2, used2, _, _, _ = heap_stats(kernel)
    assert pages2 == pages1, (f"kmalloc {whole} fits in the merged free block: the heap must "
                              f"not grow (it went from {pages1} to {pages2} pages)")
    assert used2 >= used0 + whole
    v = rng.randrange(1 << 32)
    last = addr + whole - 4
    poke(kernel, last, v)
    assert peek(kernel, last) == v
    kfree(kernel, addr)
    assert heap_stats(kernel)[1:3] == (used0, nused0)


@pytest.mark.points(2)
def test_the_heap_refuses_what_it_can_never_hold_and_goes_on(kernel, rng):
    _, used0, nused0, _, _ = heap_stats(kernel)
    too_big = HEAP_MAX - rng.randrange(0, 8)            # + a header: more than 16 MB
    out = kernel.cmd(f"kmalloc {too_big}", timeout=20)
    assert out == f"error: kmalloc {too_big}: out of memory", \
        f"kmalloc {too_big} cannot fit in the heap's 16 MB: expected out of memory, got {out!r}"
    word = "".join(rng.choice("klmn") for _ in range(10))
    assert kernel.cmd(f"echo {word}") == word
    sizes = [rng.randrange(1 * MB, 6 * MB), rng.randrange(1 * MB, 6 * MB)]
    blocks = []
    for size in sizes:
        addr = kmalloc(kernel, size)
        for other, osize in blocks:
            assert addr + size <= other or other + osize <= addr, "heap blocks overlap"
        blocks.append((addr, size))
    for addr, size in blocks:
        for va in (addr, addr + ((size - 1) & ~3), (addr + rng.randrange(0, size - 4)) & ~3):
            v = rng.randrange(1 << 32)
            poke(kernel, va, v)
            assert peek(kernel, va) == v, f"0x{va:08x}, in a block of {size} at 0x{addr:08x}"
    for addr, _ in blocks:
        kfree(kernel, addr)
    _, used, nused, _, _ = heap_stats(kernel)
    assert (used, nused) == (used0, nused0), \
        f"everything freed: expected {used0} bytes in {nused0} used blocks, got {used} in {nused}"
