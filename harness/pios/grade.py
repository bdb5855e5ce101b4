"""The grader: one submission, or a folder of them, scored by the course's tests.

    pios-grade L SUB [--out DIR]            one submission (folder, .zip, .tar.gz)
    pios-grade L --batch DIR [--out DIR]    every submission in DIR, in parallel

What happens to a submission (it is only ever read, never changed):

1. It is copied (folders) or unpacked (archives) into a fresh temporary folder:
   regular files only, no symlinks, no paths outside the folder, a size cap per file
   and in total.
2. The lesson folder is found in it: lessons/NN-name, a folder named NN-name, or
   the folder that holds the most of the lesson's source files by name.
3. A fresh tree is made: the reference common/ and the reference lesson folder's
   build files (Makefile, linker scripts, user.mk), then the submission's sources
   (*.c, *.S, *.h) on top. The submission's Makefiles and everything outside its
   lesson folder are ignored. A source the submission lacks (or that is a symlink,
   too big, or includes files from outside the lesson) is taken from the starter,
   with a note in the report.
4. That tree is built and tested by the reference harness with a seed fixed for the
   submission, so the same submission gets the same values and the same score
   every run, while two students get different values.

The results: a table on the terminal, results.json in Gradescope's schema, JUnit XML,
report.txt; for a batch, class.csv (student x test) and summary.txt/summary.json.
"""

import argparse
import concurrent.futures
import csv
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

from . import lessons as L
from . import starter as S

HARNESS = Path(__file__).resolve().parents[1]
SOURCE_SUFFIXES = {".c", ".S", ".h"}
MAX_FILE = 1 << 20              # bytes: a bigger source is refused
MAX_TOTAL = 64 << 20            # bytes unpacked per submission
MAX_FILES = 5000
BUILD_TIMEOUT = 120             # seconds
BUILD_OUTPUT = 6000             # characters of compiler output kept
DEFAULT_BUDGET = 900            # seconds of testing per submission
SECRET_ENV = "PIOS_GRADE_SECRET"
ARCHIVE_RE = re.compile(r"\.(zip|tar|tar\.gz|tgz|tar\.xz|tar\.bz2)$", re.I)


class Refused(Exception):
    """The submission cannot be graded at all (no lesson folder, a broken archive)."""


# ---- 1. copying or unpacking the submission, safely ---------------------------------

class Intake:
    """Files taken from a submission, with notes on what was refused."""

    def __init__(self, dest):
        self.dest = Path(dest)
        self.notes = []
        self.total = 0
        self.count = 0

    def _target(self, rel):
        rel = Path(rel)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            self.notes.append(f"refused {rel}: the path leads outside the submission")
            return None
        return self.dest / rel

    def add(self, rel, size, read):
        """Copy one regular file of `size` bytes; read() returns a binary stream."""
        target = self._target(rel)
        if target is None:
            return
        if self.count >= MAX_FILES:
            if self.count == MAX_FILES:
                self.notes.append(f"refused files after the first {MAX_FILES}")
            self.count += 1
            return
        source = Path(rel).suffix in SOURCE_SUFFIXES
        if size <= MAX_FILE and self.total + size <= MAX_TOTAL:
            with read() as src:         # what is really there, whatever a header says
                data = src.read(MAX_FILE + 1)
            size = len(data)
        if size > MAX_FILE and source:
            self.notes.append(f"refused {rel}: over the {MAX_FILE}-byte limit for a "
                              "source file")
            return
        if size > MAX_FILE or self.total + size > MAX_TOTAL:
            if source:
                self.notes.append(f"refused {rel}: the submission is over "
                                  f"{MAX_TOTAL >> 20} MiB")
            return      # not a source: never used, so not worth a note or the disk
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.total += size
        self.count += 1

    def link(self, rel):
        if Path(rel).suffix in SOURCE_SUFFIXES:
            self.notes.append(f"refused {rel}: a symbolic link (hand in the file itself)")


def take_folder(src, intake):
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        dirnames[:] = [d for d in dirnames if d not in ("build", ".git", "grades", "logs",
                                                        "node_modules")
                       and not os.path.islink(os.path.join(dirpath, d))]
        for name in filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, src)
            st = os.lstat(path)
            if os.path.islink(path):
                intake.link(rel)
            elif os.path.isfile(path):
                intake.add(rel, st.st_size, lambda p=path: open(p, "rb", opener=_nofollow))
    # symlinked folders are skipped above; say so when they might have held sources
    for dirpath, dirnames, _ in os.walk(src, followlinks=False):
        for d in dirnames:
            if os.path.islink(os.path.join(dirpath, d)):
                intake.notes.append(f"refused {os.path.relpath(os.path.join(dirpath, d), src)}/:"
                                    " a symbolic link to a folder")


def _nofollow(path, flags):
    return os.open(path, flags | os.O_NOFOLLOW)


def take_archive(path, intake):
    name = path.name.lower()
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(path) as z:
                for info in z.infolist():
                    mode = (info.external_attr >> 16) & 0o170000
                    if info.is_dir():
                        continue
                    if mode == 0o120000:
                        intake.link(info.filename)
                        continue
                    intake.add(info.filename, info.file_size, lambda i=info: z.open(i))
        else:
            with tarfile.open(path) as t:
                for m in t:
                    if m.issym() or m.islnk():
                        intake.link(m.name)
                    elif m.isfile():
                        intake.add(m.name, m.size, lambda m=m: t.extractfile(m))
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as e:
        raise Refused(f"the archive {path.name} cannot be read: {e}") from None


def take(submission, dest):
    """Copy or unpack a submission into dest; returns the Intake (with its notes)."""
    submission = Path(submission)
    intake = Intake(dest)
    Path(dest).mkdir(parents=True, exist_ok=True)
    if submission.is_dir():
        take_folder(submission, intake)
    elif submission.is_file() and ARCHIVE_RE.search(submission.name):
        take_archive(submission, intake)
    else:
        raise Refused(f"{submission} is neither a folder nor a .zip / .tar.gz archive")
    return intake


# ---- 2. finding the lesson folder ---------------------------------------------------

def find_lesson_folder(tree, lesson):
    """The folder in a submission that holds the lesson's sources."""
    tree = Path(tree)
    wanted = {p.name for p in lesson.path.iterdir() if p.suffix in SOURCE_SUFFIXES}
    def sources(d):
        return len(wanted & {p.name for p in d.iterdir() if p.is_file()})

    exact = [d for d in [tree, *sorted(p for p in tree.rglob("*") if p.is_dir())]
             if d.name == lesson.name and sources(d)]
    if exact:       # lessons/NN-name first, then the shallowest
        return min(exact, key=lambda d: (d.parent.name != "lessons", len(d.parts)))
    best, best_n = None, 0
    for d in [tree, *sorted(p for p in tree.rglob("*") if p.is_dir())]:
        n = sources(d)
        if n > best_n:
            best, best_n = d, n
    if best is None:
        raise Refused(f"no lesson folder found: expected lessons/{lesson.name}/ or a "
                      f"folder holding its sources ({', '.join(sorted(wanted)[:6])}, ...)")
    return best


# ---- 3. the build tree ----------------------------------------------------------------

INCLUDE_RE = re.compile(r'^\s*(?:#\s*include|\.include|\.incbin)\s*[<"]?\s*"?([^">\s]+)',
                        re.M)


def outside_includes(text):
    """Included paths that reach outside the lesson (absolute or through ..)."""
    return [p for p in INCLUDE_RE.findall(text) if p.startswith("/") or ".." in Path(p).parts]


def assemble(root, lesson, sub_dir, tree, starter_dir):
    """Make the build tree: reference build rules, submission sources. Returns notes."""
    notes = []
    shutil.copytree(root / "common", tree / "common")
    dest = tree / "lessons" / lesson.name
    ref_sources = set()
    for ref in sorted(p for p in lesson.path.rglob("*") if p.is_file()):
        rel = ref.relative_to(lesson.path)
        if "build" in rel.parts:
            continue
        if ref.suffix in SOURCE_SUFFIXES:
            ref_sources.add(rel)
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ref, dest / rel)           # Makefile, *.ld, user.mk, README
    ref_dirs = {rel.parent for rel in ref_sources}
    for p in sorted(sub_dir.rglob("*")):
        rel = p.relative_to(sub_dir)
        if not p.is_file() or p.suffix not in SOURCE_SUFFIXES or rel.parent not in ref_dirs:
            continue
        text = p.read_text(errors="replace")
        bad = outside_includes(text)
        if bad:
            notes.append(f"refused {rel}: it includes {bad[0]}, outside the lesson folder")
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_text(text)
    for rel in sorted(ref_sources):
        if not (dest / rel).exists():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(starter_dir / rel, dest / rel)
            notes.append(f"{rel}: not in the submission (or refused): the starter's copy "
                         "was used")
    return notes


def build_tree(lesson_dir, scratch):
    """Build with the reference Makefile; the environment points HOME and TMPDIR into
    the scratch folder. Returns (ok, output)."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "CROSS")}
    env.update(HOME=str(scratch), TMPDIR=str(scratch), MAKEFLAGS="")
    try:
        p = subprocess.run(["make", "-C", str(lesson_dir), "--no-print-directory"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                           timeout=BUILD_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return False, f"the build took longer than {BUILD_TIMEOUT} s and was stopped"
    out = p.stdout.decode(errors="replace")
    if len(out) > BUILD_OUTPUT:
        out = out[:BUILD_OUTPUT // 2] + "\n[... cut ...]\n" + out[-BUILD_OUTPUT // 2:]
    return p.returncode == 0, out


# ---- 4. testing ---------------------------------------------------------------------------

def graded_test_files(lesson):
    """The lesson's tests and every earlier lesson's: harness/test_NN_*.py, NN <= N."""
    return sorted(str(p) for p in HARNESS.glob("test_[0-9][0-9]_*.py")
                  if int(p.name[5:7]) <= lesson.number)


def seed_for(lesson, sub_dir, secret):
    """The same submission gets the same seed; different ones get different seeds; and
    without the instructor's secret nobody can work out the values in advance."""
    h = hashlib.sha256(f"{secret}\0{lesson.name}\0".encode())
    for p in sorted(sub_dir.rglob("*")):
        if p.is_file() and p.suffix in SOURCE_SUFFIXES:
            h.update(str(p.relative_to(sub_dir)).encode() + b"\0" + p.read_bytes() + b"\0")
    return int.from_bytes(h.digest()[:4], "big") % 10**9


def python():
    return subprocess.run([str(HARNESS / "tools" / "find-python")], capture_output=True,
                          text=True).stdout.strip() or sys.executable


def run_tests(tree, lesson, seed, work, jobs, budget, select=None):
    raw = work / "raw.json"
    junit = work / "junit.xml"
    cmd = [python(), "-m", "pytest", "-c", str(HARNESS / "pytest.ini"),
           "-p", "no:cacheprovider", "-q", "--no-header",
           # --option=value: pytest reads the command line before it loads the
           # conftest that defines these, and would take a lone value for a path
           f"--tree={tree}", f"--lesson={lesson.name}", f"--seed={seed}",
           f"--log-dir={work / 'logs'}", f"--results={raw}", "--preflight",
           f"--junitxml={junit}", "-o", "junit_family=xunit1", "--timeout=120",
           "-n", str(jobs) if jobs > 1 else "0"]
    cmd += select or graded_test_files(lesson)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", HOME=str(work), TMPDIR=str(work))
    p = subprocess.Popen(cmd, cwd=str(HARNESS), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=budget)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)       # pytest, its workers and their QEMUs
        out, _ = p.communicate()
        timed_out = True
    out = out.decode(errors="replace")
    results = json.loads(raw.read_text()) if raw.exists() else {"tests": []}
    return results, out, timed_out, junit


def collect(lesson, select=None):
    """Every graded test's id and points, without running anything (for a submission
    that never got to testing)."""
    cmd = [python(), "-m", "pytest", "-c", str(HARNESS / "pytest.ini"),
           "-p", "no:cacheprovider", "-q", "--collect-only",
           f"--lesson={lesson.name}", f"--tree={lesson.path.parents[1]}",
           f"--results={os.devnull}"] + (select or graded_test_files(lesson))
    helper = ("import sys, json, pytest\n"
              "from pios.grading import points_of\n"
              "class P:\n"
              "    def pytest_collection_finish(self, session):\n"
              "        print('PIOS-TESTS ' + json.dumps([(i.nodeid, points_of(i)) "
              "for i in session.items]))\n"
              "sys.exit(pytest.main(sys.argv[1:], plugins=[P()]))\n")
    p = subprocess.run([cmd[0], "-c", helper] + cmd[3:], cwd=str(HARNESS),
                       capture_output=True, text=True,
                       env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    for line in p.stdout.splitlines():
        if line.startswith("PIOS-TESTS "):
            return json.loads(line[len("PIOS-TESTS "):])
    raise RuntimeError("collecting the tests failed:\n" + p.stdout[-3000:] + p.stderr[-3000:])


# ---- the whole thing for one submission ---------------------------------------------------

def grade(root, lesson, submission, out_dir, secret="", jobs=1, budget=DEFAULT_BUDGET,
          select=None, keep=False):
    """Grade one submission; writes results.json, junit.xml and report.txt to out_dir
    and returns the results (a dict). Never raises for anything the submission does."""
    root = Path(root)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="pios-grade-"))
    notes, build_out, test_out, timed_out = [], "", "", False
    raw = {"tests": []}
    seed = None
    try:
        try:
            intake = take(submission, work / "submission")
            notes += intake.notes
            sub_dir = find_lesson_folder(work / "submission", lesson)
            S.make_starter_lesson(lesson.path, S.previous_lesson_dir(root, lesson.path),
                                  work / "starter")
            tree = work / "tree"
            notes += assemble(root, lesson, sub_dir, tree, work / "starter")
            seed = seed_for(lesson, sub_dir, secret)
            ok, build_out = build_tree(tree / "lessons" / lesson.name, work)
            if ok:
                raw, test_out, timed_out, junit = run_tests(
                    tree, lesson, seed, work, jobs, budget, select)
                if junit.exists():
                    shutil.copy2(junit, out_dir / "junit.xml")
            else:
                notes.append("the build failed: no test can run (compiler output below)")
        except Refused as e:
            notes.append(str(e))
        results = combine(lesson, raw, notes, build_out, timed_out, seed,
                          time.monotonic() - started, select)
    except Exception as e:          # a grader bug must not stop a batch: report it
        results = combine(lesson, {"tests": []},
                          notes + [f"grader error: {type(e).__name__}: {e}"],
                          build_out, False, seed, time.monotonic() - started, select)
    finally:
        if keep:
            results_keep = work
        else:
            shutil.rmtree(work, ignore_errors=True)
            results_keep = None
    results["workdir"] = str(results_keep) if results_keep else None
    write_reports(results, out_dir, test_out)
    return results


def combine(lesson, raw, notes, build_out, timed_out, seed, elapsed, select=None):
    """Every graded test gets an entry, run or not, so scores are always out of the
    same total."""
    ran = {t["name"]: t for t in raw["tests"]}
    tests = []
    why = ("not run: the build failed" if build_out and not ran
           else "not run: the time budget for this submission ran out" if timed_out
           else "not run: the submission could not be graded (see the notes)")
    try:
        everything = collect(lesson, select)
    except Exception as e:          # report what ran rather than nothing
        notes = notes + [f"grader error: {e}"]
        everything = [(t["name"], t["points"]) for t in raw["tests"]]
    for nodeid, points in everything:
        t = ran.get(nodeid)
        if t is None:
            t = {"name": nodeid, "points": points, "score": 0.0, "status": "not run",
                 "output": why + ("\n\n" + build_out if build_out and not ran else "")}
        tests.append(t)
    score = round(sum(t["score"] for t in tests), 2)
    max_score = sum(t["points"] for t in tests)
    return {"lesson": lesson.name, "score": score, "max_score": max_score,
            "percent": round(100.0 * score / max_score, 1) if max_score else 0.0,
            "seed": seed, "notes": notes, "build_output": build_out,
            "execution_time": round(elapsed, 1), "tests": tests}


# ---- reports --------------------------------------------------------------------------------

def gradescope(results):
    """Gradescope's autograder results format."""
    head = "\n".join(results["notes"]) or "Built and tested."
    if results["build_output"] and any(t["status"] == "not run" for t in results["tests"]):
        head += "\n\nBuild output:\n" + results["build_output"]
    return {
        "score": results["score"],
        "execution_time": results["execution_time"],
        "output": f"piOS lesson {results['lesson']}: {results['score']:g} of "
                  f"{results['max_score']:g} points.\n{head}",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [{"name": short_name(t["name"], results["lesson"]), "score": t["score"],
                   "max_score": t["points"],
                   "status": "passed" if t["status"] == "passed" else "failed",
                   "output": t["output"] or "passed"} for t in results["tests"]],
    }


def short_name(nodeid, lesson):
    """test_05_timer.py::test_tick[05-timer-250] -> test_05_timer::test_tick[250]"""
    name = nodeid.replace(".py::", "::")
    return name.replace(f"[{lesson}]", "").replace(f"[{lesson}-", "[")


def table(results):
    rows = [(short_name(t["name"], results["lesson"]), f"{t['score']:g}/{t['points']:g}",
             "ok" if t["status"] == "passed" else t["status"].upper())
            for t in results["tests"]]
    w = max([len(r[0]) for r in rows] + [20])
    out = [f"piOS grade: lesson {results['lesson']}   seed {results['seed']}"]
    out += [f"  note: {n}" for n in results["notes"]]
    out += [f"  {name:<{w}}  {pts:>7}  {st}" for name, pts, st in rows]
    out.append(f"  {'TOTAL':<{w}}  {results['score']:g}/{results['max_score']:g}  "
               f"({results['percent']}%)")
    return "\n".join(out)


def write_reports(results, out_dir, test_out=""):
    (out_dir / "results.json").write_text(json.dumps(gradescope(results), indent=1))
    (out_dir / "grade.json").write_text(json.dumps(results, indent=1))
    failed = [t for t in results["tests"] if t["status"] != "passed"]
    text = [table(results), ""]
    if results["build_output"]:
        text += ["==== build output ====", results["build_output"], ""]
    for t in failed:
        text += [f"==== {short_name(t['name'], results['lesson'])}: {t['status']} "
                 f"({t['score']:g}/{t['points']:g}) ====", t["output"], ""]
    (out_dir / "report.txt").write_text("\n".join(text))
    (out_dir / "pytest.txt").write_text(test_out or "(the tests did not run)\n")
    if not (out_dir / "junit.xml").exists():
        (out_dir / "junit.xml").write_text(junit_xml(results))


def junit_xml(results):
    """JUnit XML for a submission that never reached pytest (pytest writes its own)."""
    from xml.sax.saxutils import escape, quoteattr
    cases = []
    for t in results["tests"]:
        body = "" if t["status"] == "passed" else \
            f'<failure message={quoteattr(t["status"])}>{escape(t["output"])}</failure>'
        cases.append(f'  <testcase name={quoteattr(t["name"])} classname="piOS">{body}'
                     '</testcase>')
    n_fail = sum(t["status"] != "passed" for t in results["tests"])
    return ('<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="piOS" '
            f'tests="{len(results["tests"])}" failures="{n_fail}">\n'
            + "\n".join(cases) + "\n</testsuite></testsuites>\n")


# ---- a batch ----------------------------------------------------------------------------------

def submissions_in(folder):
    """(student name, path) for each sub-folder or archive in a folder."""
    subs = []
    for p in sorted(Path(folder).iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_dir() and not p.is_symlink():
            subs.append((p.name, p))
        elif p.is_file() and ARCHIVE_RE.search(p.name):
            subs.append((ARCHIVE_RE.sub("", p.name), p))
    return subs


def grade_batch(root, lesson, folder, out_dir, secret="", jobs=None, budget=DEFAULT_BUDGET,
                select=None, echo=print):
    subs = submissions_in(folder)
    if not subs:
        raise Refused(f"no submissions in {folder}: expected one folder or archive each")
    jobs = jobs or os.cpu_count() or 1
    out_dir = Path(out_dir)
    started = time.monotonic()
    results = {}
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        futures = {pool.submit(grade, root, lesson, path, out_dir / name, secret, 1, budget,
                               select): name for name, path in subs}
        for i, f in enumerate(concurrent.futures.as_completed(futures), 1):
            name = futures[f]
            try:
                r = results[name] = f.result()
            except Exception as e:      # e.g. a full disk: the rest of the class goes on
                r = results[name] = {"lesson": lesson.name, "score": 0, "max_score": 0,
                                     "percent": 0.0, "notes": [f"grader error: {e}"],
                                     "execution_time": 0, "tests": []}
            flag = "" if not r["notes"] else f"  ({r['notes'][0][:60]})"
            echo(f"[{i:>{len(str(len(subs)))}}/{len(subs)}] {name:<24} "
                 f"{r['score']:>6g}/{r['max_score']:<4g} {r['percent']:5.1f}%  "
                 f"{r['execution_time']:5.0f} s{flag}", flush=True)
    write_class_reports(results, out_dir, time.monotonic() - started)
    return results


def write_class_reports(results, out_dir, elapsed):
    names = sorted(results)
    full = max(results.values(), key=lambda r: len(r["tests"]))    # every test listed
    tests = [t["name"] for t in full["tests"]]
    with open(out_dir / "class.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "score", "max_score", "percent"]
                   + [short_name(t, full["lesson"]) for t in tests])
        for n in names:
            by = {t["name"]: t["score"] for t in results[n]["tests"]}
            w.writerow([n, results[n]["score"], results[n]["max_score"],
                        results[n]["percent"]] + [by.get(t, 0) for t in tests])
    pct = [results[n]["percent"] for n in names]
    bins = [0] * 11
    for p in pct:
        bins[min(int(p // 10), 10)] += 1
    summary = {"lesson": results[names[0]]["lesson"], "submissions": len(names),
               "mean": round(statistics.mean(pct), 1),
               "median": round(statistics.median(pct), 1),
               "stdev": round(statistics.pstdev(pct), 1),
               "min": min(pct), "max": max(pct),
               "distribution": {f"{10 * i}-{10 * i + 9 if i < 10 else 100}%": b
                                for i, b in enumerate(bins)},
               "wall_time": round(elapsed, 1)}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    lines = [f"lesson {summary['lesson']}: {len(names)} submissions in "
             f"{summary['wall_time']:.0f} s", f"mean {summary['mean']}%  median "
             f"{summary['median']}%  stdev {summary['stdev']}  min {summary['min']}%  "
             f"max {summary['max']}%", ""]
    top = max(bins) or 1
    for label, b in summary["distribution"].items():
        lines.append(f"{label:>8} {'#' * round(30 * b / top):<30} {b}")
    (out_dir / "summary.txt").write_text("\n".join(lines) + "\n")
    return summary


# ---- command line ---------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(prog="pios-grade", description=__doc__.split("\n\n")[0])
    ap.add_argument("lesson", help="the lesson: 5, 05 or 05-timer")
    ap.add_argument("submission", nargs="?", help="a folder, .zip or .tar.gz")
    ap.add_argument("--batch", metavar="DIR", help="grade every submission in DIR")
    ap.add_argument("--out", metavar="DIR", help="where reports go (default: grades/LESSON"
                    " for a batch, grades/LESSON/NAME for one submission)")
    ap.add_argument("--root", default=str(L.REPO_ROOT), help="the reference piOS tree")
    ap.add_argument("--jobs", type=int, default=None,
                    help="submissions graded at once (default: one per core)")
    ap.add_argument("--budget", type=int, default=DEFAULT_BUDGET,
                    help="seconds of testing allowed per submission")
    ap.add_argument("--only", action="append", default=None, metavar="TESTFILE",
                    help="grade with these test files only (e.g. test_05_timer.py)")
    ap.add_argument("--keep", action="store_true", help="keep the build tree (debugging)")
    a = ap.parse_args(argv)
    root = Path(a.root).resolve()
    try:
        lesson = L.resolve(a.lesson, L.find_lessons(root))
    except ValueError as e:
        ap.error(str(e))
    secret = os.environ.get(SECRET_ENV, "")
    select = [str(HARNESS / f) for f in a.only] if a.only else None
    if a.batch:
        out = Path(a.out or Path("grades") / lesson.name)
        try:
            grade_batch(root, lesson, a.batch, out, secret, a.jobs, a.budget, select)
        except Refused as e:
            print(f"pios-grade: {e}", file=sys.stderr)
            return 2
        print((out / "summary.txt").read_text(), end="")
        print(f"reports: {out}/ (class.csv, summary.json, one folder per student)")
        return 0
    if not a.submission:
        ap.error("give a submission, or --batch DIR")
    sub = Path(a.submission)
    out = Path(a.out or Path("grades") / lesson.name / ARCHIVE_RE.sub("", sub.resolve().name))
    r = grade(root, lesson, sub, out, secret, a.jobs or os.cpu_count() or 1, a.budget,
              select, a.keep)
    print(table(r))
    print(f"reports: {out}/ (report.txt has each failure's details; results.json, "
          "junit.xml)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
