"""Lesson 09: kernel threads. Two demo tasks both make progress whether they yield
or spin (preemption); the shell still answers while they spin; a sleeping shell
blocks and the idle thread runs; switches follow the tick rate.

A spinning guest runs ~50x slower than real time under -icount, so the tick is
raised to 1000 Hz and the spells kept to tens of milliseconds."""

import re

import pytest

LESSON = 9

HZ = 1000


def ps(kernel):
    rows = {}
    for m in re.finditer(r"^\s*(\d+)\s+(.+?)\s+(running|ready|sleeping|blocked)\s+(\d+)\s+(\d+)$",
                         kernel.cmd("ps"), re.M):
        rows[m[2]] = dict(id=int(m[1]), state=m[3], switches=int(m[4]), ticks=int(m[5]))
    return rows


def sleep(kernel, ms):
    """Start `sleep MS`, wait for its report; returns (us slept, ticks meanwhile)."""
    kernel.send(f"sleep {ms}\r")
    m = kernel.expect(rf"slept {ms} ms: (\d+) us by the timer, (\d+) ticks, (\d+) wakeups\r\n",
                      timeout=10, what=f"the end of sleep {ms}")
    return int(m[1]), int(m[2])


def start(kernel, mode, print_ms=None):
    assert kernel.cmd(f"tick {HZ}") == f"tick rate {HZ} Hz (every 1000 us)"
    out = kernel.cmd(f"demo start {mode}" + (f" {print_ms}" if print_ms else ""))
    assert re.fullmatch(r"demo started: tasks (\d+) and (\d+), .*", out), out


def stop(kernel):
    m = re.fullmatch(r"demo stopped: task A (\d+) steps, task B (\d+) steps",
                     kernel.cmd("demo stop", timeout=10))
    assert m
    return int(m[1]), int(m[2])


@pytest.mark.points(2)
@pytest.mark.parametrize("mode", ["yield", "spin"])
def test_both_tasks_progress(kernel, rng, mode):
    start(kernel, mode)
    slept, ticks = sleep(kernel, rng.randrange(20, 40))
    kernel.expect_prompt()
    rows = ps(kernel)
    a, b = rows["task A"], rows["task B"]
    assert a["switches"] > 0 and b["switches"] > 0
    steps_a, steps_b = stop(kernel)
    assert steps_a > 0 and steps_b > 0, "both tasks must run"
    if mode == "spin":
        # Never yielding, they share the CPU only through preemption: fairly.
        assert 0.5 <= a["ticks"] / max(b["ticks"], 1) <= 2, (a, b)
        assert 0.5 <= steps_a / steps_b <= 2


@pytest.mark.points(3)
def test_spinning_tasks_do_not_starve_the_shell(kernel, rng):
    start(kernel, "spin")
    for _ in range(3):
        word = "".join(rng.choice("qrstuv") for _ in range(rng.randrange(4, 30)))
        assert kernel.cmd(f"echo {word}", timeout=10) == word
    ms = rng.randrange(5, 20)
    slept, _ = sleep(kernel, ms)
    assert ms * 1000 <= slept <= ms * 1000 + 3 * 1000, \
        "a woken thread waits at most a couple of time slices for the CPU"
    kernel.expect_prompt()
    stop(kernel)


@pytest.mark.points(2)
def test_sleep_blocks_and_idle_runs(kernel, rng):
    assert kernel.cmd(f"tick {HZ}").startswith("tick rate")
    before = ps(kernel)
    ms = rng.randrange(50, 300)
    slept, ticks = sleep(kernel, ms)
    kernel.expect_prompt()
    after = ps(kernel)
    idle_ticks = after["idle"]["ticks"] - before["idle"]["ticks"]
    # (idle also runs while the shell waits for the next command: at least the sleep)
    assert idle_ticks >= ticks - 2, f"idle ran {idle_ticks} of {ticks} ticks of the sleep"
    assert after["shell"]["ticks"] - before["shell"]["ticks"] <= 2, "the shell must not spin"
    assert after["shell"]["state"] == "running" and after["idle"]["state"] == "ready"


@pytest.mark.points(1)
def test_a_zero_sleep_returns_at_once(kernel, rng):
    """`sleep 0` starts a timer that is due already: it runs (and wakes the thread)
    inside timer_start(), before the thread could block. The shell must come back
    at once and answer the next command, with the scheduler still running: a
    sleep after it blocks the shell while the idle thread runs."""
    assert kernel.cmd(f"tick {HZ}").startswith("tick rate")
    slept, _ = sleep(kernel, 0)
    kernel.expect_prompt()
    assert slept < 1000, f"sleep 0 slept {slept} us"
    word = "".join(rng.choice("pqr") for _ in range(8))
    assert kernel.cmd(f"echo {word}") == word
    before = ps(kernel)["idle"]["ticks"]
    _, ticks = sleep(kernel, rng.randrange(20, 60))
    kernel.expect_prompt()
    idle = ps(kernel)["idle"]["ticks"] - before
    assert ticks >= 10 and idle >= ticks - 2, \
        f"after the zero sleep, idle ran {idle} of the {ticks} ticks of a sleep"


def total_ticks(kernel):
    return int(re.search(r": (\d+) ticks,", kernel.cmd("ticks"))[1])


@pytest.mark.points(2)
def test_switches_follow_the_tick(kernel, rng):
    """Each tick ends a slice and hands the CPU to the other task: at least one
    switch per tick of the sleep, and at most one per tick in all (plus a few for
    the shell's own comings and goings) between the two `ps`."""
    start(kernel, "spin")
    t0 = total_ticks(kernel)
    before = ps(kernel)
    _, ticks = sleep(kernel, rng.randrange(20, 50))
    kernel.expect_prompt()
    after = ps(kernel)
    t1 = total_ticks(kernel)
    switched = sum(after[t]["switches"] - before[t]["switches"] for t in ("task A", "task B"))
    assert ticks - 3 <= switched <= (t1 - t0) + 6, \
        f"{switched} switches; {ticks} ticks of sleep, {t1 - t0} in all"
    stop(kernel)


@pytest.mark.points(1)
def test_demo_prints_progress(kernel):
    start(kernel, "spin", print_ms=3)
    kernel.send("sleep 15\r")     # spinning tasks: each guest ms costs real emulation
    counts = {"A": [], "B": []}
    for _ in range(4):
        m = kernel.expect(r"\[task ([AB]): (\d+) steps\]\r\n", timeout=10)
        counts[m[1]].append(int(m[2]))
    kernel.expect(r"slept 15 ms", timeout=10)
    kernel.expect_prompt()
    stop(kernel)
    assert counts["A"] and counts["B"], "both tasks print"
    for c in counts.values():
        assert c == sorted(c) and len(set(c)) == len(c), "progress only grows"


@pytest.mark.points(1)
def test_bench_switches_and_reports(kernel, rng):
    n = rng.randrange(200, 2000)
    before = ps(kernel)["shell"]["switches"]
    m = re.fullmatch(rf"{n} yields each way: (\d+) us, (\d+) ns per switch",
                     kernel.cmd(f"bench yield {n}", timeout=10))
    assert m
    assert 20 <= int(m[2]) <= 5000
    assert ps(kernel)["shell"]["switches"] - before >= n


@pytest.mark.points(1)
def test_demo_misuse_is_refused(kernel):
    start(kernel, "yield")
    assert kernel.cmd("demo start spin") == "error: the demo is running already (demo stop)"
    assert kernel.cmd("demo start sideways").startswith("usage: demo")
    assert kernel.cmd("bench yield 10").startswith("usage: bench")
    stop(kernel)
