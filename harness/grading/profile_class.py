#!/usr/bin/env python3
"""Where a class's grading time went: per kind of submission (fake_class.py's
DEST.kinds.csv) and per phase (grade.json's `timing`: intake, build, tests, report),
wall seconds and CPU seconds (the grader's thread and every process it waited for),
and the tests that took the longest.

    harness/tools/pios-python harness/grading/profile_class.py GRADES KINDS.csv [--tests N]

GRADES is the batch's report folder (grades/10-processes). Reference code: the
starter generator never hands this file out.
"""

import argparse
import csv
import json
from collections import defaultdict
from pathlib import Path

PHASES = ("intake", "build", "tests", "report")


def load(grades, kinds_csv):
    kinds = {}
    if kinds_csv:
        with open(kinds_csv) as f:
            kinds = {row["student"]: row["kind"] for row in csv.DictReader(f)}
    rows = []
    for g in sorted(Path(grades, "students").glob("*/grade.json")):
        r = json.loads(g.read_text())
        name = g.parent.name
        rows.append((name, kinds.get(name, "?"), r))
    return rows


def table(rows, n_tests=8):
    by_kind = defaultdict(list)
    for _, kind, r in rows:
        by_kind[kind if not kind.startswith("mutant-") else "mutant-*"].append(r)
    total_wall = sum(sum(p["wall"] for p in r.get("timing", {}).values()) for _, _, r in rows)
    total_cpu = sum(sum(p["cpu"] for p in r.get("timing", {}).values()) for _, _, r in rows)
    out = [f"{len(rows)} submissions: {total_wall:.0f} s of wall time one after another "
           f"({total_wall / max(len(rows), 1):.1f} s each), {total_cpu:.0f} s of CPU "
           f"({total_cpu / max(len(rows), 1):.1f} s each)", "",
           f"{'kind':<24} {'n':>3} {'wall':>7} {'max':>6} {'cpu':>6}  "
           + " ".join(f"{p + ' w/c':>13}" for p in PHASES) + "  share"]
    for kind, rs in sorted(by_kind.items(), key=lambda kv: -sum(
            sum(p["wall"] for p in r.get("timing", {}).values()) for r in kv[1])):
        walls = [sum(p["wall"] for p in r.get("timing", {}).values()) for r in rs]
        cpus = [sum(p["cpu"] for p in r.get("timing", {}).values()) for r in rs]
        phase = []
        for p in PHASES:
            w = sum(r.get("timing", {}).get(p, {}).get("wall", 0) for r in rs) / len(rs)
            c = sum(r.get("timing", {}).get(p, {}).get("cpu", 0) for r in rs) / len(rs)
            phase.append(f"{w:6.1f}/{c:<6.1f}")
        out.append(f"{kind:<24} {len(rs):>3} {sum(walls) / len(rs):7.1f} {max(walls):6.1f} "
                   f"{sum(cpus) / len(rs):6.1f}  " + " ".join(phase)
                   + f"  {100 * sum(walls) / max(total_wall, 1e-9):4.0f} %")
    slow = sorted(((t.get("duration", 0), name, t["name"], t["status"])
                   for name, _, r in rows for t in r["tests"]), reverse=True)[:n_tests]
    out += ["", "slowest tests:"] + [f"  {d:6.1f} s  {n:<14} {t.split('::')[-1]} ({s})"
                                     for d, n, t, s in slow]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("grades")
    ap.add_argument("kinds", nargs="?")
    ap.add_argument("--tests", type=int, default=8)
    a = ap.parse_args()
    print(table(load(a.grades, a.kinds), a.tests))


if __name__ == "__main__":
    main()
