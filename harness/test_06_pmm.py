"""Lesson 06: the page-frame allocator, driven with random sequences the test
chooses. The test keeps its own model of what is allocated and checks every answer
against it: frames distinct, aligned, inside RAM, never the kernel's; counts that
add up; exhaustion, double frees and bogus frees refused while the kernel goes on."""

import re

import pytest

LESSON = 6

PAGE = 4096
QEMU_RAM = 0x1C000000       # what QEMU's raspi0 firmware model gives the ARM


def stats(kernel):
    out = kernel.cmd("pmm")
    m = re.fullmatch(r"ram 0x([0-9a-f]{8})-0x([0-9a-f]{8}): (\d+) frames of 4096 bytes\n"
                     r"free (\d+), allocated (\d+), reserved (\d+)", out)
    assert m, f"unexpected pmm output:\n{out}"
    base, end, total, free, allocated, reserved = (int(m[1], 16), int(m[2], 16),
                                                   *map(int, m.groups()[2:]))
    assert total == (end - base) // PAGE
    assert free + allocated + reserved == total, "counts do not add up"
    return dict(base=base, end=end, total=total, free=free, allocated=allocated,
                reserved=reserved)


def alloc(kernel, count=1, align=PAGE, plain=False):
    """`alloc COUNT ALIGN` takes a run (pmm_alloc_run); a plain `alloc`, one frame
    the usual way (pmm_alloc)."""
    out = kernel.cmd("alloc" if plain else f"alloc {count} {align:#x}")
    m = re.fullmatch(rf"allocated {count} frames at 0x([0-9a-f]{{8}})", out)
    return int(m[1], 16) if m else out


def kernel_end_phys(lesson):
    return lesson.virt_to_phys(lesson.symbol("__kernel_end"))


@pytest.mark.points(1)
@pytest.mark.given
def test_ram_size_comes_from_the_firmware(kernel):
    m = re.search(r"^ram: 0x([0-9a-f]{8})-0x([0-9a-f]{8}), (\d+) MB \((.*)\)$",
                  kernel.boot_text, re.M)
    assert m, "no 'ram: ...' line at boot"
    assert (int(m[1], 16), int(m[2], 16), m[4]) == (0, QEMU_RAM, "from firmware")
    st = stats(kernel)
    assert (st["base"], st["end"]) == (0, QEMU_RAM)


@pytest.mark.points(4)
def test_random_alloc_free_sequences(kernel, lesson, rng, credit):
    st0 = stats(kernel)
    live = {}                                   # address -> frame count
    kend = kernel_end_phys(lesson)
    assert st0["reserved"] >= (kend + PAGE - 1) // PAGE, "the kernel image must be reserved"
    for step in range(120):
        if live and rng.random() < 0.4:
            addr = rng.choice(sorted(live))
            count = live.pop(addr)
            assert kernel.cmd(f"free {addr:#x} {count}") == f"freed {count} frames at 0x{addr:08x}"
        else:
            count = rng.choice([1, 1, 1, 2, 3, 4, 8, 16])
            align = rng.choice([PAGE, PAGE, 2 * PAGE, 4 * PAGE, 16 * PAGE, 1 << 20])
            if step < 4:        # a few single frames first, the plain way, always
                count, align = 1, PAGE
            plain = count == 1 and align == PAGE and (step < 4 or rng.random() < 0.5)
            addr = alloc(kernel, count, align, plain)
            assert isinstance(addr, int), f"alloc {count} {align:#x} failed: {addr}"
            assert addr % align == 0, f"0x{addr:08x} is not aligned to {align:#x}"
            assert kend <= addr and addr + count * PAGE <= QEMU_RAM, \
                f"0x{addr:08x}+{count} frames is outside free RAM"
            for other, n in live.items():
                assert addr + count * PAGE <= other or other + n * PAGE <= addr, \
                    f"0x{addr:08x} overlaps the live run at 0x{other:08x}"
            live[addr] = count
        credit.part(step, 120)          # graded: the steps done right before a miss
        if step % 15 == 0:
            st = stats(kernel)
            # (later lessons allocate frames of their own at boot: count from there)
            assert st["allocated"] == st0["allocated"] + sum(live.values())
            assert st["reserved"] == st0["reserved"]
    for addr, count in live.items():
        kernel.cmd(f"free {addr:#x} {count}")
    assert stats(kernel) == st0, "after freeing everything, the counts are back"


@pytest.mark.points(2)
def test_exhaustion_is_an_error_not_a_crash(kernel, rng):
    st = stats(kernel)
    everything = alloc(kernel, st["free"])
    assert isinstance(everything, int), f"could not take all {st['free']} free frames at once"
    assert stats(kernel)["free"] == 0
    for count in (1, rng.randrange(2, 100)):
        out = kernel.cmd(f"alloc {count}")
        assert out.startswith(f"error: out of memory: no free run of {count} frames"), out
    word = "".join(rng.choice("abc") for _ in range(12))
    assert kernel.cmd(f"echo {word}") == word
    assert kernel.cmd(f"free {everything:#x} {st['free']}") == \
        f"freed {st['free']} frames at 0x{everything:08x}"
    assert stats(kernel) == st


@pytest.mark.points(1)
def test_double_free_is_refused(kernel, rng):
    addrs = [alloc(kernel) for _ in range(rng.randrange(2, 6))]
    victim = rng.choice(addrs)
    assert kernel.cmd(f"free {victim:#x}") == f"freed 1 frames at 0x{victim:08x}"
    before = stats(kernel)
    assert kernel.cmd(f"free {victim:#x}") == \
        f"error: cannot free 0x{victim:08x} (1 frames): not allocated (double free?)"
    assert stats(kernel) == before, "a refused free changes nothing"


@pytest.mark.points(1)
def test_partial_run_free_changes_nothing(kernel):
    a = alloc(kernel, 2)
    b = alloc(kernel, 1)
    kernel.cmd(f"free {b:#x}")                  # now a+2 pages might be free
    before = stats(kernel)
    out = kernel.cmd(f"free {a:#x} 3")
    if b == a + 2 * PAGE:
        assert out.endswith("not allocated (double free?)")
        assert stats(kernel) == before, "all or nothing: the first two frames stay allocated"
    assert kernel.cmd(f"free {a:#x} 2") == f"freed 2 frames at 0x{a:08x}"


@pytest.mark.points(1)
def test_bogus_frees_are_refused(kernel, lesson, rng):
    kend = kernel_end_phys(lesson)
    before = stats(kernel)
    reserved = rng.randrange(0, kend // PAGE) * PAGE
    outside = rng.randrange(QEMU_RAM // PAGE, 0x100000) * PAGE
    unaligned = rng.randrange(kend, QEMU_RAM) | rng.randrange(1, PAGE)
    assert kernel.cmd(f"free {reserved:#x}").endswith(": reserved")
    assert kernel.cmd(f"free {outside:#x}").endswith(": not in RAM")
    assert kernel.cmd(f"free {unaligned:#x}").endswith(": not the start of a frame")
    assert kernel.cmd("free 0x1000000 0").endswith(": bad frame count")
    assert kernel.cmd("alloc 1 0x3000").startswith("usage: alloc")
    assert stats(kernel) == before
