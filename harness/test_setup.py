"""First contact: what the README's commands do on a machine that lacks something.

Each case runs the real Makefile with a PATH from which one tool was taken away, or
with the Python lookup made to fail, and with an `apt-get` that installs nothing (it
only records that it was asked). The target must try to install, check again, and
then fail: a non-zero exit and one line naming what is missing and the command
that installs it. A target that exits 0 having run nothing is the bug this guards.
"""

import os
import stat
import subprocess
from pathlib import Path

import pytest

from pios import lessons as L

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "harness" / "tools"
WHOLE_COURSE = True     # about the repository's commands: left out of `make test L=NN`
FIRST = L.find_lessons(ROOT)[0].name    # a student's tree holds one lesson
SYSTEM_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def fake_host(tmp_path, without=()):
    """A bin folder that mirrors the system's commands except `without`, plus an
    apt-get (and sudo) that only append their arguments to a log. Returns
    (PATH value, the log)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for d in SYSTEM_DIRS:
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            target = Path(d, name)
            if name in without or (bin_dir / name).exists() or not os.access(target, os.X_OK):
                continue
            (bin_dir / name).symlink_to(target)
    log = tmp_path / "apt.log"
    for name, body in (("apt-get", f'echo "apt-get $*" >> {log}\n'),
                       ("sudo", f'echo "sudo $*" >> {log}\n"$@"\n')):
        p = bin_dir / name
        p.unlink(missing_ok=True)
        p.write_text("#!/bin/sh\n" + body)
        p.chmod(p.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(bin_dir), log


def make(path, *args, **env):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "PIOS_"))}
    e.update(PATH=path, **env)
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args],
                          capture_output=True, text=True, timeout=120, env=e,
                          stdin=subprocess.DEVNULL)


def one_line_with_the_fix(stderr, *what):
    lines = [l for l in stderr.splitlines() if l.startswith("piOS:")]
    assert len(lines) == 1, f"expected one 'piOS: ...' line:\n{stderr}"
    for w in what:
        assert w in lines[0], f"{w!r} not named:\n{lines[0]}"
    return lines[0]


TARGETS = {"test": ("test", f"L={FIRST}"), "grade": ("grade", f"L={FIRST}", "SUB=.")}


@pytest.mark.parametrize("target", TARGETS)
def test_missing_tool_is_installed_then_named(target, tmp_path):
    path, log = fake_host(tmp_path, without={"qemu-system-arm"})
    r = make(path, *TARGETS[target])
    assert r.returncode != 0, f"make {target} exited 0 without QEMU:\n{r.stdout}{r.stderr}"
    line = one_line_with_the_fix(r.stderr, "qemu-system-arm", "apt-get install -y")
    assert "still missing after installing" in line
    asked = log.read_text()                     # it did try to install it first
    assert "install" in asked and "qemu-system-arm" in asked, asked
    assert "test session starts" not in r.stdout and "piOS grade" not in r.stdout


@pytest.mark.parametrize("target", TARGETS)
def test_python_lookup_failing_stops_the_target(target, tmp_path):
    """The Python is chosen by hand (make's PYTHON= or PIOS_PYTHON) and has no pytest:
    the target stops with that named, and asks apt-get for nothing."""
    path, log = fake_host(tmp_path)
    for how in ({"PIOS_PYTHON": str(tmp_path / "no-such-python")}, None):
        args = TARGETS[target] + (() if how else ("PYTHON=/bin/false",))
        r = make(path, *args, **(how or {}))
        assert r.returncode != 0, f"make {' '.join(args)} exited 0:\n{r.stdout}{r.stderr}"
        one_line_with_the_fix(r.stderr, "PIOS_PYTHON=", "pytest")
    assert not log.exists(), "apt-get was run although nothing it installs would help"


def test_pios_python_without_a_python_fails_with_the_fix():
    r = subprocess.run([str(TOOLS / "pios-python"), "-c", "print('ran')"],
                       capture_output=True, text=True,
                       env=dict(os.environ, PIOS_PYTHON="/bin/false"))
    assert r.returncode == 127 and "ran" not in r.stdout
    one_line_with_the_fix(r.stderr, "PIOS_PYTHON=/bin/false", "pytest")


def test_empty_python_variable_is_not_a_silent_success(tmp_path):
    """`make test PYTHON=` once left `-m pytest` as the command, which make read as
    'ignore errors': it must run the tests (here: a selection that matches none,
    which pytest reports with a non-zero exit)."""
    path, _ = fake_host(tmp_path)
    r = make(path, "test", f"L={FIRST}", "PYTHON=", "PYTEST_FLAGS=",
             "ARGS=-k no_test_has_this_name")
    assert "no tests ran" in r.stdout or "deselected" in r.stdout, r.stdout + r.stderr
    assert r.returncode != 0
    assert "ignored" not in r.stderr, r.stderr


def test_setup_host_groups_pass_on_this_machine():
    """Every group exists, and this machine (which ran make test) has them all."""
    for group in ("build", "run", "debug", "grade", "hardware", "slides", "test", "all"):
        r = subprocess.run([str(TOOLS / "setup-host"), group], capture_output=True, text=True)
        assert r.returncode == 0, f"setup-host {group} (this machine ran make test):\n{r.stderr}"
    r = subprocess.run([str(TOOLS / "setup-host"), "nonsense"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown group" in r.stderr
