"""Every file the repository names exists in it.

The READMEs, docs, slides, code comments, Makefiles and Python of the course tell a
reader where to look ("harness/pios/starter.py explains the regions", "see
timer.c"). A name that points at nothing sends them nowhere: everything a reader
needs must be in the repository. This test reads every tracked text file and fails on
each name of a file that does not exist.

What counts as a file name (a "reference"):
- a word with a slash whose first part is a folder or file of the repository root or
  of the referring file's folder (`lessons/05-timer`, `harness/tools/carry-forward`,
  `user/crt0.S` in lesson 10): other words with slashes ("TTBR0/TTBR1", "read/write")
  are not file names;
- a word ending in a source or document extension (.md .c .h .S .py .ld .mk .gdb .sh
  .yml .json .ini .css), with or without a folder (`DESIGN.md`, `timer.c`).
A reference resolves when it names a tracked file or folder relative to the root or
to the referring file's folder, or is the tail of a tracked path on a slash boundary
(`pios/starter.py`, and a bare `timer.c` from any lesson: the lessons share names).
Not references: URLs, words holding a placeholder (`{name}`, `$(LDIR)`, `NN`, `*`,
`...`, `<...>`), and build output (any path through a `build/` folder, and the names
in GENERATED). The test is about this repository as a whole, so it is never handed
out in a student's tree (harness/pios/starter.py, _NEVER_HANDED_OUT), which holds
one lesson.
"""

import io
import os
import re
import subprocess
import tokenize
from pathlib import Path

import pytest

LESSON = 1

EXTENSIONS = ("md", "c", "h", "S", "py", "ld", "mk", "gdb", "sh", "yml", "json", "ini", "css")
# Written by a build or a run, never tracked: a path through build/ is skipped anyway;
# these are the names that are also written without their folder.
GENERATED = {
    "programs.S",       # lesson 10: the user programs as one assembly file (user/user.mk)
    "bench.json",       # make bench: a lesson's figures, in its build/ (harness/pios/bench.py)
}
# Names of files that are never in the repository, though its tools make them or its
# docs quote them (a name here is also any path ending in it, or under it):
NOT_IN_REPO = {
    # what the grader writes for each submission and batch (docs/grading.md)
    "results.json", "grade.json", "summary.json", "raw.json",
    # what the starter tools write into a student's tree or repository
    "piOS.yml", ".github/workflows/piOS.yml", "harness/carry/",
    # a submission's own files, quoted in the grader's notes (docs/grading.md)
    "lessons/05-timer/mmio.h", "bomb.h",
    # headers of the compiler and of the host (libffi, for the host-side unit tests)
    "stddef.h", "ffi.h",
    # lesson 04's exercise asks the reader to write it
    "harness/unit/ringbuf_check.c",
}
# A bare file name on a line that names another project is that project's file
# ("Linux's bcm2835_timer.c", "xv6's kalloc.c"): the READMEs and slides compare.
OTHER_PROJECTS_RE = re.compile(r"\b(?:Linux|xv6|QEMU|seL4|Genode|U-Boot|FreeBSD|NetBSD)\b")
# Test modules and the made-up classes of submissions (fake and hostile) write
# fixture trees: their string literals name those trees' files, so only their
# comments and docstrings are read, and a bare name the module also writes as a
# string literal is a fixture's file.
TEST_MODULES = ("test_", "fake_class", "hostile_class")
# A word made of these characters is a candidate; it ends at anything else (a ':' of
# "proc.c:263", a ')' of a Markdown link, a '#' of an anchor).
WORD_RE = re.compile(r"[\w./\-]+")
URL_RE = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+|\bwww\.\S+|\b[\w.-]+\.(?:com|org|net|io|edu)/\S*")
EXT_ONLY_RE = re.compile(r"^\.(?:%s)$" % "|".join(EXTENSIONS))      # ".c": a suffix
EXT_RE = re.compile(r"\.(?:%s)$" % "|".join(EXTENSIONS))
PLACEHOLDER_RE = re.compile(r"NN|XX|\.\.\.|^\.+$")


def tracked(root):
    """Every tracked file, relative to root (the working tree's build outputs, logs
    and caches are not the repository)."""
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True,
                         text=True, check=True).stdout
    return [p for p in out.split("\0") if p and (Path(root) / p).is_file()]


def all_paths(files):
    """The tracked files and every folder above one."""
    paths = set(files)
    for f in files:
        parts = f.split("/")
        for i in range(1, len(parts)):
            paths.add("/".join(parts[:i]))
    return paths


def tails(paths):
    """Every slash-boundary tail of every path: 'pios/starter.py', 'starter.py'."""
    out = set()
    for p in paths:
        parts = p.split("/")
        for i in range(len(parts)):
            out.add("/".join(parts[i:]))
    return out


def python_prose(text, data_too):
    """The parts of a Python file that can name a file for a reader: comments and
    docstrings, and (data_too) every other string literal. A test module's other
    strings are its fixtures (files it writes into a tree of its own)."""
    out, prev = [], tokenize.NEWLINE
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text                     # not Python after all: all of it
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.COMMENT:
            out.append((tok.start[0], tok.string))
        elif tok.type == tokenize.STRING:
            nxt = next((t.type for t in tokens[i + 1:]
                        if t.type not in (tokenize.NL, tokenize.COMMENT)), None)
            docstring = prev in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                                 tokenize.ENCODING) and nxt in (tokenize.NEWLINE, None)
            if docstring or data_too:
                out.append((tok.start[0], tok.string))
        if tok.type not in (tokenize.NL, tokenize.COMMENT):
            prev = tok.type
    lines = [""] * (text.count("\n") + 2)
    for n, string in out:
        for k, part in enumerate(string.split("\n")):
            lines[n - 1 + k] += " " + part
    return "\n".join(lines)


def string_values(text):
    """The values of a Python file's one-word string literals."""
    out = set()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.STRING:
            m = re.fullmatch(r"[a-zA-Z]*(['\"])([\w./-]+)\1", tok.string)
            if m:
                out.add(m.group(2))
    return out


def is_python(path, text):
    return path.endswith(".py") or text.startswith("#!") and "python" in text.split("\n")[0]


def candidates(text):
    """(line number, word) for every word of text that could name a file."""
    for n, line in enumerate(text.split("\n"), 1):
        line = URL_RE.sub(" ", line)
        for m in WORD_RE.finditer(line):
            before = line[m.start() - 1] if m.start() else ""
            after = line[m.end()] if m.end() < len(line) else ""
            if (before and before in "{$<%*") or (after and after in "}*>%(") :
                continue                # a placeholder, a glob or a function call
            if m.group().endswith("..."):
                continue                # cut short ("pios.c..." in pytest's summary)
            word = m.group().rstrip(".-")
            if word.startswith("./"):
                word = word[2:]
            if word and not PLACEHOLDER_RE.search(word) and not EXT_ONLY_RE.match(word):
                yield n, word


def ignored(root, paths):
    """Those of paths that the repository's .gitignore ignores: outputs, never files
    of the repository (build/, harness/logs/, grades/)."""
    if not paths:
        return set()
    # A pattern with a trailing slash (harness/logs/) matches folders only.
    asked = [q for p in paths for q in (p, p.rstrip("/") + "/")]
    r = subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], cwd=root,
                       input="\n".join(asked) + "\n", capture_output=True, text=True)
    said = set(r.stdout.split("\n"))
    return {p for p in paths if p in said or p.rstrip("/") + "/" in said}


def dangling(root, files):
    """[(file, line, word)] for every reference in files that resolves to nothing."""
    root = Path(root)
    paths = all_paths(files)
    known_tails = tails(paths)
    top = {p for p in paths if "/" not in p}
    found = []
    for f in files:
        try:
            text = (root / f).read_text()
        except UnicodeDecodeError:
            continue                    # not text
        fixtures = set()
        if is_python(f, text):
            test_module = Path(f).name.startswith(TEST_MODULES)
            if test_module:
                fixtures = string_values(text)
            text = python_prose(text, data_too=not test_module)
        lines = text.split("\n")
        here = str(Path(f).parent)
        here_entries = {p[len(here) + 1:].split("/")[0] for p in paths
                        if here != "." and p.startswith(here + "/")}
        for n, word in candidates(text):
            parts = [p for p in word.split("/") if p]
            if not parts or "build" in parts or parts[-1] in GENERATED:
                continue
            has_ext = bool(EXT_RE.search(parts[-1]))
            rel = "/".join(parts)
            if "/" in word and parts[0] not in top | here_entries | {"..", "."} \
                    and rel not in known_tails:
                continue    # "TTBR0/TTBR1", "pmm.c/pmm.h", another project's path
            if "/" not in word and not has_ext:
                continue
            near = os.path.normpath(os.path.join(here, rel))
            if rel in paths or near in paths or rel in known_tails:
                continue
            if parts[0] == ".." and (near.startswith("..") or near == "." or
                                     os.path.normpath(rel).startswith("..")):
                continue            # a folder outside the repository: the reader's own
            if any(rel == a.rstrip("/") or rel.startswith(a.rstrip("/") + "/")
                   for a in NOT_IN_REPO):
                continue
            if "/" not in word and OTHER_PROJECTS_RE.search(lines[n - 1]):
                continue
            if "/" not in word and word in fixtures:
                continue    # a test's own fixture file, written by the test
            found.append((f, n, word, rel, near))
    outputs = ignored(root, sorted({x for *_, rel, near in found for x in (rel, near)}))
    return [(f, n, w) for f, n, w, rel, near in found
            if rel not in outputs and near not in outputs]


def test_every_named_file_exists(pytestconfig):
    root = pytestconfig.pios_root
    if not (Path(root) / ".git").exists():
        pytest.fail(f"{root} is not a git repository: this test reads `git ls-files`")
    bad = dangling(root, tracked(root))
    assert not bad, "references to files the repository does not have:\n" + \
        "\n".join(f"  {f}:{n}: {w}" for f, n, w in bad)


def test_the_checker_finds_a_dangling_name(tmp_path):
    """The checker itself, on a tree of its own: a missing file is found whether it is
    named bare, with its folder or relative to the referring file; existing ones, a
    slash word that is no path, a URL and a placeholder are not."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "harness").mkdir()
    (tmp_path / "harness" / "pytest.ini").write_text("")
    (tmp_path / "harness" / "tool.py").write_text(
        '"""Reads harness/pytest.ini and gone.py."""\n'
        'NAME = "made.c"  # see lessons/05-timer/timer.c and lessons/01-x/a.c\n')
    (tmp_path / "harness" / "test_tool.py").write_text(
        '"""Writes made.c, and reads lost.py."""\n'
        'TREE = {"made.c": "", "lessons/01-x/a.c": ""}  # a tree of its own\n')
    (tmp_path / "lessons" / "05-timer").mkdir(parents=True)
    (tmp_path / "lessons" / "05-timer" / "timer.c").write_text("/* see kprintf.h */\n")
    (tmp_path / "docs" / "a.md").write_text(
        "Read DESIGN.md and harness/README.md, then lessons/05-timer/timer.c,\n"
        "timer.c, ../lessons/05-timer and ./b.md. TTBR0/TTBR1 and read/write are no\n"
        "files; nor is https://example.com/x/README.md, lessons/NN-name/README.md or\n"
        "lessons/05-timer/build/kernel.elf. Linux's bcm2835_timer.c is Linux's.\n")
    files = ["docs/a.md", "lessons/05-timer/timer.c", "harness/pytest.ini",
             "harness/tool.py", "harness/test_tool.py"]
    got = {(f, w) for f, _, w in dangling(tmp_path, files)}
    assert got == {("docs/a.md", "DESIGN.md"), ("docs/a.md", "harness/README.md"),
                   ("docs/a.md", "b.md"), ("lessons/05-timer/timer.c", "kprintf.h"),
                   ("harness/tool.py", "gone.py"), ("harness/tool.py", "made.c"),
                   ("harness/tool.py", "lessons/01-x/a.c"),
                   ("harness/test_tool.py", "lost.py")}


# ---- README sections ----------------------------------------------------------------

# `README, "Heading"` or `README's ("Heading", "Other")`: the quoted names after it;
# "lesson 02's README, ..." names another lesson's.
SECTION_REF_RE = re.compile(r"(?:lesson (\d\d)'s )?README(?:'s)?[,:]?\s*\(?"
                            r"((?:\"[^\"]+\"\s*(?:,|and)?\s*)+)")


def readme_headings(readme):
    """A README's section headings, as a reader would quote them (no backticks)."""
    return {re.sub(r"^#+\s*", "", line).strip().replace("`", "")
            for line in readme.read_text().split("\n") if line.startswith("#")}


def named_sections(text):
    """The README sections a text names, as (section, the lesson number it names or
    None for its own lesson)."""
    flat = " ".join(re.sub(r"\n\s*(?:\*(?!/)|//|@)", "\n", text).split())   # comment leaders
    return [(name, m.group(1)) for m in SECTION_REF_RE.finditer(flat)
            for name in re.findall(r"\"([^\"]+)\"", m.group(2))]


def missing_sections(lesson_dir):
    """(file, section) for each README section that the lesson's starter texts or
    sources name and its README does not have."""
    lesson_dir = Path(lesson_dir)

    def have(number):
        folder = next(lesson_dir.parent.glob(f"{number}-*"), None) if number else lesson_dir
        return readme_headings(folder / "README.md") if folder else set()
    texts = [p for p in lesson_dir.rglob("*") if p.is_file() and "build" not in p.parts
             and p.suffix in (".c", ".h", ".S", ".txt")]
    return [(p.relative_to(lesson_dir).as_posix(), name) for p in sorted(texts)
            for name, number in named_sections(p.read_text())
            if name.replace("`", "") not in have(number)]


def test_every_named_readme_section_exists(pytestconfig):
    """The TODO a student reads (starter.txt) and the code's comments send them to a
    section of the lesson's README by its heading: a heading that was renamed or cut
    sends them nowhere."""
    root = Path(pytestconfig.pios_root)
    bad = [(lesson.name, f, s) for lesson in sorted((root / "lessons").glob("[0-9][0-9]-*"))
           for f, s in missing_sections(lesson)]
    assert not bad, "README sections that do not exist:\n" + \
        "\n".join(f"  {l}/{f}: \"{s}\"" for l, f, s in bad)


def test_the_section_checker_finds_a_missing_heading(tmp_path):
    """Headings are looked up in the lesson's own README, or in the one a "lesson
    NN's README" names; comment leaders inside a quote do not count."""
    first, here = tmp_path / "02-first", tmp_path / "03-here"
    first.mkdir()
    here.mkdir()
    (first / "README.md").write_text("# Lesson 02\n\n## Shell commands\n")
    (here / "README.md").write_text("# Lesson\n\n## What you write\n\n## `crash undef`\n")
    (here / "starter.txt").write_text(
        '== a.c f\nDo it (README, "What you write", "Gone away"). README, "crash undef".\n')
    (here / "a.c").write_text('/* the README\'s ("Also\n * gone") */\n')
    (here / "shell.c").write_text('/* lesson 02\'s README, "Shell commands"; lesson 02\'s '
                                  'README, "What you write" */\n')
    assert missing_sections(here) == [("a.c", "Also gone"), ("shell.c", "What you write"),
                                      ("starter.txt", "Gone away")]


# ---- lesson READMEs: a lab handout read in one sitting --------------------------------

README_WORDS_MAX = 5000


def test_every_lesson_readme_reads_in_one_sitting(pytestconfig):
    """A lesson README is a handout, not a manual: at most README_WORDS_MAX words
    (as `wc -w` counts them), walkthroughs and logs left to the code and docs/."""
    root = Path(pytestconfig.pios_root)
    words = {l.name: len((l / "README.md").read_text().split())
             for l in sorted((root / "lessons").glob("[0-9][0-9]-*"))}
    assert len(words) == 10
    long = {name: n for name, n in words.items() if n > README_WORDS_MAX}
    assert not long, f"READMEs over {README_WORDS_MAX} words: {long}"
