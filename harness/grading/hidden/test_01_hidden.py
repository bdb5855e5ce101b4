"""Hidden tests, lesson 01: the stack and the .bss clear, seen from outside the guest.

The public tests read the kernel's own boot report. These are hidden so that a
kernel tuned to what the visible tests look at still has to be right:

- the stack really is the top of the .stack section: after boot, QEMU's monitor
  finds the words just below `svc_stack_top` written (kernel_main's frame) and the
  RAM below the kernel, pre-filled with random bytes, untouched (a stack "below
  0x8000" or in .bss would show);
- .bss is cleared on the other machine (raspi1ap) too, with garbage only in some
  random words of .bss, always including its first and last 8 bytes (a loop that
  stops one store early or skips its first store shows);
- the boot report is complete and clean: each line of it exactly once, in order,
  every byte printable, every line ended by CR LF, and nothing after it but what
  the lesson prints next.
"""

import re

import pytest

LESSON = 1

BELOW_KERNEL = 0x1000           # [0x1000, 0x8000): RAM below the image, nobody's


def random_words(rng, n):
    """n random non-zero 32-bit words, as bytes (little-endian)."""
    return b"".join(rng.randrange(1, 1 << 32).to_bytes(4, "little") for _ in range(n))


def read_words(monitor, addr, n):
    """n words of physical memory at addr, read by QEMU (not the guest)."""
    out = monitor.command(f"xp /{n}wx {addr:#x}")
    words = []
    for line in out.splitlines():
        if ":" in line:
            words += [int(w, 16) for w in re.findall(r"0x([0-9a-f]{8})", line.split(":", 1)[1])]
    assert len(words) == n, f"monitor's xp gave {len(words)} words, expected {n}:\n{out[:500]}"
    return words


def end_of_boot(k, lesson):
    """Wait for the end of the boot report ('halting' for 01, the prompt after);
    return the report's text (LF line ends)."""
    if lesson.has_shell:
        k.expect_prompt()
    else:
        k.expect_exact("halting\r\n", what="'halting' at the end of lesson 01's boot")
    return k.before


@pytest.mark.points(2)
def test_stack_is_the_top_of_the_stack_section(boot, lesson, rng, tmp_path, monkeypatch):
    """Raw boot with random words below svc_stack_top and below the kernel. Once the
    kernel has booted (lesson 01: stopped in its WFI loop, semihosting off so that
    QEMU stays up to be asked), the stack words must have changed and the RAM below
    0x8000 must not."""
    monkeypatch.setenv("PIOS_SEMIHOSTING", "off")   # machine_exit() must not end QEMU
    try:
        top = lesson.virt_to_phys(lesson.symbol("svc_stack_top"))
    except KeyError:
        pytest.fail("the ELF has no symbol svc_stack_top: nothing uses the .stack "
                    "section, so the linker dropped it (is sp ever set to it?)")
    near_top = 64                                   # words just below the top
    stack_fill = random_words(rng, near_top)
    low_fill = random_words(rng, (0x8000 - BELOW_KERNEL) // 4)
    (tmp_path / "stack.bin").write_bytes(stack_fill)
    (tmp_path / "low.bin").write_bytes(low_fill)
    k = boot(raw=True, monitor=True, extra=[
        "-device", f"loader,file={tmp_path / 'stack.bin'},addr={top - 4 * near_top:#x},"
                   "force-raw=on",
        "-device", f"loader,file={tmp_path / 'low.bin'},addr={BELOW_KERNEL:#x},force-raw=on"])
    assert k.read_banner() == lesson.name
    end_of_boot(k, lesson)

    now = read_words(k.monitor, top - 4 * near_top, near_top)
    before = [int.from_bytes(stack_fill[i:i + 4], "little") for i in range(0, len(stack_fill), 4)]
    changed = [i for i in range(near_top) if now[i] != before[i]]
    assert changed, (f"none of the {near_top} words below svc_stack_top (phys 0x{top:08x}) "
                     f"was written during boot: sp did not start at svc_stack_top")
    assert max(changed) >= near_top - 8, \
        (f"the stack's top words are untouched (highest written word is "
         f"{4 * (near_top - max(changed))} bytes below svc_stack_top): sp starts lower")

    low_now = read_words(k.monitor, BELOW_KERNEL, len(low_fill) // 4)
    for i, w in enumerate(low_now):
        expected = int.from_bytes(low_fill[4 * i:4 * i + 4], "little")
        assert w == expected, (f"RAM below the kernel changed during boot: "
                               f"0x{BELOW_KERNEL + 4 * i:08x} holds 0x{w:08x}, was "
                               f"0x{expected:08x} (a stack below 0x8000?)")


@pytest.mark.points(2)
def test_bss_cleared_on_raspi1ap_with_garbage_at_its_edges(boot, lesson, rng, tmp_path):
    """raspi1ap, raw kernel.img: random non-zero words in a random half of .bss's words,
    always in its first and last 8 bytes; all of .bss must read zero."""
    start, end = lesson.symbol("__bss_start"), lesson.symbol("__bss_end")
    assert end > start, ".bss is empty: nothing to check"
    nwords = (end - start) // 4
    dirty = {0, 1, nwords - 2, nwords - 1} | {i for i in range(nwords) if rng.random() < 0.5}
    blob = b"".join(rng.randrange(1, 1 << 32).to_bytes(4, "little") if i in dirty
                    else bytes(4) for i in range(nwords))
    (tmp_path / "bss.bin").write_bytes(blob)
    phys = lesson.virt_to_phys(start)
    k = boot(machine="raspi1ap", raw=True, extra=[
        "-device", f"loader,file={tmp_path / 'bss.bin'},addr={phys:#x},force-raw=on"])
    assert k.read_banner() == lesson.name
    text = end_of_boot(k, lesson)
    lines = re.findall(r"^bss: (.*)$", text, re.M)
    assert lines and lines[0] == f"0x{start:08x}-0x{end:08x}", \
        f"expected 'bss: 0x{start:08x}-0x{end:08x}' (the ELF's .bss), got {lines[:1]}"
    assert lines[-1] == "all zero", \
        (f".bss not cleared ({len(dirty)} of its {nwords} words held garbage, first and "
         f"last included): the kernel says 'bss: {lines[-1]}'")


@pytest.mark.points(1)
def test_boot_report_is_complete_and_clean(kernel, lesson):
    """Every byte from the banner to the end of the report is printable ASCII or a
    CR LF line end; kernel:, mode:, bss: (range) and bss: (state) each appear exactly
    once, in that order, with the ELF's addresses."""
    child = kernel.child
    if lesson.has_shell:
        raw = kernel.boot_text          # read_boot(): everything up to the prompt
        raw_crlf = child.before or ""
    else:
        kernel.expect_exact("halting\r\n", what="'halting' at the end of lesson 01's boot")
        raw_crlf = (child.before or "") + "halting\r\n"
        raw = kernel.before + "halting\n"
    bad = [c for c in raw_crlf if not (0x20 <= ord(c) < 0x7F or c in "\r\n")]
    assert not bad, f"non-printable bytes in the boot report: {bad[:10]!r}\n{raw_crlf!r}"
    assert "\n" not in raw_crlf.replace("\r\n", ""), f"a line not ended by CR LF:\n{raw_crlf!r}"
    assert "\r" not in raw_crlf.replace("\r\n", "").rstrip("\r"), \
        f"a CR that does not end a line:\n{raw_crlf!r}"
    lines = raw.split("\n")
    expected = [f"kernel: 0x{lesson.symbol('_start'):08x}-0x{lesson.symbol('__kernel_end'):08x}",
                "mode: SVC cpsr=0x",
                f"bss: 0x{lesson.symbol('__bss_start'):08x}-0x{lesson.symbol('__bss_end'):08x}",
                "bss: all zero"]
    where = []
    for want in expected:
        hits = [i for i, line in enumerate(lines) if line == want or
                (want.endswith("=0x") and line.startswith(want))]
        assert len(hits) == 1, f"expected exactly one line {want!r}, found {len(hits)} in:\n{raw}"
        where.append(hits[0])
    assert where == sorted(where), f"the report's lines are out of order:\n{raw}"
    if not lesson.has_shell:
        assert lines[-2] == "halting", f"'halting' must end the report:\n{raw}"
        assert kernel.wait_exit() == 0, "QEMU must exit with status 0 after 'halting'"
