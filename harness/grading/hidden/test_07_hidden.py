"""Hidden tests, lesson 07: the kernel's rights, probed where the public tests do
not look.

The public tests write to the text, jump into .rodata, .bss and the devices, and
read past the end of the image. These write to .rodata (read-only, as well as
never executable), read or write the 32 KB of the kernel's megabyte *below* the
image (the firmware's page 0 and ATAGs: a fault, not a section left in place), and
jump into the page tables and the stacks (read-write memory: never executable). So a
kernel tuned to the visible tests still has to map every page of its image with the
right rights, and nothing else. Instructor-only: never handed out. Every fault
ends the machine, so each test provokes exactly one, at an address it picks at
random inside the region."""

import re

import pytest

LESSON = 7

KERNEL_BASE = 0x80000000

ABORT_RE = (r"PANIC: (?P<kind>data abort|prefetch abort) at pc 0x(?P<pc>[0-9a-f]{8}): "
            r"(?P<fault>[a-z ()]+) fault(?: on (?P<access>read|write) of 0x(?P<addr>[0-9a-f]{8}))?"
            r"\r\n  fault status 0x(?P<fsr>[0-9a-f]{3}) \([^)]*\)+, address 0x(?P<far>[0-9a-f]{8})")
# What `crash abort` prints when the access goes through, and whatever else a
# wrong kernel may do instead of the abort report: caught at once, not waited out.
NO_FAULT_RE = r"(read|wrote) 0x[0-9a-f]{8} (from|to) 0x[0-9a-f]{8}: no fault"
OTHER_PANIC_RE = r"PANIC: (?!data abort|prefetch abort)[^\r\n]*\r\n"


def word(rng, lo, hi):
    return rng.randrange(lo, hi) & ~3


def provoke(kernel, command):
    """Type a command that must fault; returns the abort report's match."""
    kernel.send(command + "\r")
    text = kernel.expect([ABORT_RE, NO_FAULT_RE, OTHER_PANIC_RE],
                         what=f"an abort report after {command!r}").group(0)
    m = re.match(ABORT_RE, text)
    assert m, f"{command!r} must end in a data or prefetch abort report; got {text!r}"
    assert kernel.wait_exit() != 0, "a fault in the kernel ends the machine"
    return m


@pytest.mark.points(2)
def test_rodata_reads_what_the_elf_holds_and_refuses_writes(kernel, lesson, rng):
    """.rodata is readable (two random words equal kernel.img's bytes) and
    read-only: a write of a random value to a random word of it is a permission
    fault of a page, status 0x80f, at exactly that address."""
    image = lesson.img.read_bytes()
    start, text = lesson.symbol("__rodata_start"), lesson.symbol("__text_start")
    end = min(lesson.symbol("__rodata_end"), text + len(image))
    for _ in range(2):
        addr = word(rng, start, end)
        expected = int.from_bytes(image[addr - text:addr - text + 4], "little")
        out = kernel.cmd(f"crash abort {addr:#x}")
        assert out == f"read 0x{expected:08x} from 0x{addr:08x}: no fault", \
            f"reading .rodata at 0x{addr:08x}: expected 0x{expected:08x} (kernel.img), got {out!r}"
    addr = word(rng, start, end)
    value = rng.randrange(1 << 32)
    m = provoke(kernel, f"crash abort {addr:#x} {value:#x}")
    got = (m["kind"], m["fault"], m["access"], m["fsr"], int(m["far"], 16))
    assert got == ("data abort", "permission (page)", "write", "80f", addr), \
        f"a write to .rodata at 0x{addr:08x}: expected a permission (page) fault on " \
        f"write, status 0x80f, FAR 0x{addr:08x}; got {got}"


@pytest.mark.points(2)
def test_the_megabyte_below_the_image_is_not_mapped(boot, lesson, rng):
    """0x80000000 up to __kernel_start is physical page 0 and the firmware's data,
    in the kernel's own megabyte: its L2 entries are faults, so a read or a write
    there is a translation fault of a page (status 0x007, 0x807 for a write)."""
    k = boot()
    assert k.read_boot()[0] == lesson.name
    addr = word(rng, KERNEL_BASE, lesson.symbol("__kernel_start"))
    write = rng.random() < 0.5
    value = rng.randrange(1 << 32)
    m = provoke(k, f"crash abort {addr:#x}" + (f" {value:#x}" if write else ""))
    access = "write" if write else "read"
    fsr = 0x807 if write else 0x007
    got = (m["kind"], m["fault"], m["access"], int(m["fsr"], 16), int(m["addr"], 16),
           int(m["far"], 16))
    assert got == ("data abort", "translation (page)", access, fsr, addr, addr), \
        f"a {access} of 0x{addr:08x} (below the image, in its megabyte): expected a " \
        f"translation (page) fault, status {fsr:#05x}, at 0x{addr:08x}; got {got}"


@pytest.mark.points(1)
def test_page_tables_and_stacks_are_not_executable(boot, lesson, rng):
    """A jump to a random word between the end of .bss and the top of the SVC stack
    (the page tables, the exception stacks): a prefetch abort, permission fault of
    a page, pc = IFAR = the address."""
    k = boot()
    assert k.read_boot()[0] == lesson.name
    addr = word(rng, lesson.symbol("__bss_end") + 4, lesson.symbol("svc_stack_top"))
    m = provoke(k, f"crash jump {addr:#x}")
    got = (m["kind"], m["fault"], int(m["pc"], 16), int(m["far"], 16))
    assert got == ("prefetch abort", "permission (page)", addr, addr), \
        f"a jump to 0x{addr:08x} (tables and stacks: read-write, XN): expected a " \
        f"prefetch abort, permission (page), pc = IFAR = 0x{addr:08x}; got {got}"
