"""Points, partial credit and a results file: the pytest side of the grader.

Each test declares what it is worth next to it:

    @pytest.mark.points(3)
    def test_random_sleeps_last_that_long(kernel, rng): ...

A test without the marker is worth DEFAULT_POINTS. A passing test earns all its
points. A failing test earns nothing, unless it asked for partial credit through the
`credit` fixture before it failed:

    def test_printf_matches_host_printf(kernel, rng, credit):
        for i, case in enumerate(cases):
            ...compare...
            credit.part(i + 1, len(cases))     # cases checked so far, all good

`--results FILE` writes every test's outcome, points, score and output (the
assertion message with expected and got, the serial log tail) as JSON; the grader
(pios.grade) turns it into the Gradescope, JUnit and CSV reports. The file is
written by the controller, so it works with pytest-xdist too.
"""

import json
import time
from pathlib import Path

import pytest

from .console import KILLED_CPU

DEFAULT_POINTS = 1
OUTPUT_LIMIT = 6000         # characters of output kept per test in the results


class Credit:
    """Partial credit for the test that uses it: the fraction of its checks that
    passed before it stopped."""

    def __init__(self):
        self.fraction = 0.0

    def part(self, done, total):
        """`done` of `total` equally weighted checks have passed so far."""
        if total > 0:
            self.fraction = max(0.0, min(1.0, done / total))


@pytest.fixture
def credit(request):
    c = Credit()
    request.node.pios_credit = c
    return c


def pytest_addoption(parser):
    g = parser.getgroup("piOS grading")
    g.addoption("--results", default=None,
                help="write every test's points, score and output to this JSON file")


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): what the test is worth when graded "
                            f"(default {DEFAULT_POINTS})")
    config.addinivalue_line("markers", "given: passes on the lesson's starter too: it "
                            "checks code the lesson hands out (argument parsing, a "
                            "command's frame) or a property the starter's stubs already "
                            "have; kept as a regression check (test_grading.py holds the "
                            "starter to exactly this list)")
    config.pios_results = {}
    config.pios_started = time.monotonic()


def points_of(item):
    m = item.get_closest_marker("points")
    if m is None:
        return DEFAULT_POINTS
    n = m.args[0] if m.args else m.kwargs.get("n")
    if not isinstance(n, (int, float)) or n < 0:
        raise pytest.UsageError(f"{item.nodeid}: points must be a number >= 0, not {n!r}")
    return n


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.pios_cpu_start = KILLED_CPU[0]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "setup":
        rep.user_properties.append(("points", points_of(item)))
        rep.user_properties.append(("given", item.get_closest_marker("given") is not None))
    if rep.when == "teardown":      # the QEMUs it killed: their CPU time (grade.json)
        rep.user_properties.append(("qemu_cpu", KILLED_CPU[0] - getattr(item, "pios_cpu_start", KILLED_CPU[0])))
    credit = getattr(item, "pios_credit", None)
    if credit is not None and rep.when == "call":
        rep.user_properties.append(("credit", credit.fraction))


def _output(rep):
    parts = []
    if rep.longrepr is not None:
        parts.append(str(rep.longreprtext if hasattr(rep, "longreprtext") else rep.longrepr))
    for title, body in rep.sections:
        if title.startswith("Captured"):
            continue
        parts.append(f"---- {title} ----\n{body}")
    text = "\n".join(parts)
    if len(text) > OUTPUT_LIMIT:
        text = text[:OUTPUT_LIMIT // 3] + "\n[... cut ...]\n" + text[-2 * OUTPUT_LIMIT // 3:]
    return text


def pytest_runtest_logreport(report):
    """Runs where the reports arrive (the controller under xdist): fold the setup,
    call and teardown reports of each test into one result."""
    config = _config
    if config is None or not config.getoption("--results"):
        return
    props = dict(report.user_properties)
    r = config.pios_results.setdefault(report.nodeid, {
        "name": report.nodeid, "points": DEFAULT_POINTS, "credit": 0.0,
        "status": "passed", "output": "", "duration": 0.0})
    if "points" in props:
        r["points"] = props["points"]
    if "given" in props:
        r["given"] = props["given"]
    if "credit" in props:
        r["credit"] = props["credit"]
    if "qemu_cpu" in props:
        r["qemu_cpu"] = round(props["qemu_cpu"], 2)
    r["duration"] += getattr(report, "duration", 0.0)
    if report.failed:
        r["status"] = "failed"
        r["output"] += _output(report)
    elif report.skipped and r["status"] == "passed":    # a skip or xfail earns nothing
        r["status"] = "skipped"
        r["output"] += _output(report)
    if report.when == "teardown":
        _write(config)          # after every test: a run stopped midway keeps its results


_config = None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    global _config
    _config = session.config


def pytest_sessionfinish(session, exitstatus):
    if not hasattr(session.config, "workerinput"):
        _write(session.config)


def _write(config):
    path = config.getoption("--results")
    if not path or hasattr(config, "workerinput"):
        return
    tests = []
    for r in config.pios_results.values():
        earned = r["points"] if r["status"] == "passed" else r["points"] * r["credit"]
        tests.append(dict(r, score=round(earned, 2)))
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(json.dumps({
        "seed": getattr(config, "pios_seed", None),
        "duration": round(time.monotonic() - config.pios_started, 1),
        "tests": tests}, indent=1))
    tmp.replace(path)           # never a half-written file
