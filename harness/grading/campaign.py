"""The mutation campaign: where each mutant of grading/mutants.py sits, and whether
the tests kill it.

A mutant is *showable* when QEMU can show its bug (MUTANTS): a test named in its
`catches` must then lose points on it. The ones QEMU cannot show (UNSHOWABLE: a
cache, the TLB, real-hardware timing) are graded too, with the lesson's own and
hidden tests, to see that they do survive: one that is killed belongs in MUTANTS.
The lint's mutants (grading/lint_cases.py) are checked by `make lint FIXTURES=1`.

Each mutant is placed in the solution region (harness/pios/starter.py) and the
function its `find` text starts in, so that `--map` can list the regions of a lesson
that no mutant hits yet. harness/tools/pios-mutants is the command; the grading is
selfcheck.py's, the same as harness/test_course.py's.
"""

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pios import starter as S
from grading.lint_cases import MUTANTS as LINT_MUTANTS
from grading.mutants import MUTANTS, UNSHOWABLE
from grading.selfcheck import (HARNESS, LESSONS, ROOT, by_test, copy_lesson, edit, graded,
                               hidden_tests, own_tests)

# A C function's first line: starts in column 0 with a type and ends without ';'.
C_FUNC = re.compile(r"^(?!static_assert)[A-Za-z_][\w \t\*]*?\b(\w+)\s*\([^;]*$")
ASM_LABEL = re.compile(r"^(?:([A-Za-z_]\w*):|\.macro\s+(\w+))")
NOT_FUNC = {"if", "while", "for", "switch", "return", "sizeof"}


def function_at(lines, index):
    """The name of the function (a C function, or in assembly a macro or a label
    that is .global or called with b/bl: not a loop's label) that line `index` is in."""
    exported = {w for l in lines
                for w in re.findall(r"^\s*(?:\.glob(?:a)?l|bl?)\s+(\w+)\s*(?:@.*)?$", l)}
    for i in range(index, -1, -1):
        line = lines[i]
        m = ASM_LABEL.match(line)
        if m and (m.group(2) or m.group(1) in exported):
            return m.group(1) or m.group(2)
        m = C_FUNC.match(line)
        if m and m.group(1) not in NOT_FUNC and not line.startswith(("#", "}")):
            return m.group(1)
    return "?"


def regions(lesson):
    """[(file, Region)] of the lesson's own solution regions."""
    prev = S.previous_lesson_dir(ROOT, LESSONS[lesson].path)
    out = []
    for rel, (_, own) in S.lesson_regions(LESSONS[lesson].path, prev).items():
        out += [(rel, r) for r in own]
    return out


def region_functions(lesson, rel, region):
    """The functions a region's reference code is in (one or several)."""
    lines = (LESSONS[lesson].path / rel).read_text().split("\n")
    start = region.line - 1
    while "*/" not in lines[start]:         # the BEGIN comment: TODO and STUB
        start += 1
    names = []
    for i in range(start + 1, region.end_line - 1):
        name = function_at(lines, i)
        if name not in names and lines[i].strip():
            names.append(name)
    return names or [function_at(lines, region.line - 1)]


@dataclass
class Place:
    region: str         # "file:line" of the region, or "" outside every region
    own: bool           # the lesson's own region (its students write it)
    function: str


def place(m):
    """Where mutant m's edit starts: its region and function."""
    return place_edit(m.lesson, m.file, m.find, m.replace)


def place_edit(lesson, rel, find, replace):
    """Where an edit (find -> replace) of the lesson's file rel starts."""
    text = (LESSONS[lesson].path / rel).read_text()
    at = text.index(find)
    # the first changed line, not a context line the find text starts with
    common = 0
    while common < min(len(find), len(replace)) and find[common] == replace[common]:
        common += 1
    line = text.count("\n", 0, at + common)      # 0-based
    lines = text.split("\n")
    own = {(f, r.line) for f, r in regions(lesson)}
    for r in S.parse(text, rel):
        if r.line - 1 <= line <= r.end_line - 1:
            return Place(f"{rel}:{r.line}", (rel, r.line) in own, function_at(lines, line))
    return Place("", False, function_at(lines, line))


def lint_places(lesson):
    """[(name, Place)] of the lint's mutants (grading/lint_cases.py) that edit this
    lesson's own files: the bugs QEMU cannot show, killed by the lint."""
    out = []
    for case in LINT_MUTANTS:
        for path, find, replace in case.edits:
            prefix = f"lessons/{lesson}/"
            if path.startswith(prefix) and find in (ROOT / path).read_text():
                out.append((case.name, place_edit(lesson, path[len(prefix):], find, replace)))
    return out


@dataclass
class Result:
    mutant: object
    showable: bool
    place: Place
    killed_by: list = field(default_factory=list)   # tests that lost points
    error: str = ""                                 # the grading itself failed

    @property
    def killed(self):
        return bool(self.killed_by)


def grade(m, showable):
    """Grade mutant m: with its `catches` tests when showable, else with every test
    of its lesson (own and hidden). Returns a Result naming the tests it failed."""
    res = Result(m, showable, place(m))
    with tempfile.TemporaryDirectory(prefix="pios-mutant-") as tmp:
        tmp = Path(tmp)
        try:
            sub = copy_lesson(m.lesson, tmp / m.lesson)
            edit(sub / m.file, m.find, m.replace)
            select = ([str(HARNESS / c) for c in m.catches] if showable
                      else own_tests(m.lesson) + hidden_tests(m.lesson))
            r = graded(m.lesson, sub, tmp / "out", select=select)
            tests = by_test(r)
            if showable:
                for c in m.catches:
                    hits = [t for n, t in tests.items()
                            if n.split("[")[0] == c.replace(".py::", "::")]
                    if not hits:
                        res.error = f"no test {c}"
                    elif any(t["status"] != "passed" for t in hits):
                        res.killed_by.append(c)
            else:
                res.killed_by = sorted({n.split("[")[0] for n, t in tests.items()
                                        if t["status"] != "passed"
                                        and t.get("section") in ("lesson", "hidden")})
        except Exception as e:  # noqa: BLE001 - reported in the table, not raised
            res.error = f"{type(e).__name__}: {e}"
    return res


def mutants(lesson=None):
    """[(mutant, showable)] of one lesson, or of all."""
    return [(m, show) for ms, show in ((MUTANTS, True), (UNSHOWABLE, False)) for m in ms
            if lesson is None or m.lesson == lesson]


def coverage(lesson):
    """[(file, Region, functions, [mutant names])] for each own region of a lesson;
    the lint's mutants are named "lint:NAME", the unshowable ones "NAME (unshowable)"."""
    placed = [(m.name if show else f"{m.name} (unshowable)", place(m))
              for m, show in mutants(lesson)]
    placed += [(f"lint:{name}", p) for name, p in dict(lint_places(lesson)).items()]
    out = []
    for rel, r in regions(lesson):
        hit = [name for name, p in placed if p.region == f"{rel}:{r.line}"]
        out.append((rel, r, region_functions(lesson, rel, r), hit))
    return out
