"""Lesson 05: the system timer. Sleeps of random lengths last exactly that long on
the timer; the tick runs at the rate the test sets; periodic callbacks do not drift;
the kernel waits in WFI (under -icount sleep=off an idle guest costs no wall time,
while a polling loop runs ~50x slower than real time, so wall time tells them apart).

Intervals are measured inside one command: between two commands the guest idles
waiting for input, and with sleep=off its clock jumps ahead meanwhile."""

import re
import time

import pytest

LESSON = 5

TICK_HZ = 100


def uptime_us(kernel):
    m = re.fullmatch(r"uptime (\d+)\.(\d{6}) s \((\d+) ticks at (\d+) Hz\)", kernel.cmd("uptime"))
    assert m, "expected 'uptime S.UUUUUU s (N ticks at H Hz)'"
    return int(m[1]) * 1_000_000 + int(m[2]), int(m[3]), int(m[4])


def ticks(kernel):
    m = re.fullmatch(r"tick (\d+) Hz \(every (\d+) us\): (\d+) ticks, (\d+) missed",
                     kernel.cmd("ticks"))
    assert m, "expected 'tick H Hz (every P us): N ticks, M missed'"
    return int(m[1]), int(m[3]), int(m[4])


def sleep(kernel, ms, timeout=5):
    """Returns (us slept by the timer, ticks meanwhile, wakeups)."""
    kernel.send(f"sleep {ms}\r")
    # any answer of the right shape ends the wait: a wrong one fails at once
    m = kernel.expect(r"slept (\d+) ms: (\d+) us by the timer, (\d+) ticks, (\d+) wakeups\r\n> ",
                      timeout=timeout, guest=ms / 1000 + timeout, what=f"the end of sleep {ms}")
    assert int(m[1]) == ms, f"asked to sleep {ms} ms, the kernel says it slept {m[1]} ms"
    return int(m[2]), int(m[3]), int(m[4])


@pytest.mark.points(3)
def test_random_sleeps_last_that_long(kernel, rng):
    for ms in [1, rng.randrange(2, 50), rng.randrange(50, 3000)]:
        slept, n, _ = sleep(kernel, ms)
        assert ms * 1000 <= slept <= ms * 1000 + 100, f"sleep {ms} took {slept} us"
        assert abs(n - slept * TICK_HZ / 1_000_000) <= 1, f"{n} ticks in {slept} us"


@pytest.mark.points(2)
def test_sleep_waits_in_wfi(kernel, rng):
    ms = rng.randrange(4000, 8000)
    start = time.monotonic()
    slept, n, wakeups = sleep(kernel, ms)
    wall = time.monotonic() - start
    assert slept >= ms * 1000 and n >= ms * TICK_HZ // 1000 - 1, \
        f"sleep {ms}: {slept} us by the timer, {n} ticks"
    assert wall < 3.0, f"{ms} ms of guest sleep took {wall:.1f} s of wall time: polling?"
    # Every wake-up is an interrupt: the ticks plus the final timer, not a spinning loop.
    assert wakeups <= n + 2, f"{wakeups} wakeups for {n} ticks in {ms} ms"


@pytest.mark.points(1)
@pytest.mark.parametrize("hz", [10, 250, 1000])
def test_tick_rate_matches(kernel, rng, hz):
    assert kernel.cmd(f"tick {hz}") == f"tick rate {hz} Hz (every {1_000_000 // hz} us)"
    assert ticks(kernel)[0] == hz
    ms = rng.randrange(300, 2000)
    slept, n, _ = sleep(kernel, ms)
    assert slept >= ms * 1000, f"sleep {ms} returned after {slept} us"
    expected = slept * hz / 1_000_000
    assert abs(n - expected) <= 1, f"{n} ticks in {slept} us at {hz} Hz, expected {expected:.1f}"
    assert ticks(kernel)[2] == 0, "no tick may be missed while the kernel sleeps"


@pytest.mark.points(1)
def test_uptime_is_monotonic_and_counts_ticks(kernel, rng):
    ms = rng.randrange(50, 500)
    before = uptime_us(kernel)[0]
    slept, _, _ = sleep(kernel, ms)
    readings = [uptime_us(kernel) for _ in range(5)]
    assert readings[0][0] - before >= slept >= ms * 1000, \
        f"uptime went from {before} to {readings[0][0]} us over a {ms} ms sleep"
    assert readings[0][1] >= ms * TICK_HZ // 1000, f"{readings[0][1]} ticks after {ms} ms"
    times = [r[0] for r in readings]
    assert times == sorted(times) and len(set(times)) == len(times)
    for us, n, hz in readings:
        assert abs(n - us * hz // 1_000_000) <= 1, f"{n} ticks after {us} us at {hz} Hz"


@pytest.mark.points(2)
def test_periodic_callbacks_do_not_drift(kernel, rng):
    ms, count = rng.randrange(1, 40), rng.randrange(5, 33)
    out = kernel.cmd(f"timers {ms} {count}", timeout=10)
    firings = re.findall(r"^firing (\d+): due \+(\d+) us, ran \+(\d+) us \(late (\d+) us\)$",
                         out, re.M)
    assert len(firings) == count, out
    for i, (n, due, ran, late) in enumerate(firings, start=1):
        assert int(n) == i
        assert int(due) == i * ms * 1000, f"firing {i} due at +{due} us, not +{i * ms * 1000}"
        assert int(ran) - int(due) == int(late) and int(late) < 500, f"firing {i} late {late} us"


@pytest.mark.points(1)
@pytest.mark.given
def test_bad_arguments_are_refused(kernel, rng):
    assert kernel.cmd("tick 0") == "usage: tick HZ   (1 to 10000)"
    assert kernel.cmd(f"tick {rng.randrange(10001, 10**6)}") == "usage: tick HZ   (1 to 10000)"
    assert kernel.cmd("sleep soon") == "usage: sleep MS   (at most 3600000)"
    assert kernel.cmd("timers 0 3").startswith("usage: timers")
    assert kernel.cmd("timers 5 99").startswith("usage: timers")
    assert ticks(kernel)[0] == TICK_HZ, "a refused rate leaves the tick as it was"


@pytest.mark.points(1)
def test_sleep_longer_than_the_32_bit_compare(kernel):
    """The compare registers match the low 32 bits of the counter: a deadline more
    than 2^31 us ahead cannot be armed directly (it would look passed). 2500 s of
    guest time, at a 1 Hz tick: no wall time under -icount sleep=off."""
    assert kernel.cmd("tick 1") == "tick rate 1 Hz (every 1000000 us)"
    slept, n, _ = sleep(kernel, 2_500_000, timeout=10)
    assert 2_500_000_000 <= slept <= 2_500_000_000 + 100
    assert abs(n - 2500) <= 1


@pytest.mark.points(2)
def test_ticks_missed_with_interrupts_off_are_counted_and_the_tick_goes_on(kernel, rng):
    """`cli MS` holds interrupts off for several tick periods. The late tick must
    count what it missed and arm a deadline still ahead: arming the one that has
    passed would stop the tick for 71 minutes (and the sleep after it would see
    no ticks at all)."""
    ms = rng.randrange(25, 36)          # 2.5-3.5 periods (one tick counted for 20 ms
                                        # passed a broken re-arm); a polling guest is slow
    m = re.fullmatch(r"interrupts off for (\d+) ms: (\d+) ticks, (\d+) missed",
                     kernel.cmd(f"cli {ms}", timeout=10))
    assert m and int(m[1]) == ms
    n, missed = int(m[2]), int(m[3])
    assert abs(n - ms * TICK_HZ / 1000) <= 1, f"{n} ticks in {ms} ms at {TICK_HZ} Hz"
    assert missed == n - 1, "all but the one late tick were missed, and counted"
    _, ticks, _ = sleep(kernel, 100)
    assert abs(ticks - 100 * TICK_HZ // 1000) <= 1, "the tick must go on afterwards"


@pytest.mark.points(2)
def test_uptime_and_sleep_go_past_the_32_bit_wrap(kernel, rng):
    """CLO wraps after 2^32 us (71.6 minutes): two hour-long sleeps at a 1 Hz tick
    take the guest past it (no wall time under -icount sleep=off). The 64-bit time
    keeps counting, and a sleep across the wrap lasts exactly as long."""
    assert kernel.cmd("tick 1") == "tick rate 1 Hz (every 1000000 us)"
    ms = rng.randrange(3_000_000, 3_600_001)
    for _ in range(2):
        slept, n, _ = sleep(kernel, ms, timeout=15)
        assert ms * 1000 <= slept <= ms * 1000 + 100, f"sleep {ms} took {slept} us"
        assert abs(n - slept // 1_000_000) <= 1, f"{n} ticks in {slept} us at 1 Hz"
    now = uptime_us(kernel)[0]
    assert now >= 2 * ms * 1000 > 1 << 32, f"uptime {now} us after two {ms} ms sleeps"
