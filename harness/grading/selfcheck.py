"""Helpers for the grader's own tests (harness/test_grading.py, test_course.py):
grade a submission through the real grader and check the invariants every grading
keeps, and make broken copies of a reference lesson."""

import hashlib
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
