"""The course through the grader: every lesson's reference and starter, every mutant.

- The reference scores full marks on every lesson, graded with its own tests (the
  normal suite runs the earlier lessons' tests on it).
- Each lesson's starter builds, boots, passes every earlier lesson's tests and
  fails the lesson's own, except the ones marked `given`, which must pass.
- Every mutant in grading/mutants.py loses points on the test meant to catch it
  (`make mutants` reruns them all and prints the kill rate); every solution region
  of lessons 02-10 has one, and each one's text is in its lesson (quick checks).

These grade each lesson several times over (about 70 gradings), so they are marked
`course`: `make test` leaves them out and `make test-course` runs them (CI runs
both). The quick starter checks (README redaction, the course repositories and
their scan for solution lines, a student's tree grading itself with one test file)
stay in `make test`.
"""

import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parent
sys.path.insert(0, str(HARNESS))

from pios import review as R                                  # noqa: E402
from pios import starter as S                                 # noqa: E402
from grading import campaign                                  # noqa: E402
from grading.mutants import MUTANTS, UNSHOWABLE               # noqa: E402
from grading.stretch_solutions import SOLUTIONS as STRETCH     # noqa: E402
from grading.selfcheck import (LESSONS, ROOT, by_test, copy_lesson, edit,  # noqa: E402
                               graded, hidden_tests, own_tests)

WHOLE_COURSE = True     # grades every lesson: left out of `make test L=NN`


# ---- the reference and the starters, each lesson -----------------------------------

@pytest.mark.course
@pytest.mark.parametrize("name", list(LESSONS))
def test_reference_scores_full_marks(name, tmp_path):
    """Graded with its own tests (the normal suite runs the earlier ones on it too)."""
    r = graded(name, LESSONS[name].path, tmp_path / "out", select=own_tests(name))
    failed = [t["name"] for t in r["tests"] if t["status"] != "passed"]
    assert r["score"] == r["max_score"] > 0, f"reference lost points: {failed}\n{r['notes']}"
    assert not r["notes"], r["notes"]


@pytest.mark.course
@pytest.mark.parametrize("name", list(LESSONS))
def test_starter_passes_earlier_lessons_and_fails_its_own(name, tmp_path):
    tree = tmp_path / "starter"
    todos = S.make_starter_tree(ROOT, LESSONS[name].path, tree)
    assert todos, "the starter has nothing to write"
    assert all(t for _, _, t in todos), f"a region without TODO text: {todos}"
    lesson_dir = tree / "lessons" / name
    assert "BEGIN SOLUTION" not in "".join(p.read_text() for p in lesson_dir.rglob("*")
                                           if p.suffix in S.SOURCE_SUFFIXES)
    assert not list(tree.rglob("mutants.py")), "reference code in the starter"
    r = graded(name, lesson_dir, tmp_path / "out")
    assert not r["notes"], r["notes"]          # it builds: no build-failure note
    lost = {s: [t["name"] for t in r["tests"] if t["section"] == s and t["status"] != "passed"]
            for s in ("regression", "given")}
    own_passed = [t["name"] for t in r["tests"]
                  if t["section"] in ("lesson", "hidden") and t["status"] == "passed"]
    earlier_lost, given_lost = lost["regression"], lost["given"]
    if name != "01-boot":           # lesson 01's starter does not boot: nothing before it
        assert not earlier_lost, f"the starter fails earlier lessons' tests: {earlier_lost}"
    assert not own_passed, f"the starter passes its own lesson's tests: {own_passed}"
    # @pytest.mark.given tests check code the starter hands out: they must pass
    assert not given_lost, f"the starter breaks code it hands out: {given_lost}"
    # what every report says: an untouched starter scores nothing
    assert r["score"] == 0 < r["max_score"], r["score"]
    assert "An untouched starter scores 0" in (tmp_path / "out/report.txt").read_text()



# ---- starters, quick checks (part of make test) ------------------------------------

@pytest.mark.parametrize("name", list(LESSONS))
def test_starter_readme_does_not_quote_the_solution(name, tmp_path):
    """The lesson README's walkthrough quotes the reference: in the starter, no two
    consecutive lines of code the student writes survive in it (lines the student
    already has, from the previous lesson or the starter, may)."""
    lesson = LESSONS[name]
    prev = S.previous_lesson_dir(ROOT, lesson.path)
    S.make_starter_lesson(lesson.path, prev, tmp_path / name)
    readme = [l.strip() for l in (tmp_path / name / "README.md").read_text().split("\n")]
    pairs = set(zip(readme, readme[1:]))
    taught = S.lesson_taught(lesson.path, prev)
    for rel, (_, own) in S.lesson_regions(lesson.path, prev).items():
        for r in own:
            body = [l.strip() for l in S.kept_text(r).split("\n")]
            for a, b in zip(body, body[1:]):
                if a in taught and b in taught:
                    assert (a, b) not in pairs, f"the starter README quotes {r.where}: {a} / {b}"


def test_student_tree_runs_its_own_tests(tmp_path):
    """A student's tree is self-contained: its README's commands work in it."""
    tree = tmp_path / "st"
    S.make_starter_tree(ROOT, LESSONS["02-uart"].path, tree)
    readme = (tree / "README.md").read_text()
    assert "make test L=02" in readme and "TODO(02)" in readme
    p = subprocess.run(["make", "-s", "-C", str(tree), "build", "L=02"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert (tree / "lessons/02-uart/build/kernel.img").exists()
    assert sorted(d.name for d in (tree / "lessons").iterdir()) == ["02-uart"]
    assert (tree / ".github/workflows/piOS.yml").read_text().count("02-uart") == 2
    # the README's self-check: the student's own tree grades itself
    p = subprocess.run(["make", "-s", "-C", str(tree), "grade", "L=02", "SUB=.",
                        "ARGS=--practice --only test_01_boot.py"], capture_output=True, text=True,
                       timeout=300, cwd=tree)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "TOTAL" in p.stdout and (tree / "grades/02-uart/st/results.json").exists()


def _blobs(repo):
    """Every file version a git repository holds, in any commit: (object id, text)."""
    ids = subprocess.run(["git", "-C", str(repo), "rev-list", "--all", "--objects"],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    out = []
    for line in ids:
        oid = line.split(" ")[0]
        if not oid:
            continue
        kind = subprocess.run(["git", "-C", str(repo), "cat-file", "-t", oid],
                              capture_output=True, text=True, check=True).stdout.strip()
        if kind == "blob":
            data = subprocess.run(["git", "-C", str(repo), "cat-file", "blob", oid],
                                  capture_output=True, check=True).stdout
            out.append((line, data.decode(errors="replace")))
    return out


def test_course_repositories_hold_no_solution(tmp_path):
    """make course: one repository per lesson, one commit, that lesson only; and no
    file in any of them (slides, docs, harness, history) holds a line of code that
    its own lesson's students, or a later lesson's, write."""
    dest = tmp_path / "course"
    subprocess.run([sys.executable, str(HARNESS / "tools/pios-starter"), "--course",
                    str(dest)], check=True, capture_output=True, timeout=300)
    assert sorted(p.name for p in dest.iterdir()) == [f"lesson-{n:02d}" for n in range(1, 11)]
    secrets = {name: S.secret_lines(ROOT, LESSONS[name].path) for name in LESSONS}
    assert all(len(s) >= 5 for s in secrets.values()), \
        {n: len(s) for n, s in secrets.items()}      # the scan looks for something
    names = list(LESSONS)
    for n, name in enumerate(names, 1):
        repo = dest / f"lesson-{n:02d}"
        git = ["git", "-C", str(repo)]
        assert subprocess.run(git + ["branch", "--format=%(refname:short)"], capture_output=True,
                              text=True, check=True).stdout.split() == ["main"]
        assert subprocess.run(git + ["rev-list", "--count", "--all"], capture_output=True,
                              text=True, check=True).stdout.strip() == "1"
        files = subprocess.run(git + ["ls-tree", "-r", "--name-only", "main"],
                               capture_output=True, text=True, check=True).stdout.split()
        assert "README.md" in files and f"lessons/{name}/Makefile" in files
        assert not [f for f in files if f.startswith("lessons/") and name not in f]
        assert "harness/grading/mutants.py" not in files
        assert not [f for f in files if f.startswith("harness/grading/hidden")]
        assert "harness/grading/stretch_solutions.py" not in files
        if n == 10:         # a stretch exercise's test is the student's to run
            assert "harness/stretch/test_10_asid_generations.py" in files
        assert ("harness/chainloader/loader.c" in files) == (n >= S.CHAINLOADER_FROM)
        later = {}
        for m in names[n - 1:]:
            later.update(secrets[m])
        found = [(obj, S.leaks(text, later)) for obj, text in _blobs(repo)]
        found = [(obj, hits) for obj, hits in found if hits]
        assert not found, f"lesson-{n:02d} holds solution lines: " + "; ".join(
            f"{obj}: {hits[0][0]!r} ({hits[0][1]}) and {len(hits) - 1} more"
            for obj, hits in found[:5])


def test_leak_scan_finds_a_quoted_solution(tmp_path):
    """The scan above can fail: a slide quoting one solution line is found."""
    secrets = S.secret_lines(ROOT, LESSONS["05-timer"].path)
    line, where = next(iter(sorted(secrets.items())))
    assert where.startswith("05-timer/timer.c:")
    text = (ROOT / "slides/02-uart.md").read_text() + "\n```c\n    " + line + "\n```\n"
    assert S.leaks(text, secrets) == [(line, where)]
    assert S.leaks((ROOT / "slides/02-uart.md").read_text(), secrets) == []


def test_student_carries_their_own_code_into_the_next_lesson(tmp_path):
    """make carry FROM=my-08 in a lesson 09 tree: the student's lesson 08 code
    replaces the reference's, lesson 09's own TODOs stay, and where lesson 09
    reworks code the student changed, lesson 09's version stays and they are told."""
    mine = tmp_path / "my-08" / "lessons" / "08-vmm"
    S.write_base(LESSONS["08-vmm"].path, mine)          # the reference, as a student has it
    word = f"mine_{uuid.uuid4().hex[:8]}"
    edit(mine / "timer.c", "static void tick_irq(void *arg)\n{\n",
         f"static void tick_irq(void *arg)\n{{\n    /* {word}: my tick */\n")
    edit(mine / "uart.c", " * Wait for a byte without spinning: sleep in WFI until an interrupt.",
         f" * {word}: lesson 09 rewrites this comment.")
    (mine / "extra.h").write_text(f"/* {word}: a header of my own */\n")
    tree = tmp_path / "st09"
    S.make_starter_tree(ROOT, LESSONS["09-scheduler"].path, tree)
    les = tree / "lessons" / "09-scheduler"
    before = {p.name: p.read_text() for p in les.iterdir() if p.is_file()}
    p = subprocess.run(["make", "-s", "-C", str(tree), "carry", f"FROM={tmp_path / 'my-08'}"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"{word}: my tick" in (les / "timer.c").read_text()
    assert (les / "extra.h").read_text().startswith(f"/* {word}")
    assert word not in (les / "uart.c").read_text()                 # lesson 09's kept
    assert "uart.c: 1 place(s) where lesson 09 changes code you wrote" in p.stdout, p.stdout
    assert (les / "sched.c").read_text() == before["sched.c"]         # TODO(09)s untouched
    assert "it builds" in p.stdout
    undo = tree / "harness/carry/undo/09-scheduler"
    assert (undo / "timer.c").read_text() == before["timer.c"]
    # a path that is not there, and a tree that is not a student's: clear errors
    p = subprocess.run(["make", "-s", "-C", str(tree), "carry", f"FROM={tmp_path / 'nope'}"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode != 0 and "no such file or folder" in p.stderr
    p = subprocess.run([sys.executable, str(HARNESS / "tools/pios-carry"), str(tmp_path / "my-08")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "not a student's lesson tree" in p.stderr


# ---- every region the student writes is checked by a test -------------------------------

def _own_regions():
    out = []
    for name, lesson in LESSONS.items():
        prev = S.previous_lesson_dir(ROOT, lesson.path)
        for rel, (_, own) in S.lesson_regions(lesson.path, prev).items():
            out += [(name, rel, r.line) for r in own]
    return out


@pytest.fixture(scope="session")
def reference_builds(tmp_path_factory):
    """Each lesson's reference built once per worker: a graded copy then compiles
    only the file it changed."""
    from pios import grade as G
    built = {}

    def get(name):
        if name not in built:
            built[name] = G.build_reference(ROOT, LESSONS[name], tmp_path_factory.mktemp(name))
        return built[name]
    return get


@pytest.mark.course
@pytest.mark.parametrize("name,rel,line", _own_regions(),
                         ids=[f"{n[:2]}-{r}:{l}" for n, r, l in _own_regions()])
def test_each_region_alone_loses_points(name, rel, line, tmp_path, reference_builds):
    """The reference with just this one region replaced by its starter stub loses
    points on the lesson's own tests: no region is code that no test needs."""
    sub = copy_lesson(name, tmp_path / name)
    text = (sub / rel).read_text()
    region = next(r for r in S.parse(text, rel) if r.line == line)
    (sub / rel).write_text(S.starter_text(text, [region], name, rel)[0])
    r = graded(name, sub, tmp_path / "out", select=own_tests(name) + hidden_tests(name),
               reference=reference_builds(name))
    lost = [t["name"] for t in r["tests"] if t["section"] in ("lesson", "hidden")
            and t["status"] != "passed"]
    # What QEMU cannot show (a TLB invalidate's ASID: QEMU drops the page for every
    # ASID) has no test; the report's review-by-hand list must name it instead.
    by_hand = R.covers(int(name[:2]), rel, text, line)
    assert lost or by_hand, (f"{rel}:{line} stubbed, every test of lesson {name} still "
                             "passes, and the review list (pios/review.py) does not name it")


# ---- stretch exercises: their tests can pass, and can fail ------------------------------

@pytest.mark.course
@pytest.mark.parametrize("sol", STRETCH, ids=[s.name for s in STRETCH])
def test_stretch_test_passes_on_a_solution_and_fails_on_the_reference(sol, tmp_path):
    """A stretch test fails on the reference (the exercise is not done there) and
    passes on the instructor's solution (grading/stretch_solutions.py), which no
    student tree holds."""
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "common", tree / "common")
    les = tree / "lessons" / sol.lesson
    shutil.copytree(LESSONS[sol.lesson].path, les, ignore=shutil.ignore_patterns("build"))
    for rel, find, replace in sol.edits:
        edit(les / rel, find, replace)

    def run(root):
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-c", str(HARNESS / "pytest.ini"), "-p",
             "no:cacheprovider", "-q", "--no-header", "-m", "stretch", f"--tree={root}",
             f"--lesson={sol.lesson}", f"--log-dir={tmp_path / 'logs'}", str(HARNESS / sol.test)],
            cwd=HARNESS, capture_output=True, text=True, timeout=600)
    solved, reference = run(tree), run(ROOT)
    assert solved.returncode == 0, solved.stdout[-3000:]
    assert reference.returncode == 1 and " failed" in reference.stdout, reference.stdout[-3000:]


# ---- mutants ------------------------------------------------------------------------

def test_every_mutant_edits_its_lesson_once():
    """Quick (part of make test): each mutant's text is in its lesson's file exactly
    once, showable or not, so a change to the reference cannot leave one stale."""
    stale = [m.name for m in MUTANTS + UNSHOWABLE
             if (LESSONS[m.lesson].path / m.file).read_text().count(m.find) != 1]
    assert not stale, f"mutants whose text is not in their lesson exactly once: {stale}"
    showable = [m.name for m in MUTANTS if not m.catches]
    assert not showable, f"showable mutants that name no test to kill them: {showable}"


@pytest.mark.parametrize("name", [n for n in LESSONS if "02" <= n[:2] <= "10"])
def test_every_solution_region_has_a_mutant(name):
    """The mutation campaign (make mutants MAP=1) hits every solution region of
    lessons 02-10: a region added without a mutant fails here."""
    bare = [f"{rel}:{r.line}" for rel, r, _, hit in campaign.coverage(name) if not hit]
    assert not bare, f"regions no mutant hits (harness/grading/mutants.py): {bare}"


@pytest.mark.course
@pytest.mark.parametrize("m", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_loses_points_where_expected(m, tmp_path):
    sub = copy_lesson(m.lesson, tmp_path / m.lesson)
    edit(sub / m.file, m.find, m.replace)
    # graded with just the tests meant to catch it (all their parameters)
    r = graded(m.lesson, sub, tmp_path / "out", select=[str(HARNESS / c) for c in m.catches])
    tests = by_test(r)
    for c in m.catches:
        hits = [t for n, t in tests.items() if n.split("[")[0] == c.replace(".py::", "::")]
        assert hits, f"no test {c}"
        assert any(t["status"] != "passed" for t in hits), \
            f"mutant {m.name} ({m.why}) was not caught by {c}"
