"""`make bench` (harness/tools/pios-bench, harness/pios/bench.py): its figures repeat
exactly, and its budget check fails when an operation is over its budget.

One boot per run, timing only the boot (`--only boot`), on the newest lesson
selected: a few seconds in all. The full benchmark is `make bench`.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pios import bench
from pios.build import build

LESSON = 2
BENCH = Path(__file__).parent / "tools" / "pios-bench"


@pytest.fixture
def newest(request):
    """The newest selected lesson, built (this repository's: pios-bench benches it)."""
    les = max(request.config.pios_lessons, key=lambda l: l.number)
    if les.number < LESSON or request.config.pios_root != bench.REPO_ROOT:
        pytest.fail(f"test_bench needs a lesson from {LESSON:02d} on in this repository")
    build(les)
    return les


def run_bench(lesson, budgets, tmp_path):
    """pios-bench on `lesson`, boot only, with a budget folder of our own."""
    d = tmp_path / "budgets"
    d.mkdir(exist_ok=True)
    for f in d.iterdir():
        f.unlink()
    if budgets is not None:
        (d / f"{lesson.name}.json").write_text(json.dumps(budgets))
    r = subprocess.run([sys.executable, str(BENCH), lesson.name, "--only", "boot",
                        "--no-build", "--budgets", str(d), "--json-dir", str(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    figures = json.loads((tmp_path / f"{lesson.name}.json").read_text())["figures"]
    return r, figures["boot"]["per_op"]


def test_budget_check_fails_over_budget_and_figures_repeat(newest, tmp_path):
    r, boot = run_bench(newest, {"boot": 10**9}, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert boot > 1000, "a boot is thousands of instructions"
    assert f"{boot:.1f}" in r.stdout, "the table shows the figure"

    # One below what was just measured: the run must fail and say both numbers.
    r, again = run_bench(newest, {"boot": boot - 1}, tmp_path)
    assert again == boot, "the same kernel gives the same figure on every run"
    assert r.returncode == 1
    assert f"{newest.name}: boot: budget {boot - 1}, measured {boot:.1f}" in r.stderr

    # No budget for a measured operation fails too; exactly the figure passes.
    r, _ = run_bench(newest, None, tmp_path)
    assert r.returncode == 1 and "boot: no budget" in r.stderr
    r, _ = run_bench(newest, {"boot": boot}, tmp_path)
    assert r.returncode == 0, r.stderr


def test_parse_reads_every_kind_of_line():
    out = ("bench boot 1: 18520 ns\n"
           "5000 yields each way: 1460 us, 146 ns per switch\n"
           "bench yield 2000: 1324 us\nbench yield 2000: 1358 us\n"
           "bench syscall 10000: 1291 us\n")
    f = bench.parse(out)
    assert f["boot"] == (1, 18520, None)
    assert f["thread-switch"] == (10000, 1460000, 1460)
    assert f["process-switch"] == (4000, 1324000, 1324), "the first of the two processes"
    assert bench.per_op(*f["null-syscall"][:2]) == 129.1


def test_every_budget_file_names_known_operations_of_its_lesson():
    for les in bench.find_lessons():
        budgets = bench.load_budgets(les)
        ops = {op.name: op.lesson for op in bench.OPS}
        for name in budgets:
            assert name in ops and ops[name] <= les.number, f"{les.name}: {name}"
