"""make bench: what each lesson's kernel paths cost, in guest instructions.

Every kernel is booted under QEMU with -icount shift=0,sleep=off (qemu.TEST_FLAGS,
the tests' own command line): each guest instruction advances guest time by
2^0 = 1 ns, and the BCM2835 system timer counts microseconds of that guest time.
The kernel's `bench` shell command (bench.c in the lessons) runs an operation N
times and prints "bench OP N: T ns" (its stopwatch resolves a few ns: see bench.c)
or, from lesson 10's user program, "bench OP N: T us": T / N instructions per
operation, the same on every run and every host. A figure timed in us must take at
least 100 us, so that the timer's 1 us rounding stays below 1 %.

The figures are checked against the lesson's budget file, harness/bench/NN-name.json
({"operation": instructions, ...}): an operation over its budget, or one without a
budget, fails the run. The figures go to the terminal and, as JSON, to
lessons/NN-name/build/bench.json.
"""

import json
import math
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import qemu
from .build import BuildError, build
from .console import Kernel, KernelError
from .lessons import REPO_ROOT, find_lessons, resolve

BUDGET_DIR = REPO_ROOT / "harness" / "bench"
LOG_DIR = REPO_ROOT / "harness" / "logs" / "bench"


@dataclass
class Op:
    """One figure: its name, what it is, the first lesson that has it."""
    name: str
    lesson: int
    what: str


# In table order. The kernel prints these names (bench.c), except where CommandSpec
# below renames what a user program prints.
OPS = [
    Op("boot", 2, "boot: reset to the shell's first prompt"),
    Op("irq", 5, "IRQ entry+exit: an empty timer tick"),
    Op("map-existing", 8, "map a page, the megabyte has an L2 table"),
    Op("unmap-not-last", 8, "unmap a page, not the megabyte's last"),
    Op("map-new-quarter", 8, "map a page, new L2 in a free quarter"),
    Op("map-new-frame", 8, "map a page, new L2 in a new frame"),
    Op("unmap-last", 8, "unmap the megabyte's last page (L2 freed)"),
    Op("kmalloc-32", 8, "kmalloc + kfree of 32 bytes"),
    Op("kmalloc-4096", 8, "kmalloc + kfree of 4096 bytes"),
    Op("thread-switch", 9, "thread switch (bench yield)"),
    Op("null-syscall", 10, "null syscall (getpid round trip, user loop included)"),
    Op("process-switch", 10, "process switch (yield between two processes)"),
    Op("write-64", 10, "write of 64 bytes to the console"),
    Op("spawn-exit", 10, "spawn + exit + wait of hello"),
]
OP_NAMES = [op.name for op in OPS]


@dataclass
class Command:
    """A shell command and what its output lines become."""
    line: str
    lesson: int
    ops: tuple              # the figures it yields (for --only)
    timeout: float = 20.0


# The commands, in the order they run (each lesson runs those it has).
COMMANDS = [
    Command("bench boot", 2, ("boot",)),
    Command("bench irq 400", 5, ("irq",)),
    Command("bench vm 2000", 8, ("map-existing", "unmap-not-last", "map-new-quarter",
                                 "map-new-frame", "unmap-last")),
    Command("bench heap 2000", 8, ("kmalloc-32", "kmalloc-4096")),
    Command("bench yield 5000", 9, ("thread-switch",)),
    Command("bench syscall 10000", 10, ("null-syscall",)),
    Command("bench switch 2000", 10, ("process-switch",)),
    Command("bench write 200", 10, ("write-64",)),
    Command("bench spawn 20", 10, ("spawn-exit",)),
]

LINE_RE = re.compile(r"^bench ([a-z0-9-]+) (\d+): (\d+) (us|ns)$", re.M)
# Lesson 09's `bench yield N` (its format is a tested contract): N each way = 2N switches.
YIELD_RE = re.compile(r"^(\d+) yields each way: (\d+) us, \d+ ns per switch$", re.M)
# What lesson 10's user program `bench` prints, renamed: (figure, operations per N).
USER_NAMES = {"syscall": ("null-syscall", 1), "write": ("write-64", 1),
              "yield": ("process-switch", 2)}


class BenchError(Exception):
    pass


def parse(output):
    """The figures in one command's output: {name: (operations, ns, us)}, us being
    the timer's reading when the kernel printed one (None for bench.c's stopwatch,
    which resolves a few ns). Of two processes timing the same thing (bench
    switch), the first to finish counts: its time holds its N yields and the
    other's N, 2N switches."""
    figures = {}
    for m in YIELD_RE.finditer(output):
        figures.setdefault("thread-switch", (2 * int(m[1]), 1000 * int(m[2]), int(m[2])))
    for m in LINE_RE.finditer(output):
        name, per = USER_NAMES.get(m[1], (m[1], 1))
        t = int(m[3])
        figures.setdefault(name, (per * int(m[2]), t * 1000 if m[4] == "us" else t,
                                  t if m[4] == "us" else None))
    return figures


def per_op(ops, ns):
    return round(ns / ops, 1)


def commands_for(lesson, only=()):
    return [c for c in COMMANDS if c.lesson <= lesson.number
            and (not only or set(c.ops) & set(only))]


def measure(lesson, only=(), log_dir=LOG_DIR):
    """Boot the lesson's kernel and run its bench commands: {op: figure dict}."""
    log_dir.mkdir(parents=True, exist_ok=True)
    k = Kernel(qemu.test_command(elf=lesson.elf), log_dir / f"{lesson.name}.log")
    results = {}
    try:
        k.read_boot()
        for c in commands_for(lesson, only):
            found = parse(k.cmd(c.line, timeout=c.timeout))
            for name in c.ops:
                if only and name not in only:
                    continue
                if name not in found:
                    raise BenchError(f"{lesson.name}: `{c.line}` printed no figure for "
                                     f"{name} (log: {k.log.path})")
                n, ns, us = found[name]
                if us is not None and us < 100:
                    raise BenchError(f"{lesson.name}: {name}: {n} operations took {us} us: "
                                     "under 100 us the timer's rounding is over 1 %")
                results[name] = {"per_op": per_op(n, ns), "operations": n, "ns": ns,
                                 "command": c.line}
        k.send("halt\r")
        k.wait_exit()
    except KernelError as e:
        raise BenchError(f"{lesson.name}: {e}\n(log: {k.log.path})") from None
    finally:
        k.close()
    return {name: results[name] for name in OP_NAMES if name in results}


def budget_path(lesson, budget_dir=BUDGET_DIR):
    return Path(budget_dir) / f"{lesson.name}.json"


def load_budgets(lesson, budget_dir=BUDGET_DIR):
    path = budget_path(lesson, budget_dir)
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return {k: v for k, v in data.items() if not k.startswith("_")}


def over_budget(lesson, figures, budgets, budget_dir=BUDGET_DIR):
    """One line per figure over its budget (or without one)."""
    bad = []
    for name, fig in figures.items():
        if name not in budgets:
            bad.append(f"{lesson.name}: {name}: no budget, measured {fig['per_op']:.1f} "
                       f"(add it to {budget_path(lesson, budget_dir)})")
        elif fig["per_op"] > budgets[name]:
            bad.append(f"{lesson.name}: {name}: budget {budgets[name]}, measured "
                       f"{fig['per_op']:.1f}")
    return bad


def table(results):
    """The terminal table: one column per lesson, one row per operation."""
    lessons = list(results)
    names = [n for n in OP_NAMES if any(n in results[l] for l in lessons)]
    what = {op.name: op.what for op in OPS}
    head = ["operation (guest instructions)"] + [l[:2] for l in lessons]
    rows = [[what[n]] + [f"{results[l][n]['per_op']:.1f}" if n in results[l] else "-"
                         for l in lessons] for n in names]
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    fmt = lambda r: "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i])
                              for i, c in enumerate(r))
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def write_budgets(lesson, figures, budget_dir=BUDGET_DIR, headroom=0.02):
    """Budgets from measured figures, with a little headroom (rounded up)."""
    data = {"_about": "guest instructions per operation; make bench fails above these "
                      "(harness/pios/bench.py, docs/performance.md)"}
    for name, fig in figures.items():
        data[name] = math.ceil(fig["per_op"] * (1 + headroom))
    path = budget_path(lesson, budget_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(prog="pios-bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("lessons", nargs="*", help="lessons (2, 02, 02-uart); default: all")
    ap.add_argument("--only", action="append", default=[], choices=OP_NAMES,
                    help="measure only this operation (repeatable)")
    ap.add_argument("--budgets", default=str(BUDGET_DIR),
                    help="the folder of budget files (default: harness/bench)")
    ap.add_argument("--write-budgets", action="store_true",
                    help="write the budget files from this run's figures (+2 %%)")
    ap.add_argument("--json-dir", default=None,
                    help="write NN-name.json here (default: each lesson's build/bench.json)")
    ap.add_argument("--no-build", action="store_true", help="the kernels are built already")
    ap.add_argument("--jobs", type=int, default=2, help="kernels measured at once")
    args = ap.parse_args(argv)

    found = find_lessons()
    try:
        chosen = [resolve(s, found) for s in args.lessons] if args.lessons else found
    except ValueError as e:
        ap.error(str(e))
    for les in [l for l in chosen if not commands_for(l) and args.lessons]:
        print(f"piOS bench: {les.name} has no `bench` command (the shell comes in lesson 02)")
    chosen = [l for l in chosen if commands_for(l)]
    try:
        for les in chosen:
            if not args.no_build:
                build(les)
    except BuildError as e:
        print(f"piOS bench: {e}", file=sys.stderr)
        return 1

    def one(les):
        figs = measure(les, tuple(args.only))
        out = Path(args.json_dir) / f"{les.name}.json" if args.json_dir else les.build / "bench.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(
            {"lesson": les.name, "unit": "guest instructions per operation",
             "qemu": " ".join(qemu.TEST_FLAGS), "figures": figs}, indent=2) + "\n")
        return figs

    results, failures = {}, []
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = [(les, pool.submit(one, les)) for les in chosen]
        for les, fut in futures:
            try:
                results[les.name] = fut.result()
            except BenchError as e:
                failures.append(str(e))
    if results:
        print(table(results))
        print(f"(JSON: {args.json_dir + '/NN-name.json' if args.json_dir else 'lessons/NN-name/build/bench.json'})")
    for les in chosen:
        if les.name not in results:
            continue
        if args.write_budgets:
            print(f"wrote {write_budgets(les, results[les.name], args.budgets)}")
        else:
            failures += over_budget(les, results[les.name],
                                    load_budgets(les, args.budgets), args.budgets)
    for f in failures:
        print(f"piOS bench: {f}", file=sys.stderr)
    return 1 if failures else 0
