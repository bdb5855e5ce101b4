"""Helpers for the grader's own tests (harness/test_grading.py, test_course.py):
grade a submission through the real grader and check the invariants every grading
keeps, and make broken copies of a reference lesson."""

import hashlib
import io
import json
import os
import shutil
from pathlib import Path

from pios import grade as G
from pios import lessons as L

HARNESS = Path(__file__).resolve().parents[1]
ROOT = L.REPO_ROOT
LESSONS = {l.name: l for l in L.find_lessons(ROOT)}


def own_tests(name):
    """The lesson's own test files (harness/test_NN_*.py)."""
    return [str(p) for p in sorted(HARNESS.glob(f"test_{name[:2]}_*.py"))]


def hidden_tests(name):
    """The lesson's hidden tests (harness/grading/hidden/test_NN_*.py)."""
    return [str(p) for p in sorted((HARNESS / "grading" / "hidden").glob(f"test_{name[:2]}_*.py"))]


def tree_hash(path):
    """Everything about a folder the grader could change: names, kinds, contents."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames + [d for d in dirnames]):
            p = Path(dirpath, name)
            st = os.lstat(p)
            h.update(f"{p.relative_to(path)} {st.st_mode} {st.st_size} {st.st_mtime_ns}".encode())
            if p.is_file() and not p.is_symlink():
                h.update(p.read_bytes())
            elif p.is_symlink():
                h.update(os.readlink(p).encode())
    return h.hexdigest()


SECRET = "the self-checks' secret"


def graded(name, sub, out, select=None, **kw):
    """Grade (as an instructor would: with a secret, in the sandbox, unless told
    otherwise) and check the invariants every grading keeps: the submission
    unchanged, every test reported, reports written."""
    before = tree_hash(sub) if Path(sub).is_dir() else Path(sub).read_bytes()
    kw.setdefault("secret", SECRET)
    r = G.grade(ROOT, LESSONS[name], sub, out, select=select, **kw)
    after = tree_hash(sub) if Path(sub).is_dir() else Path(sub).read_bytes()
    assert before == after, "the grader changed the submission"
    gs = json.loads((Path(out) / "results.json").read_text())
    assert gs["score"] == r["score"] and len(gs["tests"]) == len(r["tests"]) > 0
    assert all({"name", "score", "max_score", "output"} <= set(t) for t in gs["tests"])
    assert (Path(out) / "junit.xml").read_text().startswith("<?xml")
    return r


def by_test(r):
    return {G.short_name(t["name"], r["lesson"]): t for t in r["tests"]}


def copy_lesson(name, dest):
    shutil.copytree(LESSONS[name].path, dest, ignore=shutil.ignore_patterns("build"))
    return Path(dest)


def edit(path, old, new):
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not in {path} exactly once"
    path.write_text(text.replace(old, new))


BOOT = "void kernel_main(void)\n{"     # kernel.c: where every lesson's kernel starts


def printed_at_boot(path):
    """A kernel.c edit (find, replace): embed the file `path` with inline asm, and
    print it before the banner."""
    return (BOOT, f'__asm__(".section .rodata\\nleak: .incbin \\"{path}\\"\\n.byte 0\\n'
            f'.text");\nextern const char leak[];\n{BOOT}\n    kprintf("%s", leak);')


def semihosted_write(victim):
    """A kernel.c edit (find, replace): at boot, semihosting's SYS_OPEN and SYS_WRITE
    on the host file `victim` (which the harness's QEMU must refuse)."""
    return (BOOT, f"""
static int semihost_call(u32 op, void *arg)
{{
    register u32 r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("svc 0x123456" : "+r"(r0) : "r"(r1) : "memory", "lr");
    return (int)r0;
}}

static void try_to_write_the_host(void)
{{
    static const char name[] = "{victim}";
    static const char text[] = "written by the guest\\n";
    u32 open_args[3] = {{(u32)name, 4, sizeof(name) - 1}};   /* mode 4: "w" */
    int fd = semihost_call(0x01, open_args);                  /* SYS_OPEN */
    u32 write_args[3] = {{(u32)fd, (u32)text, sizeof(text) - 1}};
    semihost_call(0x05, write_args);                          /* SYS_WRITE */
}}

{BOOT}
    try_to_write_the_host();""")


class Zeros(io.RawIOBase):
    """n zero bytes, read without ever holding them (a huge archive member)."""

    def __init__(self, n):
        self.n = n

    def readable(self):
        return True

    def readinto(self, b):
        k = min(len(b), self.n)
        b[:k] = bytes(k)
        self.n -= k
        return k
