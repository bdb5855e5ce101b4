"""Solution regions and the student starter they turn into.

A reference lesson marks the code a student writes, and nothing more:

    /* BEGIN SOLUTION tick_irq */
    ...reference code...
    /* END SOLUTION */

so that the reference reads as plain code. What the student's starter has in the
region's place lives in the lesson's starter.txt (TEXTS_FILE), one entry per region
the lesson introduces: the TODO text, and the STUB lines that keep the starter
compiling under -Werror and booting:

    == timer.c tick_irq
    Acknowledge the match before anything else, ...
    STUB:
        (void)arg;

"STUB: previous" stands for the previous lesson's code of the region with the same
name (a lesson that reworks a region hands out the version the student wrote last
time). In a starter, a region the lesson introduces becomes its TODO comment followed
by the stub; a region the lesson inherits unchanged from the previous lesson keeps
its reference code (the student wrote it last time), only without the markers.

"Introduced by lesson N" is decided by comparison, not by a tag that could go stale:
a region of lessons/NN/file is lesson N's own unless the previous lesson's copy of
the same file has a region with exactly the same text. A lesson that reworks an
earlier region (lesson 03's start.S sets up four stacks where lesson 01 set one)
owns the reworked region. Every region a lesson owns must have an entry in its
starter.txt, and every entry a region: lesson_regions() says which is missing.
"""

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

SOURCE_SUFFIXES = {".c", ".S", ".h", ".ld", ".mk"}

BEGIN_RE = re.compile(r"^(?P<indent>[ \t]*)/\* BEGIN SOLUTION (?P<name>[\w-]+) \*/[ \t]*$")
ANY_BEGIN_RE = re.compile(r"^[ \t]*/\* BEGIN SOLUTION\b")
TEXTS_FILE = "starter.txt"
PREVIOUS = "previous"           # "STUB: previous"
END_RE = re.compile(r"^[ \t]*/\* END SOLUTION \*/[ \t]*$")


class RegionError(ValueError):
    """A malformed region: the message names the file and line."""


@dataclass
class Region:
    path: str           # file the region is in (for messages)
    line: int           # 1-based line of BEGIN
    end_line: int       # 1-based line of END
    indent: str         # indentation of the BEGIN line
    todo: str           # the TODO text ('' if none)
    stub: list          # the stub's lines, without indentation
    text: str           # the whole region, BEGIN to END, as written
    name: str = ""      # from the BEGIN line; unique in its file

    @property
    def where(self):
        return f"{self.path}:{self.line}"


def parse(text, path="<text>"):
    """The solution regions of a source file, in order, without their texts (those
    are in the lesson's starter.txt: lesson_regions() fills them in). Raises
    RegionError on a nested, unclosed, unopened, unnamed or twice-named region."""
    lines = text.split("\n")
    regions, names, i = [], set(), 0
    while i < len(lines):
        if END_RE.match(lines[i]):
            raise RegionError(f"{path}:{i + 1}: END SOLUTION without a BEGIN")
        if ANY_BEGIN_RE.match(lines[i]) and not BEGIN_RE.match(lines[i]):
            raise RegionError(f"{path}:{i + 1}: write a region's start as one line, "
                              f"/* BEGIN SOLUTION name */ (its texts go in {TEXTS_FILE})")
        m = BEGIN_RE.match(lines[i])
        if not m:
            i += 1
            continue
        if m.group("name") in names:
            raise RegionError(f"{path}:{i + 1}: a second region named {m.group('name')}")
        names.add(m.group("name"))
        j = i + 1
        while j < len(lines) and not END_RE.match(lines[j]):
            if ANY_BEGIN_RE.match(lines[j]):
                raise RegionError(f"{path}:{j + 1}: BEGIN SOLUTION inside the region "
                                  f"that starts at line {i + 1}")
            j += 1
        if j == len(lines):
            raise RegionError(f"{path}:{i + 1}: BEGIN SOLUTION without an END")
        regions.append(Region(path, i + 1, j + 1, m.group("indent"), "", [],
                              "\n".join(lines[i:j + 1]), m.group("name")))
        i = j + 1
    return regions


def read_texts(lesson_dir):
    """{(file, region name): (TODO text, stub lines or PREVIOUS)} from a lesson's
    starter.txt ({} when it has none)."""
    path = Path(lesson_dir) / TEXTS_FILE
    if not path.exists():
        return {}
    texts, key, todo, stub = {}, None, [], None

    def close():
        if key is not None:
            lines = stub or []
            while lines and not lines[-1].strip():
                lines.pop()
            texts[key] = (" ".join(todo).strip(),
                          PREVIOUS if lines == [f"STUB: {PREVIOUS}"] else lines)

    for n, line in enumerate(path.read_text().split("\n"), 1):
        if line.startswith("#") and stub is None:
            continue
        if line.startswith("== "):
            close()
            parts = line[3:].split()
            if len(parts) != 2 or tuple(parts) in texts:
                raise RegionError(f"{path}:{n}: want `== FILE NAME`, once per region")
            key, todo, stub = tuple(parts), [], None
        elif key is None:
            if line.strip():
                raise RegionError(f"{path}:{n}: text before the first `== FILE NAME`")
        elif line.strip() == f"STUB: {PREVIOUS}":
            stub = [line.strip()]
        elif line.rstrip() == "STUB:":
            stub = []
        elif stub is not None:
            stub.append(line.rstrip())
        elif line.strip():
            todo.append(line.strip())
    close()
    return texts


def _fill(own, texts, previous, rel, lesson_dir):
    """Give each owned region its TODO and stub from texts; previous: the previous
    lesson's regions of the same file, for "STUB: previous"."""
    for r in own:
        if (rel, r.name) not in texts:
            raise RegionError(f"{r.where}: region {r.name} has no entry `== {rel} {r.name}` "
                              f"in {Path(lesson_dir).name}/{TEXTS_FILE}")
        r.todo, stub = texts[(rel, r.name)]
        if stub == PREVIOUS:
            before = next((p for p in previous if p.name == r.name), None)
            if before is None:
                raise RegionError(f"{r.where}: STUB: previous, but the previous lesson's "
                                  f"{rel} has no region {r.name}")
            stub = [l[len(before.indent):] if l.startswith(before.indent) else l
                    for l in kept_text(before).split("\n")]
        r.stub = stub


def _lesson_prefix(lesson_name):
    return lesson_name[:2]


def stub_text(region, lesson_name):
    """What a region the lesson owns becomes in the starter."""
    ind = region.indent
    words = region.todo or "write this part (see the lesson's README)"
    wrapped = _wrap(f"TODO({_lesson_prefix(lesson_name)}): {words}", 84 - len(ind))
    out = [f"{ind}/* {wrapped[0]}"] + [f"{ind} * {w}" for w in wrapped[1:]]
    out[-1] += " */"
    out += [f"{ind}{s}" if s else "" for s in region.stub]
    return "\n".join(out)


def _wrap(text, width):
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    return lines + [cur] if cur else lines or [""]


def kept_text(region):
    """An inherited region in the starter: its reference code, markers dropped."""
    return "\n".join(region.text.split("\n")[1:-1])


def owned(regions, previous_regions):
    """Which of a file's regions are the lesson's own (not in the previous lesson)."""
    before = {r.text for r in previous_regions}
    return [r for r in regions if r.text not in before]


def source_files(lesson_dir):
    """A lesson's source files (relative paths), build outputs left out."""
    lesson_dir = Path(lesson_dir)
    return sorted(p.relative_to(lesson_dir) for p in lesson_dir.rglob("*")
                  if p.is_file() and "build" not in p.relative_to(lesson_dir).parts
                  and (p.suffix in SOURCE_SUFFIXES))


def lesson_regions(lesson_dir, previous_dir=None):
    """{relative path: (all regions, the lesson's own)} for one lesson folder, the
    lesson's own with their TODO and stub from its starter.txt. Raises RegionError
    when an owned region has no entry there, or an entry no owned region."""
    result, texts = {}, read_texts(lesson_dir)
    for rel in source_files(lesson_dir):
        text = (Path(lesson_dir) / rel).read_text()
        regions = parse(text, str(rel))
        if not regions:
            continue
        prev = []
        if previous_dir is not None and (Path(previous_dir) / rel).exists():
            prev = parse((Path(previous_dir) / rel).read_text(), str(rel))
        own = owned(regions, prev)
        _fill(own, texts, prev, str(rel), lesson_dir)
        result[str(rel)] = (regions, own)
    used = {(rel, r.name) for rel, (_, own) in result.items() for r in own}
    stale = sorted(set(texts) - used)
    if stale:
        raise RegionError(f"{Path(lesson_dir).name}/{TEXTS_FILE}: entries for no region "
                          "this lesson introduces: " + ", ".join(" ".join(k) for k in stale))
    return result


def starter_text(text, own, lesson_name, path="<text>"):
    """A source file's starter version: own regions stubbed, others unmarked.
    Returns (text, [(line in the new text, region) for each stubbed region])."""
    regions = parse(text, path)
    own_by_text = {r.text: r for r in own}
    lines = text.split("\n")
    out, stubbed, pos = [], [], 0
    for r in regions:
        out += lines[pos:r.line - 1]
        if r.text in own_by_text:
            r = own_by_text[r.text]
            stubbed.append((len(out) + 1, r))
            new = stub_text(r, lesson_name)
        else:
            new = kept_text(r)
        out += new.split("\n") if new else []
        pos = r.end_line
    out += lines[pos:]
    return "\n".join(out), stubbed


# A fenced code block, also one indented inside a list item (its closing fence has
# the same indentation).
FENCE_RE = re.compile(r"^([ \t]*)(```+)(\w*)[ \t]*\n(.*?)^\1\2[ \t]*$", re.M | re.S)
MIN_LINE = 12           # shorter lines ("}", "return 0;") say nothing about a solution
SECRET_MIN = 20         # the leak scan's threshold (secret_lines)
# Idioms the harness's own checkers use too: no answer to anything.
COMMON_LINES = {"for (u32 i = first; i < first + count; i++)",
                "for (u32 i = first; i < first + count; i++) {"}


def _lines(text):
    return {l.strip() for l in text.split("\n")}


def _tree_lines(folder, skip=("README.md",)):
    """Every stripped line of every text file under folder (build outputs and the
    named files left out)."""
    out = set()
    folder = Path(folder)
    for p in folder.rglob("*"):
        rel = p.relative_to(folder)
        if p.is_file() and "build" not in rel.parts and p.name not in skip:
            try:
                out |= _lines(p.read_text())
            except (UnicodeDecodeError, OSError):
                pass
    return out


def taught_lines(own, given, min_len=MIN_LINE):
    """{line: region} for the lines of the student's regions that nothing they are
    given shows (`given`: the lines of the previous lesson's reference, their own
    earlier work, and of this lesson's starter sources)."""
    out = {}
    for r in own:
        for line in kept_text(r).split("\n"):
            s = line.strip()
            if len(s) >= min_len and s not in given and s not in COMMON_LINES:
                out.setdefault(s, r)
    return out


def _todo_lines(regions, indent, lesson_name):
    out = []
    for r in regions:
        words = r.todo or "write this part (see the lesson's README)"
        wrapped = _wrap(f"TODO({lesson_name[:2]}, {r.path}): {words}", 76 - len(indent))
        out += [f"{indent}/* {wrapped[0]}"] + [f"{indent} * {w}" for w in wrapped[1:]]
        out[-1] += " */"
    return out


def _distinct(regions):
    """Each region once, in order of first appearance."""
    out = []
    for r in regions:
        if not any(r is o for o in out):
            out.append(r)
    return out


def _redact_block(lines, taught, lesson_name):
    """A code block's lines with every quoted solution replaced by the TODO of the
    region it comes from: the lines between region markers, and the span from the
    first to the last line the student writes."""
    out, i = [], 0
    while i < len(lines):
        if ANY_BEGIN_RE.match(lines[i]):       # a quote may drop the region's name
            j = next((k for k in range(i + 1, len(lines)) if END_RE.match(lines[k])),
                     len(lines) - 1)
            body = lines[i + 1:j]
            regions = _distinct(taught[l.strip()] for l in body if l.strip() in taught)
            if regions:
                out += _todo_lines(regions, re.match(r"[ \t]*", lines[i]).group(0),
                                   lesson_name)
            else:
                out += [l for l in body if not ANY_BEGIN_RE.match(l)]
            i = j + 1
            continue
        out.append(lines[i])
        i += 1
    lines = out
    hits = [k for k, l in enumerate(lines) if l.strip() in taught]
    if not hits:
        return lines
    first, last = hits[0], hits[-1]
    regions = _distinct(taught[lines[k].strip()] for k in hits)
    # widen over the regions' short lines next to the span ("kprintf("\n");",
    # ".if \adjust"), but never over a lone brace: it may close the function
    body = {l.strip() for r in regions for l in kept_text(r).split("\n")} - {"", "{", "}"}
    while first > 0 and lines[first - 1].strip() in body:
        first -= 1
    while last + 1 < len(lines) and lines[last + 1].strip() in body:
        last += 1
    indent = re.match(r"[ \t]*", lines[first]).group(0)
    return lines[:first] + _todo_lines(regions, indent, lesson_name) + lines[last + 1:]


def redact_markdown(text, taught, lesson_name):
    """A README or slide deck for the starter: where a code block quotes code the
    student writes (`taught`, from taught_lines), the quote becomes that region's
    TODO: what to write, not how. Region markers go everywhere."""
    def block(m):
        indent, lang, body = m.group(1), m.group(3), m.group(4)
        fence = indent + m.group(2)
        lines = _redact_block(body.split("\n"), taught, lesson_name)
        lines = [l for l in lines if not END_RE.match(l) and not ANY_BEGIN_RE.match(l)]
        return f"{fence}{lang}\n" + "\n".join(lines) + fence
    return FENCE_RE.sub(block, text)


def given_lines(previous_dir, starter_dir):
    """What a student of the lesson has in hand: the previous lesson's reference
    (their own earlier work) and the lesson's starter sources."""
    return (_tree_lines(previous_dir) if previous_dir else set()) | _tree_lines(starter_dir)


def make_starter_lesson(lesson_dir, previous_dir, dest):
    """Write the starter version of one lesson folder to dest. Returns a list of
    (path, line, todo) for the regions the student must write (for the README)."""
    lesson_dir, dest = Path(lesson_dir), Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(lesson_dir, dest, ignore=shutil.ignore_patterns("build"))
    (dest / TEXTS_FILE).unlink(missing_ok=True)     # its texts go into the sources
    todos, all_own = [], []
    regions = lesson_regions(lesson_dir, previous_dir)
    for rel in source_files(lesson_dir):
        text = (lesson_dir / rel).read_text()
        own = regions[str(rel)][1] if str(rel) in regions else []
        new, stubbed = starter_text(text, own, lesson_dir.name, str(rel))
        (dest / rel).write_text(new)
        todos += [(str(rel), line, r.todo) for line, r in stubbed]
        all_own += own
    taught = taught_lines(all_own, given_lines(previous_dir, dest))
    readme = lesson_dir / "README.md"
    if readme.exists():
        (dest / "README.md").write_text(redact_markdown(readme.read_text(), taught,
                                                        lesson_dir.name))
    return todos


def starter_taught(lesson_dir, previous_dir, starter_dir):
    """taught_lines() for a lesson whose starter is in starter_dir."""
    own = [r for _, (_, o) in lesson_regions(lesson_dir, previous_dir).items() for r in o]
    return taught_lines(own, given_lines(previous_dir, starter_dir))


def lesson_taught(lesson_dir, previous_dir):
    """taught_lines() for a lesson, from a starter written to a scratch folder."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        make_starter_lesson(lesson_dir, previous_dir, Path(tmp) / "l")
        return starter_taught(lesson_dir, previous_dir, Path(tmp) / "l")


# ---- whole trees: what a student gets ---------------------------------------------

# What a student's tree holds besides its one lesson (paths relative to the root).
TREE_FILES = ["Makefile", ".gitignore", "common", "harness", "docs"]
# Never handed out: the mutants (and the lint's fixtures, lint_cases.py) are
# reference code with one mistake each, and their tests need them; the hidden tests (grading/hidden) are the instructor's; logs and
# caches are not course material. test_references.py checks that the whole course's
# files name only files it has: a student's tree holds one lesson.
_NEVER_HANDED_OUT = ("mutants.py", "campaign.py", "pios-mutants", "fake_class.py", "profile_class.py",
                     "hostile_class.py",
                     "test_grading.py", "test_course.py", "test_references.py",
                     "lint_cases.py", "test_lint.py", "test_pictures.py",
                     "selfcheck.py", "stretch_solutions.py", "logs", "build", "__pycache__", ".pytest_cache",
                     "node_modules", "*.pyc")
TREE_IGNORE = shutil.ignore_patterns(*_NEVER_HANDED_OUT, "hidden")
# The Gradescope bundle is the instructor's (students never see it): it keeps the
# hidden tests, which the grader runs.
BUNDLE_IGNORE = shutil.ignore_patterns(*_NEVER_HANDED_OUT)
SLIDE_FILES = ["Makefile", "package.json", "package-lock.json", ".marprc.yml", "themes"]


def previous_lesson_dir(root, lesson_dir):
    """The lesson before lesson_dir in root's course, or None for the first."""
    lessons = sorted(d for d in (Path(root) / "lessons").glob("[0-9][0-9]-*") if d.is_dir())
    i = lessons.index(Path(lesson_dir))
    return lessons[i - 1] if i > 0 else None


# The chainloader (harness/chainloader) has its own UART polling and .bss clearing:
# the answers to lessons 01 and 02. Students get it from this lesson on.
CHAINLOADER_FROM = 3


def make_starter_tree(root, lesson_dir, dest, carry_expected=False):
    """A student's tree for one lesson: the build rules, harness and docs, the
    lesson's slide deck, and the lesson folder with its own regions stubbed (its
    README and slides quoting none of them). Writes README.md (what to do, how to
    test; carry_expected: it says the course expects students to carry their own
    earlier code, else that they may) and returns the TODO list."""
    root, lesson_dir, dest = Path(root), Path(lesson_dir), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    number = int(lesson_dir.name[:2])
    ignore = TREE_IGNORE
    if number < CHAINLOADER_FROM:
        def ignore(folder, names):
            skip = set(TREE_IGNORE(folder, names))
            return skip | ({"chainloader"} if Path(folder).name == "harness" else set())
    for name in TREE_FILES:
        src = root / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore, dirs_exist_ok=True)
        elif src.exists():
            shutil.copy2(src, dest / name)
    previous = previous_lesson_dir(root, lesson_dir)
    starter = dest / "lessons" / lesson_dir.name
    todos = make_starter_lesson(lesson_dir, previous, starter)
    taught = starter_taught(lesson_dir, previous, starter)
    slides = root / "slides"
    (dest / "slides").mkdir(exist_ok=True)
    for name in SLIDE_FILES:
        src = slides / name
        if src.is_dir():
            shutil.copytree(src, dest / "slides" / name, dirs_exist_ok=True)
        elif src.exists():
            shutil.copy2(src, dest / "slides" / name)
    if previous is not None:        # what `make carry` merges a student's own code from
        write_base(previous, dest / "harness" / "carry" / previous.name)
    deck = slides / (lesson_dir.name + ".md")
    if deck.exists():
        (dest / "slides" / deck.name).write_text(
            redact_markdown(deck.read_text(), taught, lesson_dir.name))
    (dest / "README.md").write_text(student_readme(lesson_dir.name, todos,
                                                   previous and previous.name, carry_expected))
    workflow = root / "harness" / "grading" / "classroom.yml"
    if workflow.exists():           # GitHub grades every push (docs/grading.md)
        (dest / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
        (dest / ".github" / "workflows" / "piOS.yml").write_text(
            workflow.read_text().replace("@LESSON@", lesson_dir.name))
    return todos


def _carry_section(name, previous, expected):
    if previous is None:
        return []
    n = name[:2]
    lines = [
        "## Your own code or the reference's",
        "",
        f"The code of the earlier lessons in `lessons/{name}/` is the reference's, so",
        "this lesson starts from a kernel that works. To continue from your own",
        f"instead (your `{previous}`: its folder, your repository or an archive):",
        "",
        "```sh",
        f"make carry FROM=../my-{previous[:2]}",
        "```",
        "",
        "merges your code into this lesson's files (a three-way merge: your changes",
        "and this lesson's both stay). Where this lesson reworks code you changed,",
        "its version stays and `make carry` names the file: redo your change there.",
        f"The folder as it was is saved in `harness/carry/undo/{name}/`. Then",
        f"`make test L={n}` runs every earlier lesson's tests on your code.",
        "",
    ]
    lines += (["**This course expects you to carry your own code**: run `make carry`",
               "before you start."] if expected else
              ["Carrying is up to you (unless your instructor says otherwise): the",
               "grade counts only this lesson's tests either way, and the earlier",
               "lessons' tests are reported as a regression check worth 0 points."])
    return lines + [""]


def student_readme(name, todos, previous=None, carry_expected=False):
    n = int(name[:2])
    lines = [
        f"# piOS lesson {name}",
        "",
        f"This branch holds lesson {name} of piOS, a small operating system for the",
        "Raspberry Pi 1 / Zero. The kernel in `lessons/{0}/` builds and boots as it".format(name),
        "is: everything earlier lessons built works. What this lesson adds is missing,",
        f"and the places to write it are marked `TODO({name[:2]})`. Read",
        f"`lessons/{name}/README.md` (and the slides, `slides/{name}.md`) first.",
        "",
        "## What to write",
        "",
    ]
    for rel, line, todo in todos:
        lines.append(f"- `lessons/{name}/{rel}:{line}`: {todo or 'see the README'}")
    lines += [
        "",
        "## Build, run, test",
        "",
        "```sh",
        f"make run L={n:02d}          # boot your kernel in QEMU (quit: Ctrl-A X)",
        f"make test L={n:02d}         # this lesson's tests and every earlier lesson's",
        f"make debug L={n:02d}        # QEMU halted at the first instruction + GDB",
        f"make grade L={n:02d} SUB=. ARGS=--practice   # your score, counted as the grader",
        "                                         # will (with other random values)",
        "```",
        "",
        "The first `make` installs what is missing (cross compiler, QEMU, Python",
        "packages) on Debian or Ubuntu. Before you start, `make test` passes the",
        "earlier lessons' tests and fails this lesson's (all but a few that check code",
        "you are given): when this lesson's tests pass too, you are done. The tests",
        "use random values (text, addresses, times), so a",
        "kernel that only prints what they look for does not pass; a failing test",
        "prints the seed to rerun it with the same values (`make test L=... "
        "ARGS='--seed N'`).",
        "",
    ] + _carry_section(name, previous, carry_expected) + [
        "## Handing in",
        "",
        f"Hand in the folder `lessons/{name}/` (or the whole repository). Only the",
        "sources in that folder (`*.c`, `*.S`, `*.h`) are graded: they are built with",
        "the course's own Makefiles and `common/`, so changes elsewhere do not count.",
        "",
        "Your score is this lesson's tests, and a few hidden tests of the same",
        "kind that your instructor runs: the code you wrote, nothing else (the",
        "untouched starter scores 0). The earlier lessons' tests run too, as a",
        "regression check worth 0 points. The report ends with what a TA reads by",
        "hand, because QEMU cannot show it (cache and TLB maintenance, the order of",
        "some register writes): check those places in your code yourself.",
        "",
    ]
    return "\n".join(lines)


# ---- what must never reach a student ------------------------------------------------

def secret_lines(root, lesson_dir):
    """{line: 'lesson/file:line'}: the lines of SECRET_MIN characters or more that the
    lesson's students write and nothing given to them shows. No file a student of
    this lesson or an earlier one gets may hold one (test_course.py scans)."""
    lesson_dir = Path(lesson_dir)
    taught = lesson_taught(lesson_dir, previous_lesson_dir(root, lesson_dir))
    out = {}
    for s, r in taught.items():
        if len(s) >= SECRET_MIN:
            n = next(i for i, l in enumerate(r.text.split("\n")) if l.strip() == s)
            out[s] = f"{lesson_dir.name}/{r.path}:{r.line + n}"
    return out


def leaks(text, secrets):
    """The secret lines a text holds: [(line, where it comes from)]."""
    return [(s, secrets[s]) for s in sorted(_lines(text) & secrets.keys())]


# ---- a student's own earlier work, carried into the next lesson ----------------------

CARRIED_SUFFIXES = {".c", ".S", ".h"}


def unmarked(text, path="<text>"):
    """A reference file with every region's code kept and its markers dropped: what a
    student's file would be if they had written exactly the reference."""
    return starter_text(text, [], "", path)[0]


def merge3(mine, base, theirs):
    """Three-way merge with git merge-file: the changes from base to mine and from
    base to theirs, both; where they overlap, theirs. Returns (text, overlaps)."""
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for name, text in (("mine", mine), ("base", base), ("theirs", theirs)):
            (Path(tmp) / name).write_text(text)
            files.append(str(Path(tmp) / name))
        probe = subprocess.run(["git", "merge-file", "-p", *files], capture_output=True)
        if probe.returncode < 0 or probe.returncode > 127:
            raise RuntimeError(probe.stderr.decode(errors="replace"))
        merged = subprocess.run(["git", "merge-file", "-p", "--theirs", *files],
                                capture_output=True, text=True)
        return merged.stdout, probe.returncode


def write_base(previous_dir, dest):
    """The previous lesson's sources as a student would have them had they written
    exactly the reference: the base `carry` merges from (a student tree keeps it in
    harness/carry/, so `make carry` works there without the reference)."""
    previous_dir, dest = Path(previous_dir), Path(dest)
    for rel in source_files(previous_dir):
        if rel.suffix in CARRIED_SUFFIXES:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            (dest / rel).write_text(unmarked((previous_dir / rel).read_text(), str(rel)))


def carry(base_dir, here_dir, mine_dir, lesson_name):
    """Replace the reference's code of earlier lessons in a lesson folder (here_dir,
    the starter) with the student's own, from their previous lesson's folder
    (mine_dir). Each file is merged three ways from base_dir (write_base: the
    previous reference): the changes to the student's file (their work) and to the
    starter (what this lesson changes) are both kept. Where they overlap (the lesson
    reworks code the student wrote), the lesson's version is kept and the note says
    where. Returns the notes."""
    base_dir, here_dir, mine_dir = Path(base_dir), Path(here_dir), Path(mine_dir)
    notes, merged_files = [], 0
    for mine in sorted(p for p in mine_dir.rglob("*") if p.is_file()):
        rel = mine.relative_to(mine_dir)
        if mine.suffix not in CARRIED_SUFFIXES or "build" in rel.parts:
            continue
        base, here = base_dir / rel, here_dir / rel
        text = mine.read_text(errors="replace")
        if not base.is_file():          # a file of the student's own
            if not here.exists():
                here.parent.mkdir(parents=True, exist_ok=True)
                here.write_text(text)
                notes.append(f"{rel}: your own file, copied")
            continue
        if text == base.read_text():
            continue                    # the same as the reference: nothing to carry
        if not here.is_file():
            notes.append(f"{rel}: lesson {lesson_name} has no such file any more; "
                         "yours is left out")
            continue
        merged, overlaps = merge3(text, base.read_text(), here.read_text())
        here.write_text(merged)
        merged_files += 1
        if overlaps:
            notes.append(f"{rel}: {overlaps} place(s) where lesson {lesson_name[:2]} "
                         "changes code you wrote: its version is kept there; redo your "
                         "changes in those places (its README says what changed)")
    notes.insert(0, f"{merged_files} file(s) of {lesson_name} now hold your code")
    return notes
