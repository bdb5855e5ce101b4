#!/usr/bin/env python3
"""A made-up class for rehearsing a grading: copies of a lesson's reference, some
handed in whole, some broken the ways students break things.

    harness/tools/pios-python harness/grading/fake_class.py 10 DEST [--size 200]
        [--broken 0.5]

Writes DEST/student-NNN (a folder, .zip or .tar.gz; a lesson folder or a whole
repository), and DEST.kinds.csv: what each one is. A `--broken` share of them is
broken, cycling through: a compile error, a link error, a kernel that hangs or
panics before its prompt, one that hangs or floods in `run`, the untouched
starter, a submission missing half its files, and every mutant of
harness/grading/mutants.py that applies to the lesson. Every copy differs by a comment, so each gets a seed of its own.
Then: `make grade L=10 BATCH=DEST` (docs/grading.md measures one such class), and
profile_class.py for where the time went, by kind.

Reference code: the starter generator never hands this file out.
"""

import argparse
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HARNESS))
from grading.mutants import MUTANTS    # noqa: E402
from pios import lessons as L          # noqa: E402
from pios import starter as S          # noqa: E402

ROOT = L.REPO_ROOT
PROMPT_LINE = "    shell_run();"        # kernel.c: where every lesson with a shell starts it


def _edit(path, find, replace):
    text = path.read_text()
    if text.count(find) != 1:
        return False
    path.write_text(text.replace(find, replace))
    return True


def _first_command(lesson_dir):
    """The lesson's newest shell command (`run` from lesson 10 on), or the first
    one found: (file, its first line)."""
    found = []
    for f in sorted(lesson_dir.glob("*.c")):
        for line in f.read_text().splitlines():
            if line.startswith("static int cmd_") and line.endswith(")"):
                found.append((not line.startswith("static int cmd_run("), f, line))
    return min(found)[1:] if found else (None, None)


def breakages(lesson):
    """(name, function that breaks a copy of the lesson folder in place, or the
    starter's kind); each function returns False if it does not apply."""
    kinds = [
        ("compile-error", lambda d: _edit(d / "kernel.c", "void kernel_main(void)\n{",
                                          "void kernel_main(void)\n{\n    this is not C;")),
        ("link-error", lambda d: _edit(d / "kernel.c", "void kernel_main(void)\n{",
                                       "void not_written_yet(void);\nvoid kernel_main(void)"
                                       "\n{\n    not_written_yet();")),
        ("hang-at-boot", lambda d: _edit(d / "kernel.c", PROMPT_LINE,
                                         "    for (;;)\n        ;\n" + PROMPT_LINE)),
        ("panic-at-boot", lambda d: _edit(d / "kernel.c", PROMPT_LINE,
                                          "    ((void (*)(void))0x1)();\n" + PROMPT_LINE)),
        ("hang-in-a-command", lambda d: _in_command(d, "    for (;;)\n        ;\n")),
        ("flood-in-a-command", lambda d: _in_command(
            d, '    for (;;)\n        kprintf("flood ");\n')),
        ("starter", "starter"),
        ("half-the-files", _drop_half),
    ]
    for m in MUTANTS:
        if L.resolve(m.lesson[:2], L.find_lessons(ROOT)).number <= lesson.number:
            kinds.append((f"mutant-{m.name}",
                          lambda d, m=m: (d / m.file).exists()
                          and _edit(d / m.file, m.find, m.replace)))
    return kinds


def _in_command(d, body):
    f, line = _first_command(d)
    return bool(f) and _edit(f, line + "\n{", line + "\n{\n" + body)


def _drop_half(d):
    sources = sorted(p for p in d.iterdir() if p.suffix in (".c", ".h") and p.name != "kernel.c")
    for p in sources[::2]:
        p.unlink()
    return True


def pack(folder, dest, how, lesson):
    """Hand in a folder as it is, as a whole repository, or as an archive."""
    if how == "folder":
        shutil.move(str(folder), dest)
    elif how == "repo":
        (dest / "lessons").mkdir(parents=True)
        shutil.move(str(folder), dest / "lessons" / lesson.name)
        shutil.copytree(ROOT / "common", dest / "common")
    elif how == "zip":
        with zipfile.ZipFile(f"{dest}.zip", "w", zipfile.ZIP_DEFLATED) as z:
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    z.write(p, f"{lesson.name}/{p.relative_to(folder)}")
        shutil.rmtree(folder)
    else:
        with tarfile.open(f"{dest}.tar.gz", "w:gz") as t:
            t.add(folder, lesson.name)
        shutil.rmtree(folder)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("lesson")
    ap.add_argument("dest")
    ap.add_argument("--size", type=int, default=200)
    ap.add_argument("--broken", type=float, default=0.5)
    a = ap.parse_args()
    lesson = L.resolve(a.lesson, L.find_lessons(ROOT))
    dest = Path(a.dest)
    dest.mkdir(parents=True, exist_ok=True)
    starter = dest / ".starter"
    S.make_starter_lesson(lesson.path, S.previous_lesson_dir(ROOT, lesson.path), starter)
    kinds = breakages(lesson)
    n_broken = round(a.size * a.broken)
    made = {}
    kinds_of = []
    k = 0
    for i in range(a.size):
        work = dest / f".work-{i:03d}"
        shutil.copytree(lesson.path, work, ignore=shutil.ignore_patterns("build"))
        kind = "whole"
        for _ in range(len(kinds) if i < n_broken else 0):   # the next one that applies
            name, fn = kinds[k % len(kinds)]
            k += 1
            if fn == "starter":
                shutil.rmtree(work)
                shutil.copytree(starter, work)
                kind = name
                break
            if fn(work):
                kind = name
                break
        with open(work / "kernel.c", "a") as f:
            f.write(f"/* student {i:03d} */\n")
        pack(work, dest / f"student-{i:03d}", ("folder", "repo", "zip", "tgz")[i % 4], lesson)
        made[kind] = made.get(kind, 0) + 1
        kinds_of.append(f"student-{i:03d},{kind}\n")
    shutil.rmtree(starter)
    Path(f"{dest}.kinds.csv").write_text("student,kind\n" + "".join(kinds_of))
    for kind, n in sorted(made.items()):
        print(f"{n:4d}  {kind}")
    print(f"{a.size} submissions in {dest}/")


if __name__ == "__main__":
    main()
