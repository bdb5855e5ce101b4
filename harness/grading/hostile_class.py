#!/usr/bin/env python3
"""A class of hostile submissions: the grader's rehearsal against students who
attack it. Each case tries to read a host file into its report, to run its own
build, to write the host's files, to flood, to hang, or to break the intake.

    harness/tools/pios-python harness/grading/hostile_class.py DEST
    PIOS_GRADE_SECRET=... make grade L=05 BATCH=DEST ARGS=--no-regression OUT=GRADES
    harness/tools/pios-python harness/grading/hostile_class.py DEST --table GRADES

The first command writes DEST/ (one submission per case, each a copy of the
reference lesson with its attack), DEST.cases.csv (what each one tries) and, in
harness/logs/hostile-host/DEST's name/, the host's files the cases go after: one
holding a marker, which the cases name by its absolute path, and the folder where
the cases that try to write the host would leave files (delete it when done; two
classes whose folders have the same name share it). The last prints the table
(Markdown): each case's score, the grader's first words about it, whether both
are what the grader should do with it, and what of the host reached any of its
reports: the marker (either end of it, in any case: a message may cut it or
lower-case it), any line of /etc/passwd, the grading secret (only if
PIOS_GRADE_SECRET is set, as for the grading). Every row but the control's should
say "nothing"; the control prints a file of its own at boot, and its row shows
that file: the search finds what it looks for.

Reference code: the starter generator never hands this file out.
"""

import argparse
import csv
import json
import os
import re
import shutil
import sys
import tarfile
import uuid
import zipfile
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HARNESS))
from grading.selfcheck import (BOOT, Zeros, edit, printed_at_boot,  # noqa: E402
                               semihosted_write)
from pios import grade as G                    # noqa: E402
from pios import lessons as L                  # noqa: E402

ROOT = L.REPO_ROOT
HOST_DIRS = HARNESS / "logs" / "hostile-host"     # the "host's files" the cases go after
SLEEP = "    wakeups = timer_sleep_us((u64)ms * 1000);"   # timer_cmds.c: `sleep`


def _prepend(name, text):
    def case(d, host):
        (d / name).write_text(text.format(host=host) + (d / name).read_text())
    return case


def _print_at_boot(what):
    """kernel.c embeds a file with inline asm and prints it before the banner."""
    def case(d, host):
        edit(d / "kernel.c", *printed_at_boot(what.format(host=host)))
    return case


def _control(d, host):
    (d / "note.h").write_text((Path(host).parent / "control.txt").read_text())
    _print_at_boot("note.h")(d, host)


def _asm_file(text):
    """A .S file of the student's own (the course's Makefile builds every .S)."""
    def case(d, host):
        (d / "leak.S").write_text(text.format(host=host))
        if "leak:" in text:
            edit(d / "kernel.c", BOOT,
                 f'extern const char leak[];\n{BOOT}\n    kprintf("%s", leak);')
    return case


def _header_chain(d, host):
    (d / "evil.h").write_text(f'#include "{host}"\n')
    (d / "timer.c").write_text('#include "evil.h"\n' + (d / "timer.c").read_text())


def _semihosting(d, host):
    edit(d / "kernel.c", *semihosted_write(Path(host).parent / "semihosted"))


def _shadow_header(d, host):
    text = (ROOT / "common" / "mmio.h").read_text()
    (d / "mmio.h").write_text(text + "\n#error the submission's own mmio.h was used\n")


def _own_build_files(d, host):
    pwned = Path(host).parent / "pwned"
    (d / "Makefile").write_text(f"all:\n\ttouch {pwned}-by-make\n")
    (d / "extra.mk").write_text(f"$(shell touch {pwned}-by-include)\n")
    (d / "kernel.ld").write_text("/* the student's own linker script */\nSECTIONS { }\n")
    (d / "common").mkdir()
    (d / "common" / "board.h").write_text("#error the submission's own board.h was used\n")


def _hostile_names(d, host):
    """Names a careless build script would pass to a shell (no name can hold a /:
    a command in one runs in the build's folder)."""
    names = ("$(touch pwned-by-name).c", "`touch pwned-by-name`.h", "-rf.c", "new\nline.c",
             "semi;colon.c")
    for i, name in enumerate(names):
        (d / name).write_text(f"int harmless_{i};\n")


def _flood(text):
    def case(d, host):
        edit(d / "timer_cmds.c", SLEEP, f"    for (;;)\n        kprintf({text});\n{SLEEP}")
    return case


def _symlinked_source(d, host):
    (d / "timer.c").unlink()
    (d / "timer.c").symlink_to(host)


def _junk_files(d, host):
    (d / "junk").mkdir()
    for i in range(60000):
        (d / "junk" / f"{i}.txt").touch()


def _lesson_members(d, prefix):
    return [(p, f"{prefix}/{p.relative_to(d)}") for p in sorted(d.rglob("*")) if p.is_file()]


def _zip_paths_out(d, dest, host):
    with zipfile.ZipFile(f"{dest}.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for p, name in _lesson_members(d, d.name):
            z.write(p, name)
        z.writestr("../../escape.c", "int escaped;\n")
        z.writestr("/tmp/absolute.c", "int absolute;\n")
    return f"{dest}.zip"


def _tar_links(d, dest, host):
    with tarfile.open(f"{dest}.tar.gz", "w:gz") as t:
        for p, name in _lesson_members(d, d.name):
            t.add(p, name)
        for name, target, kind in ((f"{d.name}/../../host.c", host, tarfile.SYMTYPE),
                                   (f"{d.name}/passwd.h", "/etc/passwd", tarfile.SYMTYPE),
                                   (f"{d.name}/hard.h", "/etc/passwd", tarfile.LNKTYPE)):
            link = tarfile.TarInfo(name)
            link.type, link.linkname = kind, str(target)
            t.addfile(link)
    return f"{dest}.tar.gz"


def _zip_bomb(d, dest, host):
    with zipfile.ZipFile(f"{dest}.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for p, name in _lesson_members(d, d.name):
            z.write(p, name)
        with z.open(f"{d.name}/bomb.h", "w", force_zip64=True) as f:
            chunk = bytes(1 << 20)
            for _ in range(2048):                   # 2 GB of zeros, ~2 MB zipped
                f.write(chunk)
    return f"{dest}.zip"


def _disk_image(d, dest, host):
    with tarfile.open(f"{dest}.tar.gz", "w:gz", compresslevel=1) as t:
        info = tarfile.TarInfo("repo/sdcard.img")
        info.size = 600 << 20
        t.addfile(info, Zeros(info.size))
        for p, name in _lesson_members(d, f"repo/{d.name}"):
            t.add(p, name)
    return f"{dest}.tar.gz"


def _pruned_dirs(d, dest, host):
    with zipfile.ZipFile(f"{dest}.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for p, name in _lesson_members(d, f"repo/{d.name}"):
            z.write(p, name)
        for pruned in ("node_modules/pkg", ".git/objects", f"{d.name}/build"):
            z.writestr(f"repo/{pruned}/x.c", "#error a pruned folder was taken\n")
    return f"{dest}.zip"


# (case, what it tries, how the lesson copy is changed, how it is handed in).
# {host} in a text is the host file's absolute path.
CASES = [
    ("control", "its own file, which holds the control's marker, printed at boot: the "
     "channel the others try works", _control, None),
    ("include", "#include of a host file",
     _prepend("timer.c", '#include "{host}"\n'), None),
    ("include-if-optimized", "the same, only under the build's -O2 (an include check "
     "with other flags once missed it)",
     _prepend("timer.c", '#ifdef __OPTIMIZE__\n#include "{host}"\n#endif\n'), None),
    ("has-include-probe", "__has_include: does the host file exist?",
     _prepend("timer.c", '#if __has_include("{host}")\n#error the host file is there\n#endif\n'),
     None),
    ("pragma-dependency", "_Pragma(\"GCC dependency\") on a host file",
     _prepend("timer.c", '_Pragma("GCC dependency \\"{host}\\"")\n'), None),
    ("line-directive", "#line naming a host file, then an error that quotes the line",
     _prepend("timer.c", '#line 1 "{host}"\n#error look at the line\n'), None),
    ("header-chain", "a header of the lesson that includes a host file",
     _header_chain, None),
    ("incbin-at-boot", "inline asm .incbin of a host file, printed at boot",
     _print_at_boot("{host}"), None),
    ("passwd-at-boot", "the same with /etc/passwd", _print_at_boot("/etc/passwd"), None),
    ("environ-include", "#include of /proc/self/environ, where the grading secret's "
     "variable would be (an error would quote it)",
     _prepend("timer.c", '#include "/proc/self/environ"\n'), None),
    ("asm-incbin", ".incbin of a host file in a .S of its own, printed at boot",
     _asm_file('.section .rodata\n.global leak\nleak: .incbin "{host}"\n.byte 0\n'), None),
    ("asm-include", ".include of a host file in a .S", _asm_file('.include "{host}"\n'), None),
    ("semihosting-write", "semihosting SYS_OPEN/SYS_WRITE of a host file at boot",
     _semihosting, None),
    ("shadow-common-header", "its own mmio.h beside its sources, shadowing common/'s",
     _shadow_header, None),
    ("own-build-files", "its own Makefile (running a command), a .mk, a linker script "
     "and a common/ folder", _own_build_files, None),
    ("hostile-names", "file names with $(...), backquotes, a leading dash, a newline",
     _hostile_names, None),
    ("symlinked-source", "timer.c a symbolic link to the host file", _symlinked_source, None),
    ("flood", "`sleep`, which most tests use, prints for ever, no newline",
     _flood('"flood "'), None),
    ("flood-newlines", "the same, with newlines", _flood('"flood\\n"'), None),
    ("hang-at-boot", "a loop before the prompt",
     lambda d, host: edit(d / "kernel.c", BOOT, BOOT + "\n    for (;;)\n        ;"), None),
    ("reset-loop", "a jump to the reset vector at boot: boots for ever",
     lambda d, host: edit(d / "kernel.c", BOOT, BOOT + "\n    ((void (*)(void))0x8000)();"),
     None),
    ("junk-files", "60,000 empty files beside the lesson", _junk_files, None),
    ("paths-out", "a .zip with ../../ and absolute paths", None, _zip_paths_out),
    ("links", "a .tar.gz with symbolic and hard links to host files", None, _tar_links),
    ("zip-bomb", "a .zip holding a 2 GB header of zeros (2 MB zipped)", None, _zip_bomb),
    ("disk-image", "a .tar.gz with a 600 MB sdcard.img beside the lesson", None, _disk_image),
    ("pruned-folders", "a .zip whose node_modules/, .git/ and build/ hold sources",
     None, _pruned_dirs),
]


# What the grader should do with each case: its score (none, all, or less than all
# of the points, or not graded at all) and words that must be in what it says.
BUILD_FAILS = ("none", r"the build failed")
EXPECT = {
    "control": ("none", r"did not boot to its prompt"),
    "include": BUILD_FAILS, "include-if-optimized": BUILD_FAILS,
    "has-include-probe": ("all", r"every test passed"),
    "pragma-dependency": BUILD_FAILS, "line-directive": BUILD_FAILS,
    "header-chain": BUILD_FAILS, "incbin-at-boot": BUILD_FAILS,
    "passwd-at-boot": BUILD_FAILS, "environ-include": BUILD_FAILS,
    "asm-incbin": BUILD_FAILS, "asm-include": BUILD_FAILS,
    "semihosting-write": ("all", r"every test passed"),
    "shadow-common-header": ("all", r"ignored mmio\.h"),
    "own-build-files": ("all", r"ignored Makefile.*ignored common/board\.h"),
    "hostile-names": ("all", r"refused \$\(touch .*only letters"),
    "symlinked-source": ("none", r"refused timer\.c: a symbolic link"),
    "flood": ("less", r"output flood"), "flood-newlines": ("less", r"output flood"),
    "hang-at-boot": ("none", r"did not boot to its prompt"),
    "reset-loop": ("none", r"did not boot to its prompt"),
    "junk-files": ("all", r"every test passed"),
    "paths-out": ("all", r"refused \.\./\.\./escape\.c: the path leads outside"),
    "links": ("all", r"refused .*: a symbolic link"),
    "zip-bomb": ("all", r"refused .*bomb\.h: over the"),
    "disk-image": ("all", r"every test passed"),
    "pruned-folders": ("all", r"every test passed"),
    "class.csv": ("all", r"every test passed"),
    "linked": ("skipped", r"skipped linked: a symbolic link"),
}


def write(lesson, dest):
    dest = Path(dest).resolve()
    dest.mkdir(parents=True)
    # not under /tmp, which the sandbox replaces by an empty one anyway: in the
    # repository, which it does not show either
    host_dir = HOST_DIRS / dest.name
    shutil.rmtree(host_dir, ignore_errors=True)
    host_dir.mkdir(parents=True)
    marker = f"PIOS-HOST-MARKER-{uuid.uuid4().hex}"
    host = host_dir / "host-secret.h"
    host.write_text(f"{marker} x;\n")
    (host_dir / "control.txt").write_text(f"PIOS-CONTROL-{uuid.uuid4().hex}\n")
    rows = []
    for case, what, change, hand_in in CASES:
        work = dest / f".work-{case}"
        shutil.copytree(lesson.path, work / lesson.name, ignore=shutil.ignore_patterns("build"))
        if change:
            change(work / lesson.name, host)
        if hand_in:
            taken = hand_in(work / lesson.name, dest / case, host)
            shutil.rmtree(work)
        else:
            shutil.move(str(work / lesson.name), dest / case)
            work.rmdir()
            taken = dest / case
        rows.append((case, Path(taken).name, what))
    # named like the class's own report, and a link to a whole lesson elsewhere
    shutil.copytree(lesson.path, dest / "class.csv" / lesson.name,
                    ignore=shutil.ignore_patterns("build"))
    rows.append(("class.csv", "class.csv", "a submission named like the class's report"))
    shutil.copytree(lesson.path, host_dir / "elsewhere", ignore=shutil.ignore_patterns("build"))
    (dest / "linked").symlink_to(host_dir / "elsewhere")
    rows.append(("linked", "linked", "a symbolic link to a lesson folder elsewhere on the host"))
    with open(f"{dest}.cases.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "submission", "what", "marker"])
        for row in rows:
            w.writerow(list(row) + [marker])
    print(f"{len(rows)} hostile submissions in {dest}/; the host file is {host}")


CONTROL = "its own file (the control)"


def outcome(dest, grades, secret=None):
    """What grading did with each case: ([{case, what, score, says, expected,
    leaked}], the files the cases wrote on the host, what the whole-class files
    leaked). expected: the score and the words are what EXPECT says; leaked: the
    secrets found in the case's report folder (the control's should be its own
    file, every other case's none)."""
    dest, grades = Path(dest).resolve(), Path(grades)
    cases = list(csv.DictReader(open(f"{dest}.cases.csv")))
    host_dir = HOST_DIRS / dest.name
    marker = cases[0]["marker"].rsplit("-", 1)[1]
    control = (host_dir / "control.txt").read_text().strip().rsplit("-", 1)[1]
    secrets = {"the host file's marker": [marker[:12], marker[-12:]],
               "/etc/passwd": [line for line in Path("/etc/passwd").read_text().splitlines()
                               if len(line) >= 12],
               "the grading secret": [secret] if secret else [],
               CONTROL: [control[:12], control[-12:]]}
    skipped = {}
    G.submissions_in(dest, echo=lambda line: skipped.setdefault(
        line.split(":")[0].removeprefix("skipped "), line))
    rows = []
    for c in cases:
        name = G.ARCHIVE_RE.sub("", c["submission"])
        folder = grades / G.STUDENTS / name
        row = dict(case=c["case"], what=c["what"], score="?", says="not graded", leaked=set(),
                   kind="not graded")
        if name in skipped:
            row.update(score="-", says=skipped[name], kind="skipped")
        elif (folder / "grade.json").is_file():
            r = json.loads((folder / "grade.json").read_text())
            row.update(score=f"{r['score']:g}/{r['max_score']:g}", says=_first_message(r),
                       leaked=_leaks(folder.rglob("*"), secrets),
                       kind="none" if r["score"] == 0 else "all"
                       if r["score"] == r["max_score"] else "some")
        kind, words = EXPECT[row["case"]]
        kinds = ("none", "some") if kind == "less" else (kind,)
        row["expected"] = row["kind"] in kinds and bool(re.search(words, row["says"], re.S))
        rows.append(row)
    written = sorted(p.name for p in host_dir.iterdir() if p.name.startswith(("pwned", "semi")))
    return rows, written, _leaks(grades.iterdir(), secrets)


def _leaks(files, secrets):
    """The names of the secrets any of files holds (any of a secret's pieces, in
    any case)."""
    found = set()
    for p in files:
        if p.is_file():
            text = p.read_text(errors="replace").lower()
            found |= {name for name, pieces in secrets.items()
                      if any(piece.lower() in text for piece in pieces)}
    return found


def table(dest, grades, secret=None):
    rows, written, top = outcome(dest, grades, secret)
    out = ["| case | what it tries | score | the grader says | as it should | "
           "what of the host leaked |", "| --- | --- | ---: | --- | --- | --- |"]
    out += [f"| {r['case']} | {r['what']} | {r['score']} | {_cell(r['says'])} | "
            f"{'yes' if r['expected'] else '**NO**'} | "
            f"{', '.join(sorted(r['leaked'])) or 'nothing'} |" for r in rows]
    out += ["", f"{sum(r['expected'] for r in rows)} of {len(rows)} cases graded as they "
            "should be.", "Files the cases tried to write on the host: "
            + (", ".join(written) or "none") + ".", "The class's own files (class.csv, "
            "summary): " + (", ".join(sorted(top)) or "nothing of the host") + "."]
    if not secret:
        out.append(f"({G.SECRET_ENV} is not set: the grading secret was not looked for.)")
    return "\n".join(out)


def _first_message(r):
    """What the grader says: its notes (not the mode's), the compiler's first error
    if the build failed, else the first failed test's first line."""
    notes = [n for n in r["notes"] if not n.startswith(("practice mode", "the regression"))]
    if not r["built"] and r["build_output"]:
        notes += [line.strip() for line in r["build_output"].splitlines()
                  if "error" in line.lower()][:1]
    if notes:
        return "; ".join(notes[:3])
    bad = [t for t in r["tests"] if t["status"] != "passed"]
    if not bad:
        return "(every test passed)"
    first = next((line.strip() for line in bad[0]["output"].splitlines() if line.strip()), "")
    return f"{G.short_name(bad[0]['name'], r['lesson'])}: {first}"


def _cell(text, width=160):
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 3] + "..."


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dest")
    ap.add_argument("--lesson", default="05")
    ap.add_argument("--table", metavar="GRADES", help="print the table of a graded class")
    a = ap.parse_args()
    if a.table:
        print(table(a.dest, a.table, os.environ.get(G.SECRET_ENV)))
    else:
        write(L.resolve(a.lesson, L.find_lessons(ROOT)), a.dest)


if __name__ == "__main__":
    main()
