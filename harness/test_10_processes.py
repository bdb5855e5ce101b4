"""Lesson 10: user processes. Every shipped program does what it says; exit
statuses the test picks come back exactly; two processes interleave and each keeps
its own memory at the same virtual address; faulting programs are killed with the
right report while the kernel goes on; bad pointers get -EFAULT; the syscall
fuzzer with random seeds leaves the kernel alive; the ELF loader refuses corrupted
headers the test makes up."""

import re
import string
import struct

import pytest

LESSON = 10

EFAULT, ECHILD, ENOSYS = -14, -10, -38


def run(kernel, line, timeout=15):
    """run a program in the foreground; returns (its output, pid, exit status)."""
    out = kernel.cmd(f"run {line}", timeout=timeout)
    m = re.search(r"^\[pid (\d+)\] exited with status (-?\d+)$", out, re.M)
    assert m, f"run {line}: no exit report in:\n{out}"
    return out[: m.start()].rstrip("\n"), int(m[1]), int(m[2])


def run_beside(kernel, line, timeout=15):
    """Like run, while a background process may print at any moment - even into
    the middle of the echo of this command line (its lines are written whole, the
    shell's echo a character at a time). Returns everything up to the exit report."""
    kernel.send(f"run {line}\r")
    m = kernel.expect(r"\[pid (\d+)\] exited with status (-?\d+)\r\n", timeout=timeout,
                      what=f"the exit of {line!r}")
    text = kernel.before
    kernel.expect_prompt()
    return text, int(m[1]), int(m[2])


@pytest.mark.points(2)
def test_hello_gets_its_arguments(kernel, rng):
    args = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randrange(1, 9)))
            for _ in range(rng.randrange(0, 5))]
    out, pid, status = run(kernel, " ".join(["hello"] + args))
    assert out == f"hello from pid {pid}, {len(args)} argument(s)" + "".join(f" [{a}]" for a in args)
    assert status == 0


@pytest.mark.points(1)
def test_exit_status_reaches_the_shell(kernel, rng):
    for status in rng.sample(range(1, 256), 3) + [0]:
        assert run(kernel, f"exit {status}")[2] == status


@pytest.mark.points(3)
def test_two_processes_interleave(kernel, rng):
    """pair starts two counters with spawn at the same moment and waits for both:
    their lines must interleave, each in order, and both exit statuses come back.
    (Two counters started by two shell commands need not overlap at all: while
    the shell waits for the second command, an idle guest's clock races ahead.)"""
    n = rng.randrange(4, 8)
    a, b = rng.sample(string.ascii_uppercase, 2)
    out, pid, status = run(kernel, f"pair {a} {b} {n} 2")
    seq = [m.groups() for m in re.finditer(r"^([A-Z]) (\d+)$", out, re.M)]
    for label in (a, b):
        assert [int(i) for l, i in seq if l == label] == list(range(1, n + 1)), out
    labels = [l for l, _ in seq]
    switches = sum(1 for x, y in zip(labels, labels[1:]) if x != y)
    assert switches >= n, f"the two counters did not interleave:\n{out}"
    children = re.findall(r"^pair: child (\d+) exited with status (\d+)$", out, re.M)
    assert len(children) == 2 and all(int(p) > pid and s == "0" for p, s in children)
    assert status == 0


@pytest.mark.points(3)
def test_same_address_different_memory(kernel, rng):
    v1, v2 = rng.sample(range(1, 1 << 32), 2)
    bg = int(re.search(r"\[pid (\d+)\]", kernel.cmd(f"run memcheck {v1:#x} 6 &"))[1])
    out, fg, _ = run_beside(kernel, f"memcheck {v2:#x} 2")
    out += run_beside(kernel, "exit 0")[0] + kernel.cmd("wait", timeout=15)
    cells = {int(p): (addr, int(v, 16)) for p, addr, v in
             re.findall(r"pid (\d+): cell at (0x[0-9a-f]+) holds 0x([0-9a-f]{8})", out)}
    assert set(cells) == {bg, fg}, out
    assert cells[bg][0] == cells[fg][0], "both programs use the same virtual address"
    assert (cells[bg][1], cells[fg][1]) == (v1, v2), "each must see its own value"


@pytest.mark.parametrize("kind,expect", [
    ("undef", r"undefined instruction at pc 0x[0-9a-f]{8}"),
    ("null", r"data abort at pc 0x[0-9a-f]{8}: translation \((section|page)\) fault on read of 0x00000000"),
    ("write", r"data abort at pc 0x[0-9a-f]{8}: permission \(page\) fault on write of 0x000100[0-9a-f]{2}"),
])
@pytest.mark.points(2)
def test_faulting_program_is_killed_and_the_kernel_goes_on(kernel, rng, kind, expect):
    out, pid, status = run(kernel, f"fault {kind}")
    assert re.fullmatch(rf"\[pid {pid} fault\] killed: {expect}", out), out
    assert status == (132 if kind == "undef" else 139)
    word = "".join(rng.choice("mnop") for _ in range(8))
    assert kernel.cmd(f"echo {word}") == word


@pytest.mark.points(2)
def test_program_cannot_touch_kernel_memory(kernel, lesson, rng):
    addr = rng.randrange(lesson.symbol("__kernel_start"), lesson.symbol("__kernel_end"), 4)
    out, pid, status = run(kernel, f"fault kernel {addr:#x}")
    m = re.fullmatch(rf"\[pid {pid} fault\] killed: data abort at pc 0x([0-9a-f]{{8}}): "
                     rf"permission \(page\) fault on read of 0x{addr:08x}", out)
    assert m, out
    assert int(m[1], 16) < 0x80000000, "the faulting load is the program's own"
    assert status == 139
    out, pid, _ = run(kernel, f"fault jump {addr & ~3:#x}")
    assert f"prefetch abort at pc 0x{addr & ~3:08x}" in out


@pytest.mark.points(2)
def test_bad_pointers_get_efault(kernel):
    out, _, status = run(kernel, "badptr")
    results = dict(re.findall(r"^(.+?) (-?\d+)$", out, re.M))
    for call in ("write kernel", "write unmapped", "write null", "read kernel", "wait kernel",
                 "spawn kernel", "write straddling"):
        assert int(results[call]) == EFAULT, f"{call}: {results.get(call)}"
    assert int(results["wait nochild"]) == ECHILD
    assert int(results["bad call"]) == ENOSYS
    assert status == 0


@pytest.mark.points(1)
def test_sbrk_grows_and_shrinks_the_heap(kernel, rng):
    pages = rng.randrange(1, 24)
    out, _, status = run(kernel, f"sbrk {pages}")
    m = re.search(r"sbrk: (\d+) pages at 0x([0-9a-f]+), checksum 0x([0-9a-f]{8})", out)
    assert m and int(m[1]) == pages
    expected = sum(i * 2654435761 for i in range(pages * 1024)) & 0xFFFFFFFF
    assert int(m[3], 16) == expected
    assert f"sbrk: break back at 0x{m[2]}" in out
    assert status == 0


@pytest.mark.points(1)
def test_fuzzer_leaves_the_kernel_alive(kernel, rng):
    for seed in rng.sample(range(1, 1 << 31), 3):
        out, _, status = run(kernel, f"fuzz {seed} 1500", timeout=30)
        assert f"fuzz seed {seed}: 1500 calls" in out or "killed" in out, out
    word = "".join(rng.choice("xyz") for _ in range(10))
    assert kernel.cmd(f"echo {word}") == word
    assert "alive" not in kernel.cmd("procs"), "no process left behind"


@pytest.mark.points(1)
def test_kill_ends_a_background_process(kernel):
    # memcheck sleeps quietly (a printing process could write into the echo of the
    # next command)
    m = re.fullmatch(r"\[pid (\d+)\] started in the background",
                     kernel.cmd("run memcheck 7 1000000 &"))
    pid = int(m[1])
    assert re.search(rf"^{pid}\s+memcheck\s+alive", kernel.cmd("procs"), re.M)
    assert kernel.cmd(f"kill {pid}") == f"pid {pid} will be killed"
    out = kernel.cmd("wait", timeout=15)
    assert out.endswith(f"[pid {pid}] exited with status 137"), out
    assert kernel.cmd(f"kill {pid}") == f"error: no process {pid}"


@pytest.mark.points(1)
@pytest.mark.given
def test_unknown_programs_and_no_children(kernel):
    assert kernel.cmd("run nosuchprogram") == "error: cannot run nosuchprogram: no such program"
    assert kernel.cmd("wait") == "error: no child processes"


ELF_FIELDS = {       # offset: what it holds (ELF32 header, program headers at 0x34)
    0: "magic", 1: "magic", 4: "class", 5: "data", 6: "version", 16: "type", 18: "machine",
    20: "version", 24: "entry", 28: "phoff", 42: "phentsize", 44: "phnum", 52: "p_type",
    56: "p_offset", 60: "p_vaddr", 68: "p_filesz", 72: "p_memsz", 76: "p_flags",
}


def text_phdr(lesson, program="hello"):
    """File offset of the program's first loadable, executable program header (the
    first header is ARM.exidx, which the loader skips)."""
    data = (lesson.build / "user" / f"{program}.bin").read_bytes()
    phoff, = struct.unpack_from("<I", data, 28)
    phentsize, phnum = struct.unpack_from("<HH", data, 42)
    for i in range(phnum):
        p_type, = struct.unpack_from("<I", data, phoff + i * phentsize)
        p_flags, = struct.unpack_from("<I", data, phoff + i * phentsize + 24)
        if p_type == 1 and p_flags & 1:
            return phoff + i * phentsize
    raise AssertionError(f"{program} has no executable PT_LOAD")


@pytest.mark.points(2)
def test_elf_loader_checks_every_header_field(kernel, lesson, rng):
    """Corrupt one byte of a header field at random: the loader must say why it
    refuses (or accept a change that keeps the file valid), and never crash."""
    assert kernel.cmd("elfcheck hello 0 0x7f") == "ok"
    refused = 0
    for off in rng.sample(sorted(ELF_FIELDS), 10):
        value = rng.randrange(256)
        out = kernel.cmd(f"elfcheck hello {off} {value:#x}")
        assert out == "ok" or re.fullmatch(r"[A-Za-z0-9 ()-]+", out), out
        refused += out != "ok"
    for off, value in ((0, 0), (4, 2), (18, 3), (44, 0), (45, 0x10), (27, 0x90), (31, 0x7f)):
        assert kernel.cmd(f"elfcheck hello {off} {value:#x}") != "ok", f"byte {off} = {value:#x}"
    assert refused > 0
    # each check of a loadable segment on its own, in hello's text segment
    ph = text_phdr(lesson)
    for off, value, why in ((ph + 11, 0x90, "segment outside user space"),     # p_vaddr
                            (ph + 19, 0x7f, "segment data outside the file"),  # p_filesz
                            (ph + 24, 0x07, "segment both writable and executable")):
        out = kernel.cmd(f"elfcheck hello {off} {value:#x}")
        assert why in out, f"byte {off} = {value:#x}: expected {why!r}, got {out!r}"
    word = "".join(rng.choice("ab") for _ in range(6))
    assert kernel.cmd(f"echo {word}") == word
