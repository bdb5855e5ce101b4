"""The grader: one submission, or a folder of them, scored by the course's tests.

    pios-grade L SUB [--out DIR]            one submission (folder, .zip, .tar.gz)
    pios-grade L --batch DIR [--out DIR]    every submission in DIR, in parallel

PIOS_GRADE_SECRET must be set (it seeds the tests' values), or --practice given.
What happens to a submission (it is only ever read, never changed):

1. Its sources (*.c, *.S, *.h) are copied (folders) or unpacked (archives) into a
   fresh temporary folder: regular files with plain names only, no symlinks, no
   paths outside the folder, caps on what is taken; its build files too, only
   to say they are ignored.
2. The lesson folder is found in it: lessons/NN-name, a folder named NN-name, or
   the folder that holds the most of the lesson's source files by name.
3. A fresh tree is made: the reference common/ and the reference lesson folder's
   build files (Makefile, linker scripts, user.mk), then the submission's sources
   (*.c, *.S, *.h) on top. Its Makefiles, linker scripts and copies of common/
   files are ignored, each with a note. A source the submission lacks (or that was
   refused) is taken from the starter, with a note. The reference's objects whose
   every input is unchanged are copied in, so make compiles what changed.
4. The tree is built, and each kernel booted, in the bubblewrap sandbox
   (pios.sandbox): it sees the tree, the toolchain and nothing else of the host.
   With --unsandboxed, check_inputs first refuses sources that read files outside
   the tree, using the build's own compile commands.
5. The reference harness tests it with a seed fixed for the submission, so the same
   submission gets the same values and the same score every run, while two
   students get different values.

The results: a table on the terminal, results.json in Gradescope's schema, JUnit XML,
report.txt, the failed tests' serial logs; for a batch, class.csv (student x test),
summary.txt/summary.json and students/NAME/. Ctrl-C or SIGTERM stops it cleanly.
"""

import argparse
import concurrent.futures
import csv
import functools
import hashlib
import json
import os
import re
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from . import lessons as L
from . import review as R
from . import sandbox
from . import starter as S

HARNESS = Path(__file__).resolve().parents[1]
SOURCE_SUFFIXES = {".c", ".S", ".h"}
MAX_FILE = 1 << 20              # bytes: a bigger source is refused
MAX_TOTAL = 64 << 20            # bytes taken per submission
MAX_FILES = 5000                # files taken per submission (a whole repository has ~400)
BUILD_TIMEOUT = 120             # seconds
BUILD_OUTPUT = 6000             # characters of compiler output kept
DEFAULT_BUDGET = 900            # seconds of testing per submission
SECRET_ENV = "PIOS_GRADE_SECRET"
ARCHIVE_RE = re.compile(r"\.(zip|tar|tar\.gz|tgz|tar\.xz|tar\.bz2)$", re.I)


class Refused(Exception):
    """The submission cannot be graded at all (no lesson folder, a broken archive)."""


# ---- 1. copying or unpacking the submission, safely ---------------------------------

# A file name goes into make's shell commands: only plain names are taken.
SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")
MAX_DEPTH = 12                  # folders deep
# A .tar.gz must be decompressed to reach its later members, so what is skipped is
# read too (never stored): an archive may expand this far while it is read, and the
# whole intake may take INTAKE_SECONDS. Only what is taken counts against MAX_TOTAL.
MAX_UNPACKED = 4 << 30
INTAKE_SECONDS = 60
# Folders nobody hands in on purpose: left out of folders and archives alike.
PRUNED = {"build", ".git", "grades", "logs", "node_modules"}
# The course's build files: never used from a submission, taken only to say so.
BUILD_NAMES = {"Makefile", "makefile", "GNUmakefile"}
BUILD_SUFFIXES = {".mk", ".ld", ".lds"}


def is_build_file(name):
    return name in BUILD_NAMES or Path(name).suffix in BUILD_SUFFIXES


def printable(text):
    """A name from a submission, safe to print and to put in JSON or XML."""
    text = str(text).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


class Intake:
    """The source files taken from a submission, with notes on what was refused.
    Only *.c, *.S and *.h are ever built, so only they are taken (and the build
    files, to tell the student they were ignored)."""

    def __init__(self, dest):
        self.dest = Path(dest)
        self.notes = []
        self.total = 0
        self.count = 0
        self.deadline = time.monotonic() + INTAKE_SECONDS

    def _refuse(self, rel, why):
        self.notes.append(f"refused {printable(rel)}: {why}")

    def wanted(self, rel):
        """The target path for a member, or None (with a note when it matters)."""
        if time.monotonic() > self.deadline:
            raise Refused(f"unpacking took over {INTAKE_SECONDS} s: the submission is "
                          "too big or an archive bomb")
        rel = Path(rel)
        if rel.suffix not in SOURCE_SUFFIXES and not is_build_file(rel.name):
            return None
        if PRUNED & set(rel.parts[:-1]):
            return None
        self.count += 1
        if self.count == MAX_FILES + 1:
            self.notes.append(f"over {MAX_FILES} source files: the rest were not taken")
        if self.count > MAX_FILES:
            return None
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            self._refuse(rel, "the path leads outside the submission")
            return None
        if len(rel.parts) > MAX_DEPTH or not all(SAFE_NAME.match(p) for p in rel.parts):
            self._refuse(rel, "only letters, digits and _ . + - are allowed in names")
            return None
        return self.dest / rel

    def add(self, rel, read):
        """Copy one regular source file; read() returns a binary stream."""
        target = self.wanted(rel)
        if target is None:
            return
        with read() as src:             # what is really there, whatever a header says
            data = src.read(MAX_FILE + 1)
        if len(data) > MAX_FILE:
            self._refuse(rel, f"over the {MAX_FILE}-byte limit for a source file")
            return
        if self.total + len(data) > MAX_TOTAL:
            self._refuse(rel, f"the sources are over {MAX_TOTAL >> 20} MiB")
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.total += len(data)

    def link(self, rel):
        if Path(rel).suffix in SOURCE_SUFFIXES:
            self._refuse(rel, "a symbolic link (hand in the file itself)")


def take_folder(src, intake):
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        for d in dirnames:
            if os.path.islink(os.path.join(dirpath, d)):
                intake.notes.append(f"refused {printable(os.path.relpath(os.path.join(dirpath, d), src))}/:"
                                    " a symbolic link to a folder")
        dirnames[:] = sorted(d for d in dirnames if d not in PRUNED
                             and not os.path.islink(os.path.join(dirpath, d)))
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, src)
            if os.path.islink(path):
                intake.link(rel)
            elif os.path.isfile(path):
                intake.add(rel, lambda p=path: open(p, "rb", opener=_nofollow))


def _nofollow(path, flags):
    return os.open(path, flags | os.O_NOFOLLOW)


class _Counted:
    """A file object that gives up once an archive has expanded too far."""

    def __init__(self, f, budget):
        self.f, self.budget = f, budget

    def read(self, n=-1):
        data = self.f.read(n)
        self.budget[0] -= len(data)
        if self.budget[0] < 0:
            raise Refused(f"the archive expands to over {MAX_UNPACKED >> 20} MiB")
        return data

    def seek(self, offset, whence=0):
        if whence == 0 and hasattr(self.f, "tell"):     # skipping in a compressed tar
            self.budget[0] -= max(0, offset - self.f.tell())  # still decompresses it all
            if self.budget[0] < 0:
                raise Refused(f"the archive expands to over {MAX_UNPACKED >> 20} MiB")
        return self.f.seek(offset, whence)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def take_archive(path, intake):
    name = path.name.lower()
    budget = [MAX_UNPACKED]
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(path) as z:
                for info in z.infolist():
                    mode = (info.external_attr >> 16) & 0o170000
                    if info.is_dir():
                        continue
                    if mode == 0o120000:
                        intake.link(info.filename)
                        continue
                    intake.add(info.filename, lambda i=info: _Counted(z.open(i), budget))
        else:
            with tarfile.open(path, mode="r:*") as t:
                t.fileobj = _Counted(t.fileobj, budget)     # what decompression yields
                for m in t:
                    if m.issym() or m.islnk():
                        intake.link(m.name)
                    elif m.isfile():
                        intake.add(m.name, lambda m=m: t.extractfile(m))
    except Refused:
        raise
    except Exception as e:          # zipfile, tarfile, zlib, lzma, bz2: all say "broken"
        raise Refused(f"the archive {printable(path.name)} cannot be read: "
                      f"{type(e).__name__}: {printable(e)}") from None


def take(submission, dest):
    """Copy or unpack a submission's sources into dest; returns the Intake. A folder
    holding no sources but one archive (Gradescope keeps uploads as they are) is
    graded by that archive."""
    submission = Path(submission)
    intake = Intake(dest)
    Path(dest).mkdir(parents=True, exist_ok=True)
    if submission.is_dir():
        take_folder(submission, intake)
        archives = [p for p in sorted(submission.iterdir())
                    if p.is_file() and not p.is_symlink() and ARCHIVE_RE.search(p.name)]
        if not any(Path(dest).rglob("*")) and len(archives) == 1:
            intake.notes.append(f"graded the archive {printable(archives[0].name)}")
            take_archive(archives[0], intake)
    elif submission.is_file() and ARCHIVE_RE.search(submission.name):
        take_archive(submission, intake)
    else:
        raise Refused(f"{printable(submission)} is neither a folder nor a .zip / .tar.gz "
                      "archive")
    return intake


# ---- 2. finding the lesson folder ---------------------------------------------------

def find_lesson_folder(tree, lesson):
    """The folder in a submission that holds the lesson's sources."""
    tree = Path(tree)
    wanted = {p.name for p in lesson.path.iterdir() if p.suffix in SOURCE_SUFFIXES}

    def sources(d):
        return len(wanted & {p.name for p in d.iterdir() if p.is_file()})

    dirs = [d for d in [tree, *sorted(p for p in tree.rglob("*") if p.is_dir())] if sources(d)]
    exact = [d for d in dirs if d.name == lesson.name]
    if exact:       # lessons/NN-name first, then the shallowest
        return min(exact, key=lambda d: (d.parent.name != "lessons", len(d.parts)))
    if not dirs:
        raise Refused(f"no lesson folder found: expected lessons/{lesson.name}/ or a "
                      f"folder holding its sources ({', '.join(sorted(wanted)[:6])}, ...)")
    return max(dirs, key=sources)      # the first of the fullest, in sorted order


# ---- 3. the build tree ----------------------------------------------------------------

ASM_INCLUDE_RE = re.compile(r"\.(incbin|include)\b", re.I)


def assemble(root, lesson, sub_dir, tree, starter_dir):
    """Make the build tree: reference build rules, submission sources. Returns notes."""
    notes = []
    shutil.copytree(root / "common", tree / "common")
    common = {p.name for p in (root / "common").iterdir()}
    dest = tree / "lessons" / lesson.name
    ref_sources = set()
    for ref in sorted(p for p in lesson.path.rglob("*") if p.is_file()):
        rel = ref.relative_to(lesson.path)
        if "build" in rel.parts:
            continue
        if ref.suffix in SOURCE_SUFFIXES:
            ref_sources.add(rel)
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ref, dest / rel)           # Makefile, *.ld, user.mk, README
    ref_dirs = {rel.parent for rel in ref_sources}
    elsewhere = []
    for p in sorted(sub_dir.rglob("*")):
        rel = p.relative_to(sub_dir)
        if not (p.is_file() and p.suffix in SOURCE_SUFFIXES):
            continue
        if rel.parent not in ref_dirs:
            elsewhere.append(f"ignored {printable(rel)}: not in a folder the lesson is "
                             "built from")
            continue
        if p.name in common and rel not in ref_sources:
            continue        # would hide common/'s copy (-I. comes first): see ignored()
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dest / rel)          # the bytes as handed in
    notes += _capped(elsewhere)
    for rel in sorted(ref_sources):
        if not (dest / rel).exists():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(starter_dir / rel, dest / rel)
            notes.append(f"{rel}: not in the submission (or refused): the starter's copy "
                         "was used")
    return notes


def build_reference(root, lesson, work):
    """The reference lesson built in a tree of its own, laid out as a submission's
    is (a batch does this once): the objects a submission's unchanged files compile
    to. Built now, with today's compiler and rules, so none is stale. Returns the
    tree, or None if it does not build."""
    tree = Path(work) / "tree"
    assemble(root, lesson, lesson.path, tree, lesson.path)
    ok, _ = build_tree(tree / "lessons" / lesson.name, Path(work), sandboxed=False)
    return tree if ok else None


def reuse_reference_build(ref_tree, lesson, tree):
    """Start the submission's build with the reference's objects (ref_tree, from
    build_reference): only those whose every input the .d file lists (the source
    and each header) is byte for byte the same in the submission's tree, and none
    if the submission adds a header (`-I.` would let it hide a system header, which
    no .d file lists). Those objects are what the submission's own files compile
    to; make compiles the rest and links. No object of a source the submission
    changed is ever in its tree. Returns how many were reused."""
    ref = Path(ref_tree) / "lessons" / lesson.name
    dest = tree / "lessons" / lesson.name
    ref_headers = {p.relative_to(ref) for p in ref.rglob("*.h") if "build" not in p.parts}
    if any(p.relative_to(dest) not in ref_headers for p in dest.rglob("*.h")):
        return 0

    def same(rel):          # rel: a path as the .d file names it, from the lesson
        mine, theirs = (dest / rel).resolve(), (ref / rel).resolve()
        if not str(mine).startswith(str(tree.resolve()) + os.sep):
            return False
        return mine.is_file() and theirs.is_file() and mine.read_bytes() == theirs.read_bytes()

    reused = 0
    for d in (ref / "build").rglob("*.d"):
        obj = d.with_suffix(".o")
        rule = d.read_text().replace("\\\n", " ").split("\n")[0]   # "obj: deps..."
        deps = rule.split(":", 1)[-1].split()
        if not obj.is_file() or not deps or not all(same(x) for x in deps):
            continue
        copied = dest / "build" / obj.relative_to(ref / "build")
        copied.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(obj, copied)
        shutil.copyfile(d, copied.with_suffix(".d"))
        for x in deps:      # older than the object: make sees it up to date
            os.utime(dest / x, ns=(0, copied.stat().st_mtime_ns - 10**9))
        reused += 1
    return reused


MAX_IGNORED_NOTES = 8


def _lesson_file(lesson, sub_dir, p):
    """For a file inside the submission's lesson folder, the reference lesson's file
    at the same place (None if it has none, or p is elsewhere)."""
    try:
        rel = p.resolve().relative_to(Path(sub_dir).resolve())
    except ValueError:
        return None
    ref = lesson.path / rel
    return ref if ref.is_file() else None


def ignored(root, lesson, sub_root, sub_dir):
    """Notes for what the submission changed but the grader does not use: its own
    Makefiles and linker scripts, and its copies of common/ files, wherever they
    sit. A copy identical to the course's needs no note (a whole repository)."""
    root = Path(root)
    course_build = {p.read_bytes() for p in [root / "Makefile", *root.glob("common/*"),
                                             *root.glob("lessons/**/*")]
                    if p.is_file() and is_build_file(p.name)}
    common = {p.name: p.read_bytes() for p in (root / "common").iterdir() if p.is_file()}
    own = {p.relative_to(lesson.path) for p in lesson.path.rglob("*")
           if p.suffix in SOURCE_SUFFIXES}
    notes = []
    for p in sorted(q for q in Path(sub_root).rglob("*") if q.is_file()):
        rel = printable(p.relative_to(sub_root))
        if is_build_file(p.name):
            theirs = _lesson_file(lesson, sub_dir, p)
            if (p.read_bytes() != theirs.read_bytes() if theirs else
                    p.read_bytes() not in course_build):
                notes.append(f"ignored {rel}: the grader builds with the course's own "
                             "Makefiles and linker scripts")
        elif p.name in common and p.read_bytes() != common[p.name]:
            in_lesson = p.parent.resolve() == Path(sub_dir).resolve() or \
                Path(sub_dir).resolve() in p.resolve().parents
            if not (in_lesson and p.relative_to(sub_dir) in own):
                notes.append(f"ignored {rel}: the course's common/{p.name} is used as it is")
    return _capped(notes)


def _capped(notes):
    if len(notes) <= MAX_IGNORED_NOTES:
        return notes
    return notes[:MAX_IGNORED_NOTES] + [f"... and {len(notes) - MAX_IGNORED_NOTES} more "
                                        "files ignored"]


def _limits():
    """Runs in the build's processes: bounded memory, CPU and file sizes (an
    `#include "/dev/zero"` or a gigabyte array must not take the grader down)."""
    import resource
    for what, value in ((resource.RLIMIT_AS, 2 << 30), (resource.RLIMIT_CPU, BUILD_TIMEOUT),
                        (resource.RLIMIT_FSIZE, 256 << 20)):
        resource.setrlimit(what, (value, value))


TEST_MEMORY = 4 << 30    # bytes of address space per process of a test run (QEMU
                         # maps ~1.8 GB: 512 MB of guest RAM and its code cache)
TEST_FILE = 64 << 20     # bytes per file a test run writes (a serial log stops at 64 KB)


def _test_limits():
    """Runs in the test run's processes (pytest, QEMU, GDB): bounded memory and
    file sizes; the budget bounds the time."""
    import resource
    for what, value in ((resource.RLIMIT_AS, TEST_MEMORY), (resource.RLIMIT_FSIZE, TEST_FILE)):
        resource.setrlimit(what, (value, value))


_running = set()        # process groups of the gradings under way (batch: several)
_stopping = threading.Event()   # set by Ctrl-C or SIGTERM: finish nothing new


class Stopped(Exception):
    """The grader was asked to stop (Ctrl-C, SIGTERM): this grading is abandoned."""


def _run_limited(cmd, cwd, env, timeout, out_path, limits=_limits, keep=BUILD_OUTPUT):
    """Run cmd in its own process group (with limits), output to a file; kill the
    whole group at the timeout or when the grader stops. Returns (exit status or
    None on timeout, the head and tail of the output, `keep` characters)."""
    if _stopping.is_set():
        raise Stopped()
    with open(out_path, "wb") as out:
        p = subprocess.Popen(cmd, cwd=str(cwd), env=env, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True,
                             preexec_fn=limits)
        _running.add(p.pid)
        if _stopping.is_set():      # stop_all ran between Popen and the line above
            _kill_group(p.pid)
        try:
            status = _wait(p, timeout)
        finally:
            _kill_group(p.pid)      # whatever it left behind (QEMUs, make's children)
            if p.returncode is None:
                _wait(p, None)
            _running.discard(p.pid)
    if _stopping.is_set():
        raise Stopped()
    return status, _head_tail(out_path, keep)


_usage = threading.local()      # CPU seconds of the processes this thread waited for


def _wait(p, timeout):
    """Wait for p (None after `timeout` seconds); adds the CPU time of it and of
    every process below it that was waited for (make's compilers, pytest's QEMUs)
    to this thread's count: grade() reports it per phase."""
    fd = os.pidfd_open(p.pid)
    try:
        if not select.select([fd], [], [], timeout)[0]:
            return None
    finally:
        os.close(fd)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    _usage.cpu = getattr(_usage, "cpu", 0.0) + ru.ru_utime + ru.ru_stime
    return p.returncode


def _kill_group(pgid):
    """The process group and everything below its leader (sandboxes run in
    sessions of their own, outside the group)."""
    sandbox.kill_tree(pgid)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def stop_all():
    """Ctrl-C or SIGTERM: every grading under way stops now (its tree is removed by
    its own clean-up), and none starts."""
    _stopping.set()
    for pgid in list(_running):
        _kill_group(pgid)


def _head_tail(path, keep):
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(keep // 2)
        f.seek(max(f.tell(), size - keep // 2))
        tail = f.read()
    text = head.decode(errors="replace")
    if tail:
        text += ("\n[... cut ...]\n" if size > keep else "") + tail.decode(errors="replace")
    return text


def build_env(scratch):
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "CROSS")}
    env.update(HOME=str(scratch), TMPDIR=str(scratch), MAKEFLAGS="")
    return env


def cross():
    return os.environ.get("CROSS", "arm-none-eabi-")


def make_command(lesson_dir, sandboxed, *targets, extra=(), cpu_file=None):
    """make in the lesson folder: in the sandbox (it sees the tree and the toolchain
    only), or as it is with a scrubbed environment. cpu_file: where the shell that
    runs make writes the CPU time make and the compilers used (`times`): processes
    in a sandbox are reaped inside it, so no wait outside counts them."""
    cmd = ["make", "-C", str(lesson_dir), "--no-print-directory", *extra, *targets]
    if cpu_file:
        cmd = ["sh", "-c", 'make "$@"; s=$?; times > "$0"; exit $s', str(cpu_file), *cmd[1:]]
    if not sandboxed:
        return cmd
    env = {"MAKEFLAGS": ""}
    if "CROSS" in os.environ:
        env["CROSS"] = os.environ["CROSS"]
    return sandbox.command(cmd, rw=[lesson_dir.parents[1]], cwd=lesson_dir, env=env,
                           tools=["make", cross() + "gcc"])


def compiler_dirs(cc):
    """The compiler's own header folders (stddef.h and the like)."""
    p = subprocess.run([cc, "-E", "-v", "-x", "c", os.devnull, "-o", os.devnull],
                       capture_output=True, text=True)
    dirs, on = [], False
    for line in p.stderr.splitlines():
        if line.startswith("#include <...> search starts here"):
            on = True
        elif line.startswith("End of search list"):
            on = False
        elif on:
            dirs.append(Path(line.strip()).resolve())
    return tuple(dirs)


def compile_commands(lesson_dir, scratch):
    """Every compiler command the build would run, exactly as make would run it
    (`make -n V=1`): [(source, argv)]. Sources make generates are left out."""
    p = subprocess.run(make_command(lesson_dir, False, "build/kernel.img",
                                    extra=["-n", "-B", "V=1"]),
                       cwd=str(lesson_dir), env=build_env(scratch), capture_output=True,
                       text=True, timeout=60)
    cc = cross() + "gcc"
    cmds = []
    for line in p.stdout.splitlines():
        try:
            argv = shlex.split(line)
        except ValueError:
            continue
        if argv[:1] != [cc] or "-c" not in argv:
            continue
        srcs = [a for a in argv if a.endswith((".c", ".S")) and not a.startswith("-")]
        if len(srcs) == 1 and not srcs[0].startswith("build/"):
            cmds.append((srcs[0], argv))
    return cmds


def check_inputs(lesson_dir, scratch):
    """Without a sandbox: what the compiler will read must be inside the tree. Each
    source is put through the build's own command for it (same flags, so the same
    macros and #ifs), stopped after the preprocessor (.S) or the compiler proper
    (.c): -H names each header as the preprocessor opens it, even when what follows
    fails, and the output shows every .incbin or .include the assembler would run
    (inline asm strings joined, macros and ## pasted). Returns a list of problems."""
    lesson_dir = Path(lesson_dir).resolve()
    cc = cross() + "gcc"
    inside = (lesson_dir, (lesson_dir / "../../common").resolve()) + compiler_dirs(cc)
    problems = []
    for rel, argv in compile_commands(lesson_dir, scratch):
        asm = scratch / "check.s"
        asm.unlink(missing_ok=True)
        cmd = [a for a in argv if not a.startswith("-M")]
        i = cmd.index("-o")
        cmd[i + 1] = str(asm)
        cmd[cmd.index("-c")] = "-S" if rel.endswith(".c") else "-E"
        status, out = _run_limited(cmd + ["-H"], lesson_dir, build_env(scratch), 60,
                                   scratch / "check.log")
        if status is None:
            problems.append(f"{rel}: reading what it includes took over 60 s")
            continue
        outside = _outside_header(scratch / "check.log", lesson_dir, inside)
        if outside:
            problems.append(f"{rel}: includes {printable(outside)}, outside the lesson")
        text = asm.read_text(errors="replace") if status == 0 and asm.exists() else ""
        if ASM_INCLUDE_RE.search(text):
            problems.append(f"{rel}: uses the assembler's .incbin or .include, which could "
                            "read files outside the lesson")
    return problems


def _outside_header(log_path, lesson_dir, inside):
    """The first header in gcc's -H lines ('. name', '.. name') that is not under
    one of the folders `inside`, or None. The whole log is read, line by line: a
    flood of `#pragma message` around an #include must not push it out of view."""
    with open(log_path, errors="replace") as log:
        for line in log:
            m = re.match(r"^\.+ (.+)$", line.rstrip("\n"))
            if m:
                path = (lesson_dir / m.group(1)).resolve()
                if not any(path == d or d in path.parents for d in inside):
                    return m.group(1)
    return None


def build_tree(lesson_dir, scratch, sandboxed=True):
    """Build with the reference Makefile, in limits, in the sandbox (or, unsandboxed,
    with HOME and TMPDIR in the scratch folder). Returns (ok, output)."""
    # Only what the tests boot: the disassembly listing (kernel.list) is for people.
    cpu_file = Path(lesson_dir).parents[1] / ".build-cpu" if sandboxed else None
    status, out = _run_limited(make_command(lesson_dir, sandboxed, "build/kernel.img",
                                            extra=[f"-j{cores()}"], cpu_file=cpu_file),
                               lesson_dir, build_env(scratch), BUILD_TIMEOUT,
                               scratch / "build.log")
    if cpu_file:        # unsandboxed, the wait for make counted it all
        _usage.cpu = getattr(_usage, "cpu", 0.0) + _times_children(cpu_file)
    if status is None:
        return False, out + f"\nthe build took longer than {BUILD_TIMEOUT} s and was stopped"
    return status == 0, out


def _times_children(path):
    """The children's CPU seconds from a shell's `times` (second line: "0m1.5s
    0m0.3s"), 0 if there is none; the file is removed."""
    try:
        lines = Path(path).read_text().split("\n")
        Path(path).unlink()
        return sum(int(m) * 60 + float(sec) for m, sec in
                   re.findall(r"(\d+)m([\d.]+)s", lines[1]))
    except (OSError, IndexError, ValueError):
        return 0.0


# ---- 4. testing ---------------------------------------------------------------------------

HIDDEN = HARNESS / "grading" / "hidden"     # instructor-only tests: never handed out


def lesson_test_files(lesson):
    """The tests that carry points: the lesson's own and its hidden ones."""
    return [f for f in graded_test_files(lesson)
            if Path(f).name.startswith(f"test_{lesson.number:02d}_")]


def graded_test_files(lesson):
    """The lesson's tests and every earlier lesson's (harness/test_NN_*.py, NN <= N),
    and the lesson's hidden tests (grading/hidden/test_NN_*.py), if this tree has them."""
    public = [p for p in HARNESS.glob("test_[0-9][0-9]_*.py") if int(p.name[5:7]) <= lesson.number]
    hidden = list(HIDDEN.glob(f"test_{lesson.number:02d}_*.py"))
    return sorted(str(p) for p in public + hidden)


# What each test counts for. Points are the lesson's own work: its tests and its
# hidden tests. The `given` tests (checks of code the starter hands out) and the
# earlier lessons' tests (the regression section) are run and reported, for 0 points.
SECTIONS = {
    "lesson": "this lesson's tests",
    "hidden": "hidden tests (results after the grades are published)",
    "given": "checks of code the starter hands out (0 points)",
    "regression": "regression: earlier lessons' tests (0 points)",
}


def section_of(nodeid, lesson, given=False):
    path = nodeid.split("::")[0]
    number = int(Path(path).name[5:7])
    if "hidden/" in path:
        return "hidden"
    if number < lesson.number:
        return "regression"
    return "given" if given else "lesson"


def seed_for(lesson, sub_dir, secret):
    """The same submission gets the same seed; different ones get different seeds; and
    without the instructor's secret nobody can work out the values in advance.
    secret=None is practice mode: a seed anyone can work out, and never one a graded
    run uses (practice seeds are odd, graded ones even)."""
    practice = not secret
    h = hashlib.sha256(b"practice\0" if practice else f"graded\0{secret}\0".encode())
    h.update(f"{lesson.name}\0".encode())
    for p in sorted(sub_dir.rglob("*")):
        if p.is_file() and p.suffix in SOURCE_SUFFIXES:
            h.update(str(p.relative_to(sub_dir)).encode() + b"\0" + p.read_bytes() + b"\0")
    return 2 * (int.from_bytes(h.digest()[:4], "big") % (10**9 // 2)) + practice


def cores():
    """The cores this process may use (a container may allow fewer than it has)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:
        return os.cpu_count() or 1


@functools.lru_cache(maxsize=None)
def python():
    return subprocess.run([str(HARNESS / "tools" / "find-python")], capture_output=True,
                          text=True).stdout.strip() or sys.executable


PYTEST_OUTPUT = 64 << 10        # bytes of pytest's own output kept (pytest.txt)


def run_tests(tree, lesson, seed, work, jobs, budget, select=None, sandboxed=True):
    """The reference harness on the built tree. Returns (results, pytest's output,
    timed out?). pytest prints no tracebacks (--tb=no): each failure's details are
    in the results, bounded per test, and its output is cut to PYTEST_OUTPUT."""
    raw = work / "raw.json"
    cmd = [python(), "-m", "pytest", "-c", str(HARNESS / "pytest.ini"),
           "-p", "no:cacheprovider", "-q", "--no-header", "--tb=no",
           # --option=value: pytest reads the command line before it loads the
           # conftest that defines these, and would take a lone value for a path
           f"--tree={tree}", f"--lesson={lesson.name}", f"--seed={seed}",
           f"--log-dir={work / 'logs'}", f"--results={raw}", "--preflight", "--prebuilt",
           "--timeout=120", "-n", str(jobs) if jobs > 1 else "0"]
    cmd += select or graded_test_files(lesson)
    env = {k: v for k, v in os.environ.items() if k not in (SECRET_ENV, sandbox.ENV)}
    env.update(PYTHONDONTWRITEBYTECODE="1", HOME=str(work), TMPDIR=str(work))
    if sandboxed:
        env[sandbox.ENV] = "bwrap"          # every QEMU of the run (pios.qemu)
    status, out = _run_limited(cmd, HARNESS, env, budget, work / "pytest.out",
                               limits=_test_limits, keep=PYTEST_OUTPUT)
    try:        # written after every test, so a run stopped by the budget keeps its results
        results = json.loads(raw.read_text())
    except (OSError, ValueError):
        results = {"tests": []}
    return results, out, status is None


_collected = {}     # the reference's test ids and points do not change while grading


def collect(lesson, select=None):
    """Every graded test's id and points, without running anything (for a submission
    that never got to testing). Collected once per lesson and selection: a batch
    asks the same question for every student."""
    key = (str(lesson.path), tuple(select or ()))
    if key not in _collected:
        _collected[key] = _collect(lesson, select)
    return list(_collected[key])


def _collect(lesson, select):
    cmd = [python(), "-m", "pytest", "-c", str(HARNESS / "pytest.ini"),
           "-p", "no:cacheprovider", "-q", "--collect-only",
           f"--lesson={lesson.name}", f"--tree={lesson.path.parents[1]}",
           "--log-dir={logs}"] + \
        (select or graded_test_files(lesson))
    helper = ("import sys, json, pytest\n"
              "from pios.grading import points_of\n"
              "class P:\n"
              "    def pytest_collection_finish(self, session):\n"
              "        print('PIOS-TESTS ' + json.dumps([(i.nodeid, points_of(i), "
              "i.get_closest_marker('given') is not None) for i in session.items]))\n"
              "sys.exit(pytest.main(sys.argv[1:], plugins=[P()]))\n")
    with tempfile.TemporaryDirectory(prefix="pios-collect-") as logs:
        p = subprocess.run([cmd[0], "-c", helper] + [c.replace("{logs}", logs) for c in cmd[3:]],
                           cwd=str(HARNESS), capture_output=True, text=True,
                           env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    for line in p.stdout.splitlines():
        if line.startswith("PIOS-TESTS "):
            return json.loads(line[len("PIOS-TESTS "):])
    raise RuntimeError("collecting the tests failed:\n" + p.stdout[-3000:] + p.stderr[-3000:])


# ---- the whole thing for one submission ---------------------------------------------------

LOGS_KEPT = 2 << 20             # bytes of serial logs kept per submission (out/logs)
LOG_KEPT = 64 << 10             # ... and per log


def grade(root, lesson, submission, out_dir, secret=None, jobs=1, budget=DEFAULT_BUDGET,
          select=None, keep=False, sandboxed=True, reference=None, regression=True):
    """Grade one submission; writes results.json, junit.xml and report.txt to out_dir
    and returns the results (a dict). Never raises for anything the submission does;
    raises Stopped when the grader is told to stop. secret=None: practice mode.
    sandboxed=False builds and boots without bubblewrap (the caller decided).
    reference: a built reference tree (build_reference) whose objects may be reused.
    regression=False leaves the 0-point regression section out (the score is the
    same; the report says so)."""
    root = Path(root)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if sandboxed and sandbox.problem():
        raise RuntimeError(f"no sandbox: {sandbox.problem()}")
    work = Path(tempfile.mkdtemp(prefix="pios-grade-"))
    for old in ("junit.xml", "results.json", "report.txt", "grade.json", "pytest.txt"):
        (out_dir / old).unlink(missing_ok=True)     # nothing stale from an earlier run
    shutil.rmtree(out_dir / "logs", ignore_errors=True)
    notes, build_out, test_out, timed_out, built = [], "", "", False, False
    if not secret:
        notes.append("practice mode: no grading secret, so these values are ones anyone "
                     "can work out; the instructor's grade uses others")
    if not sandboxed:
        notes.append("graded without a sandbox (--unsandboxed)")
    if not regression:      # the lesson's own and hidden tests, of the selection if any
        own = f"test_{lesson.number:02d}_"
        select = [s for s in select if Path(s.split("::")[0]).name.startswith(own)] \
            if select else lesson_test_files(lesson)
        notes.append("the regression section (earlier lessons' tests, 0 points) was not "
                     "run (--no-regression): the score is the same")
    raw = {"tests": []}
    seed, review = None, []
    clock = Phases()
    try:
        try:
            intake = take(submission, work / "submission")
            notes += intake.notes
            sub_dir = find_lesson_folder(work / "submission", lesson)
            notes += ignored(root, lesson, work / "submission", sub_dir)
            S.make_starter_lesson(lesson.path, S.previous_lesson_dir(root, lesson.path),
                                  work / "starter")
            tree = work / "tree"
            notes += assemble(root, lesson, sub_dir, tree, work / "starter")
            review = R.items(lesson, tree / "lessons" / lesson.name)
            if reference:
                reuse_reference_build(reference, lesson, tree)
            seed = seed_for(lesson, sub_dir, secret)
            if not sandboxed:       # the sandbox shows the compiler nothing else
                problems = check_inputs(tree / "lessons" / lesson.name, work)
                if problems:
                    raise Refused("the sources read files outside the lesson, so they "
                                  "were not built:\n  " + "\n  ".join(problems))
            clock.lap("intake")
            built, build_out = build_tree(tree / "lessons" / lesson.name, work, sandboxed)
            clock.lap("build")
            if built:
                raw, test_out, timed_out = run_tests(tree, lesson, seed, work, jobs, budget,
                                                     select, sandboxed)
                clock.lap("tests", sum(t.get("qemu_cpu", 0) for t in raw["tests"]))
                keep_logs(raw, work / "logs", out_dir / "logs")
            else:
                notes.append("the build failed: no test can run (compiler output below)")
        except Refused as e:
            notes.append(str(e))
        if timed_out:
            notes.append(f"the time budget ({budget} s) ran out: the tests it did not "
                         "reach score 0")
        results = combine(lesson, raw, notes, build_out, built, timed_out, seed,
                          time.monotonic() - started, select)
    except Stopped:
        if not any(out_dir.iterdir()):
            out_dir.rmdir()
        raise
    except Exception as e:          # a grader bug must not stop a batch: report it
        results = combine(lesson, {"tests": []},
                          notes + [f"grader error: {type(e).__name__}: {e}"],
                          build_out, built, False, seed, time.monotonic() - started, select)
    finally:        # every exit: Ctrl-C, SIGTERM (main turns it into an exception), errors
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    results["mode"] = "graded" if secret else "practice"
    results["review"] = review
    results["workdir"] = str(work) if keep else None
    clock.lap("report")
    write_reports(results, out_dir, test_out)
    clock.lap("report")
    results["timing"] = clock.laps
    (out_dir / "grade.json").write_text(json.dumps(results, indent=1))
    return results


class Phases:
    """Where a grading's time goes: per phase, its wall seconds and CPU seconds
    (the grader's own thread plus every process it waited for), in grade.json's
    `timing`. A phase timed twice adds up."""

    def __init__(self):
        self.laps = {}
        self._mark()

    def _mark(self):
        self.wall, self.cpu = time.monotonic(), time.thread_time() + getattr(_usage, "cpu", 0.0)

    def lap(self, name, killed_cpu=0.0):
        """The phase `name` ends now; killed_cpu: CPU seconds of processes killed
        in it (QEMUs at the end of their tests), which no wait counted."""
        wall, cpu = self.wall, self.cpu - killed_cpu
        self._mark()
        w, c = self.laps.get(name, {}).get("wall", 0), self.laps.get(name, {}).get("cpu", 0)
        self.laps[name] = {"wall": round(w + self.wall - wall, 2),
                           "cpu": round(c + self.cpu - cpu, 2)}


def keep_logs(raw, logs, dest):
    """The serial logs of the failed tests, into the report folder (each cut to its
    last LOG_KEPT bytes, LOGS_KEPT in all), and the tests' outputs pointed at them:
    the grading's own folder is deleted."""
    kept = 0
    for t in raw["tests"]:
        if t["status"] == "passed":
            continue
        for path in sorted(set(re.findall(re.escape(str(logs)) + r"/[^\s)]+\.log", t["output"]))):
            rel = Path(path).relative_to(logs)
            src = logs / rel
            if ".." in rel.parts:       # a test's output is not the harness's own words
                continue
            if kept < LOGS_KEPT and src.is_file() and not (dest / rel).exists():
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                (dest / rel).write_text(_tail_bytes(src, LOG_KEPT))
                kept += (dest / rel).stat().st_size
        t["output"] = t["output"].replace(str(logs), "logs")


def _tail_bytes(path, n):
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - n))
        data = f.read().decode(errors="replace")
    return (f"[... the first {size - n} bytes cut ...]\n" if size > n else "") + data


def combine(lesson, raw, notes, build_out, built, timed_out, seed, elapsed, select=None):
    """Every graded test gets an entry, run or not, so scores are always out of the
    same total."""
    notes = [printable(n) if "\n" not in n else n for n in notes]
    ran = {t["name"]: t for t in raw["tests"]}
    tests = []
    failed_build = bool(build_out) and not built
    why = ("not run: the build failed" if failed_build
           else "not run: the time budget for this submission ran out" if timed_out
           else "not run: the submission could not be graded (see the notes)")
    try:
        everything = collect(lesson, select)
    except Exception as e:          # report what ran rather than nothing
        notes = notes + [f"grader error: {e}"]
        everything = [(t["name"], t["points"], t.get("given", False)) for t in raw["tests"]]
    for nodeid, points, given in everything:
        t = ran.get(nodeid)
        if t is None:
            t = {"name": nodeid, "points": points, "score": 0.0, "status": "not run",
                 "output": why + ("\n\n" + build_out if failed_build else "")}
        t = dict(t, section=section_of(nodeid, lesson, given))
        if t["section"] in ("given", "regression"):
            t.update(points=0, score=0.0)
        tests.append(t)
    score = round(sum(t["score"] for t in tests), 2)
    max_score = sum(t["points"] for t in tests)
    regression = [t for t in tests if t["section"] == "regression"]
    return {"lesson": lesson.name, "score": score, "max_score": max_score,
            "percent": round(100.0 * score / max_score, 1) if max_score else 0.0,
            "seed": seed, "notes": notes, "build_output": build_out, "built": built,
            "execution_time": round(elapsed, 1), "tests": tests,
            "regressions": sum(t["status"] != "passed" for t in regression),
            "regression_tests": len(regression)}


# ---- reports --------------------------------------------------------------------------------

def summary_lines(results):
    """What the score is made of, for every report: the baseline and the sections."""
    tests = results["tests"]
    count = {s: [t for t in tests if t.get("section") == s] for s in SECTIONS}
    out = [f"{results['score']:g} of {results['max_score']:g} points: this lesson's "
           f"{len(count['lesson'])} tests"
           + (f" and {len(count['hidden'])} hidden tests" if count["hidden"] else "")
           + ". An untouched starter scores 0: every point is code you wrote."]
    if count["regression"]:
        bad = sum(t["status"] != "passed" for t in count["regression"])
        out.append(f"regression: {len(count['regression']) - bad} of "
                   f"{len(count['regression'])} earlier lessons' tests pass (0 points; "
                   + ("nothing broken)" if not bad else
                      f"{bad} failing: what the lesson builds on is broken)"))
    if count["given"]:
        bad = sum(t["status"] != "passed" for t in count["given"])
        out.append(f"given code: {len(count['given']) - bad} of {len(count['given'])} "
                   "checks of code the starter hands out pass (0 points)")
    return out


def gradescope(results):
    """Gradescope's autograder results format. Hidden tests are shown after the
    grades are published; the 0-point sections are named in each test's title."""
    head = "\n".join(summary_lines(results) + results["notes"])
    if results["build_output"] and not results.get("built"):
        head += "\n\nBuild output:\n" + results["build_output"]
    if results.get("review"):
        head += "\n\n" + "\n".join(R.lines(results["review"]))
    tests = []
    for t in results["tests"]:
        sec = t.get("section", "lesson")
        name = short_name(t["name"], results["lesson"])
        tests.append({"name": name if sec in ("lesson", "hidden") else f"{sec}: {name}",
                      "score": t["score"], "max_score": t["points"],
                      "status": "passed" if t["status"] == "passed" else "failed",
                      "output": t["output"] or "passed",
                      "visibility": "after_published" if sec == "hidden" else "visible"})
    return {
        "score": results["score"],
        "execution_time": results["execution_time"],
        "output": f"piOS lesson {results['lesson']}: {head}",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def short_name(nodeid, lesson):
    """test_05_timer.py::test_tick[05-timer-250] -> test_05_timer::test_tick[250]"""
    name = nodeid.replace(".py::", "::")
    return name.replace(f"[{lesson}]", "").replace(f"[{lesson}-", "[")


REGRESSION_ROWS = 12     # a long regression section lists its failures, not every pass


def table(results):
    lesson = results["lesson"]
    w = min(max([len(short_name(t["name"], lesson)) for t in results["tests"]] + [20]), 64)

    def row(t):
        st = "ok" if t["status"] == "passed" else t["status"].upper()
        return f"    {short_name(t['name'], lesson):<{w}}  {t['score']:>5g}/{t['points']:<4g}  {st}"
    out = [f"piOS grade: lesson {lesson}   seed {results['seed']}   "
           f"({results.get('mode', 'graded')})"]
    out += [f"  note: {n}" for n in results["notes"]]
    for sec, title in SECTIONS.items():
        tests = [t for t in results["tests"] if t.get("section", "lesson") == sec]
        if not tests:
            continue
        out.append(f"  {title}:")
        shown = tests
        if sec == "regression" and len(tests) > REGRESSION_ROWS:
            shown = [t for t in tests if t["status"] != "passed"]
            out.append(f"    ({len(tests) - len(shown)} of {len(tests)} pass"
                       + ("; the failing ones:)" if shown else ")"))
        out += [row(t) for t in shown]
    out.append(f"  {'TOTAL':<{w + 2}}  {results['score']:>5g}/{results['max_score']:<4g}  "
               f"({results['percent']}%)")
    out += [f"  {line}" for line in summary_lines(results)]
    return "\n".join(out)


def write_reports(results, out_dir, test_out=""):
    (out_dir / "results.json").write_text(json.dumps(gradescope(results), indent=1))
    (out_dir / "grade.json").write_text(json.dumps(results, indent=1))
    failed = [t for t in results["tests"] if t["status"] != "passed"]
    text = [table(results), ""]
    if results["build_output"] and not results.get("built"):
        text += ["==== build output ====", results["build_output"], ""]
    for t in failed:
        text += [f"==== {short_name(t['name'], results['lesson'])}: {t['status']} "
                 f"({t['score']:g}/{t['points']:g}) ====", t["output"], ""]
    text += R.lines(results.get("review"))
    (out_dir / "report.txt").write_text("\n".join(text))
    (out_dir / "pytest.txt").write_text(test_out or "(the tests did not run)\n")
    (out_dir / "junit.xml").write_text(junit_xml(results))


def junit_xml(results):
    """JUnit XML from the results: every test, its outputs bounded as in results.json
    (pytest's own --junitxml would embed whatever a flood put in a failure)."""
    from xml.sax.saxutils import escape as _escape, quoteattr as _quoteattr
    bad = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")      # not allowed in XML 1.0

    def escape(t):
        return _escape(bad.sub("?", t))

    def quoteattr(t):
        return _quoteattr(bad.sub("?", t))
    cases = []
    for t in results["tests"]:
        body = "" if t["status"] == "passed" else \
            f'<failure message={quoteattr(t["status"])}>{escape(t["output"])}</failure>'
        cases.append(f'  <testcase name={quoteattr(t["name"])} classname="piOS">{body}'
                     '</testcase>')
    n_fail = sum(t["status"] != "passed" for t in results["tests"])
    return ('<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="piOS" '
            f'tests="{len(results["tests"])}" failures="{n_fail}">\n'
            + "\n".join(cases) + "\n</testsuite></testsuites>\n")


# ---- a batch ----------------------------------------------------------------------------------

def submissions_in(folder, echo=print):
    """(student name, path) for each sub-folder or archive in a folder; what is
    left out is said (hidden names, symbolic links, other files)."""
    subs = []
    for p in sorted(Path(folder).iterdir()):
        why = ("a hidden name" if p.name.startswith(".") else
               "a symbolic link (copy the submission in instead)" if p.is_symlink() else
               None if p.is_dir() or (p.is_file() and ARCHIVE_RE.search(p.name)) else
               "neither a folder nor a .zip / .tar.gz archive")
        if why:
            echo(f"skipped {printable(p.name)}: {why}")
        elif p.is_dir():
            subs.append((p.name, p))
        else:
            subs.append((ARCHIVE_RE.sub("", p.name), p))
    stems = [n.lower() for n, _ in subs]        # alice/ and alice.zip: keep both apart
    return [(printable(n if stems.count(n.lower()) == 1 else p.name), p) for n, p in subs]


STUDENTS = "students"   # out/students/NAME/: no name can collide with class.csv


def grade_batch(root, lesson, folder, out_dir, secret=None, jobs=None, budget=DEFAULT_BUDGET,
                select=None, echo=print, sandboxed=True, regression=True):
    """Grade every submission in folder, `jobs` at a time. Ctrl-C or SIGTERM
    (KeyboardInterrupt here) stops it: the gradings under way are killed, and the
    class reports cover what was graded. Returns {name: results}."""
    subs = submissions_in(folder, echo)
    if not subs:
        raise Refused(f"no submissions in {folder}: expected one folder or archive each")
    jobs = jobs or cores()
    out_dir = Path(out_dir)
    started = time.monotonic()
    results = {}
    ref_work = Path(tempfile.mkdtemp(prefix="pios-reference-"))
    try:
        reference = build_reference(root, lesson, ref_work)
        return _grade_all(root, lesson, subs, out_dir, secret, jobs, budget, select, echo,
                          sandboxed, reference, started, results, regression)
    finally:
        shutil.rmtree(ref_work, ignore_errors=True)


def _grade_all(root, lesson, subs, out_dir, secret, jobs, budget, select, echo, sandboxed,
               reference, started, results, regression):
    pool = concurrent.futures.ThreadPoolExecutor(jobs)
    futures = {pool.submit(grade, root, lesson, path, out_dir / STUDENTS / name, secret, 1,
                           budget, select, False, sandboxed, reference, regression): name
               for name, path in subs}
    stopped = False
    try:
        for f in concurrent.futures.as_completed(futures):
            name = futures[f]
            try:
                r = results[name] = f.result()
            except Stopped:
                continue
            except Exception as e:      # e.g. a full disk: the rest of the class goes on
                r = results[name] = {"lesson": lesson.name, "score": 0, "max_score": 0,
                                     "percent": 0.0, "notes": [f"grader error: {e}"],
                                     "execution_time": 0, "tests": []}
            notes = [n for n in r["notes"] if "--no-regression" not in n]
            flag = "" if not notes else f"  ({notes[0][:60]})"
            if r.get("regressions"):
                flag = f"  {r['regressions']} regressions" + flag
            echo(f"[{len(results):>{len(str(len(subs)))}}/{len(subs)}] {name:<24} "
                 f"{r['score']:>6g}/{r['max_score']:<4g} {r['percent']:5.1f}%  "
                 f"{r['execution_time']:5.0f} s{flag}", flush=True)
    except KeyboardInterrupt:
        stopped = True
        stop_all()
        echo(f"stopped: {len(results)} of {len(subs)} graded; writing the class reports "
             "for those", flush=True)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _stopping.clear()
    for f, name in futures.items():     # finished while we were stopping
        if name not in results and f.done() and not f.cancelled() and not f.exception():
            results[name] = f.result()
    if results:
        write_class_reports(results, out_dir, time.monotonic() - started,
                            total=len(subs), stopped=stopped)
    if stopped:
        raise KeyboardInterrupt
    return results


def write_class_reports(results, out_dir, elapsed, total=None, stopped=False):
    names = sorted(results)
    full = max(results.values(), key=lambda r: len(r["tests"]))    # every test listed
    tests = [t["name"] for t in full["tests"]]
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "class.csv", "w", newline="") as f:
        w = csv.writer(f)
        # a test's column: its score; a 0-point test's: 1 if it passed
        w.writerow(["student", "score", "max_score", "percent", "regressions"]
                   + [short_name(t, full["lesson"]) for t in tests])
        for n in names:
            by = {t["name"]: t["score"] if t["points"] else int(t["status"] == "passed")
                  for t in results[n]["tests"]}
            w.writerow([n, results[n]["score"], results[n]["max_score"],
                        results[n]["percent"], results[n].get("regressions", "")]
                       + [by.get(t, 0) for t in tests])
    pct = [results[n]["percent"] for n in names]
    bins = [0] * 11
    for p in pct:
        bins[min(int(p // 10), 10)] += 1
    summary = {"lesson": results[names[0]]["lesson"], "submissions": len(names),
               "mean": round(statistics.mean(pct), 1),
               "median": round(statistics.median(pct), 1),
               "stdev": round(statistics.pstdev(pct), 1),
               "min": min(pct), "max": max(pct),
               "distribution": {f"{10 * i}-{10 * i + 9 if i < 10 else 100}%": b
                                for i, b in enumerate(bins)},
               "wall_time": round(elapsed, 1),
               "stopped": stopped, "not_graded": (total or len(names)) - len(names)}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    lines = [f"lesson {summary['lesson']}: {len(names)} submissions in "
             f"{summary['wall_time']:.0f} s"
             + (f" (stopped: {summary['not_graded']} not graded)" if stopped else ""),
             f"mean {summary['mean']}%  median "
             f"{summary['median']}%  stdev {summary['stdev']}  min {summary['min']}%  "
             f"max {summary['max']}%", ""]
    top = max(bins) or 1
    for label, b in summary["distribution"].items():
        lines.append(f"{label:>8} {'#' * round(30 * b / top):<30} {b}")
    (out_dir / "summary.txt").write_text("\n".join(lines) + "\n")
    return summary


# ---- command line ---------------------------------------------------------------------------------

def _sandbox_tools_problem():
    """None if make, the cross compiler and QEMU each run in the sandbox as the
    grader starts them, else what did not."""
    from . import qemu
    for prog in ("make", cross() + "gcc", qemu.QEMU):
        p = subprocess.run(sandbox.command([prog, "--version"]),
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            return f"{prog} does not run in the sandbox: {(p.stderr or p.stdout)[-300:]}"
    return None


def _test_file(spec, ap):
    """An --only argument: a test file (or file::test) of the harness, named from the
    harness folder (test_05_timer.py) or from where the grader runs
    (harness/test_05_timer.py)."""
    path, sep, rest = spec.partition("::")
    for base in (HARNESS, Path.cwd()):
        if (base / path).is_file() and (base / path).resolve().is_relative_to(HARNESS):
            return str((base / path).resolve()) + sep + rest
    ap.error(f"--only {spec}: no such test file in {HARNESS} (e.g. --only test_05_timer.py)")


def _sigterm(signum, frame):
    raise KeyboardInterrupt     # the same clean stop as Ctrl-C


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--check-sandbox"]:         # Gradescope's setup.sh: fail at image build
        why = sandbox.problem() or _sandbox_tools_problem()
        print(f"pios-grade: {'the sandbox works here' if not why else 'no sandbox: ' + why}",
              file=sys.stderr if why else sys.stdout)
        return 2 if why else 0
    ap = argparse.ArgumentParser(prog="pios-grade", description=__doc__.split("\n\n")[0])
    ap.add_argument("lesson", help="the lesson: 5, 05 or 05-timer")
    ap.add_argument("submission", nargs="?", help="a folder, .zip or .tar.gz")
    ap.add_argument("--batch", metavar="DIR", help="grade every submission in DIR")
    ap.add_argument("--out", metavar="DIR", help="where reports go (default: grades/LESSON"
                    " for a batch, grades/LESSON/NAME for one submission)")
    ap.add_argument("--root", default=str(L.REPO_ROOT), help="the reference piOS tree")
    ap.add_argument("--jobs", type=int, default=None,
                    help="submissions graded at once (default: one per core)")
    ap.add_argument("--budget", type=int, default=DEFAULT_BUDGET,
                    help="seconds of testing allowed per submission")
    ap.add_argument("--only", action="append", default=None, metavar="TESTFILE",
                    help="grade with these test files only (e.g. test_05_timer.py)")
    ap.add_argument("--keep", action="store_true", help="keep the build tree (debugging)")
    ap.add_argument("--no-regression", action="store_true",
                    help="leave out the earlier lessons' tests: they earn 0 points, so the "
                    "scores are the same, in a fraction of the time")
    ap.add_argument("--practice", action="store_true",
                    help="a self-check without the instructor's secret: values anyone "
                    f"can work out, never the graded ones (no {SECRET_ENV} needed)")
    ap.add_argument("--unsandboxed", action="store_true",
                    help="build and boot without bubblewrap, where it cannot run "
                    "(docs/grading.md: what that risks)")
    a = ap.parse_args(argv)
    root = Path(a.root).resolve()
    try:
        lesson = L.resolve(a.lesson, L.find_lessons(root))
    except ValueError as e:
        ap.error(str(e))
    secret = None if a.practice else os.environ.get(SECRET_ENV)
    if not a.practice and not secret:
        print(f"pios-grade: no grading secret. An instructor sets {SECRET_ENV} (a phrase "
              "kept private: it makes the tests' values unguessable);\na student checks "
              "their work with --practice (make grade ... ARGS=--practice).",
              file=sys.stderr)
        return 2
    if a.practice and not a.unsandboxed and sandbox.problem():
        # a self-check: one's own code on one's own machine needs no sandbox
        print(f"pios-grade: practice mode without a sandbox ({sandbox.problem()})",
              file=sys.stderr)
        a.unsandboxed = True
    if not a.unsandboxed and sandbox.problem():
        print(f"pios-grade: cannot sandbox the students' builds: {sandbox.problem()}.\n"
              "Grade where bubblewrap runs, or pass --unsandboxed to build and boot "
              "without it (docs/grading.md says what that risks).", file=sys.stderr)
        return 2
    select = [_test_file(f, ap) for f in a.only] if a.only else None
    signal.signal(signal.SIGTERM, _sigterm)
    try:
        return _main(a, root, lesson, secret, select, ap)
    except KeyboardInterrupt:
        print("pios-grade: stopped", file=sys.stderr)
        return 130


def _main(a, root, lesson, secret, select, ap):
    if a.batch:
        out = Path(a.out or Path("grades") / lesson.name)
        try:
            grade_batch(root, lesson, a.batch, out, secret, a.jobs, a.budget, select,
                        sandboxed=not a.unsandboxed, regression=not a.no_regression)
        except Refused as e:
            print(f"pios-grade: {e}", file=sys.stderr)
            return 2
        print((out / "summary.txt").read_text(), end="")
        print(f"reports: {out}/ (class.csv, summary.json, {STUDENTS}/NAME/ per student)")
        return 0
    if not a.submission:
        ap.error("give a submission, or --batch DIR")
    sub = Path(a.submission)
    if not sub.exists():            # a typo, not a student's zero
        print(f"pios-grade: {sub}: no such file or folder", file=sys.stderr)
        return 2
    out = Path(a.out or Path("grades") / lesson.name / ARCHIVE_RE.sub("", sub.resolve().name))
    r = grade(root, lesson, sub, out, secret, a.jobs or cores(), a.budget,
              select, a.keep, sandboxed=not a.unsandboxed, regression=not a.no_regression)
    print(table(r))
    print("\n".join(R.lines(r.get("review"))))
    print(f"reports: {out}/ (report.txt has each failure's details and the review "
          "list; results.json, junit.xml)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
