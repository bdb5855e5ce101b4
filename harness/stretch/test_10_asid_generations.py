"""Stretch exercise 7 of lesson 10, "More processes than ASIDs": optional, not graded.

Run it with `make test L=10 STRETCH=1` once you have done the exercise (before, it
fails: that is the point). The kernel is built again with -DASID_MAX=3
-DPROC_MAX=8, so that four processes cannot each keep an ASID of their own:
Linux's scheme (a generation number per process; when the ASIDs run out, a new
generation, a flush of the whole TLB, and ASIDs handed out again as processes are
switched to) lets them all run.

What it checks: four background processes start (lesson 10's allocator refuses the
fourth: `spawn failed`), `procs` shows them alive with ASIDs between 1 and 3, a
fifth in the foreground stores and reads back a value of the test's choosing at
the address the others use too, and all four background ones can then be killed
and waited for.
"""

import re
import shutil
import subprocess

import pytest

from pios import qemu
from pios.console import Kernel

LESSON = 10
pytestmark = pytest.mark.stretch

CONFIG = ["-DASID_MAX=3", "-DPROC_MAX=8"]


@pytest.fixture
def small_kernel(request, lesson, tmp_path):
    """The lesson's kernel built with CONFIG, booted to its prompt."""
    tree = tmp_path / "tree"
    shutil.copytree(lesson.path.parents[1] / "common", tree / "common")
    src = tree / "lessons" / lesson.name
    shutil.copytree(lesson.path, src, ignore=shutil.ignore_patterns("build"))
    p = subprocess.run(["make", "-s", "-C", str(src), "EXTRA_CFLAGS=" + " ".join(CONFIG)],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        pytest.fail(f"building with {' '.join(CONFIG)} failed:\n{(p.stdout + p.stderr)[-3000:]}",
                    pytrace=False)
    log = request.config.pios_log_dir / lesson.name / "stretch_asid_generations.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    k = Kernel(qemu.test_command(elf=src / "build" / "kernel.elf"), log)
    request.node.pios_kernels = [k]         # the failure report shows its log
    k.read_boot()
    yield k
    k.close()


def test_five_processes_share_three_asids(small_kernel, rng):
    k = small_kernel
    pids = []
    for _ in range(4):
        out = k.cmd(f"run memcheck {rng.randrange(1, 1 << 32):#x} 1000000 &")
        m = re.fullmatch(r"\[pid (\d+)\] started in the background", out)
        assert m, (f"process {len(pids) + 1} of 4 with ASID_MAX = 3: {out!r} "
                   "(a new generation of ASIDs should make room)")
        pids.append(int(m[1]))
    table = k.cmd("procs")
    alive = {int(pid): int(asid) for pid, asid in
             re.findall(r"^(\d+)\s+memcheck\s+alive\s+\d+\s+(\d+)", table, re.M)}
    assert sorted(alive) == sorted(pids), f"procs should list {pids} alive:\n{table}"
    assert all(0 <= a <= 3 for a in alive.values()), f"ASIDs above ASID_MAX = 3:\n{table}"
    value = rng.randrange(1, 1 << 32)
    out = k.cmd(f"run memcheck {value:#x} 1", timeout=15)
    m = re.search(r"pid (\d+): cell at (0x[0-9a-f]+) holds 0x([0-9a-f]{8})", out)
    assert m and int(m[3], 16) == value, \
        f"a fifth process should read back its own 0x{value:08x}:\n{out}"
    assert re.search(r"exited with status 0$", out), out
    for pid in pids:
        assert k.cmd(f"kill {pid}") == f"pid {pid} will be killed"
    out = "\n".join(k.cmd("wait", timeout=15) for _ in pids)
    for pid in pids:
        assert f"[pid {pid}] exited with status 137" in out, out
