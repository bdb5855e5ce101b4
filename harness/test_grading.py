"""The grader, checked end to end (the whole course through it: test_course.py).

- Hostile and broken submissions get a clear note and a score, the grader never
  crashes, and the submission is never changed.
- The same submission gets the same score every time; a batch writes the class
  reports; the command line, the Gradescope bundle and partial credit work.
- The reference of the last lesson (the most files, user programs built by rules
  of its own) scores full marks through the grader.

Each case runs the real grader (a pytest run of its own on a fresh build tree), with
a test selection where the point is the pipeline rather than every test. The few
that take several seconds each (floods, stopping a grading, 60,000 junk files) are
marked `course`: `make test-course` runs them, `make test` does not.
"""

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import uuid
import zipfile
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parent
sys.path.insert(0, str(HARNESS))

from pios import grade as G                                  # noqa: E402
from grading.selfcheck import (LESSONS, ROOT, Zeros, by_test, copy_lesson,  # noqa: E402
                               edit, graded, own_tests, printed_at_boot,
                               semihosted_write)

WHOLE_COURSE = True     # not a lesson's behaviour: left out of `make test L=NN`


def test_last_lesson_reference_scores_full_marks(tmp_path):
    """Lesson 10 has the most sources and builds user programs by rules of its own:
    through the grader, the reference still gets every point of its own tests."""
    name = list(LESSONS)[-1]
    r = graded(name, LESSONS[name].path, tmp_path / "out", select=own_tests(name))
    failed = [t["name"] for t in r["tests"] if t["status"] != "passed"]
    assert r["score"] == r["max_score"] > 0, f"reference lost points: {failed}\n{r['notes']}"
    assert not r["notes"], r["notes"]


# ---- hostile and broken submissions ------------------------------------------------

TIMER = "05-timer"
TIMER_TESTS = own_tests(TIMER)
# One quick test: where the point is the pipeline (intake, notes, reports), not the
# kernel, grading every test of the lesson adds time and proves nothing more.
ONE_TEST = [str(HARNESS / "test_05_timer.py::test_uptime_is_monotonic_and_counts_ticks")]


def test_build_error_scores_zero_and_shows_the_compiler(tmp_path):
    sub = copy_lesson(TIMER, tmp_path / "s")
    edit(sub / "timer.c", "static void tick_irq(void *arg)\n{",
         "static void tick_irq(void *arg)\n{\n    this is not C;")
    r = graded(TIMER, sub, tmp_path / "out", select=TIMER_TESTS)
    assert r["score"] == 0 and r["max_score"] > 0
    assert "timer.c:" in r["build_output"] and "error" in r["build_output"]
    assert all(t["status"] == "not run" and "timer.c:" in t["output"] for t in r["tests"])
    assert "timer.c:" in json.loads((tmp_path / "out/results.json").read_text())["output"]


@pytest.mark.parametrize("how", ["hang", "crash-loop", "flood"])
def test_kernel_that_never_reaches_its_prompt(how, tmp_path):
    """Caught by the grader's first boot: every test fails at once with the reason,
    instead of each waiting for its own timeout."""
    sub = copy_lesson(TIMER, tmp_path / "s")
    bad = {"hang": "    for (;;)\n        ;\n",
           "crash-loop": "    ((void (*)(void))0)();   /* back to the reset vector */\n",
           "flood": "    for (;;)\n        kprintf(\"spam spam spam spam spam spam\\n\");\n"}[how]
    edit(sub / "kernel.c", '    kprintf("Type \'help\' for the commands.\\n");\n',
         '    kprintf("Type \'help\' for the commands.\\n");\n' + bad)
    r = graded(TIMER, sub, tmp_path / "out", select=TIMER_TESTS)
    assert r["score"] == 0
    assert all("did not boot" in t["output"] for t in r["tests"]), r["tests"][0]["output"]
    assert r["execution_time"] < 120
    if how == "flood":
        assert "output flood" in r["tests"][0]["output"]


def test_kernel_that_hangs_in_one_command_loses_only_that(tmp_path):
    """The spinning `sleep` fails (on its CPU budget, or on a very busy host its
    wall-clock timeout); the test that never types that command keeps its points."""
    sub = copy_lesson(TIMER, tmp_path / "s")
    edit(sub / "timer_cmds.c", "    wakeups = timer_sleep_us((u64)ms * 1000);",
         "    if (ms > 3000)\n        for (;;)\n            ;\n"
         "    wakeups = timer_sleep_us((u64)ms * 1000);")
    r = graded(TIMER, sub, tmp_path / "out", select=[
        str(HARNESS / "test_05_timer.py::test_sleep_waits_in_wfi"),
        str(HARNESS / "test_05_timer.py::test_uptime_is_monotonic_and_counts_ticks")])
    tests = by_test(r)
    hung = tests["test_05_timer::test_sleep_waits_in_wfi"]
    assert hung["score"] == 0
    assert "nothing matched" in hung["output"], hung["output"]
    assert tests["test_05_timer::test_uptime_is_monotonic_and_counts_ticks"]["status"] == "passed"
    assert set(r["timing"]) == {"intake", "build", "tests", "report"}
    assert r["timing"]["tests"]["cpu"] > 0.5, "the spin's CPU time is counted"


# ---- the CPU budget of a wait (pios.console): a spin ends early, nothing else does -----

def TIMEOUT_SCALE():
    from pios.console import TIMEOUT_SCALE as scale
    return scale


def _stand_in(tmp_path, program):
    """A Kernel whose "QEMU" is a Python program: it prints `program`'s output."""
    from pios.console import Kernel
    return Kernel([sys.executable, "-c", program], tmp_path / "serial.log")


def test_a_spinning_kernel_fails_on_its_cpu_budget(tmp_path):
    from pios.console import Kernel, KernelError
    k = _stand_in(tmp_path, "while True: pass")
    start = time.monotonic()
    try:
        with pytest.raises(KernelError, match=r"ran for 2\.\d s of CPU time \(this wait "
                           r"allows 2 s of CPU"):
            k.expect_exact("done", timeout=60)
    finally:
        k.close()
    # 2 s of CPU (a busy host stretches it, to 10 s or so with 5 programs per core),
    # where the wall-clock timeout is 60 s
    assert time.monotonic() - start < 60
    assert Kernel.cpu_budget(60) == Kernel.cpu_budget(10) == 2 and Kernel.cpu_budget(5) == 1


def test_a_wait_may_allow_less_cpu_than_its_timeout_would(tmp_path):
    """cpu=: a test whose answer needs little CPU (a lesson 10 program: at most 0.17 s)
    lets a spinning kernel fail after that much, whatever its wall-clock timeout."""
    from pios.console import KernelError
    k = _stand_in(tmp_path, "while True: pass")
    start = time.monotonic()
    try:
        with pytest.raises(KernelError, match=r"this wait allows 0\.5 s of CPU"):
            k.expect_exact("done", timeout=60, cpu=0.5)
    finally:
        k.close()
    assert time.monotonic() - start < 1.5 * TIMEOUT_SCALE()


def test_a_kernel_that_cannot_wake_fails_at_once(tmp_path):
    """A QEMU that runs not at all (every thread asleep, its CPU time the same) for
    IDLE_WINDOW holds a halted CPU that nothing will wake: the wait ends then."""
    from pios.console import IDLE_WINDOW, KernelError
    k = _stand_in(tmp_path, "import time; time.sleep(30)")
    start = time.monotonic()
    try:
        with pytest.raises(KernelError, match=r"QEMU has not run at all for 1 s"):
            k.expect_exact("done", timeout=15)
    finally:
        k.close()
    assert IDLE_WINDOW <= time.monotonic() - start < 5


def test_an_answer_printed_before_a_stalled_look_still_counts(tmp_path, monkeypatch):
    """On a loaded host this process may stall between reading QEMU's output and
    looking at its CPU time (or clock): a limit found blown after the stall must not
    fail an answer that QEMU printed during it. The stand-in prints at 0.1 s; the
    second look stalls 0.3 s and then reports the whole CPU budget used."""
    k = _stand_in(tmp_path, "import time; time.sleep(0.1); print('done', flush=True); "
                            "time.sleep(30)")
    looks = iter([0.0])

    def stalled_cpu():
        cpu = next(looks, None)
        if cpu is None:
            time.sleep(0.3)
            return 99.0
        return cpu
    monkeypatch.setattr(k, "cpu_seconds", stalled_cpu)
    try:
        k.expect_exact("done", timeout=5)
    finally:
        k.close()


def test_an_idle_kernel_fails_on_its_own_clock(tmp_path):
    """A kernel idling at its prompt (timer ticks, nothing else) lives through some
    180 s of its own time per second: a wait for an answer that never comes ends when
    the wait's timeout has passed on the guest's clock, in a fraction of a second,
    not after its CPU budget. A wait that allows more guest time (guest=) gets it."""
    from pios import qemu
    from pios.console import Kernel, KernelError
    k = Kernel(qemu.test_command(elf=LESSONS[TIMER].elf), tmp_path / "serial.log")
    try:
        k.read_boot()
        start = time.monotonic()
        with pytest.raises(KernelError, match=r"while \d+ s passed on the kernel's own "
                           r"clock \(the system timer; this wait allows 30 s\)"):
            k.expect_exact("never printed", timeout=30)
        assert time.monotonic() - start < 1.5
        k.send("sleep 200000\r")       # 200 s of guest time, allowed for
        k.expect(r"slept 200000 ms", timeout=10, guest=210)
        assert 200 <= k.clock.seconds() < 400
    finally:
        k.close()


@pytest.mark.parametrize("program", [
    # works hard, and answers within its budget (0.8 of 1 s of CPU)
    "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.8: pass\n"
    "print('done', flush=True)",
    # runs a little now and then for 2 s (a guest that works in short bursts): never
    # idle for a whole IDLE_WINDOW, and far from its CPU budget
    "import time\nend = time.monotonic() + 2\nwhile time.monotonic() < end:\n"
    "    t = time.process_time()\n    while time.process_time() - t < 0.03: pass\n"
    "    time.sleep(0.2)\nprint('done', flush=True)"], ids=["hard-worker", "bursts"])
def test_an_answer_within_the_budget_still_passes(program, tmp_path):
    k = _stand_in(tmp_path, program)
    try:
        k.expect_exact("done", timeout=5)
    finally:
        k.close()


@pytest.mark.course     # seconds: make test-course
def test_a_kernel_whose_interrupts_never_come_fails_each_test_at_once(tmp_path):
    """Lesson 05 with the IRQ enable banks swapped (a mutant): the UART's and the
    timer's interrupts never come, so the kernel boots to its prompt and sleeps
    there for good. Each test fails in about a second, not in its timeouts."""
    from grading.mutants import MUTANTS
    m = next(m for m in MUTANTS if m.name == "enable-banks-swapped")
    sub = copy_lesson(TIMER, tmp_path / "s")
    edit(sub / m.file, m.find, m.replace)
    r = graded(TIMER, sub, tmp_path / "out", select=TIMER_TESTS)
    assert r["score"] == 0
    assert all("QEMU has not run at all" in t["output"] for t in r["tests"]), \
        [t["output"][:300] for t in r["tests"] if "QEMU has not run" not in t["output"]]
    assert r["timing"]["tests"]["wall"] < 3 * len(r["tests"])


@pytest.mark.course     # a minute: make test-course
def test_a_kernel_hung_in_one_command_keeps_every_other_point(tmp_path):
    """Lesson 10's reference with `elfcheck` spinning: the one test that types it
    fails on its CPU budget, every other test scores what the reference does, the
    whole grading takes a fraction of the hung test's wall-clock timeouts, and a
    second grading gives every test the same score."""
    name = list(LESSONS)[-1]
    sub = copy_lesson(name, tmp_path / "s")
    src = next(f for f in sorted(sub.glob("*.c")) if "static int cmd_elfcheck(" in f.read_text())
    edit(src, "static int cmd_elfcheck(int argc, char **argv, const char *args)\n{",
         "static int cmd_elfcheck(int argc, char **argv, const char *args)\n{\n"
         "    for (;;)\n        ;")
    select = own_tests(name)
    runs = [graded(name, sub, tmp_path / f"out{i}", select=select, regression=False)
            for i in range(2)]
    ref = graded(name, LESSONS[name].path, tmp_path / "ref", select=select, regression=False)
    hung = "test_10_processes::test_elf_loader_checks_every_header_field"
    for r in runs:
        tests = by_test(r)
        assert tests[hung]["score"] == 0
        assert "of CPU time" in tests[hung]["output"], tests[hung]["output"]
        assert {n: t["score"] for n, t in tests.items() if n != hung} == \
            {n: t["score"] for n, t in by_test(ref).items() if n != hung}
        assert r["score"] == ref["score"] - by_test(ref)[hung]["points"] > 0
    assert [(t["name"], t["score"]) for t in runs[0]["tests"]] == \
        [(t["name"], t["score"]) for t in runs[1]["tests"]]


def test_kernel_that_prints_the_expected_text_without_the_work(tmp_path):
    """`sleep` answers with the README's example line and does not sleep: the tests'
    random lengths catch it."""
    sub = copy_lesson(TIMER, tmp_path / "s")
    edit(sub / "timer_cmds.c", "    wakeups = timer_sleep_us((u64)ms * 1000);",
         "    kprintf(\"slept 100 ms: 100000 us by the timer, 10 ticks, 11 wakeups\\n\");\n"
         "    return 0;\n    wakeups = timer_sleep_us((u64)ms * 1000);")
    names = ["test_random_sleeps_last_that_long", "test_sleep_waits_in_wfi"]
    r = graded(TIMER, sub, tmp_path / "out",
               select=[str(HARNESS / f"test_05_timer.py::{n}") for n in names])
    tests = by_test(r)
    for name in names:
        assert tests[f"test_05_timer::{name}"]["score"] == 0, name


def test_missing_huge_and_symlinked_sources_use_the_starter(tmp_path):
    sub = copy_lesson(TIMER, tmp_path / "s")
    (sub / "timer.c").unlink()                                   # missing
    (sub / "kernel.c").write_text("/* padding */\n" * 100000)    # 1.4 MB: refused
    secret = tmp_path / "outside.c"
    secret.write_text("int outside = 1;\n")
    (sub / "uart.c").unlink()
    (sub / "uart.c").symlink_to(secret)                          # symlink out
    r = graded(TIMER, sub, tmp_path / "out", select=TIMER_TESTS)
    notes = "\n".join(r["notes"])
    assert "timer.c: not in the submission" in notes
    assert "refused kernel.c" in notes and "limit" in notes
    assert "refused uart.c: a symbolic link" in notes
    # the starter's timer.c does no timing: the lesson's own tests fail, but it builds
    assert r["build_output"] and r["score"] < r["max_score"]
    assert all(t["status"] != "not run" for t in r["tests"])


def test_build_cannot_reach_outside_its_tree(tmp_path):
    """The submission's Makefiles are never run (and the report says they were
    ignored), and a source that includes a host file does not build: in the
    sandbox there is no such file."""
    sub = copy_lesson(TIMER, tmp_path / "s")
    victim = tmp_path / "victim"
    victim.mkdir()
    (sub / "Makefile").write_text(f"all:\n\ttouch {victim}/pwned\n")
    (sub / "evil.mk").write_text(f"$(shell touch {victim}/pwned-mk)\n")
    text = (sub / "timer.c").read_text()
    (sub / "timer.c").write_text('#include "/etc/passwd"\n' + text)
    r = graded(TIMER, sub, tmp_path / "out", select=ONE_TEST)
    assert list(victim.iterdir()) == []
    notes = "\n".join(r["notes"])
    assert "ignored Makefile: the grader builds with the course's own" in notes
    assert "ignored evil.mk" in notes
    assert "/etc/passwd: No such file or directory" in r["build_output"]
    assert r["score"] == 0


# Ways a source can make the compiler or assembler read a file, each pointed at a
# host file holding THE_HOST_SECRET (its line would appear in an error message).
TRICKS = {
    "include": ('c', '#include "{f}"\n'),
    "include-if-optimized": ('c', '#ifdef __OPTIMIZE__\n#include "{f}"\n#endif\n'),
    "macro": ('c', '#define P "{f}"\n#include P\n'),
    "digraph": ('c', '%:include "{f}"\n'),
    "splice": ('c', '#include \\\n"{f}"\n'),
    "has-include": ('c', '#if __has_include("{f}")\n#error THE_HOST_SECRET is there\n#endif\n'),
    "pragma-dependency": ('c', '#pragma GCC dependency "{f}"\n'),
    "_Pragma": ('c', '_Pragma("GCC dependency \\"{f}\\"")\n'),
    "line": ('c', '#line 1 "{f}"\n#error look at the line\n'),
    "inline-incbin": ('c', '__asm__(".section .rodata\\n.in" "cbin \\"{f}\\"\\n.text");\n'),
    "inline-include": ('c', '__asm__(".include \\"{f}\\"");\n'),
    "asm-include": ('S', '.include "{f}"\n'),
    "asm-macro": ('S', '.macro take a, b\n.\\a\\b "{f}"\n.endm\ntake inc, bin\n'),
    "asm-paste": ('S', '#define PASTE(a, b) a##b\nPASTE(.inc, bin) "{f}"\n'),
}


# These only ask whether the file is there: it changes whether the build works.
PROBES = {"pragma-dependency", "_Pragma"}


@pytest.mark.parametrize("trick", list(TRICKS))
def test_sandboxed_build_reads_nothing_of_the_host(trick, tmp_path):
    """The build command the grader runs, on a source using each trick against a
    host file outside /tmp (in the repository) and one in /tmp. Without the
    sandbox each trick does reach the file (its line is in the compiler's output or
    the object; a probe's build works); in it, the compiler finds neither, and
    nothing of either reaches its output or the object file."""
    lesson = copy_lesson(TIMER, tmp_path / "tree/lessons" / TIMER)
    shutil.copytree(ROOT / "common", tmp_path / "tree/common")
    outside = [tmp_path / "host-secret.h", ROOT / f"harness/logs/secret-{uuid.uuid4().hex}.h"]
    outside[1].parent.mkdir(exist_ok=True)
    kind, text = TRICKS[trick]
    try:
        for f in outside:
            f.write_text("THE_HOST_SECRET x;\n")
        for i, f in enumerate(outside):
            for sandboxed in (False, True):
                name = f"trick{i}{'s' if sandboxed else 'u'}"
                (lesson / f"{name}.{kind}").write_text(text.format(f=f))
                p = subprocess.run(G.make_command(lesson, sandboxed, f"build/{name}.o"),
                                   cwd=lesson, capture_output=True, text=True, timeout=60)
                seen = p.stdout + p.stderr
                obj = lesson / f"build/{name}.o"
                seen += obj.read_bytes().decode("latin-1") if obj.exists() else ""
                (lesson / f"{name}.{kind}").unlink()
                assert f"{name}.{kind}" in seen or p.returncode == 0, seen    # make ran it
                reached = p.returncode == 0 if trick in PROBES else \
                    "the_host_secret" in seen.lower()       # gas prints it in lower case
                assert reached != sandboxed, (f, sandboxed, seen)
    finally:
        outside[1].unlink()


@pytest.mark.course     # half a minute: make test-course
def test_a_hostile_class_leaks_nothing(tmp_path):
    """hostile_class.py's 29 cases (include tricks, .incbin, semihosting, its own
    Makefile, links, bombs, floods, ...) graded as a batch: each gets the score and
    the message it should (a refusal, a failed build, a flood stopped, ...),
    nothing of the host (a marked file in the repository, any line of /etc/passwd,
    the grading secret) reaches any report, and no case writes a host file. The
    control, its own file printed at boot, is found in its report: the search can
    find what it looks for."""
    from grading import hostile_class as H
    dest = tmp_path / f"hostile-{uuid.uuid4().hex[:8]}"
    secret = f"secret-{uuid.uuid4().hex}"
    try:
        H.write(LESSONS[TIMER], dest)
        G.grade_batch(ROOT, LESSONS[TIMER], dest, tmp_path / "grades", secret=secret,
                      select=ONE_TEST, echo=lambda *a, **k: None)
        rows, written, top = H.outcome(dest, tmp_path / "grades", secret)
    finally:
        shutil.rmtree(H.HOST_DIRS / dest.name, ignore_errors=True)
        if H.HOST_DIRS.is_dir() and not any(H.HOST_DIRS.iterdir()):
            H.HOST_DIRS.rmdir()
        shutil.rmtree(dest, ignore_errors=True)        # (60,000 junk files)
    assert len(rows) == len(H.EXPECT) and written == [] and top == set()
    leaks = {r["case"]: r["leaked"] for r in rows if r["leaked"]}
    assert leaks == {"control": {H.CONTROL}}, leaks
    wrong = [(r["case"], r["score"], r["says"]) for r in rows if not r["expected"]]
    assert not wrong, wrong


def _in_reports(out, marker):
    return [f.name for f in Path(out).rglob("*") if f.is_file()
            and marker in f.read_text(errors="replace")]


def test_no_host_file_reaches_a_report(tmp_path):
    """End to end, two ways to show a file: included when optimising (the include
    check once used other flags than the build), and embedded by inline asm and
    printed at boot. The channel works: a file of the tree printed at boot is in
    the reports. A host file never is. Without a sandbox, the include check (the
    build's own commands, its whole output read, however much #pragma message
    floods it) refuses both before building."""
    secret = ROOT / f"harness/logs/secret-{uuid.uuid4().hex}.txt"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text("THE_HOST_SECRET x;\n")
    flood = '#pragma message "' + "x" * 200 + '"\n'
    try:
        shown = copy_lesson(TIMER, tmp_path / "shown")          # the control
        (shown / "note.h").write_text("TREE_FILE_SHOWN\n")
        edit(shown / "kernel.c", *printed_at_boot("note.h"))
        r = graded(TIMER, shown, tmp_path / "out-shown", select=ONE_TEST)
        assert _in_reports(tmp_path / "out-shown", "TREE_FILE_SHOWN"), r["tests"][0]["output"]
        subs = {"include": copy_lesson(TIMER, tmp_path / "include"),
                "incbin": copy_lesson(TIMER, tmp_path / "incbin")}
        (subs["include"] / "timer.c").write_text(
            flood * 60 + f'#ifdef __OPTIMIZE__\n#include "{secret}"\n#endif\n' + flood * 60
            + (subs["include"] / "timer.c").read_text())
        edit(subs["incbin"] / "kernel.c", *printed_at_boot(secret))
        for how, sub in subs.items():
            for sandboxed in (True, False):
                out = tmp_path / f"out-{how}-{sandboxed}"
                r = graded(TIMER, sub, out, select=ONE_TEST, sandboxed=sandboxed)
                assert r["score"] == 0 and not _in_reports(out, "THE_HOST_SECRET"), (how, sandboxed)
                notes = "\n".join(r["notes"])
                if not sandboxed and how == "include":
                    assert f"timer.c: includes {secret}, outside the lesson" in notes, notes
                if not sandboxed and how == "incbin":
                    assert "kernel.c: uses the assembler's .incbin" in notes, notes
    finally:
        secret.unlink()


def test_reference_objects_are_reused_only_for_unchanged_inputs(tmp_path):
    """A batch builds the reference once and starts each submission's build with
    the objects whose inputs the submission did not change: the kernel is the one
    a clean build makes, and no object of a changed source or header is copied."""
    les = LESSONS[TIMER]
    ref = G.build_reference(ROOT, les, tmp_path / "ref")
    assert ref
    def tree_of(name, change=None):
        sub = copy_lesson(TIMER, tmp_path / f"sub-{name}")
        if change:
            change(sub)
        tree = tmp_path / f"tree-{name}"
        G.assemble(ROOT, les, sub, tree, les.path)
        return tree, tree / "lessons" / TIMER
    # a header that only a few files include changes: their objects are not copied
    tree, lesson = tree_of("header", lambda d: (d / "timer.h").write_text(
        (d / "timer.h").read_text() + "#define STUDENT_WAS_HERE 1\n"))
    users = {d.stem for d in (ref / f"lessons/{TIMER}/build").glob("*.d")
             if "timer.h" in d.read_text().split()}
    assert "timer" in users and G.reuse_reference_build(ref, les, tree) > 5
    copied = {o.stem for o in (lesson / "build").glob("*.o")}
    assert copied and not copied & users, copied & users
    ok, _ = G.build_tree(lesson, tmp_path, True)
    clean_tree, clean = tree_of("clean", lambda d: (d / "timer.h").write_text(
        (d / "timer.h").read_text() + "#define STUDENT_WAS_HERE 1\n"))
    assert ok and G.build_tree(clean, tmp_path, True)[0]
    assert (lesson / "build/kernel.img").read_bytes() == (clean / "build/kernel.img").read_bytes()
    # a header the reference does not have could hide a system header: nothing reused
    tree, lesson = tree_of("stdarg", lambda d: (d / "stdarg.h").write_text("/* mine */\n"))
    assert G.reuse_reference_build(ref, les, tree) == 0 and not (lesson / "build").exists()


def test_common_files_and_build_files_are_the_courses(tmp_path):
    """A header placed in the lesson folder with a common/ name, a changed copy of
    common/, a linker script: all ignored, each with a note; the kernel is built
    from the course's own and scores full marks."""
    repo = tmp_path / "repo"
    sub = copy_lesson(TIMER, repo / "lessons" / TIMER)
    shutil.copytree(ROOT / "common", repo / "common")
    (sub / "mmio.h").write_text("#error a lesson-folder mmio.h was used\n")
    (repo / "common/kstring.c").write_text("#error the submission's common/ was used\n")
    (repo / "common/format.h").write_text((ROOT / "common/format.h").read_text())  # same
    (sub / "kernel.ld").write_text("/* the student's own */\n")
    r = graded(TIMER, repo, tmp_path / "out", select=ONE_TEST)
    notes = "\n".join(r["notes"])
    assert f"ignored lessons/{TIMER}/mmio.h: the course's common/mmio.h is used" in notes
    assert "ignored common/kstring.c: the course's common/kstring.c is used" in notes
    assert f"ignored lessons/{TIMER}/kernel.ld: the grader builds with" in notes
    assert "format.h" not in notes                # the same as the course's: no note
    assert r["score"] == r["max_score"], notes


def test_file_names_cannot_reach_the_shell(tmp_path):
    """A file name is part of make's shell commands: odd names are refused."""
    sub = copy_lesson(TIMER, tmp_path / "s")
    (sub / "x;touch PWNED;.c").write_text("int x;\n")
    (sub / "-fplugin=evil.c").write_text("int y;\n")
    r = graded(TIMER, sub, tmp_path / "out", select=ONE_TEST, keep=True)
    try:
        assert not list(Path(r["workdir"]).rglob("PWNED"))
    finally:
        shutil.rmtree(r["workdir"])
    notes = "\n".join(r["notes"])
    assert notes.count("only letters, digits") == 2, notes
    assert r["score"] == r["max_score"]          # the rest of the submission is fine


@pytest.mark.course     # seconds each: make test-course
@pytest.mark.parametrize("newlines", [False, True])
def test_a_flood_costs_little_disk_and_memory(newlines, tmp_path):
    """A kernel that prints forever from a command many tests use: every report is
    bounded, the whole report folder stays under 3 MB, and no process of the
    grading grows past 400 MB."""
    import resource
    sub = copy_lesson(TIMER, tmp_path / "s")
    edit(sub / "timer_cmds.c", "    wakeups = timer_sleep_us((u64)ms * 1000);",
         "    for (;;)\n        kprintf(\"%s\", \"flood flood flood flood flood flood " +
         ("\\n" if newlines else "") + "\");\n    wakeups = timer_sleep_us((u64)ms * 1000);")
    r = graded(TIMER, sub, tmp_path / "out", select=TIMER_TESTS)
    flooded = [t for t in r["tests"] if "output flood" in t["output"]]
    assert flooded and r["score"] < r["max_score"]
    sizes = {f.name: f.stat().st_size for f in (tmp_path / "out").rglob("*") if f.is_file()}
    assert sum(sizes.values()) < 3 << 20, sizes
    for name in ("junit.xml", "results.json", "grade.json", "pytest.txt", "report.txt"):
        assert sizes[name] < 1 << 20, (name, sizes[name])
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 400 << 10   # KB


def test_budget_keeps_what_ran(tmp_path):
    """Stopped by its time budget, a submission keeps the points of the tests that
    finished, and the others say why they have none."""
    sub = copy_lesson(TIMER, tmp_path / "s")
    edit(sub / "timer_cmds.c", "    wakeups = timer_sleep_us((u64)ms * 1000);",
         "    for (;;)\n        ;\n    wakeups = timer_sleep_us((u64)ms * 1000);")
    r = graded(TIMER, sub, tmp_path / "out", budget=6,
               select=[str(HARNESS / "test_02_uart.py::test_echo_random_text"),
                       str(HARNESS / "test_05_timer.py")])
    tests = by_test(r)
    assert tests["test_02_uart::test_echo_random_text"]["status"] == "passed"
    assert any(t["status"] == "not run" and "time budget" in t["output"] for t in r["tests"])
    assert any("time budget" in n for n in r["notes"])


def test_archives_whole_trees_and_paths_out(tmp_path):
    """A .zip of the whole repository and a .tar.gz of the lesson folder grade like
    the folder; entries with absolute or ../ paths and symlinks are refused."""
    src = LESSONS[TIMER].path
    zpath = tmp_path / "alice.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for p in sorted(src.rglob("*")):
            if p.is_file() and "build" not in p.parts:
                z.write(p, f"piOS-main/lessons/{TIMER}/{p.relative_to(src)}")
        z.writestr("../escape.c", "int x;\n")
        z.writestr("/abs.c", "int y;\n")
    tpath = tmp_path / "bob.tar.gz"
    with tarfile.open(tpath, "w:gz") as t:
        for p in sorted(src.iterdir()):
            if p.is_file():
                t.add(p, f"{TIMER}/{p.name}")
        link = tarfile.TarInfo(f"{TIMER}/../../etc-link.c")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(link)
    notes = {}
    for archive in (zpath, tpath):
        r = graded(TIMER, archive, tmp_path / f"out-{archive.name}", select=ONE_TEST)
        assert r["score"] == r["max_score"], (archive.name, r["notes"])
        notes[archive.name] = "\n".join(r["notes"])
    assert "refused ../escape.c: the path leads outside" in notes["alice.zip"]
    assert "refused /abs.c: the path leads outside" in notes["alice.zip"]
    assert "etc-link.c: a symbolic link" in notes["bob.tar.gz"]
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    r = graded(TIMER, broken, tmp_path / "broken", select=ONE_TEST)
    assert r["score"] == 0 and "cannot be read" in r["notes"][0]


@pytest.mark.course     # seconds each: make test-course
def test_intake_takes_the_same_from_folders_and_archives(tmp_path):
    """What is not taken costs nothing but reading time: a 600 MB disk image beside
    the lesson in a .tar.gz, 60,000 junk files beside it in a folder; node_modules,
    .git and build are left out of archives as of folders."""
    src = LESSONS[TIMER].path
    lesson_files = sorted(p.name for p in src.iterdir()
                          if p.suffix in G.SOURCE_SUFFIXES or G.is_build_file(p.name))
    tgz = tmp_path / "big.tar.gz"
    with tarfile.open(tgz, "w:gz", compresslevel=1) as t:
        info = tarfile.TarInfo("repo/sdcard.img")
        info.size = 600 << 20
        t.addfile(info, Zeros(info.size))
        for p in sorted(src.iterdir()):
            if p.is_file():
                t.add(p, f"repo/{TIMER}/{p.name}")
        for pruned in ("node_modules/pkg", ".git/objects", "build"):
            data = b"int pruned;\n"
            member = tarfile.TarInfo(f"repo/{pruned}/x.c")
            member.size = len(data)
            t.addfile(member, io.BytesIO(data))
    folder = tmp_path / "folder"
    shutil.copytree(src, folder / TIMER, ignore=shutil.ignore_patterns("build"))
    junk = folder / "junk"
    junk.mkdir()
    for i in range(60000):
        (junk / f"{i}.txt").touch()
    for pruned in ("node_modules/pkg", ".git/objects", "build"):
        (folder / pruned).mkdir(parents=True)
        (folder / pruned / "x.c").write_text("int pruned;\n")
    for sub in (tgz, folder):
        dest = tmp_path / f"taken-{sub.name}"
        intake = G.take(sub, dest)
        assert intake.notes == [], intake.notes
        taken = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
        lesson_dir = "repo/" + TIMER if sub == tgz else TIMER
        assert taken == [f"{lesson_dir}/{n}" for n in lesson_files], taken


def test_no_lesson_folder_is_a_clear_zero(tmp_path):
    sub = tmp_path / "empty"
    (sub / "notes").mkdir(parents=True)
    (sub / "notes/todo.txt").write_text("I will do it tomorrow\n")
    r = graded(TIMER, sub, tmp_path / "out", select=TIMER_TESTS)
    assert r["score"] == 0 and "no lesson folder found" in r["notes"][0]


# ---- determinism and batches ------------------------------------------------------

def half_broken(tmp_path):
    sub = copy_lesson(TIMER, tmp_path / "half")
    edit(sub / "timer_cmds.c", "    wakeups = timer_sleep_us((u64)ms * 1000);",
         "    wakeups = timer_sleep_us((u64)ms * 1100);")
    return sub


def test_same_submission_same_score(tmp_path):
    sub = half_broken(tmp_path)
    select = ONE_TEST + [str(HARNESS / "test_05_timer.py::test_random_sleeps_last_that_long")]
    runs = [graded(TIMER, sub, tmp_path / f"out{i}", select=select) for i in range(3)]
    assert 0 < runs[0]["score"] < runs[0]["max_score"]
    assert len({r["seed"] for r in runs}) == 1
    assert [[(t["name"], t["score"]) for t in r["tests"]] for r in runs[1:]] == \
        [[(t["name"], t["score"]) for t in runs[0]["tests"]]] * 2


@pytest.mark.course
def test_no_regression_gives_the_same_score_faster(tmp_path):
    """The regression section earns 0 points, so leaving it out changes no score:
    a kernel that fails one of its own tests and breaks an earlier lesson's (its
    svc command reports in other words) scores the same either way, and the
    report says which."""
    sub = half_broken(tmp_path)
    edit(sub / "exceptions_cmds.c", "at pc 0x%08x, returned %u", "at pc 0x%08x, gave back %u")
    select = TIMER_TESTS + [str(HARNESS / "test_03_exceptions.py")]
    full = graded(TIMER, sub, tmp_path / "full", select=select)
    quick = graded(TIMER, sub, tmp_path / "quick", select=select, regression=False)
    assert full["regressions"] > 0 and 0 < full["score"] < full["max_score"]
    assert (quick["score"], quick["max_score"]) == (full["score"], full["max_score"])
    assert quick["regression_tests"] == 0 < full["regression_tests"]
    assert any("--no-regression" in n for n in quick["notes"])
    assert len(quick["tests"]) == len(full["tests"]) - full["regression_tests"]


def test_seed_depends_on_the_secret_and_the_submission(tmp_path):
    ref = LESSONS[TIMER].path
    sub = half_broken(tmp_path)
    assert G.seed_for(LESSONS[TIMER], ref, "a") == G.seed_for(LESSONS[TIMER], ref, "a")
    assert G.seed_for(LESSONS[TIMER], ref, "a") != G.seed_for(LESSONS[TIMER], ref, "b")
    assert G.seed_for(LESSONS[TIMER], ref, "a") != G.seed_for(LESSONS[TIMER], sub, "a")


def test_batch_grades_a_class(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copytree(LESSONS[TIMER].path, subs / "alice", ignore=shutil.ignore_patterns("build"))
    half_broken(tmp_path)
    shutil.copytree(tmp_path / "half", subs / "bob")
    with tarfile.open(subs / "carol.tar.gz", "w:gz") as t:
        t.add(tmp_path / "half", "work")
    (subs / "dave.zip").write_bytes(b"garbage")
    (subs / "class.csv").mkdir()                    # a name the class reports use
    shutil.copyfile(subs / "dave.zip", subs / "alice.zip")   # beside alice/: kept apart
    (subs / "eve").symlink_to(subs / "alice")       # a link: said, not graded
    (subs / ".hidden").mkdir()
    (subs / "notes.txt").write_text("not a submission\n")
    lines = []
    G.grade_batch(ROOT, LESSONS[TIMER], subs, tmp_path / "out", jobs=2,
                  select=ONE_TEST + [str(HARNESS / "test_05_timer.py::"
                                         "test_random_sleeps_last_that_long")],
                  echo=lambda *a, **k: lines.append(a[0]))
    skipped = [line for line in lines if line.startswith("skipped ")]
    assert sorted(skipped) == ["skipped .hidden: a hidden name",
                               "skipped eve: a symbolic link (copy the submission in instead)",
                               "skipped notes.txt: neither a folder nor a .zip / .tar.gz archive"]
    graded_lines = [line for line in lines if line not in skipped]
    assert len(graded_lines) == 6 and all("/6]" in line for line in graded_lines), lines
    rows = (tmp_path / "out/class.csv").read_text().splitlines()
    assert rows[0].startswith("student,score,max_score,percent,regressions,test_05_timer::")
    got = {r.split(",")[0]: r.split(",")[3] for r in rows[1:]}
    assert got["alice"] == "100.0" and got["dave"] == "0.0" and got["class.csv"] == "0.0"
    assert got["alice.zip"] == "0.0"
    assert got["bob"] == got["carol"] and 0 < float(got["bob"]) < 100
    summary = json.loads((tmp_path / "out/summary.json").read_text())
    assert summary["submissions"] == 6 and sum(summary["distribution"].values()) == 6
    for name in ("alice", "alice.zip", "bob", "carol", "dave", "class.csv"):
        assert (tmp_path / "out/students" / name / "results.json").exists()


def test_command_line_grades_and_prints_a_table(tmp_path):
    """An instructor's grading needs the secret; without it the grader stops and
    says how to set it, or how a student self-checks (--practice). Practice and
    graded runs never share a seed, and the report says which it was."""
    cmd = [sys.executable, str(HARNESS / "tools/pios-grade"), "05", str(half_broken(tmp_path)),
           "--only", "test_05_timer.py"]
    env = {k: v for k, v in os.environ.items() if k != G.SECRET_ENV}
    p = subprocess.run(cmd + ["--out", str(tmp_path / "none")], capture_output=True,
                       text=True, timeout=60, env=env)
    assert p.returncode == 2 and "no grading secret" in p.stderr and "--practice" in p.stderr
    assert not (tmp_path / "none").exists()
    seeds = {}
    for mode, extra, e in (("practice", ["--practice"], env),
                           ("graded", [], dict(env, **{G.SECRET_ENV: "s3cret"}))):
        out = tmp_path / mode
        p = subprocess.run(cmd + extra + ["--out", str(out)], capture_output=True, text=True,
                           timeout=600, env=e)
        assert p.returncode == 0, p.stderr
        assert "TOTAL" in p.stdout and "test_05_timer::test_random_sleeps_last_that_long" in p.stdout
        assert f"({mode})" in p.stdout.splitlines()[0]
        seeds[mode] = json.loads((out / "grade.json").read_text())["seed"]
        report = (out / "report.txt").read_text()
        assert "serial log" in report            # what a student needs to fix a failure
        logs = [line.split("full log: ")[1].split(")")[0] for line in report.splitlines()
                if "full log: " in line]
        assert logs and all((out / log).is_file() for log in logs), logs   # kept, not dangling
    assert seeds["practice"] % 2 == 1 and seeds["graded"] % 2 == 0
    assert "practice mode" in (tmp_path / "practice/results.json").read_text()
    # --only names a harness file; one that is not there is an error, not 0 of 0
    p = subprocess.run(cmd[:-1] + ["test_05_timers.py", "--practice"], capture_output=True,
                       text=True, timeout=60, env=env)
    assert p.returncode == 2 and "no such test file" in p.stderr, p.stderr


def test_no_sandbox_no_grading_unless_told(tmp_path, monkeypatch, capsys):
    """Where bubblewrap cannot run, an instructor's grading stops and says why;
    --unsandboxed grades (and the report says so); a practice run goes on."""
    monkeypatch.setattr(G.sandbox, "problem", lambda: "bubblewrap is not installed")
    sub = str(copy_lesson("02-uart", tmp_path / "s"))
    args = ["02", sub, "--only", "test_01_boot.py"]
    monkeypatch.setenv(G.SECRET_ENV, "s")
    assert G.main(args + ["--out", str(tmp_path / "refused")]) == 2
    assert "cannot sandbox the students' builds: bubblewrap is not installed" in \
        capsys.readouterr().err
    assert not (tmp_path / "refused").exists()
    assert G.main(args + ["--out", str(tmp_path / "uns"), "--unsandboxed"]) == 0
    r = json.loads((tmp_path / "uns/grade.json").read_text())
    assert r["score"] == r["max_score"] and "without a sandbox (--unsandboxed)" in r["notes"][0]
    monkeypatch.delenv(G.SECRET_ENV)
    assert G.main(args + ["--out", str(tmp_path / "practice"), "--practice"]) == 0
    assert "practice mode without a sandbox" in capsys.readouterr().err


def test_no_sandboxed_qemu_outlives_its_kernel(tmp_path, monkeypatch):
    """bwrap runs QEMU in a session and a PID namespace of its own, where killing
    bwrap alone could leave QEMU running (a hung kernel spinning for ever): closed
    at any moment after it starts, a sandboxed kernel leaves no process behind."""
    from pios import qemu
    from pios.console import Kernel
    elf = tmp_path / "kernel.elf"
    shutil.copyfile(LESSONS[TIMER].elf, elf)
    monkeypatch.setenv("PIOS_SANDBOX", "bwrap")
    for i in range(12):
        k = Kernel(qemu.test_command(elf=elf), tmp_path / f"{i}.log")
        time.sleep([0.0, 0.002, 0.01, 0.1][i % 4])
        k.close()
    time.sleep(0.2)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(elf) not in ps, [line for line in ps.splitlines() if str(elf) in line]


def _grader(args, tmp_path):
    """pios-grade as a process of its own, its temporary folders in tmp_path/tmp."""
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"), **{G.SECRET_ENV: "s"})
    return subprocess.Popen([sys.executable, str(HARNESS / "tools/pios-grade"), "05", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)


def _wait_for(cond, seconds=60):
    deadline = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _nothing_left(tmp_path):
    """No grading folder and no QEMU of this test's gradings left behind."""
    assert list((tmp_path / "tmp").iterdir()) == []
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(tmp_path) not in ps, [line for line in ps.splitlines() if str(tmp_path) in line]


def hanging(tmp_path, name="hang"):
    """A lesson 05 whose every sleep hangs: each sleep test waits out its timeout."""
    sub = copy_lesson(TIMER, tmp_path / name)
    edit(sub / "timer_cmds.c", "    wakeups = timer_sleep_us((u64)ms * 1000);",
         "    for (;;)\n        ;\n    wakeups = timer_sleep_us((u64)ms * 1000);")
    return sub


@pytest.mark.course     # seconds each: make test-course
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_grading_leaves_nothing_behind(sig, tmp_path):
    p = _grader([str(hanging(tmp_path)), "--out", str(tmp_path / "out"), "--only",
                 "test_05_timer.py"], tmp_path)
    _wait_for(lambda: list((tmp_path / "tmp").glob("pios-grade-*/logs/05-timer/*.log")))
    p.send_signal(sig)
    out, _ = p.communicate(timeout=30)
    assert p.returncode == 130 and "stopped" in out, out
    _nothing_left(tmp_path)


@pytest.mark.course     # seconds each: make test-course
def test_ctrl_c_stops_a_batch_and_reports_what_was_graded(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    copy_lesson(TIMER, subs / "alice")
    for name in ("bob", "carol", "dave"):
        hanging(subs, name)
    p = _grader(["--batch", str(subs), "--out", str(tmp_path / "out"), "--jobs", "1",
                 "--only", "test_05_timer.py"], tmp_path)
    first = p.stdout.readline()
    assert first.startswith("[1/4] alice"), first
    _wait_for(lambda: list((tmp_path / "tmp").glob("pios-grade-*/logs/05-timer/*.log")))
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=30)
    assert p.returncode == 130 and "stopped: 1 of 4 graded" in out, out
    rows = (tmp_path / "out/class.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["alice"]
    summary = json.loads((tmp_path / "out/summary.json").read_text())
    assert summary["stopped"] and summary["not_graded"] == 3
    _nothing_left(tmp_path)


def test_report_ends_with_the_review_list_at_the_students_lines(tmp_path):
    """What QEMU cannot check is listed for a TA, at the function in the student's
    own file: moved down 5 lines, it is found there; renamed, it is said missing."""
    sub = copy_lesson(TIMER, tmp_path / TIMER)
    timer = sub / "timer.c"
    text = timer.read_text()
    edit(timer, "static void tick_irq(void *arg)\n",
         "/* a\n * student's\n * long\n * comment\n */\nstatic void tick_irq(void *arg)\n")
    line = text.split("\n").index("static void tick_irq(void *arg)") + 1 + 5
    edit(timer, "static void run_expired(void)\n", "static void expire_timers(void)\n")
    text = timer.read_text().replace("run_expired()", "expire_timers()")
    timer.write_text(text)
    r = graded(TIMER, sub, tmp_path / "out", select=ONE_TEST)
    assert r["score"] == r["max_score"]
    where = [w for w, _ in r["review"]]
    assert f"lessons/{TIMER}/timer.c:{line} tick_irq()" in where, where
    assert f"lessons/{TIMER}/timer.c run_expired() (not found)" in where, where
    report = (tmp_path / "out/report.txt").read_text()
    assert report.index("review by hand") > report.index("TOTAL")
    assert f"timer.c:{line} tick_irq(): the match is acknowledged" in report
    assert "review by hand" in json.loads((tmp_path / "out/results.json").read_text())["output"]


def test_gradescope_bundle_grades_like_gradescope(tmp_path):
    """Unpack the bundle as Gradescope does (/autograder/source), put a submission
    in /autograder/submission, run run_autograder: results.json appears, full marks."""
    bundle = tmp_path / "ag.zip"
    subprocess.run([sys.executable, str(HARNESS / "tools/pios-gradescope"), "02", str(bundle)],
                   check=True, capture_output=True, timeout=120)
    ag = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as z:
        z.extractall(ag / "source")
        for info in z.infolist():            # extractall drops the executable bits
            if info.external_attr >> 16 & 0o111:
                os.chmod(ag / "source" / info.filename, 0o755)
    for name in ("setup.sh", "run_autograder"):
        assert os.access(ag / "source" / name, os.X_OK), name
    env = dict(os.environ, AUTOGRADER=str(ag))
    env.pop(G.SECRET_ENV, None)                 # the bundle brings its own
    # Gradescope runs setup.sh once: here everything is installed, so it installs
    # nothing, and it checks that the sandbox runs
    p = subprocess.run([str(ag / "source/setup.sh")], capture_output=True, text=True,
                       timeout=600, env=env)
    assert p.returncode == 0 and "the sandbox works here" in p.stdout, p.stdout + p.stderr
    assert "apt-get" not in p.stdout + p.stderr
    shutil.copytree(LESSONS["02-uart"].path, ag / "submission",
                    ignore=shutil.ignore_patterns("build"))
    p = subprocess.run([str(ag / "source/run_autograder")], capture_output=True, text=True,
                       timeout=600, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert os.stat(ag / "source/run_autograder").st_mode & 0o077 == 0   # holds the secret
    res = json.loads((ag / "results/results.json").read_text())
    assert "practice mode" not in res["output"]
    lost = [(t["name"], t["output"][:1500]) for t in res["tests"] if t["score"] < t["max_score"]]
    assert res["score"] == sum(t["max_score"] for t in res["tests"]) > 0, (res["output"], lost)
    hidden = [t for t in res["tests"] if "hidden" in t["name"]]
    assert hidden and all(t["visibility"] == "after_published" and t["max_score"] > 0
                          for t in hidden), hidden
    assert all(t["visibility"] == "visible" for t in res["tests"] if t not in hidden)


def test_gradescope_bundle_without_a_sandbox_says_so(tmp_path):
    """For an image where bubblewrap cannot run: the bundle grades --unsandboxed and
    setup.sh does not ask for a sandbox; the default bundle does both the other way."""
    texts = {}
    for how, extra in (("sandboxed", []), ("unsandboxed", ["--unsandboxed"])):
        bundle = tmp_path / f"{how}.zip"
        subprocess.run([sys.executable, str(HARNESS / "tools/pios-gradescope"), *extra, "02",
                        str(bundle)], check=True, capture_output=True, timeout=120)
        with zipfile.ZipFile(bundle) as z:
            texts[how] = {n: z.read(n).decode() for n in ("setup.sh", "run_autograder")}
            names = z.namelist()
        # the grader's hidden tests go in (students never see the bundle); mutants do not
        assert "harness/grading/hidden/test_02_hidden.py" in names
        assert "harness/grading/mutants.py" not in names
    assert "--check-sandbox" in texts["sandboxed"]["setup.sh"]
    assert "--unsandboxed" not in texts["sandboxed"]["run_autograder"]
    assert "--check-sandbox" not in texts["unsandboxed"]["setup.sh"]
    assert '--out "$out" --unsandboxed' in texts["unsandboxed"]["run_autograder"]
    for t in texts.values():
        assert "@" not in t["setup.sh"] + t["run_autograder"]     # every slot filled


def test_points_and_partial_credit(tmp_path):
    """The points marker and the credit fixture, in a pytest run of their own."""
    (tmp_path / "test_demo.py").write_text(
        "import pytest\n"
        "@pytest.mark.points(4)\n"
        "def test_three_of_four(credit):\n"
        "    for i in range(4):\n"
        "        assert i < 3, 'the fourth check fails'\n"
        "        credit.part(i + 1, 4)\n"
        "@pytest.mark.points(2)\n"
        "def test_passes():\n"
        "    pass\n"
        "def test_default_points_failing():\n"
        "    assert 1 == 2\n")
    out = tmp_path / "r.json"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "pios.grading", "-p",
                    "no:cacheprovider", f"--results={out}", str(tmp_path / "test_demo.py")],
                   cwd=tmp_path, capture_output=True, timeout=120,
                   env=dict(os.environ, PYTHONPATH=str(HARNESS)))
    got = {t["name"].split("::")[1]: (t["score"], t["points"], t["status"])
           for t in json.loads(out.read_text())["tests"]}
    assert got == {"test_three_of_four": (3.0, 4, "failed"), "test_passes": (2, 2, "passed"),
                   "test_default_points_failing": (0.0, 1, "failed")}
    assert "the fourth check fails" in json.loads(out.read_text())["tests"][0]["output"]


def test_kernel_cannot_write_host_files_through_semihosting(tmp_path):
    """Semihosting's SYS_OPEN/SYS_WRITE would reach the host's files; the harness's
    QEMU refuses them (docs/qemu.md) while the exit call still works."""
    victim = tmp_path / "semihosted"
    sub = copy_lesson(TIMER, tmp_path / "s")
    edit(sub / "kernel.c", *semihosted_write(victim))
    # without the sandbox (it would hide tmp_path anyway): QEMU's own setting is tested
    r = graded(TIMER, sub, tmp_path / "out", sandboxed=False,
               select=[str(HARNESS / "test_02_uart.py::test_halt_exits_with_status_0")])
    assert not victim.exists(), "the guest wrote a host file through semihosting"
    tests = by_test(r)
    assert tests["test_02_uart::test_halt_exits_with_status_0"]["status"] == "passed"
