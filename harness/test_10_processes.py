"""Lesson 10: user processes. Every shipped program does what it says; exit
statuses the test picks come back exactly; two processes interleave and each keeps
its own memory at the same virtual address; faulting programs are killed with the
right report while the kernel goes on; bad pointers get -EFAULT; the syscall
fuzzer with random seeds leaves the kernel alive; the ELF loader refuses corrupted
headers the test makes up."""

import os
import re
import string
import struct
from pathlib import Path

import pytest

LESSON = 10

EFAULT, ECHILD, ENOSYS = -14, -10, -38


# A program's run, or the wait for its exit, needs at most 0.17 s of QEMU's CPU with
# three test runs at once on two cores (PIOS_WAIT_STATS): 0.5 s lets a kernel that
# spins there fail in half a second, not in its timeout's 2 (docs/grading.md).
RUN_CPU = 0.5


def run(kernel, line, timeout=15):
    """run a program in the foreground; returns (its output, pid, exit status). The
    shell's exit report is the last line: the program may print one that looks
    the same before it (test_a_program_cannot_forge_the_exit_report)."""
    out = kernel.cmd(f"run {line}", timeout=timeout, cpu=RUN_CPU)
    m = re.search(r"^\[pid (\d+)\] exited with status (-?\d+)\Z", out, re.M)
    assert m, f"run {line}: no exit report at the end of:\n{out}"
    return out[: m.start()].rstrip("\n"), int(m[1]), int(m[2])


def run_beside(kernel, line, timeout=15):
    """Like run, while a background process may print at any moment - even into
    the middle of the echo of this command line (its lines are written whole, the
    shell's echo a character at a time). Returns everything up to the exit report."""
    kernel.send(f"run {line}\r")
    m = kernel.expect(r"\[pid (\d+)\] exited with status (-?\d+)\r\n", timeout=timeout,
                      what=f"the exit of {line!r}", cpu=RUN_CPU)
    text = kernel.before
    kernel.expect_prompt()
    return text, int(m[1]), int(m[2])


@pytest.mark.points(2)
def test_hello_gets_its_arguments(kernel, rng):
    # none, then one to four: with none, a string laid out without its NUL would
    # not show (only argv[0], which hello does not print)
    for count in (0, rng.randrange(1, 5)):
        args = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randrange(1, 9)))
                for _ in range(count)]
        out, pid, status = run(kernel, " ".join(["hello"] + args))
        assert out == (f"hello from pid {pid}, {len(args)} argument(s)"
                       + "".join(f" [{a}]" for a in args))
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
    kernel.send(f"run memcheck {v2:#x} 2\r")
    fg = int(kernel.expect(rf"\[pid (?!{bg}\])(\d+)\] exited with status -?\d+\r\n",
                           timeout=15, what="the foreground memcheck's exit", cpu=RUN_CPU)[1])
    out = kernel.before
    # everything up to the background one's exit is kept: its line may come at any
    # moment, before the prompt or the echo of `wait` too (kernel.cmd drops that)
    kernel.send("wait\r")
    kernel.expect(rf"\[pid {bg}\] exited with status -?\d+\r\n", timeout=15,
                  what="the background memcheck's exit", cpu=RUN_CPU)
    out += kernel.before
    kernel.expect_prompt()
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
        out, pid, status = run(kernel, f"fuzz {seed} 1500", timeout=30)
        finished = f"fuzz seed {seed}: 1500 calls" in out and status == 0
        # the fuzzer may wreck itself (a call told to store over its own stack):
        # then the kernel must have killed it, and said so, for that fault
        crashed = re.search(rf"^\[pid {pid} fuzz\] killed: ", out, re.M) and status in (132, 139)
        assert finished or crashed, f"seed {seed}: status {status}\n{out[-500:]}"
    word = "".join(rng.choice("xyz") for _ in range(10))
    assert kernel.cmd(f"echo {word}") == word
    assert "alive" not in kernel.cmd("procs"), "no process left behind"


@pytest.mark.points(1)
def test_kill_ends_a_background_process(kernel):
    # memcheck sleeps quietly (a printing process could write into the echo of the
    # next command) for 100 s of guest time; the wait allows 15 s of it, so a kill
    # that does not cut the sleep short fails here (console.Kernel: guest time)
    m = re.fullmatch(r"\[pid (\d+)\] started in the background",
                     kernel.cmd("run memcheck 7 100000 &"))
    pid = int(m[1])
    assert re.search(rf"^{pid}\s+memcheck\s+alive", kernel.cmd("procs"), re.M)
    assert kernel.cmd(f"kill {pid}") == f"pid {pid} will be killed"
    out = kernel.cmd("wait", timeout=15, cpu=RUN_CPU)
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


# ---- the MMU's view, from outside: nG and ASIDs ----------------------------------------

PTE_NG, PMD_NG = 1 << 11, 1 << 17        # not-global: small page, section (ARM ARM B4.3)
USER_STACK_TOP = 0x7FFF0000              # memlayout.h: the top user stack page is below it


class Gdb:
    """gdb-multiarch on QEMU's GDB stub, driven like a person at its prompt (no ELF
    loaded: the test only stops the CPU and reads registers)."""

    def __init__(self, sock):
        import pexpect
        import shutil
        gdb = shutil.which("gdb-multiarch")
        if gdb is None:
            pytest.fail("gdb-multiarch is not installed: make test installs it", pytrace=False)
        self.p = pexpect.spawn(gdb, ["-q", "-nx", "-iex", "set auto-load off",
                                     "-ex", "set architecture armv6", "-ex", "set pagination off",
                                     "-ex", "set confirm off", "-ex", "set style enabled off",
                                     "-ex", f"target remote {sock}"], encoding="utf-8", timeout=20,
                               env=dict(os.environ, TERM="dumb"))   # no terminal escapes
        self.prompt()

    def prompt(self):
        self.p.expect(r"\(gdb\) ")
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", self.p.before)

    def cmd(self, line):
        self.p.sendline(line)
        return self.prompt()

    def registers(self, *names):
        out = self.cmd("info registers " + " ".join(names))
        return {n: int(v, 16) for n, v in re.findall(r"^(\w+)\s+(0x[0-9a-f]+)", out, re.M)}

    def close(self):
        """Detach (the guest runs on) and quit."""
        import pexpect
        if self.p.isalive():
            self.p.sendline("detach")
            self.p.sendline("quit")
            try:
                self.p.expect(pexpect.EOF, timeout=10)
            except pexpect.TIMEOUT:
                pass
        self.p.close(force=True)


def l2_entry(mon, l1_base, va):
    """(L1 entry, L2 entry or None) for va, read from physical memory by QEMU."""
    l1 = mon.read_phys_word(l1_base + 4 * (va >> 20))
    if l1 & 3 != 1:                     # not a page table: a section or a fault
        return l1, None
    return l1, mon.read_phys_word((l1 & ~0x3FF) + 4 * ((va >> 12) & 0xFF))


@pytest.mark.points(2)
def test_user_pages_are_not_global_and_each_process_has_its_asid(boot, lesson, rng):
    """Stopped by GDB inside a syscall of a new process: CONTEXTIDR holds its pid and
    an ASID no live process has (nor the kernel's 0), its user pages are marked
    not-global in the tables TTBR0 points at, and the kernel's text is global. QEMU
    flushes its TLB on every ASID change, so only the registers and the tables show
    these; on a Pi, a global user page or a shared ASID lets one process's TLB
    entries serve another."""
    k = boot(monitor=True)
    k.read_boot()
    live = {}
    for _ in range(2):
        v = rng.randrange(1, 1 << 32)
        pid = int(re.search(r"\[pid (\d+)\]", k.cmd(f"run memcheck {v:#x} 1000000 &"))[1])
        live[pid] = None
    for pid, asid in re.findall(r"^(\d+)\s+memcheck\s+alive\s+\d+\s+(\d+)", k.cmd("procs"), re.M):
        live[int(pid)] = int(asid)
    assert None not in live.values(), f"procs does not list both background processes: {live}"
    assert len(set(live.values())) == 2 and 0 not in live.values(), \
        f"two live processes need two ASIDs of their own (not 0): procs says {live}"
    # both memchecks reach their sleep first: no syscall of theirs meets the breakpoint
    k.cmd("sleep 20")
    sock = Path(k.monitor.path).parent / "gdb.sock"
    # stopped until GDB says continue: an idle guest left running would race through
    # its timer ticks, a CPU flat out, while GDB starts
    k.monitor.command("stop")
    k.monitor.command(f"gdbserver unix:{sock},server=on,wait=off")
    g = Gdb(sock)
    try:
        g.cmd(f"break *{lesson.symbol('syscall_dispatch'):#x}")
        g.p.sendline("continue")
        g.p.expect("Continuing")
        word = "".join(rng.choice(string.ascii_lowercase) for _ in range(8))
        k.send(f"run hello {word}\r")
        assert "Breakpoint 1" in g.prompt(), "no syscall from the new process"
        regs = g.registers("CONTEXTIDR_S", "TTBR0_EL1_S", "TTBR1_EL1_S", "TTBCR_S")
        asid = regs["CONTEXTIDR_S"] & 0xFF
        n = regs["TTBCR_S"] & 7
        user_l1 = regs["TTBR0_EL1_S"] & ~((1 << (14 - n)) - 1)
        kernel_l1 = regs["TTBR1_EL1_S"] & ~0x3FFF
        data = (lesson.build / "user" / "hello.bin").read_bytes()
        code = struct.unpack_from("<I", data, text_phdr(lesson) + 8)[0] & ~0xFFF   # p_vaddr
        user = {va: l2_entry(k.monitor, user_l1, va) for va in (code, USER_STACK_TOP - 0x1000)}
        text = lesson.symbol("__text_start")
        kernel = l2_entry(k.monitor, kernel_l1, text)
        g.cmd("delete")
    finally:
        g.close()
    m = k.expect(r"\[pid (\d+)\] exited with status (-?\d+)\r\n", what="hello's exit")
    out, pid, status = k.before, int(m[1]), int(m[2])
    k.expect_prompt()
    assert word in out and status == 0, out
    assert regs["CONTEXTIDR_S"] >> 8 == pid, \
        f"CONTEXTIDR 0x{regs['CONTEXTIDR_S']:08x} in pid {pid}'s syscall: PROCID should be {pid}"
    assert asid != 0 and asid not in live.values(), \
        f"pid {pid} runs with ASID {asid}; the live processes have {live}, the kernel 0"
    for va, (l1, pte) in user.items():
        assert pte is not None and pte & 2, f"0x{va:08x}: no small page (L1 0x{l1:08x})"
        assert pte & PTE_NG, f"user page 0x{va:08x} is global: its entry 0x{pte:08x} lacks nG"
    l1, pte = kernel
    glob = not (pte & PTE_NG) if pte is not None else not (l1 & PMD_NG)
    assert glob, f"kernel text 0x{text:08x} is marked not-global (L1 0x{l1:08x})"


@pytest.mark.points(0)     # checks code the starter hands out, but needs a program to run
def test_shell_cannot_unmap_the_processes_page_tables(kernel, rng):
    """The processes' L1 tables live in kernel_as at USER_L1_WINDOW: the shell's map
    and unmap refuse that megabyte (unmapping a live process's table made its kill
    panic in vmm_destroy), and the process still runs and dies cleanly."""
    window = 0xE0000000
    pid = int(re.search(r"\[pid (\d+)\]", kernel.cmd("run memcheck 7 1000000 &"))[1])
    for va in (window, window + rng.randrange(1, 256) * 0x1000):
        expected = (f"error: 0x{va:08x} is the processes' page tables' "
                    f"(0x{window:08x}-0x{window + 0xFFFFF:08x})")
        assert kernel.cmd(f"unmap {va:#x}") == expected
        assert kernel.cmd(f"map {va:#x}") == expected
    assert kernel.cmd(f"kill {pid}") == f"pid {pid} will be killed"
    assert kernel.cmd("wait", timeout=15, cpu=RUN_CPU).endswith(f"[pid {pid}] exited with status 137")
    word = "".join(rng.choice(string.ascii_lowercase) for _ in range(6))
    assert kernel.cmd(f"echo {word}") == word


@pytest.mark.points(0)     # checks code the starter hands out, but needs a program to run
def test_tpidrurw_belongs_to_its_process(kernel, rng):
    """User mode can write and read the thread ID register (TPIDRURW). A value one
    process leaves there must not be seen by the next (CVE-2014-9870 was that leak
    in Linux), and a process keeps its own across the switches of a sleep."""
    mine, other = rng.sample(range(1, 1 << 32), 2)
    pid = int(re.search(r"\[pid (\d+)\]",
                        kernel.cmd(f"run tls set {other:#x} 1000000 &"))[1])
    out, _, status = run(kernel, "tls get")
    assert out == "tls 0x00000000" and status == 0, \
        f"a new process reads another's TPIDRURW (0x{other:08x}):\n{out}"
    out, _, _ = run(kernel, f"tls set {mine:#x} {rng.randrange(2, 20)}")
    assert out == f"tls 0x{mine:08x}", f"its own 0x{mine:08x} did not survive a sleep:\n{out}"
    assert kernel.cmd(f"kill {pid}") == f"pid {pid} will be killed"
    assert kernel.cmd("wait", timeout=15, cpu=RUN_CPU).endswith(f"[pid {pid}] exited with status 137")


@pytest.mark.points(0)     # checks code the starter hands out, but needs a program to run
def test_a_process_may_kill_only_itself_and_its_children(kernel, rng):
    """`kill` from a program: another process that is not its child is refused with
    -EPERM (-1) and lives on, a pid nobody has gets -ESRCH (-3); the shell, the
    operator, may still kill it."""
    pid = int(re.search(r"\[pid (\d+)\]", kernel.cmd("run memcheck 5 1000000 &"))[1])
    nobody = rng.randrange(500, 1000)
    out, _, status = run(kernel, f"killer {pid} {nobody}")
    assert out.split("\n") == [f"kill {pid}: -1", f"kill {nobody}: -3"] and status == 0, out
    assert re.search(rf"^{pid}\s+memcheck\s+alive", kernel.cmd("procs"), re.M)
    assert kernel.cmd(f"kill {pid}") == f"pid {pid} will be killed"
    assert kernel.cmd("wait", timeout=15, cpu=RUN_CPU).endswith(f"[pid {pid}] exited with status 137")


@pytest.mark.points(0)     # checks code the starter hands out, but needs a program to run
def test_orphans_are_freed_when_they_exit(kernel, rng):
    """`orphans N MS` starts N children and exits without waiting: when they end,
    nobody will ever collect their status, so the kernel must free them. Four runs
    leave more orphans than the table has slots (16): every one must start, and
    afterwards `procs` lists nothing."""
    for _ in range(4):
        n = rng.randrange(4, 7)
        out, _, status = run(kernel, f"orphans {n} {rng.randrange(20, 200)}")
        assert out == f"orphans: {n} started" and status == 0, out
        kernel.cmd("sleep 400")                     # the orphans end meanwhile
        table = kernel.cmd("procs").split("\n")[1:-1]      # (the last: free ASIDs)
        assert not table, "exited orphans still hold slots:\n" + "\n".join(table)
    assert kernel.cmd("wait") == "error: no child processes"


# ---- what QEMU cannot show: the lint (harness/pios/lint.py, `make lint L=10`) ----------

@pytest.mark.points(2)
def test_lint_switch_sequence(lesson):
    """proc_switch_mm: DSB; CONTEXTIDR <- 0; ISB; TTBR0; ISB; CONTEXTIDR <- the new
    ASID; ISB; branch predictor invalidate; ISB. QEMU flushes its TLB on every
    CONTEXTIDR write, so any order runs there."""
    from pios import lint
    lint.check(lesson, "switch", as_of=LESSON)


@pytest.mark.points(2)
def test_lint_unmap_is_tagged_with_the_asid(lesson):
    """unmap_page's TLB invalidate carries the address space's ASID: a process's
    pages are non-global, and QEMU drops a page for every ASID alike."""
    from pios import lint
    lint.check(lesson, "unmap", as_of=LESSON)


@pytest.mark.points(1)
@pytest.mark.given
def test_lint_new_code_reaches_the_instruction_cache(lesson):
    """Before a program's thread exists: its code cleaned from the D-cache as it is
    copied, the I-cache invalidated as ARM1176 erratum 411920 requires (IRQs masked,
    four times), the branch predictor invalidated, an ISB. QEMU has no caches."""
    from pios import lint
    lint.check(lesson, "code-load", as_of=LESSON)


@pytest.mark.points(0)     # checks code the starter hands out, but needs a program to run
def test_no_process_inherits_an_exclusive_reservation(kernel, rng):
    """One process takes a reservation with LDREX and sleeps; another, at the same
    address in its own memory, does a STREX with no LDREX of its own. It must fail:
    the reservation belongs to the first process (the exclusive monitor is one per
    CPU, so the switch between them must clear it: CLREX). QEMU's monitor compares
    the address and the value, so the test writes the same random value in both."""
    value = rng.randrange(1 << 31)
    pid = int(re.search(r"\[pid (\d+)\]",
                        kernel.cmd(f"run excl hold {value} 1000000 &"))[1])
    out, _, status = run(kernel, f"excl steal {value}")
    assert out == "excl strex failed" and status == 0, \
        f"a STREX succeeded on another process's reservation:\n{out}"
    assert kernel.cmd(f"kill {pid}") == f"pid {pid} will be killed"
    assert kernel.cmd("wait", timeout=15, cpu=RUN_CPU).endswith(f"[pid {pid}] exited with status 137")


@pytest.mark.points(0)     # checks code the starter hands out, but needs a program to run
@pytest.mark.parametrize("kind,symbol", [("undef", "fault_udf"), ("thumb", "fault_thumb_udf"),
                                         ("vfp", "fault_vfp")])
def test_undefined_instruction_is_reported_at_its_address(kernel, lesson, kind, symbol):
    """The report names the undefined instruction itself, in ARM and in Thumb code:
    the CPU's return address is the instruction + 4 in ARM state but + 2 in Thumb
    state, so one subtraction for both is 2 bytes off for Thumb. A VFP instruction
    is undefined too: no process may use the VFP (CPACR = 0; QEMU's reset state
    already refuses it, so only a Pi whose boot loader enabled it would differ)."""
    import subprocess
    nm = subprocess.run(["arm-none-eabi-nm", str(lesson.build / "user" / "fault.elf")],
                        capture_output=True, text=True, check=True).stdout
    addr = int(re.search(rf"^([0-9a-f]+) T {symbol}$", nm, re.M)[1], 16) & ~1
    out, pid, status = run(kernel, f"fault {kind}")
    assert out == f"[pid {pid} fault] killed: undefined instruction at pc 0x{addr:08x}", out
    assert status == 132


@pytest.mark.points(0)     # checks code the starter hands out, but needs a program to run
def test_kill_ends_a_read_and_the_next_key_goes_to_the_shell(kernel, rng):
    """`getc kill MS` starts a child that blocks in read() (no key is typed), kills
    it after MS ms and waits for it: the kill must end the read at once (exit
    status 137), where a read that only a key could end kept the parent waiting
    for ever. Then the keys typed next all reach the shell."""
    ms = rng.randrange(20, 200)
    out, _, status = run(kernel, f"getc kill {ms}", timeout=15)
    lines = out.splitlines()
    assert re.fullmatch(r"getc: kill \d+ -> 0", lines[0]), out
    assert lines[-1] == "getc: wait -> 1, status 137" and status == 0, out
    word = "".join(rng.choice(string.ascii_lowercase) for _ in range(6))
    assert kernel.cmd(f"echo {word}") == word, "a key went to the killed reader"


@pytest.mark.points(1)
def test_kill_cuts_a_long_write_short(boot, rng):
    """`flood kill MS BYTES` starts a child that writes 1 MB in one write() and kills
    it after 1 to 3 ms: the write must stop at the next chunk (the child exits with
    137), not print the rest of its buffer. The reference prints some 25 KB per ms
    of guest time before the kill lands (up to 77 KB), more than a kernel may print
    elsewhere: this kernel may print a quarter of the megabyte (a write path three
    times leaner than the reference's still passes), and a little more is already a
    flood."""
    size = 1 << 20
    kernel = boot(log_limit=size // 4 + (16 << 10))
    kernel.read_boot()
    out, _, status = run(kernel, f"flood kill {rng.randrange(1, 4)} {size}", timeout=60)
    assert out.rstrip().endswith("flood: kill -> 0, status 137") and status == 0, out[-300:]
    printed = out.count("\n") * 64
    assert printed < size // 4, f"about {printed} bytes printed: the kill did not stop it"


def resources(kernel):
    """What the kernel holds: free frames plus the heap's pages (the heap grows by
    whole frames and keeps them), the heap's used bytes and blocks, the page-table
    counts, the free ASIDs."""
    pmm = re.search(r"free (\d+), allocated (\d+)", kernel.cmd("pmm"))
    heap = re.search(r"(\d+) pages; (\d+) bytes in (\d+) used blocks", kernel.cmd("heap"))
    asids = re.search(r"^free ASIDs: (\d+) of", kernel.cmd("procs"), re.M)
    return {"frames free + heap pages": int(pmm[1]) + int(heap[1]),
            "heap bytes used": int(heap[2]), "heap blocks used": int(heap[3]),
            "page tables": kernel.cmd("vmstat"), "free ASIDs": int(asids[1])}


@pytest.mark.points(0)     # checks code the starter hands out, but needs a program to run
def test_storms_leave_nothing_behind(kernel, rng):
    """10,000 random system calls from four fuzzers at once, a kill storm and an
    orphan storm: afterwards every frame, heap block, page table and ASID the
    kernel held before is back (a leak in any exit, kill or error path shows)."""
    run(kernel, "hello")        # the heap's first pages; one dead thread's stack
    before = resources(kernel)
    seeds = rng.sample(range(1, 1 << 31), 4)
    for seed in seeds:
        assert "started in the background" in kernel.cmd(f"run fuzz {seed} 2500 &")
    done = "".join(kernel.cmd("wait", timeout=60) for _ in seeds)    # (their output
    assert len(re.findall(r"\[pid \d+\] exited with status", done)) == len(seeds)  # is noise)
    pids = [int(re.search(r"\[pid (\d+)\]", kernel.cmd(f"run memcheck {rng.randrange(1, 99)} 1000000 &"))[1])
            for _ in range(8)]
    for pid in pids:
        assert kernel.cmd(f"kill {pid}") == f"pid {pid} will be killed"
    killed = "".join(kernel.cmd("wait", timeout=15, cpu=RUN_CPU) for _ in pids)
    assert killed.count("exited with status 137") == len(pids), killed
    for _ in range(3):
        run(kernel, f"orphans 6 {rng.randrange(20, 100)}")
    kernel.cmd("sleep 300")                          # the orphans end meanwhile
    run(kernel, "hello")        # as before: a new thread frees the dead ones' stacks
    assert resources(kernel) == before


@pytest.mark.points(1)
def test_a_program_cannot_forge_the_exit_report_or_drive_the_terminal(kernel, rng):
    """`exit S forge` prints a line that looks like the shell's exit report with
    status 0, then an escape sequence (clear screen) and a carriage return, and
    exits with S. The report that counts is the shell's, last; the escape and the
    carriage return reach the terminal as '?'."""
    status = rng.randrange(1, 100)
    out, pid, got = run(kernel, f"exit {status} forge")
    assert got == status, f"the forged report was believed: {got}"
    assert out == "[pid 1] exited with status 0\n?[2J?forged", repr(out)


@pytest.mark.points(0)     # checks code the starter hands out, but needs a program to run
def test_every_waiting_parent_is_woken(kernel, rng):
    """Three parents wait at once, on the one queue of exits: two background
    `pair`s, each for its two counters (the first pair's end sooner), and the shell
    for any child. When the first pair's counters end, wake_all() must wake every
    waiter, so that the first pair sees its children's exits and ends long before
    the second. Waking only the one at the head of the queue (the latest waiter)
    wakes the shell and the second pair, and leaves the first pair blocked until
    the second pair's children end.

    The whole sequence is typed at once, after a `busy 3` during which all of it
    arrives: typed a line at a time, the guest's clock would race ahead while the
    kernel idled between lines (some 180 s of its time per second), and the
    counters could end before the shell waited (1 run in 20 under load did).
    (3 ms of guest time, about 30 ms of the host's: the keys arrive in a few; a
    loop that reads the timer is the costliest thing a guest does, 0.27 s of QEMU's
    CPU for `busy 10`.)"""
    soon = rng.randrange(200, 400)
    late = soon + rng.randrange(300, 600)
    word = "".join(rng.choice(string.ascii_lowercase) for _ in range(8))
    lines = [f"run pair A B 1 {soon} &", f"run pair C D 1 {late} &", "sleep 50",
             "wait", "wait", f"echo {word}"]
    typed = "".join(line + "\r" for line in lines)
    for _ in range(3):
        kernel.send("busy 3\r" + typed)
        kernel.expect(rf"\r\n{word}\r\n", timeout=15, cpu=RUN_CPU,
                      what=f"the output of `echo {word}`, typed last (a `wait` that never "
                           "returns leaves it unread: a parent never woken?)")
        done = kernel.before
        kernel.expect_prompt()
        m = re.search(r"busy 3 ms: received \d+ bytes meanwhile, (\d+) buffered", done)
        assert m, f"busy 3: no report in:\n{done}"
        if int(m[1]) == len(typed):
            break
    else:
        raise AssertionError("three times, the input did not all arrive during `busy 3`: "
                             "the host is too loaded to measure")
    started = [int(p) for p in re.findall(r"\[pid (\d+)\] started in the background", done)]
    assert len(started) == 2, f"two pairs started in the background, got:\n{done}"
    first, second = started
    exits = [int(p) for p in re.findall(r"\[pid (\d+)\] exited with status 0", done)]
    assert done.count("pair: child") == 4 and sorted(exits) == sorted([first, second]), done
    assert exits == [first, second], \
        f"the pair whose counters ended first ended only after the other one:\n{done}"


@pytest.mark.points(0)     # a tool's check: it needs the lesson's mapping code to run
def test_pt_draws_each_process_table_with_its_asid(boot, lesson, rng):
    """The page-table view (`make pt L=10`) finds a live process's own L1 table
    through the kernel's mapping of the L1 window: its program's code page at
    0x10000 is a user page, non-global, and the table is drawn with the ASID that
    `procs` gives."""
    from pios import pagetable
    k = boot(monitor=True)
    k.read_boot()
    k.cmd(f"run memcheck {rng.randrange(1, 1 << 30)} 100000 &")
    procs = k.cmd("procs")
    pid, asid = re.search(r"^(\d+)\s+memcheck\s+alive\s+\d+\s+(\d+)", procs, re.M).groups()
    tables, marks_mb, marks_va, _ = pagetable.capture(k.monitor, lesson, procs)
    assert len(tables) == 2 and tables[1].title.startswith(f"pid {pid} memcheck, ASID {asid}")
    code = tables[1].l2[0][0x10]
    assert code.kind == "page" and code.ng and code.access == "kernel ro, user ro", code
    assert "nG" in pagetable.page("t", tables, marks_mb, marks_va)
