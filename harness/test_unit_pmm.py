"""Host-side unit test of lesson 06's page-frame allocator (pmm.c), compiled with the
host gcc, AddressSanitizer and UBSan, no QEMU:

- harness/unit/pmm_check.c drives pmm.c with random operations (init with random RAM
  sizes and bases, reserves, single frames, aligned runs, valid and bogus frees,
  exhaustion) and checks every answer against a model of its own (the top of
  pmm_check.c says exactly what it generates and checks);
- deliberately broken copies of pmm.c (a double free accepted, alignment ignored, ...)
  must make it fail, so the checker is known to be able to fail.

pmm.c is compiled unchanged, from a copy in a directory of its own: its
`#include "kprintf.h"` and `"shell.h"` then find the host stand-ins in
harness/unit/stubs/ before the lesson's own headers (a quoted include looks in the
including file's directory first, whatever -I says). Every selected lesson from 06 on
that has a pmm.c is checked.
"""

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

LESSON = 6
pytestmark = pytest.mark.host

UNIT = Path(__file__).parent / "unit"
STUBS = UNIT / "stubs"
STEPS = 60000           # random operations per run (exhaustions add more): ~1-3 s
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g", "-O1",
            "-Wall", "-Wextra", "-Werror", "-std=gnu11"]
# common/kstring.c's memset, memcpy, ... keep the standard names for the kernel's sake;
# on the host they would replace the C library's (and ASan's interceptors). pmm.c needs
# kstring.c only for parse_u32 (its shell commands): compile kstring.c alone with each
# of the others renamed, as test_unit_format.py does.
KSTRING_RENAMES = ["memset", "memcpy", "memmove", "memcmp", "strlen", "strcmp",
                   "strncmp", "strchr", "strlcpy"]


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          errors="replace", timeout=120, **kw)


def pmm_lessons(config):
    return [l for l in config.pios_lessons
            if l.number >= LESSON and (l.path / "pmm.c").is_file()]


def pytest_generate_tests(metafunc):
    """`pmm_lesson`: each selected lesson with a pmm.c (not built: no kernel needed).
    The broken copies test the checker, not a lesson: one lesson is enough."""
    if "pmm_lesson" in metafunc.fixturenames:
        chosen = pmm_lessons(metafunc.config)
        if "mutant" in metafunc.fixturenames:
            chosen = chosen[:1]
        metafunc.parametrize("pmm_lesson", chosen, ids=[l.name for l in chosen])


@pytest.fixture(scope="session")
def root(request):
    return request.config.pios_root


@pytest.fixture(scope="session")
def kstring_o(root, tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.fail("the host unit tests need gcc: apt-get install gcc", pytrace=False)
    common = root / "common"
    obj = tmp_path_factory.mktemp("pmm_kstring") / "kstring.o"
    r = run(["gcc", *SANITIZE, "-fno-builtin", "-I", common,
             *[f"-D{n}=kstring_{n}" for n in KSTRING_RENAMES],
             "-c", common / "kstring.c", "-o", obj])
    if r.returncode != 0:
        pytest.fail(f"compiling common/kstring.c for the host failed:\n{r.stderr}",
                    pytrace=False)
    return obj


def build_pmm_check(out_dir, pmm_source, lesson_dir, root, kstring_o, what):
    """pmm_check linked with `pmm_source` (the text of a pmm.c) copied into out_dir.
    A #line directive makes compiler and sanitizer messages name the lesson's file
    and its line numbers, not the copy's."""
    src = out_dir / "src"
    src.mkdir(parents=True, exist_ok=True)
    origin = str(lesson_dir / "pmm.c").replace("\\", "\\\\").replace('"', '\\"')
    (src / "pmm.c").write_text(f'#line 1 "{origin}"\n' + pmm_source)
    exe = out_dir / "pmm_check"
    r = run(["gcc", *SANITIZE, "-I", STUBS, "-I", lesson_dir, "-I", root / "common",
             src / "pmm.c", UNIT / "pmm_check.c", kstring_o, "-o", exe])
    if r.returncode != 0:
        pytest.fail(f"compiling {what} for the host (with harness/unit/pmm_check.c and "
                    f"the stubs in harness/unit/stubs/) failed:\n{r.stdout}{r.stderr}",
                    pytrace=False)
    return exe


def check_output(r):
    return (f"pmm_check exited {r.returncode}\n--- stdout ---\n{r.stdout[-6000:]}"
            f"\n--- stderr ---\n{r.stderr[-6000:]}")


# Every outcome the random operations must have produced in a run, or it proves little.
COVERAGE = ["alloc_ok", "alloc_empty", "run_ok", "run_nofit", "run_invalid", "free_ok",
            "err_unaligned", "err_not_ram", "err_reserved", "err_not_allocated",
            "err_count", "exhaustions", "reserves", "clipped", "nonzero_base"]


@pytest.fixture(scope="session")
def reference_runs(root, kstring_o, tmp_path_factory, request):
    """pmm_check on a lesson's own pmm.c, run once per session for each distinct
    pmm.c/pmm.h (lessons 07+ carry lesson 06's forward unchanged). The seed comes from
    the session seed alone, so --seed repeats the same operations (also after an edit
    of pmm.c, to check a fix), and the broken copies below are run with the same seed:
    then only the broken line differs between the two runs."""
    cache = {}

    def get(lesson):
        key = hashlib.sha256((lesson.path / "pmm.c").read_bytes() + b"\0" +
                             (lesson.path / "pmm.h").read_bytes()).hexdigest()
        if key not in cache:
            exe = build_pmm_check(tmp_path_factory.mktemp(f"pmm_{lesson.name}"),
                                  (lesson.path / "pmm.c").read_text(), lesson.path, root,
                                  kstring_o, f"lessons/{lesson.name}/pmm.c")
            digest = hashlib.sha256(f"{request.config.pios_seed}:pmm_check".encode())
            seed = int.from_bytes(digest.digest()[:8], "big") >> 1
            cache[key] = (exe, seed, run([exe, seed, STEPS]))
        return cache[key]

    return get


def passed(r):
    return r.returncode == 0 and "rounds OK" in r.stdout


def test_pmm_matches_its_model(pmm_lesson, reference_runs, request):
    exe, seed, r = reference_runs(pmm_lesson)
    if not passed(r):
        pytest.fail(f"lessons/{pmm_lesson.name}/pmm.c does not behave as pmm.h says "
                    f"(rerun: {exe} {seed} {STEPS}; or the whole test with --seed "
                    f"{request.config.pios_seed}):\n" + check_output(r), pytrace=False)
    m = re.search(r"^coverage: (.*)$", r.stdout, re.M)
    assert m, f"pmm_check printed no coverage line:\n{r.stdout[-2000:]}"
    counts = {k: int(v) for k, v in re.findall(r"(\w+) (\d+)", m[1])}
    missing = [k for k in COVERAGE if counts.get(k, 0) == 0]
    assert not missing, (f"pmm_check's random operations never produced {missing} "
                         f"(seed {seed}): the run proves too little. {m[0]}")


# Deliberately broken copies of pmm.c: each edit must make pmm_check fail with the
# given sign in its output (a regular expression), or the checker could not catch
# that bug either. (old, new, sign)
MUTANTS = {
    "double free accepted": (
        "        if (!test_bit(used, i))\n"
        "            return PMM_ERR_NOT_ALLOCATED;\n",
        "",
        r"returned PMM_OK, expected PMM_ERR_NOT_ALLOCATED"),
    "reserved frames freeable": (
        "        if (test_bit(reserved, i))\n"
        "            return PMM_ERR_RESERVED;\n",
        "",
        r"returned PMM_OK, expected PMM_ERR_RESERVED"),
    "alignment ignored": (
        "    step = align / PAGE_SIZE;\n",
        "    step = 1;\n    align = PAGE_SIZE;\n",
        r"not aligned to"),
    "last partial bitmap word never searched (off by one at the end of RAM)": (
        "u32 words = (nframes + BITS_PER_WORD - 1) / BITS_PER_WORD;",
        "u32 words = nframes / BITS_PER_WORD;",
        r"pmm_alloc\(\) returned 0(,| after)"),
    "frame after the end of RAM left free (off by one at the end of RAM)": (
        "for (u32 i = nframes; i < PMM_MAX_FRAMES; i++)",
        "for (u32 i = nframes + 1; i < PMM_MAX_FRAMES; i++)",
        r"not inside RAM|but no frame is free|but only \d+ were free"),
    "nfree not updated": (
        "            nfree--;\n            next_word = w;\n",
        "            next_word = w;\n",
        r"pmm_stats\(\) says"),
    "next fit never wraps around": (
        "    for (u32 n = 0; n < words; n++) {\n"
        "        u32 w = (next_word + n) % words;\n",
        "    for (u32 w = next_word; w < words; w++) {\n",
        r"pmm_alloc\(\) returned 0(,| after)"),
    "a refused free half-happens": (
        "            return PMM_ERR_NOT_ALLOCATED;\n"
        "    }\n"
        "    for (u32 i = first; i < first + count; i++)\n"
        "        clear_bit(used, i);\n"
        "    nfree += count;\n",
        "            return PMM_ERR_NOT_ALLOCATED;\n"
        "        clear_bit(used, i);\n"
        "        nfree++;\n"
        "    }\n",
        r"MISMATCH"),
}


@pytest.mark.parametrize("mutant", list(MUTANTS))
def test_checker_catches_a_broken_pmm_c(mutant, pmm_lesson, root, kstring_o,
                                        reference_runs, tmp_path):
    old, new, sign = MUTANTS[mutant]
    source = (pmm_lesson.path / "pmm.c").read_text()
    assert source.count(old) == 1, (
        f"this test breaks lessons/{pmm_lesson.name}/pmm.c by replacing\n{old}\nwith\n"
        f"{new}\nbut that code is no longer in pmm.c: update MUTANTS in "
        "harness/test_unit_pmm.py to a similar edit of the current code")
    _, seed, ref = reference_runs(pmm_lesson)
    if not passed(ref):
        pytest.skip(f"lessons/{pmm_lesson.name}/pmm.c itself fails pmm_check with this "
                    "seed (test_pmm_matches_its_model says why): a broken copy of it "
                    "proves nothing about the checker")
    exe = build_pmm_check(tmp_path, source.replace(old, new), pmm_lesson.path, root,
                          kstring_o, f"a broken copy of lessons/{pmm_lesson.name}/pmm.c")
    r = run([exe, seed, STEPS])
    if r.returncode == 0 or not re.search(sign, r.stdout):
        pytest.fail(f"pmm_check did not notice a pmm.c with {mutant} (expected "
                    f"'{sign}' in its output; rerun: {exe} {seed} {STEPS}): it cannot "
                    "be trusted to catch a real bug.\n" + check_output(r), pytrace=False)
