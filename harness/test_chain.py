"""The lesson chain: lesson N's sources are lesson N-1's plus one subsystem.

Each lesson's Makefile declares what it adds and what it changes on purpose:

    LESSON_ADDS    := files new in this lesson
    LESSON_CHANGES := files inherited from the previous lesson and changed on purpose

These tests check that the declarations tell the truth for every pair of consecutive
lessons in the tree (a file that differs by accident is a fix that was not carried
forward), and test harness/tools/carry-forward, which carries a fix on to the later
lessons, in throwaway git repositories.
"""

import os
import subprocess
from pathlib import Path

import pytest

LESSON = 1

TOOLS = Path(__file__).parent / "tools"
CARRY = TOOLS / "carry-forward"
# Every lesson has its own; they always differ (starter.txt: the TODOs and stubs of
# the regions the lesson introduces, harness/pios/starter.py).
UNDECLARED = {"Makefile", "README.md", "starter.txt"}


# ---- reading a tree ----------------------------------------------------------------

def lessons_in(root):
    d = Path(root) / "lessons"
    return sorted(p for p in d.glob("[0-9][0-9]-*") if (p / "Makefile").is_file())


def lesson_files(path):
    """The lesson's source files, relative to its folder: everything except build
    output (build/), the Makefile, README.md and starter.txt, the README's pictures (pictures/,
    drawn from the code by make pictures), hidden files and editor backups."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = [d for d in dirnames
                       if d not in ("build", "pictures") and not d.startswith(".")]
        rel_dir = Path(dirpath).relative_to(path)
        for name in filenames:
            if name.startswith(".") or name.endswith("~"):
                continue
            rel = (rel_dir / name).as_posix()
            if rel not in UNDECLARED:
                found.add(rel)
    return found


def declarations(lesson_dir):
    """LESSON_ADDS and LESSON_CHANGES as make itself expands them (line continuations,
    += and all), through a print rule added on the command line."""
    rule = "pios-print-%: ; @: $(info PIOS:$*=$(strip $($*)))"
    cmd = ["make", "-s", "--no-print-directory", "-C", str(lesson_dir), "--eval", rule,
           "pios-print-LESSON_ADDS", "pios-print-LESSON_CHANGES"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, MAKEFLAGS="", MAKELEVEL=""))
    values = {}
    for line in r.stdout.splitlines():
        if line.startswith("PIOS:") and "=" in line:
            name, _, value = line[5:].partition("=")
            values[name] = value.split()
    if r.returncode != 0 or set(values) != {"LESSON_ADDS", "LESSON_CHANGES"}:
        pytest.fail(f"cannot read LESSON_ADDS and LESSON_CHANGES of {lesson_dir}: "
                    f"`{' '.join(cmd)}` exited {r.returncode}:\n{r.stdout}{r.stderr}",
                    pytrace=False)
    return values["LESSON_ADDS"], values["LESSON_CHANGES"]


def chain_problems(root):
    """Every way the lessons' declarations disagree with their files, as messages
    grouped by kind: 'first', 'new', 'changed', 'stale'."""
    root = Path(root)
    problems = {"first": [], "new": [], "changed": [], "stale": []}
    lessons = lessons_in(root)

    def rel(p):
        return p.relative_to(root).as_posix()

    for i, cur in enumerate(lessons):
        adds, changes = declarations(cur)
        files = lesson_files(cur)
        mk = rel(cur / "Makefile")
        for f in sorted(set(adds) & set(changes)):
            problems["stale"].append(
                f"{rel(cur / f)} is in both LESSON_ADDS and LESSON_CHANGES of {mk}: a "
                "file is either new in the lesson or inherited, keep it in one list")
        prev = lessons[i - 1] if i > 0 else None
        if cur.name.startswith("01-"):
            # (d) the first lesson inherits nothing.
            for f in sorted(files - set(adds)):
                problems["first"].append(
                    f"{rel(cur / f)} is not in LESSON_ADDS of {mk}: lesson 01 has no "
                    "predecessor, so every one of its files is new there; add it")
            for f in changes:
                problems["first"].append(
                    f"{mk} lists {f} in LESSON_CHANGES, but lesson 01 has no "
                    "predecessor to change it from: move it to LESSON_ADDS")
            for f in sorted(set(adds) - files):
                problems["stale"].append(
                    f"{mk} lists {f} in LESSON_ADDS but {rel(cur / f)} does not exist: "
                    "remove it from the list (or add the file)")
            continue
        if prev is None or int(prev.name[:2]) != int(cur.name[:2]) - 1:
            continue                # its predecessor is not in this tree (a grading tree)
        before = lesson_files(prev)
        p = prev.name[:2]
        n = cur.name[:2]
        same = {f for f in files & before
                if (cur / f).read_bytes() == (prev / f).read_bytes()}
        # (a) new files are declared.
        for f in sorted(files - before - set(adds)):
            problems["new"].append(
                f"{rel(cur / f)} is new in lesson {n} ({rel(prev)} has no {f}) but is "
                f"not in LESSON_ADDS of {mk}: add it there")
        # (b) inherited files that differ are declared.
        for f in sorted((files & before) - same - set(changes)):
            problems["changed"].append(
                f"{rel(cur / f)} differs from {rel(prev / f)} but is not in "
                f"LESSON_CHANGES of {mk}: either declare it there (lesson {n} changes "
                f"it on purpose) or, if lesson {p}'s copy got a fix, run "
                f"harness/tools/carry-forward {p} {f}")
        for f in sorted(before - files - set(changes)):
            problems["changed"].append(
                f"{rel(prev / f)} is missing from {rel(cur)}: lesson {n} inherits it; "
                f"copy it over, or list {f} in LESSON_CHANGES of {mk} if lesson {n} "
                "drops it on purpose")
        # (c) nothing is declared that is not so.
        for f in adds:
            if f not in files:
                problems["stale"].append(
                    f"{mk} lists {f} in LESSON_ADDS but {rel(cur / f)} does not exist: "
                    "remove it from the list (or add the file)")
            elif f in before:
                what = ("and it is identical: remove it from LESSON_ADDS" if f in same
                        else "and it differs: move it to LESSON_CHANGES")
                problems["stale"].append(
                    f"{mk} lists {f} in LESSON_ADDS, but it is not new: {rel(prev / f)} "
                    f"exists too, {what}")
        for f in changes:
            if f not in before:
                problems["stale"].append(
                    f"{mk} lists {f} in LESSON_CHANGES, but {rel(prev)} has no {f} to "
                    f"change: " + ("it is new in lesson " + n + ", move it to LESSON_ADDS"
                                   if f in files else "remove it from the list"))
            elif f in same:
                problems["stale"].append(
                    f"{mk} lists {f} in LESSON_CHANGES, but {rel(cur / f)} is identical "
                    f"to {rel(prev / f)}: remove it from LESSON_CHANGES")
    return problems


@pytest.fixture(scope="module")
def problems(request):
    return chain_problems(request.config.pios_root)


def report(found):
    if found:
        pytest.fail("\n".join(found), pytrace=False)


def test_first_lesson_declares_all_its_files(problems):
    report(problems["first"])


def test_new_files_are_in_lesson_adds(problems):
    report(problems["new"])


def test_changed_files_are_in_lesson_changes(problems):
    report(problems["changed"])


def test_declarations_are_not_stale(problems):
    report(problems["stale"])


# ---- the checks above, on a made-up tree: they must be able to fail ---------------------

def write_lesson(root, name, files, adds, changes):
    d = root / "lessons" / name
    d.mkdir(parents=True)
    for f, text in files.items():
        (d / f).parent.mkdir(parents=True, exist_ok=True)
        (d / f).write_text(text)
    # Line continuations, as real Makefiles use them.
    (d / "Makefile").write_text(
        "LESSON_ADDS    := " + " \\\n                  ".join(adds) + "\n"
        "LESSON_CHANGES := " + " ".join(changes) + "\n")
    (d / "README.md").write_text(f"# {name}\n")


def random_text(rng, lines=30):
    return "".join(f"int v{i} = {rng.randrange(10**6)};\n" for i in range(lines))


def test_chain_check_finds_each_kind_of_mistake(tmp_path, rng):
    a, b, c = (random_text(rng) for _ in range(3))
    good = tmp_path / "good"
    write_lesson(good, "01-one", {"a.c": a, "b.h": b}, ["a.c", "b.h"], [])
    write_lesson(good, "02-two", {"a.c": a, "b.h": b + "// more\n", "sub/c.c": c},
                 ["sub/c.c"], ["b.h"])
    (good / "lessons" / "02-two" / "build").mkdir()
    (good / "lessons" / "02-two" / "build" / "junk.o").write_text("ignored")
    assert chain_problems(good) == {"first": [], "new": [], "changed": [], "stale": []}

    bad = tmp_path / "bad"
    write_lesson(bad, "01-one", {"a.c": a, "b.h": b, "x.c": c}, ["a.c", "b.h", "gone.c"],
                 [])
    write_lesson(bad, "02-two",
                 {"a.c": a + "// fix\n", "b.h": b, "x.c": c, "sub/c.c": c, "new.c": c},
                 ["sub/c.c", "x.c"], ["b.h"])
    found = chain_problems(bad)
    text = {k: "\n".join(v) for k, v in found.items()}
    assert "lessons/01-one/x.c is not in LESSON_ADDS of lessons/01-one/Makefile" in text["first"]
    assert "lessons/02-two/new.c is new in lesson 02" in text["new"]
    assert ("lessons/02-two/a.c differs from lessons/01-one/a.c but is not in "
            "LESSON_CHANGES" in text["changed"])
    assert "harness/tools/carry-forward 01 a.c" in text["changed"]
    assert "gone.c in LESSON_ADDS but lessons/01-one/gone.c does not exist" in text["stale"]
    assert "x.c in LESSON_ADDS, but it is not new" in text["stale"]
    assert "b.h in LESSON_CHANGES, but lessons/02-two/b.h is identical" in text["stale"]
    assert sum(map(len, found.values())) == 6, text


# ---- carry-forward -------------------------------------------------------------------

GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="piOS test", GIT_AUTHOR_EMAIL="test@pios",
               GIT_COMMITTER_NAME="piOS test", GIT_COMMITTER_EMAIL="test@pios",
               GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
NAMES = ["01-one", "02-two", "03-three", "04-four"]


def git(tree, *args):
    return subprocess.run(["git", *args], cwd=tree, env=GIT_ENV, check=True,
                          capture_output=True, text=True).stdout


def carry(tree, *args):
    r = subprocess.run([str(CARRY), "--root", str(tree), *args], capture_output=True,
                       text=True, timeout=60, env=GIT_ENV)
    return r.returncode, r.stdout + r.stderr


def edit_line(text, n, rng):
    lines = text.splitlines(keepends=True)
    lines[n] = f"int edited{n} = {rng.randrange(10**6)}; /* {rng.random()} */\n"
    return "".join(lines)


class Tree:
    """A throwaway repository with four lessons sharing shared.c, committed."""

    def __init__(self, tmp_path, rng, copies=None):
        self.root = tmp_path / "tree"
        self.rng = rng
        self.base = random_text(rng, 40)
        copies = copies or {}
        for name in NAMES:
            d = self.root / "lessons" / name
            d.mkdir(parents=True)
            (d / "Makefile").write_text(f"# {name}\n")
            text = copies.get(name, self.base)
            if text is not None:
                (d / "shared.c").write_text(text)
        git(self.root, "init", "-q")
        git(self.root, "add", ".")
        git(self.root, "commit", "-q", "-m", "lessons")

    def path(self, lesson, f="shared.c"):
        return self.root / "lessons" / lesson / f

    def read(self, lesson, f="shared.c"):
        return self.path(lesson, f).read_text()

    def snapshot(self):
        return {p: p.read_bytes() for p in sorted(self.root.glob("lessons/*/*"))}


def spec(rng, name):
    """A lesson named the ways users name it: 1, 01 or 01-one."""
    return rng.choice([str(int(name[:2])), name[:2], name])


def test_carry_forward_updates_identical_copies(tmp_path, rng):
    t = Tree(tmp_path, rng)
    new = edit_line(t.base, rng.randrange(40), rng)
    t.path("01-one").write_text(new)
    status, out = carry(t.root, spec(rng, "01-one"), "shared.c")
    assert status == 0, out
    for name in NAMES[1:]:
        assert t.read(name) == new, f"{name} not updated:\n{out}"
        assert f"lessons/{name}/shared.c: updated" in out
    # Carrying again finds nothing left to do.
    status, out = carry(t.root, "01", "shared.c")
    assert status == 0 and out.count("already up to date") == 3, out


def test_carry_forward_dry_run_writes_nothing(tmp_path, rng):
    t = Tree(tmp_path, rng)
    t.path("01-one").write_text(edit_line(t.base, rng.randrange(40), rng))
    before = t.snapshot()
    status, out = carry(t.root, "--dry-run", "1", "shared.c")
    assert status == 0, out
    assert t.snapshot() == before, "--dry-run changed files"
    assert out.count(": updated") == 3, out


def test_carry_forward_merges_into_a_lesson_that_changed_the_file(tmp_path, rng):
    """Lesson 03 changed a line far from the fix: the fix is merged in, lesson 03's
    change is kept, and lesson 04 (a copy of 03) gets 03's new content."""
    fix_line, own_line = rng.randrange(0, 10), rng.randrange(25, 40)
    base = random_text(rng, 40)
    own = edit_line(base, own_line, rng)
    t = Tree(tmp_path, rng, {"01-one": base, "02-two": base, "03-three": own,
                             "04-four": own})
    new = edit_line(base, fix_line, rng)
    t.path("01-one").write_text(new)
    status, out = carry(t.root, "01-one", "shared.c")
    assert status == 0, out
    assert t.read("02-two") == new
    merged = new.splitlines(keepends=True)
    merged[own_line] = own.splitlines(keepends=True)[own_line]
    assert t.read("03-three") == "".join(merged), out
    assert "lessons/03-three/shared.c: merged" in out
    assert t.read("04-four") == "".join(merged), out
    assert "lessons/04-four/shared.c: updated" in out


def test_carry_forward_reports_a_conflict_and_writes_nothing_there(tmp_path, rng):
    line = rng.randrange(40)
    base = random_text(rng, 40)
    theirs = edit_line(base, line, rng)
    t = Tree(tmp_path, rng, {"01-one": base, "02-two": base, "03-three": theirs,
                             "04-four": theirs})
    t.path("01-one").write_text(edit_line(base, line, rng))
    status, out = carry(t.root, "1", "shared.c")
    assert status == 1, out
    assert "lessons/02-two/shared.c: updated" in out
    assert "lessons/03-three/shared.c: CONFLICT" in out
    assert "carry-forward 03-three shared.c" in out, "no hint how to go on"
    assert t.read("03-three") == theirs, "a conflicting merge was written"
    assert t.read("04-four") == theirs, "the carry went on past a conflict"
    assert "lessons/04-four/shared.c: skipped" in out


def test_carry_forward_stops_where_a_lesson_lacks_the_file(tmp_path, rng):
    t = Tree(tmp_path, rng, {"03-three": None})
    new = edit_line(t.base, rng.randrange(40), rng)
    t.path("01-one").write_text(new)
    status, out = carry(t.root, "01", "shared.c")
    assert status == 0, out
    assert t.read("02-two") == new
    assert "lessons/03-three/shared.c: not present" in out
    assert t.read("04-four") == t.base and "lessons/04-four/shared.c: skipped" in out


def test_carry_forward_carries_only_the_named_change(tmp_path, rng):
    """Lesson 02 has work in progress in the file (not committed): carrying lesson 01's
    fix merges it into 02 but hands on only the fix, not 02's unfinished work."""
    t = Tree(tmp_path, rng)
    fix_line, wip_line = rng.randrange(0, 10), rng.randrange(25, 40)
    fixed = edit_line(t.base, fix_line, rng)
    wip = edit_line(t.base, wip_line, rng)
    t.path("01-one").write_text(fixed)
    t.path("02-two").write_text(wip)
    status, out = carry(t.root, "01", "shared.c")
    assert status == 0, out
    both = fixed.splitlines(keepends=True)
    both[wip_line] = wip.splitlines(keepends=True)[wip_line]
    assert t.read("02-two") == "".join(both), out
    assert "lessons/02-two/shared.c: merged" in out
    for name in NAMES[2:]:
        assert t.read(name) == fixed, out


def test_carry_forward_all_carries_every_changed_file(tmp_path, rng):
    """--all: lesson 01's fix to shared.c, lesson 03's own change to it, and lesson
    02's fix to other.h all travel down; Makefiles and earlier lessons are left alone."""
    t = Tree(tmp_path, rng)
    other = random_text(rng, 10)
    for name in NAMES:
        t.path(name, "other.h").write_text(other)
    git(t.root, "add", ".")
    git(t.root, "commit", "-q", "-m", "other.h")
    fix_line, own_line = rng.randrange(0, 10), rng.randrange(25, 40)
    new_shared = edit_line(t.base, fix_line, rng)
    own = edit_line(t.base, own_line, rng)
    new_other = edit_line(other, rng.randrange(10), rng)
    t.path("01-one").write_text(new_shared)
    t.path("03-three").write_text(own)
    t.path("02-two", "other.h").write_text(new_other)     # a fix made in lesson 02
    t.path("01-one", "Makefile").write_text("# changed, never carried\n")
    status, out = carry(t.root, "--all")
    assert status == 0, out
    assert t.read("02-two") == new_shared, out
    both = new_shared.splitlines(keepends=True)
    both[own_line] = own.splitlines(keepends=True)[own_line]
    assert t.read("03-three") == "".join(both), out
    assert t.read("04-four") == "".join(both), out
    assert t.read("01-one", "other.h") == other, "carried backwards"
    for name in NAMES[2:]:
        assert t.read(name, "other.h") == new_other, out
    for name in NAMES[1:]:
        assert t.read(name, "Makefile") == f"# {name}\n", "a Makefile was carried"


def test_carry_forward_rejects_bad_usage(tmp_path, rng):
    t = Tree(tmp_path, rng)
    status, out = carry(t.root, "07", "shared.c")
    assert status == 2 and "01-one, 02-two, 03-three, 04-four" in out, out
    status, out = carry(t.root, "--base", "no-such-rev", "01", "shared.c")
    assert status == 2 and "no-such-rev" in out, out
    status, out = carry(t.root, "01")
    assert status == 2, out
