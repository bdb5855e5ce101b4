"""Hidden tests, lesson 05: the tick and the software timers at rates and lengths
the public tests do not use.

The public tests run the tick at 10, 100, 250 and 1000 Hz, hold interrupts off at
100 Hz only, and sleep past the 32-bit compare once, for 2500 s at 1 Hz. These are
hidden so that a kernel tuned to the visible tests still has to be right:

- `sleep 0` (a timer already due when it is started: run_expired() must run it at
  once rather than arm a compare that has gone by) and short sleeps, at a random
  tick rate;
- missed ticks at a random rate: `cli` over several periods, every tick but the
  late one counted as missed, and the tick going on at that rate afterwards;
- a random sleep of 2500-3600 s (past 2^31 us) at a random slow tick, then a
  periodic timer whose 32 firings straddle the 32-bit wrap of the counter's low
  word (2^32 us): the 64-bit time and deadlines keep every firing on its grid.

Intervals are measured inside one command, as the public tests do (between
commands the guest's clock races ahead under -icount sleep=off).
"""

import re

import pytest

from test_05_timer import sleep, ticks          # the public helpers

LESSON = 5

PUBLIC_RATES = {10, 100, 250, 1000}
WRAP_US = 1 << 32                   # CLO, the counter's low word, wraps here


def period(hz):
    """The tick period in us: 10^6 / hz rounded down (README, `tick HZ`), so at a rate
    that does not divide 10^6 the ticks come a little faster than hz."""
    return 1_000_000 // hz


def set_rate(kernel, hz):
    out = kernel.cmd(f"tick {hz}")
    assert out == f"tick rate {hz} Hz (every {period(hz)} us)", f"tick {hz}: {out!r}"


def random_rate(rng, lo, hi):
    while True:
        hz = rng.randrange(lo, hi)
        if hz not in PUBLIC_RATES:
            return hz


@pytest.mark.points(2)
def test_sleep_zero_and_short_sleeps_at_a_random_rate(kernel, rng):
    hz = random_rate(rng, 2, 5000)
    set_rate(kernel, hz)
    slept, n, wakeups = sleep(kernel, 0)
    assert slept <= 100 and n <= 1 and wakeups <= 1, \
        (f"sleep 0 must return at once (the timer is due when started), took {slept} us, "
         f"{n} ticks, {wakeups} wakeups")
    for ms in sorted(rng.sample(range(1, 400), 4)):
        slept, n, _ = sleep(kernel, ms)
        assert ms * 1000 <= slept <= ms * 1000 + 100, f"sleep {ms} at {hz} Hz took {slept} us"
        expected = slept / period(hz)
        assert abs(n - expected) <= 1, \
            (f"{n} ticks in {slept} us at {hz} Hz (every {period(hz)} us), "
             f"expected {expected:.1f} (+-1)")
    rate, _, missed = ticks(kernel)
    assert rate == hz and missed == 0, \
        f"ticks: rate {rate} (set {hz}), {missed} missed (expected 0)"


@pytest.mark.points(2)
def test_missed_ticks_at_a_random_rate(kernel, rng):
    hz = random_rate(rng, 150, 1500)
    set_rate(kernel, hz)
    lo = -(-3000 // hz)                          # at least 3 periods
    ms = rng.randrange(lo, max(lo + 1, min(25, lo + 15)))
    out = kernel.cmd(f"cli {ms}", timeout=10)
    m = re.fullmatch(r"interrupts off for (\d+) ms: (\d+) ticks, (\d+) missed", out)
    assert m and int(m[1]) == ms, f"cli {ms}: {out!r}"
    n, missed = int(m[2]), int(m[3])
    expected = ms * 1000 / period(hz)
    assert abs(n - expected) <= 1, \
        f"cli {ms} at {hz} Hz (every {period(hz)} us): {n} ticks, expected {expected:.1f} (+-1)"
    assert missed == n - 1, \
        (f"cli {ms} at {hz} Hz: {n} ticks, so {n - 1} missed (all but the late one); "
         f"the kernel says {missed}")
    rate, _, total_missed = ticks(kernel)
    assert rate == hz and total_missed == missed, \
        f"ticks: rate {rate} (set {hz}), {total_missed} missed since boot, expected {missed}"
    ms = rng.randrange(50, 300)
    slept, n, _ = sleep(kernel, ms)
    expected = slept / period(hz)
    assert abs(n - expected) <= 1, \
        (f"after cli the tick must go on at {hz} Hz: {n} ticks in {slept} us, "
         f"expected {expected:.1f}")


def uptime_us(kernel):
    out = kernel.cmd("uptime")
    m = re.fullmatch(r"uptime (\d+)\.(\d{6}) s \((\d+) ticks at (\d+) Hz\)", out)
    assert m, f"expected 'uptime S.UUUUUU s (N ticks at H Hz)', got {out!r}"
    return int(m[1]) * 1_000_000 + int(m[2])


@pytest.mark.points(2)
def test_long_sleep_then_periodic_timers_across_the_32_bit_wrap(kernel, rng):
    """At a slow random tick: a sleep of 2500-3600 s (past 2^31 us, so it needs an
    intermediate compare), then a periodic timer of 32 firings whose grid starts
    before the counter's low word wraps (2^32 us, 71.6 min) and ends after it:
    every firing due exactly on the grid, on time. The three commands go as one
    burst right after boot, so that no idle time (during which the guest clock
    races ahead) comes between them."""
    hz = rng.randrange(1, 6)
    ms = rng.randrange(2_500_000, 3_600_001)
    count = 32
    lo = max(1000, -(-(WRAP_US + 100_000_000 - ms * 1000) // (count * 1000)))
    every = rng.randrange(lo, 60001)        # the grid ends >= 100 s past the wrap
    kernel.send(f"tick {hz}\rsleep {ms}\rtimers {every} {count}\r")
    kernel.expect_exact(f"tick {hz}\r\ntick rate {hz} Hz (every {period(hz)} us)\r\n> ",
                        what=f"the answer to tick {hz}")
    kernel.expect_exact(f"sleep {ms}\r\n", what=f"the echo of sleep {ms}")
    m = kernel.expect(r"slept (\d+) ms: (\d+) us by the timer, (\d+) ticks, (\d+) wakeups\r\n> ",
                      timeout=15, guest=ms / 1000 + 15, what=f"the end of sleep {ms}")
    slept, n = int(m[2]), int(m[3])
    assert int(m[1]) == ms and ms * 1000 <= slept <= ms * 1000 + 100, \
        f"sleep {ms} took {slept} us"
    expected = slept / period(hz)
    assert abs(n - expected) <= 1, f"{n} ticks in {slept} us at {hz} Hz, expected {expected:.1f}"
    kernel.expect_exact(f"timers {every} {count}\r\n", what=f"the echo of timers {every} {count}")
    kernel.expect(r"(^|\r\n)> ", timeout=10, guest=every * count / 1000 + 10,
                  what=f"the end of timers {every} {count}")
    out = kernel.before
    m = re.search(r"^started at (\d+) us$", out, re.M)
    assert m, f"timers {every} {count}: no 'started at N us' line:\n{out}"
    start = int(m[1])
    assert start >= slept, f"timers started at {start} us, before the {slept} us slept"
    assert start < WRAP_US < start + count * every * 1000, \
        f"timers {every} {count} started at {start} us: its grid does not cross 2^32 us"
    firings = re.findall(r"^firing (\d+): due \+(\d+) us, ran \+(\d+) us \(late (\d+) us\)$",
                         out, re.M)
    assert len(firings) == count, f"timers {every} {count}: {len(firings)} firings:\n{out}"
    for i, (k, due, ran, late) in enumerate(firings, start=1):
        assert int(k) == i, f"firing {k} listed as number {i}"
        assert int(due) == i * every * 1000, \
            f"timers {every}: firing {i} due at +{due} us, expected +{i * every * 1000}"
        assert int(ran) - int(due) == int(late) and int(late) < 500, \
            f"timers {every}: firing {i} due +{due}, ran +{ran}, late {late} us"
    after = uptime_us(kernel)
    assert after >= start + count * every * 1000, \
        f"uptime {after} us after timers that ended at {start + count * every * 1000} us"
