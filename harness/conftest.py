"""pytest plumbing for piOS.

Every test module says which lesson introduces it:

    LESSON = 2

A test that takes the `lesson` fixture (or `kernel`, `boot`) runs once for every
selected lesson from that one on: lesson 05 is tested with its own tests and every
earlier lesson's. `--lesson 05` selects one lesson (2, 02 and 02-uart all work;
repeat the option for several); without it, every lesson in the tree.
"""

import hashlib
import importlib.util
import os
import random
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pios import lessons as L                      # noqa: E402
from pios.build import BuildError, build           # noqa: E402
from pios.console import DEFAULT_TIMEOUT, Kernel   # noqa: E402
from pios import qemu                              # noqa: E402

pytest_plugins = ["pios.grading"]       # points, partial credit, --results


def pytest_addoption(parser):
    g = parser.getgroup("piOS")
    g.addoption("--lesson", action="append", default=[],
                help="lesson to test: 2, 02 or 02-uart (repeatable; default: all)")
    g.addoption("--tree", default=str(L.REPO_ROOT),
                help="the piOS tree to test (default: this repository)")
    g.addoption("--log-dir", default=None,
                help="where serial logs go (default: harness/logs)")
    g.addoption("--seed", default=None,
                help="seed for the tests' random values (default: new each run); "
                     "the same seed gives every test the same values")
    g.addoption("--machine", default=qemu.DEFAULT_MACHINE,
                help="QEMU machine (raspi0, raspi1ap)")
    g.addoption("--prebuilt", action="store_true",
                help="the kernels are built already: never run make (the grader builds "
                     "a submission in its sandbox, and runs nothing of it outside)")
    g.addoption("--preflight", action="store_true",
                help="boot each kernel once first; if it does not reach its banner "
                     "(and shell), fail its tests at once instead of one timeout each "
                     "(the grader uses this)")


def pytest_configure(config):
    root = Path(config.getoption("--tree")).resolve()
    found = L.find_lessons(root)
    specs = config.getoption("--lesson")
    try:
        selected = [L.resolve(s, found) for s in specs] if specs else found
    except ValueError as e:
        raise pytest.UsageError(str(e))
    config.pios_root = root
    config.pios_lessons = sorted(set(selected), key=lambda l: l.number)
    seed = config.getoption("--seed")
    if hasattr(config, "workerinput"):          # an xdist worker: the controller's seed
        seed = config.workerinput["pios_seed"]
    config.pios_seed = int(seed) if seed is not None else random.SystemRandom().randrange(10**9)
    log_dir = config.getoption("--log-dir") or Path(__file__).parent / "logs"
    config.pios_log_dir = Path(log_dir).resolve()
    config.pios_log_dir.mkdir(parents=True, exist_ok=True)
    config.addinivalue_line("markers", "slides: renders the Marp slide decks (needs node)")
    config.addinivalue_line("markers", "host: compiled and run on the host, no QEMU")
    config.addinivalue_line("markers", "course: grades every lesson's reference, starter "
                            "and mutants (make test-course; make test leaves it out)")
    config.addinivalue_line("markers", "stretch: a stretch exercise's test (harness/stretch/): "
                            "fails until a student does the exercise, so make test runs it "
                            "only with STRETCH=1")


# Lesson objects are hashable by identity; give them a stable order and equality.
L.Lesson.__hash__ = lambda self: hash(self.name)


if importlib.util.find_spec("xdist"):
    def pytest_configure_node(node):
        """xdist: every worker uses the controller's seed, so one --seed repeats all."""
        node.workerinput["pios_seed"] = node.config.pios_seed


def pytest_report_header(config):
    names = " ".join(l.name for l in config.pios_lessons) or "(none found)"
    return [f"piOS tree: {config.pios_root}", f"lessons: {names}",
            f"random seed: {config.pios_seed} (rerun the same values with --seed "
            f"{config.pios_seed})"]


def module_lesson(module):
    return getattr(module, "LESSON", 1)


def hidden_module(module):
    """grading/hidden/: the instructor's hidden tests. The grader runs a lesson's on
    that lesson only (never as a regression check later), so make test does too."""
    return Path(module.__file__).parent.name == "hidden"


def pytest_generate_tests(metafunc):
    if "lesson" in metafunc.fixturenames:
        intro = module_lesson(metafunc.module)
        chosen = [l for l in metafunc.config.pios_lessons if l.number >= intro
                  and (l.number == intro or not hidden_module(metafunc.module))]
        metafunc.parametrize("lesson", chosen, ids=[l.name for l in chosen], indirect=True)


def pytest_collection_modifyitems(config, items):
    """Drop the tests of lessons later than every selected one (a lesson's tests
    never run against an earlier lesson's kernel), and with --lesson the modules
    about the whole course."""
    newest = max((l.number for l in config.pios_lessons), default=0)
    one_lesson = bool(config.getoption("--lesson"))
    keep, drop = [], []
    for item in items:
        # The hidden tests are the grader's: make test-course runs them on the
        # reference (and checks the starters fail them), make test does not.
        if hidden_module(item.module):
            item.add_marker(pytest.mark.course)
        # A module about the whole course (WHOLE_COURSE = True: the grader's checks
        # grade every lesson) is left out when --lesson picks some lessons.
        whole = getattr(item.module, "WHOLE_COURSE", False) and one_lesson
        (drop if whole or module_lesson(item.module) > newest else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# ---- fixtures ---------------------------------------------------------------------

@pytest.fixture(scope="session")
def _built():
    return {}


@pytest.fixture
def lesson(request, _built):
    """The lesson under test, built (once per session)."""
    les = request.param
    if les.name not in _built:
        try:
            if not request.config.getoption("--prebuilt"):
                build(les)
            elif not les.img.is_file():
                raise BuildError(f"{les.name}: --prebuilt, but {les.img} does not exist")
            _built[les.name] = None
        except BuildError as e:
            _built[les.name] = str(e)
        if not _built[les.name] and request.config.getoption("--preflight"):
            _built[les.name] = _preflight(les, request.config)
    if _built[les.name]:
        pytest.fail(_built[les.name], pytrace=False)
    return les


# A boot takes well under a second of wall time; the banner and prompt are a few
# hundred bytes, so a megabyte before them is a flood.
PREFLIGHT_TIMEOUT = 5.0
PREFLIGHT_LOG_LIMIT = 1 << 20


def _preflight(les, config):
    """Boot the kernel once. None if it reaches its banner (and, from lesson 02 on,
    its prompt); otherwise the reason, with what it printed."""
    log = config.pios_log_dir / les.name / "preflight.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    k = Kernel(qemu.test_command(elf=les.elf, machine=config.getoption("--machine")),
               log, timeout=PREFLIGHT_TIMEOUT, log_limit=PREFLIGHT_LOG_LIMIT)
    try:
        if les.has_shell:
            k.read_boot()
        else:
            k.read_banner()
        return None
    except AssertionError as e:
        return (f"not run: the kernel did not boot to its "
                f"{'prompt' if les.has_shell else 'banner'}, so none of its tests can "
                f"pass.\n{e}\n---- serial log (tail) ----\n{k.log.tail(30)}")
    finally:
        k.close()


@pytest.fixture
def rng(request):
    """A random.Random seeded from the session seed and the test's name: values
    differ from run to run, and `--seed N` repeats a run exactly."""
    key = f"{request.config.pios_seed}:{request.node.nodeid}".encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


def _log_name(nodeid, n):
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1]).strip("_")
    return f"{name}.log" if n == 0 else f"{name}.{n}.log"


@pytest.fixture
def boot(request, lesson):
    """Factory: boot(machine=..., raw=False, extra=[...], timeout=..., monitor=False,
    log_limit=...) starts QEMU on the lesson's kernel and returns a Kernel. Every
    QEMU is killed at teardown."""
    kernels = []
    request.node.pios_kernels = kernels

    def start(machine=None, raw=False, extra=(), timeout=DEFAULT_TIMEOUT, monitor=False,
              log_limit=qemu.LOG_LIMIT):
        machine = machine or request.config.getoption("--machine")
        sock = None
        if monitor:     # a short path: unix socket names are limited to 108 bytes
            sock = Path(tempfile.mkdtemp(prefix="pios-mon-")) / "monitor.sock"
        cmd = qemu.test_command(elf=None if raw else lesson.elf,
                                img=lesson.img if raw else None,
                                machine=machine, extra=extra, monitor=sock)
        log = request.config.pios_log_dir / lesson.name / _log_name(request.node.nodeid, len(kernels))
        log.parent.mkdir(parents=True, exist_ok=True)
        k = Kernel(cmd, log, timeout=timeout, log_limit=log_limit)
        k.monitor = qemu.Monitor(sock) if sock else None
        kernels.append(k)
        return k

    yield start
    for k in kernels:
        k.close()
        if k.monitor:
            k.monitor.close()
            shutil.rmtree(Path(k.monitor.path).parent, ignore_errors=True)


@pytest.fixture
def kernel(boot, lesson):
    """A freshly booted kernel, past its banner; for shell lessons, at the prompt."""
    k = boot()
    if lesson.has_shell:
        name, k.boot_text = k.read_boot()
    else:
        name = k.read_banner()
    assert name == lesson.name, f"banner names lesson {name!r}, expected {lesson.name!r}"
    return k


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, show the tail of each serial log and where the full log is."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        if "rng" in getattr(item, "fixturenames", ()):
            rep.sections.append(("random values",
                                 f"seed {item.config.pios_seed}: rerun with --seed "
                                 f"{item.config.pios_seed} to get the same values"))
        for k in getattr(item, "pios_kernels", []):
            rep.sections.append((f"serial log (tail; full log: {k.log.path})",
                                 k.log.tail(30)))
            err = k.stderr_text()
            if err.strip():
                rep.sections.append(("QEMU's own messages", err[-2000:]))
