"""Lesson 01: the kernel boots at 0x8000, in SVC mode, with .bss cleared, prints its
banner first, and ends the machine cleanly."""

import re

import pytest

LESSON = 1


def boot_lines(kernel, lesson):
    """The boot report after the banner (up to the prompt, or to the end for 01)."""
    if lesson.has_shell:
        return kernel.boot_text
    kernel.expect_exact("halting\r\n", what="'halting' at the end of lesson 01's boot")
    return kernel.before


def field(text, name):
    m = re.search(rf"^{name}: (.*)$", text, re.M)
    assert m, f"boot report has no '{name}:' line:\n{text}"
    return m.group(1)


@pytest.mark.points(1)
def test_kernel_linked_at_0x8000(kernel, lesson):
    text = boot_lines(kernel, lesson)
    m = re.fullmatch(r"0x([0-9a-f]{8})-0x([0-9a-f]{8})", field(text, "kernel"))
    assert m, "expected 'kernel: 0xSTART-0xEND'"
    start, end = (int(x, 16) for x in m.groups())
    assert start == lesson.symbol("_start"), "the report must show where _start is linked"
    assert lesson.virt_to_phys(start) == 0x8000, "_start must be loaded at 0x8000"
    assert end == lesson.symbol("__kernel_end")


@pytest.mark.points(1)
def test_runs_in_svc_mode(kernel, lesson):
    text = boot_lines(kernel, lesson)
    m = re.fullmatch(r"(\S+(?: SVC)?) cpsr=0x([0-9a-f]{8})", field(text, "mode"))
    assert m, "expected 'mode: SVC cpsr=0xXXXXXXXX'"
    cpsr = int(m.group(2), 16)
    assert cpsr & 0x1F == 0x13, f"CPSR mode bits {cpsr & 0x1F:#x}, SVC is 0x13"
    assert m.group(1) == "SVC"


@pytest.mark.points(2)
def test_bss_cleared_over_random_garbage(boot, lesson, rng, tmp_path):
    """QEMU zeroes RAM, so a kernel that forgot to clear .bss would look fine. Boot the
    raw kernel.img as the Pi firmware does, with .bss pre-filled with random bytes."""
    start, end = lesson.symbol("__bss_start"), lesson.symbol("__bss_end")
    assert end > start, ".bss is empty: nothing to check"
    garbage = bytes(rng.randrange(1, 256) for _ in range(end - start))
    blob = tmp_path / "bss-garbage.bin"
    blob.write_bytes(garbage)
    phys = lesson.virt_to_phys(start)
    k = boot(raw=True, extra=["-device", f"loader,file={blob},addr={phys:#x},force-raw=on"])
    assert k.read_banner() == lesson.name
    if lesson.has_shell:
        k.expect_prompt()
        text = k.before
    else:
        text = boot_lines(k, lesson)
    assert field(text, "bss") is not None
    lines = re.findall(r"^bss: (.*)$", text, re.M)
    assert lines[0] == f"0x{start:08x}-0x{end:08x}", "bss range differs from the ELF's"
    assert lines[-1] == "all zero", f".bss was not cleared: {lines[-1]}"


@pytest.mark.points(1)
def test_machine_ends_with_status_0(kernel, lesson):
    """Lesson 01 ends by itself; from lesson 02 on the shell's `halt` does it."""
    if lesson.has_shell:
        kernel.send("halt\r")
    assert kernel.wait_exit() == 0


@pytest.mark.points(1)
def test_boots_on_raspi1ap(boot, lesson):
    k = boot(machine="raspi1ap")
    assert k.read_banner() == lesson.name
