"""Lesson 07: the MMU. The kernel runs in the high half; nothing below 0x80000000 is
mapped (NULL faults); kernel text is read-only, data and devices are never
executable. Each fault is provoked at an address the test picks at random inside
the region under test, and the report must name that address and the right status.
Every check of a fault needs its own boot: a fault ends the machine."""

import re

import pytest

LESSON = 7

KERNEL_BASE = 0x80000000
SCTLR_BITS = {"M": 0, "C": 2, "Z": 11, "I": 12, "V": 13, "XP": 23}

ABORT_RE = (r"PANIC: (?P<kind>data abort|prefetch abort) at pc 0x(?P<pc>[0-9a-f]{8}): "
            r"(?P<fault>[a-z ()]+) fault(?: on (?P<access>read|write) of 0x(?P<addr>[0-9a-f]{8}))?"
            r"\r\n  fault status 0x(?P<fsr>[0-9a-f]{3}) \([^)]*\)+, address 0x(?P<far>[0-9a-f]{8})")


def fault(boot, lesson, command):
    k = boot()
    assert k.read_boot()[0] == lesson.name
    k.send(command + "\r")
    m = k.expect(ABORT_RE, what=f"an abort report after {command!r}")
    assert k.wait_exit() != 0
    return m


def word_aligned(rng, lo, hi):
    return rng.randrange(lo, hi) & ~3


@pytest.mark.points(2)
def test_kernel_runs_in_the_high_half(kernel, lesson):
    for sym in ("_start", "kernel_main", "vectors", "__bss_start", "svc_stack_top"):
        assert lesson.symbol(sym) >= KERNEL_BASE, f"{sym} is not in the high half"
    out = kernel.cmd("where")
    m = re.search(r"running at pc 0x([0-9a-f]{8}), sp 0x([0-9a-f]{8})", out)
    pc, sp = int(m[1], 16), int(m[2], 16)
    assert lesson.symbol("__text_start") <= pc < lesson.symbol("__text_end")
    assert lesson.symbol("__pagetables_end") <= sp <= lesson.symbol("svc_stack_top")
    sctlr = int(re.search(r"sctlr 0x([0-9a-f]{8})", out)[1], 16)
    for name, bit in SCTLR_BITS.items():
        assert sctlr >> bit & 1, f"SCTLR.{name} should be set (0x{sctlr:08x})"
    assert "vectors at 0xffff0000" in out
    m = re.search(r"ttbcr (\d+), ttbr0 0x([0-9a-f]{8}), ttbr1 0x([0-9a-f]{8}), dacr 0x([0-9a-f]{8})", out)
    assert int(m[1]) == 1, "TTBCR.N = 1: TTBR0 below 2 GB"
    assert int(m[3], 16) & ~0x3FFF == lesson.virt_to_phys(lesson.symbol("kernel_l1"))
    assert int(m[2], 16) & ~0x1FFF == lesson.virt_to_phys(lesson.symbol("user_l1"))
    assert int(m[4], 16) & 3 == 1, "domain 0 must be a client (permissions checked)"


@pytest.mark.points(1)
def test_l1_maps_only_the_high_half(kernel, lesson):
    lines = kernel.cmd("l1").splitlines()
    ranges = [re.match(r"0x([0-9a-f]{8})-0x([0-9a-f]{8}) -> (.*)$", line) for line in lines]
    assert all(ranges), lines
    assert all(int(r[1], 16) >= KERNEL_BASE for r in ranges), "identity map not removed"
    table = {int(r[1], 16): r[3] for r in ranges}
    image = lesson.virt_to_phys(lesson.symbol("__kernel_end"))
    m = re.fullmatch(r"L2 table at 0x([0-9a-f]{8})", table[KERNEL_BASE])
    assert m and int(m[1], 16) < image, "the kernel's megabyte is mapped by pages"
    assert table[0xF2000000] == "0x20000000 section, device, kernel rw, xn"
    assert re.fullmatch(r"L2 table at 0x[0-9a-f]{8}", table[0xFFF00000])


@pytest.mark.points(2)
@pytest.mark.given
def test_null_access_faults(boot, lesson):
    m = fault(boot, lesson, "crash abort 0")
    assert (m["kind"], m["fault"], m["access"]) == ("data abort", "translation (section)", "read")
    assert int(m["addr"], 16) == int(m["far"], 16) == 0
    assert m["fsr"] == "005"
    assert int(m["pc"], 16) == lesson.symbol("crash_load_insn")


@pytest.mark.points(2)
@pytest.mark.parametrize("region", [
    pytest.param("user", marks=pytest.mark.given),          # the starter's stub maps
    pytest.param("kernel-space", marks=pytest.mark.given),  # neither: these pass on it
    "after-image"])
def test_unmapped_addresses_fault(boot, lesson, rng, region):
    end = lesson.symbol("__kernel_end")
    lo, hi, status = {"user": (0x1000, KERNEL_BASE, "translation (section)"),
                      "kernel-space": (0xA0000000, 0xF0000000, "translation (section)"),
                      "after-image": (end, (end | 0xFFFFF) + 1, "translation (page)")}[region]
    addr = word_aligned(rng, lo, hi)
    write = rng.random() < 0.5
    value = rng.randrange(1 << 32)
    m = fault(boot, lesson, f"crash abort {addr:#x}" + (f" {value:#x}" if write else ""))
    assert m["fault"] == status
    assert m["access"] == ("write" if write else "read")
    assert int(m["addr"], 16) == int(m["far"], 16) == addr
    fs = 0x005 if "section" in status else 0x007
    assert int(m["fsr"], 16) == fs | (0x800 if write else 0)


@pytest.mark.points(2)
def test_kernel_text_is_read_only(boot, lesson, rng):
    addr = word_aligned(rng, lesson.symbol("__text_start"), lesson.symbol("__text_end"))
    m = fault(boot, lesson, f"crash abort {addr:#x} {rng.randrange(1 << 32):#x}")
    assert (m["fault"], m["access"], m["fsr"]) == ("permission (page)", "write", "80f")
    assert int(m["far"], 16) == addr


@pytest.mark.points(1)
def test_kernel_rodata_is_read_only(boot, lesson, rng):
    """The constants are read-only like the text (APX), only not executable: a
    write of a random value to a random word of .rodata faults."""
    addr = word_aligned(rng, lesson.symbol("__rodata_start"), lesson.symbol("__rodata_end"))
    m = fault(boot, lesson, f"crash abort {addr:#x} {rng.randrange(1 << 32):#x}")
    assert (m["fault"], m["access"], m["fsr"]) == ("permission (page)", "write", "80f")
    assert int(m["far"], 16) == addr


@pytest.mark.points(1)
@pytest.mark.given
def test_kernel_text_reads_what_the_elf_holds(kernel, lesson, rng):
    image = lesson.img.read_bytes()
    for _ in range(4):
        addr = word_aligned(rng, lesson.symbol("__text_start"), lesson.symbol("__text_end"))
        offset = lesson.virt_to_phys(addr) - 0x8000
        expected = int.from_bytes(image[offset:offset + 4], "little")
        assert kernel.cmd(f"crash abort {addr:#x}") == \
            f"read 0x{expected:08x} from 0x{addr:08x}: no fault"


@pytest.mark.points(1)
@pytest.mark.parametrize("region", ["rodata", "bss", "devices"])
def test_data_and_devices_are_not_executable(boot, lesson, rng, region):
    lo, hi, status = {"rodata": (lesson.symbol("__rodata_start"), lesson.symbol("__rodata_end"),
                                 "permission (page)"),
                      "bss": (lesson.symbol("__bss_start"), lesson.symbol("__bss_end"),
                              "permission (page)"),
                      "devices": (0xF2000000, 0xF3000000, "permission (section)")}[region]
    addr = word_aligned(rng, lo, hi)
    m = fault(boot, lesson, f"crash jump {addr:#x}")
    assert (m["kind"], m["fault"]) == ("prefetch abort", status)
    assert int(m["pc"], 16) == int(m["far"], 16) == addr


@pytest.mark.points(1)
@pytest.mark.given
def test_jump_to_unmapped_address(boot, lesson, rng):
    addr = word_aligned(rng, 0x1000, KERNEL_BASE)
    m = fault(boot, lesson, f"crash jump {addr:#x}")
    assert (m["kind"], m["fault"], m["fsr"]) == ("prefetch abort", "translation (section)", "005")
    assert int(m["pc"], 16) == int(m["far"], 16) == addr


@pytest.mark.points(2)
def test_lint_mmu_switched_on_in_order(lesson):
    """What QEMU cannot show: it keeps no TLB entries from before the MMU is on and
    has no prefetch to flush, so any order boots there. The lint (`make lint L=07`,
    harness/pios/lint.py) reads _start and mmu_init in the built kernel: TTBCR,
    TTBR0, TTBR1, DACR and a TLB invalidate before SCTLR.M; an ISB after it; a DSB
    between table writes and the TLB flush."""
    from pios import lint
    lint.check(lesson, "mmu-on", as_of=LESSON)
