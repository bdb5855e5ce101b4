"""Lesson 03: exceptions. Each fault is provoked at an address or with a value the
test chose; the report must name the right kind, the pc of the faulting instruction
(checked against the ELF's symbol table), the fault address and status, and carry
the registers the test put there. Then the machine stops with a non-zero status."""

import re

import pytest

LESSON = 3

PANIC_RE = r"PANIC: (?P<kind>[a-z ]+?) at pc 0x(?P<pc>[0-9a-f]{8})(?P<rest>[^\r\n]*)\r\n"


def crash(kernel, command):
    """Run a crash command; return (PANIC match, the report text, exit status)."""
    kernel.send(command + "\r")
    m = kernel.expect(PANIC_RE, what=f"a PANIC line after {command!r}")
    status = kernel.wait_exit()
    return m, kernel.before, status


def dumped(report, reg):
    m = re.search(rf"\b{reg}\s+([0-9a-f]{{8}})\b", report)
    assert m, f"register {reg} missing from the dump:\n{report}"
    return int(m.group(1), 16)


@pytest.mark.points(2)
def test_undefined_instruction(kernel, lesson):
    m, report, status = crash(kernel, "crash undef")
    assert m["kind"] == "undefined instruction"
    assert int(m["pc"], 16) == lesson.symbol("crash_undef_insn")
    assert "instruction 0xe7f000f0" in report
    assert re.search(r"in SVC mode", report)
    assert dumped(report, "pc") == lesson.symbol("crash_undef_insn")
    assert status != 0


@pytest.mark.points(2)
@pytest.mark.parametrize("access", ["read", "write"])
def test_data_abort_reports_address_status_and_registers(kernel, lesson, rng, access):
    """An unaligned address the test picked: alignment fault (status 0x001, with bit 11
    set for a write), the address in DFAR, and r1/r2 as the test loaded them."""
    addr = rng.randrange(0x00100000, 0x10000000) | rng.choice([1, 2, 3])
    value = rng.randrange(1 << 32)
    cmd = f"crash abort {addr:#x}" + (f" {value:#x}" if access == "write" else "")
    m, report, status = crash(kernel, cmd)
    insn = "crash_store_insn" if access == "write" else "crash_load_insn"
    assert m["kind"] == "data abort"
    assert int(m["pc"], 16) == lesson.symbol(insn), "pc is not the faulting ldr/str"
    assert m["rest"] == f": alignment fault on {access} of 0x{addr:08x}"
    fsr = 0x801 if access == "write" else 0x001
    assert f"fault status 0x{fsr:03x} (alignment), address 0x{addr:08x}" in report
    assert dumped(report, "r1") == addr, "r1 held the address"
    if access == "write":
        assert dumped(report, "r2") == value, "r2 held the value being stored"
    assert status != 0


@pytest.mark.points(2)
def test_prefetch_abort_from_breakpoint(kernel, lesson):
    m, report, status = crash(kernel, "crash prefetch")
    assert m["kind"] == "prefetch abort"
    assert int(m["pc"], 16) == lesson.symbol("crash_bkpt_insn")
    assert "fault status 0x002 (debug event)" in report
    assert status != 0


@pytest.mark.points(1)
@pytest.mark.given
def test_call_through_null_is_reported(kernel):
    kernel.send("crash null\r")
    kernel.expect(r"PANIC: jump to address 0 [^\r\n]* lr 0x([0-9a-f]{8})\r\n")
    assert kernel.wait_exit() != 0


@pytest.mark.points(2)
def test_svc_returns_its_number(kernel, lesson, rng):
    """The handler must decode the number from the SVC instruction itself: the pc it
    reports is that instruction's address in the ELF's svc_stubs table."""
    stubs = lesson.symbol("svc_stubs")
    for n in [0, 255] + rng.sample(range(1, 255), 6):
        out = kernel.cmd(f"svc {n}")
        m = re.fullmatch(r"svc (\d+): handler saw number (\d+) at pc 0x([0-9a-f]{8}), "
                         r"returned (\d+)", out)
        assert m, f"unexpected svc output: {out!r}"
        assert int(m[1]) == n and int(m[2]) == n and int(m[4]) == n
        assert int(m[3], 16) == stubs + 12 * n + 4, "pc of the svc instruction"
    word = "".join(rng.choice("xyz") for _ in range(9))
    assert kernel.cmd(f"echo {word}") == word, "the shell must go on after SVCs"


@pytest.mark.points(1)
@pytest.mark.given
def test_svc_rejects_bad_numbers(kernel, rng):
    n = rng.randrange(256, 100000)
    assert kernel.cmd(f"svc {n}") == "usage: svc N   (N from 0 to 255)"
    assert kernel.cmd("crash sideways") .startswith("usage: crash")


@pytest.mark.points(1)
@pytest.mark.given
def test_help_lists_new_commands(kernel):
    names = [line.split()[0] for line in kernel.cmd("help").splitlines() if line.strip()]
    assert "crash" in names and "svc" in names
