"""Hidden tests, lesson 03: the fault reports and the SVC number, from other angles
than the public tests.

The public tests provoke alignment faults, a breakpoint and SVCs typed in decimal.
These are hidden so that a kernel tuned to the visible tests still has to be right:

- a data abort that is not an alignment fault: a read or a write at a random
  word-aligned address where nothing answers (an external abort; from lesson 07 on,
  with the MMU, a translation fault). The report must take status, address and the
  write bit from DFSR/DFAR, and say the kernel was in SVC mode;
- the prefetch abort and undefined instruction reports exactly, line by line: no
  read/write part, no fault address and no domain for the breakpoint (IFSR has
  neither), the instruction word for the undefined instruction (compared with
  kernel.img), and the frame's pc and cpsr as the report states them;
- SVC numbers typed in hex and octal, in a random order, mixed with other commands:
  the number is decoded from the instruction each time, and the shell's state
  survives every return from the handler.
"""

import re
import string

import pytest

from test_03_exceptions import crash, dumped     # the public helpers

LESSON = 3

NOTHING_LO, NOTHING_HI = 0x30000000, 0x40000000     # no RAM, no device on raspi0


def has_mmu(lesson):
    """From lesson 07 the kernel is linked in the high half and the MMU is on: an
    address with nothing behind it is then simply not mapped."""
    return lesson.symbol("_start") >= 0x80000000


@pytest.mark.points(1)
@pytest.mark.parametrize("access", ["read", "write"])
def test_data_abort_where_nothing_answers(kernel, lesson, rng, access):
    addr = rng.randrange(NOTHING_LO, NOTHING_HI, 4)
    value = rng.randrange(1 << 32)
    cmd = f"crash abort {addr:#x}" + (f" {value:#x}" if access == "write" else "")
    m, report, status = crash(kernel, cmd)
    insn = "crash_store_insn" if access == "write" else "crash_load_insn"
    fs, name = (0x005, "translation (section)") if has_mmu(lesson) else \
        (0x008, "precise external abort")
    fsr = fs | (0x800 if access == "write" else 0)
    assert m["kind"] == "data abort", f"{cmd!r}: expected a data abort, got {m['kind']!r}"
    assert int(m["pc"], 16) == lesson.symbol(insn), \
        f"{cmd!r}: pc 0x{m['pc']}, expected {insn} at 0x{lesson.symbol(insn):08x}"
    assert m["rest"] == f": {name} fault on {access} of 0x{addr:08x}", \
        f"{cmd!r}: expected ': {name} fault on {access} of 0x{addr:08x}', got {m['rest']!r}"
    assert re.search(rf"fault status 0x{fsr:03x} \({re.escape(name)}\), address 0x{addr:08x}, "
                     r"domain \d+\r?\n", report), \
        (f"{cmd!r}: expected 'fault status 0x{fsr:03x} ({name}), address 0x{addr:08x}, "
         f"domain N':\n{report}")
    assert re.search(r"in SVC mode, cpsr 0x[0-9a-f]{8}", report), \
        f"{cmd!r}: the fault happened in SVC mode:\n{report}"
    assert dumped(report, "r1") == addr, "r1 held the address"
    if access == "write":
        assert dumped(report, "r2") == value, "r2 held the value being stored"
    assert dumped(report, "pc") == lesson.symbol(insn)
    assert status != 0, "a fault must end QEMU with a non-zero status"


def image_word(lesson, symbol):
    """The 32-bit word at `symbol` in kernel.img (the raw image loaded at 0x8000)."""
    data = lesson.img.read_bytes()
    off = lesson.virt_to_phys(lesson.symbol(symbol)) - 0x8000
    return int.from_bytes(data[off:off + 4], "little")


@pytest.mark.points(1)
@pytest.mark.parametrize("kind", ["prefetch", "undef"])
def test_prefetch_and_undefined_reports_are_exact(kernel, lesson, kind):
    """Line by line: the PANIC line with no read/write part, then for the breakpoint
    the status without a fault address or a domain (IFSR has neither), for the
    undefined instruction the word at its address (read here from kernel.img); then
    the mode line, whose cpsr is the dump's."""
    m, report, status = crash(kernel, f"crash {kind}")
    lines = [line.strip() for line in report.replace("\r", "").split("\n") if line.strip()]
    if kind == "prefetch":
        insn, name, rest = "crash_bkpt_insn", "prefetch abort", ": debug event fault"
        detail = "fault status 0x002 (debug event), no fault address (a breakpoint)"
    else:
        insn, name, rest = "crash_undef_insn", "undefined instruction", ""
        detail = f"instruction 0x{image_word(lesson, insn):08x}"
    at = lesson.symbol(insn)
    assert m["kind"] == name, f"crash {kind}: expected '{name}', got {m['kind']!r}"
    assert int(m["pc"], 16) == at, f"crash {kind}: pc 0x{m['pc']}, expected {insn} 0x{at:08x}"
    assert m["rest"] == rest, f"crash {kind}: after the pc expected {rest!r}, got {m['rest']!r}"
    assert lines and lines[0] == detail, f"crash {kind}: expected {detail!r} next, got {lines[:1]}"
    mode = re.fullmatch(r"in (\w+) mode, cpsr 0x([0-9a-f]{8})", lines[1] if len(lines) > 1 else "")
    assert mode and mode[1] == "SVC", \
        f"crash {kind}: expected 'in SVC mode, cpsr 0x...' as the third line:\n{report}"
    assert dumped(report, "pc") == at, f"crash {kind}: the frame's pc is not {insn}"
    assert dumped(report, "cpsr") == int(mode[2], 16), \
        f"crash {kind}: the dump's cpsr differs from the report's 0x{mode[2]}"
    assert status != 0


def notation(rng, n):
    """n as the shell's parse_u32() reads it: 0x hex, 0 octal or decimal."""
    form = rng.randrange(3)
    if form == 0:
        return hex(n)
    if form == 1 and n:
        return "0" + format(n, "o")
    return str(n)


def s32(v):
    return v - (1 << 32) if v & 0x80000000 else v


@pytest.mark.points(2)
def test_svc_numbers_in_any_notation_between_other_commands(kernel, lesson, rng):
    stubs = lesson.symbol("svc_stubs")
    numbers = rng.sample(range(256), 10)
    for n in numbers:
        typed = notation(rng, n)
        out = kernel.cmd(f"svc {typed}")
        m = re.fullmatch(r"svc (\d+): handler saw number (\d+) at pc 0x([0-9a-f]{8}), "
                         r"returned (\d+)", out)
        assert m, f"svc {typed}: unexpected output {out!r}"
        assert (int(m[1]), int(m[2]), int(m[4])) == (n, n, n), \
            f"svc {typed} (= {n}): expected number {n} seen and returned, got {out!r}"
        assert int(m[3], 16) == stubs + 12 * n + 4, \
            f"svc {n}: pc 0x{m[3]}, expected the svc instruction at 0x{stubs + 12 * n + 4:08x}"
        # the shell around it is intact: a command with arguments, formatted output
        v = rng.randrange(1 << 32)
        word = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randrange(3, 12)))
        got = kernel.cmd(f"printf %s|%x|%d {word} {v:#x} {v:#x}")
        assert got == f"{word}|{v:x}|{s32(v)}", \
            f"after svc {n}: printf gave {got!r}, expected {word}|{v:x}|{s32(v)}"
