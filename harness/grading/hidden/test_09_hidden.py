"""Hidden tests, lesson 09: the scheduler with three threads that want the CPU,
and threads that come and go.

The public tests run two demo tasks while the shell sleeps: two threads. These
make the shell compete too (`busy` spins with interrupts on): three spinning
threads must share the CPU round robin, a third each; with yielding tasks, every
tick must give each of them exactly its turn - one step per task per slice of the
shell. And a dozen demo rounds must reuse the thread slots and their (recycled,
dirty) stacks. A kernel tuned to the visible tests still has to be right here.
Instructor-only: never handed out.

As in the public tests the tick is raised to 1000 Hz and spells of spinning are
kept to tens of milliseconds (a spinning guest is slow under -icount)."""

import re

import pytest

LESSON = 9

HZ = 1000


def ps(kernel, text=None):
    rows = {}
    for m in re.finditer(r"^\s*(\d+)\s+(.+?)\s+(running|ready|sleeping|blocked)\s+(\d+)\s+(\d+)$",
                         kernel.cmd("ps") if text is None else text, re.M):
        rows[m[2]] = dict(id=int(m[1]), state=m[3], switches=int(m[4]), ticks=int(m[5]))
    return rows


def set_tick(kernel):
    out = kernel.cmd(f"tick {HZ}")
    assert out == f"tick rate {HZ} Hz (every 1000 us)", f"tick {HZ}: got {out!r}"


def demo_start(kernel, mode):
    out = kernel.cmd(f"demo start {mode}")
    assert re.fullmatch(r"demo started: tasks (\d+) and (\d+), .*", out), \
        f"demo start {mode}: expected 'demo started: tasks N and M, ...', got {out!r}"


def demo_stop(kernel):
    out = kernel.cmd("demo stop", timeout=10)
    m = re.fullmatch(r"demo stopped: task A (\d+) steps, task B (\d+) steps", out)
    assert m, f"demo stop: expected 'demo stopped: task A N steps, task B M steps', got {out!r}"
    return int(m[1]), int(m[2])


def total_ticks(text):
    m = re.search(r": (\d+) ticks,", text)
    assert m, f"ticks: no tick count in {text!r}"
    return int(m[1])


def batch(kernel, lines):
    """Send `busy 10` and then `lines` all at once; return the outputs of `lines`,
    or None if they had not all arrived by the end of that first `busy`.

    While the shell waits for input, the other threads run freely and guest time
    runs on without the test: a measurement spread over several commands must not
    wait for any of them. So everything is typed at once, and a first `busy` (the
    shell spins, interrupts on) gives it time to arrive; its report says how many
    bytes were buffered at its end. On a very loaded host that may not be all of
    them: the caller then tries again."""
    lines = ["busy 10"] + lines
    kernel.send("".join(line + "\r" for line in lines))
    outs = []
    for line in lines:
        kernel.expect_exact(line + "\r\n", timeout=30, what=f"the echo of {line!r}")
        kernel.expect(r"(^|\r\n)> ", timeout=30, what=f"the prompt after {line!r}")
        outs.append(kernel.before)
    m = re.match(r"busy 10 ms: received \d+ bytes meanwhile, (\d+) buffered", outs[0])
    assert m, f"busy 10: expected 'busy 10 ms: received N bytes meanwhile, M buffered, ...', " \
              f"got {outs[0]!r}"
    arrived = int(m[1]) == len("".join(line + "\r" for line in lines[1:]))
    return outs[1:] if arrived else None


TOO_LOADED = "three times, the input did not all arrive during `busy 10`: the host is too " \
             "loaded to measure"


@pytest.mark.points(3)
def test_three_spinning_threads_share_the_cpu(kernel, rng):
    """Tasks A and B spin and the shell spins too (`busy MS`, interrupts on): for
    the whole spell nobody yields, so only the tick moves the CPU, one slice at a
    time, round robin. Between a `ps` before and a `ps` after, each of the three
    must be found running by about a third of the ticks, each switched to about as
    often, and the idle thread never."""
    set_tick(kernel)
    demo_start(kernel, "spin")
    for _ in range(3):
        ms = rng.randrange(30, 50)
        outs = batch(kernel, ["ps", f"busy {ms}", "ps"])
        if outs:
            break
    else:
        raise AssertionError(TOO_LOADED)
    assert outs[1].startswith(f"busy {ms} ms:"), f"busy {ms}: got {outs[1]!r}"
    before, after = ps(kernel, outs[0]), ps(kernel, outs[2])
    demo_stop(kernel)
    names = ("shell", "task A", "task B")
    assert all(t in before and t in after for t in names + ("idle",)), \
        f"ps should list shell, idle, task A and task B:\n{outs[0]}\n{outs[2]}"
    ticks = {t: after[t]["ticks"] - before[t]["ticks"] for t in names}
    switches = {t: after[t]["switches"] - before[t]["switches"] for t in names}
    total = sum(ticks.values())
    assert total >= ms - 5, f"{total} ticks found the three threads running in {ms} ms: {ticks}"
    for t in names:
        assert total / 3 * 0.6 - 2 <= ticks[t] <= total / 3 * 1.4 + 2, (
            f"round robin over three spinning threads: each should have about a third of "
            f"the {total} ticks; got {ticks}")
        assert switches[t] >= ticks[t] - 3, (
            f"{t} ran {ticks[t]} slices but was switched to {switches[t]} times: each "
            f"slice begins with a switch (switches {switches})")
    idle = after["idle"]["ticks"] - before["idle"]["ticks"]
    assert idle <= 1, f"the idle thread ran {idle} ticks while three threads could run"


@pytest.mark.points(2)
def test_yielding_tasks_take_one_step_each_per_slice(kernel, rng):
    """Tasks A and B yield after every step, the shell never yields (it is busy).
    Round robin from B leads back to the shell, not to A: so in each of the shell's
    slices the tick hands the CPU to A, A's yield to B, B's yield back to the shell
    - one step each per tick, from `demo start` to `demo stop` (typed at once, so
    that the shell never waits for input in between)."""
    set_tick(kernel)
    for _ in range(3):
        ms = rng.randrange(20, 40)
        outs = batch(kernel, ["ticks", "demo start yield", f"busy {ms}", "demo stop", "ticks"])
        if outs is None:        # (the demo ran: stopped, it can start again)
            continue
        assert re.fullmatch(r"demo started: tasks (\d+) and (\d+), .*", outs[1]), \
            f"demo start yield: expected 'demo started: tasks N and M, ...', got {outs[1]!r}"
        stopped = re.fullmatch(r"demo stopped: task A (\d+) steps, task B (\d+) steps", outs[3])
        assert stopped, f"demo stop: got {outs[3]!r}"
        break
    else:
        raise AssertionError(TOO_LOADED)
    a, b = int(stopped[1]), int(stopped[2])
    ticks = total_ticks(outs[4]) - total_ticks(outs[0])
    assert ticks >= ms, f"{ticks} ticks during busy {ms} at {HZ} Hz"
    for name, steps in (("A", a), ("B", b)):
        assert ticks - 4 <= steps <= ticks + 4, (
            f"{ticks} ticks from `demo start` to `demo stop` while the shell spun: each "
            f"yielding task should take one step per tick; task {name} took {steps} "
            f"(A {a}, B {b})")


@pytest.mark.points(2)
def test_thread_slots_and_stacks_are_reused(kernel, rng):
    """More demo rounds than the thread table has room for without reaping: every
    round's tasks (on stacks recycled from the last round's, never cleared) must
    start and run; at the end only the shell and idle remain, and the heap holds no
    more than the last round's stacks."""
    rounds = rng.randrange(9, 13)               # 2 threads each: > 16 slots in all
    heap0 = re.search(r"(\d+) used blocks", kernel.cmd("heap"))
    assert heap0, "heap: no used block count"
    for i in range(rounds):
        demo_start(kernel, rng.choice(["yield", "spin"]) if i % 3 else "yield")
        word = "".join(rng.choice("abcdef") for _ in range(rng.randrange(3, 12)))
        assert kernel.cmd(f"echo {word}", timeout=10) == word
        a, b = demo_stop(kernel)
        assert a > 0 and b > 0, f"round {i + 1}: both tasks must run, got A {a}, B {b} steps"
    rows = ps(kernel)
    assert set(rows) == {"shell", "idle"}, f"after `demo stop` only shell and idle are left: {rows}"
    used = int(re.search(r"(\d+) used blocks", kernel.cmd("heap"))[1])
    assert used <= int(heap0[1]) + 2, \
        f"{used} used heap blocks after {rounds} rounds (at boot {heap0[1]}): stacks not reaped"
