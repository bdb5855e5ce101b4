"""`make diff L=NN` and `make diff-html`: what a lesson adds to the previous one, as
the reference's code reads (harness/pios/lessondiff.py). A lesson's subsystem is
mostly new files, so they must be shown in full; the solution markers and their
TODO/STUB text are scaffolding for the starter, not code, so they must not be."""

import functools
import html
import re
import subprocess

from pios import lessons as L
from pios import starter as S

LESSON = 2
SCAFFOLDING = ("BEGIN SOLUTION", "END SOLUTION", "TODO:", "STUB:")


def pytest_generate_tests(metafunc):
    """`pair`: (previous lesson, lesson) for every selected lesson after the first."""
    if "pair" in metafunc.fixturenames:
        everything = L.find_lessons(metafunc.config.pios_root)
        pairs = [(everything[everything.index(l) - 1], l)
                 for l in metafunc.config.pios_lessons if everything.index(l) > 0]
        metafunc.parametrize("pair", pairs, ids=[l.name for _, l in pairs])


def make(root, *args):
    r = subprocess.run(["make", "--no-print-directory", "-s", *args], cwd=root,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"make {' '.join(args)} failed:\n{r.stdout}{r.stderr}"
    return r.stdout


@functools.lru_cache(maxsize=None)
def make_diff(root, number):
    """`make diff L=NN`'s output (two tests read it)."""
    return make(root, "diff", f"L={number:02d}")


def new_files(prev, lesson):
    return sorted(p.relative_to(lesson.path) for p in lesson.path.rglob("*")
                  if p.is_file() and "build" not in p.relative_to(lesson.path).parts
                  and "pictures" not in p.relative_to(lesson.path).parts
                  and p.name != "README.md" and not (prev.path / p.relative_to(lesson.path)).exists())


def test_diff_shows_new_files_in_full(pair, pytestconfig):
    """Every line of every file the lesson adds (lesson 05: timer.c and timer.h) is
    in `make diff` as an added line, and in order."""
    prev, lesson = pair
    out = make_diff(pytestconfig.pios_root, lesson.number)
    added = [l[1:] for l in out.split("\n") if l.startswith("+") and not l.startswith("+++")]
    files = new_files(prev, lesson)
    assert files, f"{lesson.name} adds no file"
    for rel in files:
        want = S.unmarked((lesson.path / rel).read_text(), str(rel)).split("\n")
        want = want[:-1] if want[-1] == "" else want
        start = next((i for i, _ in enumerate(added) if added[i:i + len(want)] == want), None)
        assert start is not None, f"make diff L={lesson.number:02d} does not show {rel} in full"


def test_diff_leaves_out_solution_markers(pair, pytestconfig):
    """No line of `make diff` is solution scaffolding (lesson 10's regions carry long
    TODO and STUB texts), while the code inside the lesson's own regions is shown."""
    prev, lesson = pair
    out = make_diff(pytestconfig.pios_root, lesson.number)
    bad = [l for l in out.split("\n") if any(s in l for s in SCAFFOLDING)]
    assert not bad, f"make diff L={lesson.number:02d} shows solution scaffolding:\n" + \
        "\n".join(bad[:10])
    shown = {l[1:].strip() for l in out.split("\n") if l.startswith("+")}
    for rel, (_, own) in S.lesson_regions(lesson.path, prev.path).items():
        for r in own:
            code = [c.strip() for c in S.kept_text(r).split("\n") if len(c.strip()) > 12]
            missing = [c for c in code if c not in shown]
            # A reworked region keeps some of the earlier lesson's lines (context).
            assert len(missing) < len(code) or not code, \
                f"none of the code of {rel}:{r.line}'s region is in make diff"


def c_functions(text):
    """Names of the functions a C file defines (a definition starts in column 0)."""
    return re.findall(r"^[a-z_][\w \*]*?\b(\w+)\([^;]*$", text, re.M)


def test_diff_html_page_shows_new_code(pair, pytestconfig, tmp_path):
    """`make diff-html L=NN` writes DIR/NN-name.html: a side-by-side page naming every
    changed file, with the functions of the files the lesson adds."""
    prev, lesson = pair
    make(pytestconfig.pios_root, "diff-html", f"L={lesson.number:02d}", f"DIFF_DIR={tmp_path}")
    page = tmp_path / f"{lesson.name}.html"
    assert page.is_file(), f"make diff-html wrote no {page.name}"
    text = html.unescape(page.read_text()).replace("\xa0", " ")
    assert "BEGIN SOLUTION" not in text
    sources = [r for r in new_files(prev, lesson) if r.suffix == ".c"]
    for rel in sources:
        assert str(rel) in text
        names = c_functions((lesson.path / rel).read_text())
        assert names, f"no function found in {rel}"
        for name in names:
            assert f"{name}(" in text, f"{page.name} does not show {rel}'s {name}()"


def test_diff_html_every_lesson(pytestconfig, tmp_path):
    """Without L, one page for every lesson that has a previous one."""
    root = pytestconfig.pios_root
    make(root, "diff-html", f"DIFF_DIR={tmp_path}")
    lessons = L.find_lessons(root)
    assert sorted(p.name for p in tmp_path.glob("*.html")) == \
        sorted(f"{l.name}.html" for l in lessons[1:])
