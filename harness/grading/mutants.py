"""Broken copies of the reference lessons, kept to prove the tests catch real bugs.

Each mutant makes one small, plausible student mistake in one lesson's reference
code: `find` must occur exactly once in `file`, and is replaced by `replace`. Graded
with its lesson's tests, the mutant must lose points on every test named in
`catches` (harness/test_grading.py checks this for all of them).

These are reference code: the starter generator never hands this file out.
"""

from collections import namedtuple

Mutant = namedtuple("Mutant", "name lesson file find replace catches why")

MUTANTS = [
    Mutant("tick-drifts", "05-timer", "timer.c",
           find="    tick_deadline += tick_period_us;\n    while",
           replace="    tick_deadline = timer_now_us() + tick_period_us;\n    while",
           catches=["test_05_timer.py::test_periodic_callbacks_do_not_drift"],
           why="the next tick counted from now, not from the last deadline: ticks drift"),
]
