"""Hidden tests, lesson 04: interrupts, from other angles than the public tests.

The public tests send one burst during one `busy`, count UART interrupts over five
lines, and run `irqtest` once. These are hidden so that a kernel tuned to the
visible tests still has to be right:

- `irqtest` a random number of times, between lines of input: every unhandled
  interrupt is counted once in its slot and in `unhandled`, the source is left
  disabled each time, nothing is spurious, and the UART goes on being counted;
- commands typed ahead as one burst that holds two `busy` commands: at the end of
  each spell the ring buffer holds exactly the bytes the shell has not read yet;
- a burst longer than the ring buffer while the kernel is busy: the buffer is
  full (4096 bytes), the rest is counted as dropped, and the shell then runs the
  4096 bytes it kept, in order.
"""

import re
import string

import pytest

from test_04_irq import irq_table               # the public helper

LESSON = 4

RINGBUF_SIZE = 4096
IRQ_UART0, IRQ_MAILBOX = 57, 65
CHARS = string.ascii_letters + string.digits + "-_.,:"
BUSY_RE = r"busy (\d+) ms: received (\d+) bytes meanwhile, (\d+) buffered, (\d+) dropped\r\n"


def random_text(rng, lo, hi):
    return "".join(rng.choice(CHARS) for _ in range(rng.randrange(lo, hi)))


@pytest.mark.points(2)
def test_repeated_unhandled_interrupts_between_input(kernel, rng):
    rows, (spurious, unhandled) = irq_table(kernel)
    assert rows.get(IRQ_UART0, (0, "", ""))[1:] == ("enabled", "yes"), \
        f"UART0 ({IRQ_UART0}) must be enabled with a handler, irqs shows {rows.get(IRQ_UART0)}"
    base = rows.get(IRQ_MAILBOX, (0,))[0]
    uart = rows[IRQ_UART0][0]
    times = rng.randrange(2, 6)
    for i in range(1, times + 1):
        word = random_text(rng, 4, 30)
        assert kernel.cmd(f"echo {word}") == word
        out = kernel.cmd("irqtest")
        expected = f"unhandled interrupt from source {IRQ_MAILBOX}: counted and disabled (ok)"
        assert out == expected, f"irqtest #{i}: expected {expected!r}, got {out!r}"
        rows, (sp, un) = irq_table(kernel)
        assert un == unhandled + i, \
            f"after {i} irqtests 'unhandled' is {un}, expected {unhandled + i}"
        assert rows.get(IRQ_MAILBOX) == (base + i, "disabled", "none"), \
            (f"after {i} irqtests source {IRQ_MAILBOX} should read count {base + i}, disabled, "
             f"no handler; irqs shows {rows.get(IRQ_MAILBOX)}")
        assert sp == spurious, f"spurious went from {spurious} to {sp}: QEMU never raises one"
        assert rows[IRQ_UART0][1:] == ("enabled", "yes")
        assert rows[IRQ_UART0][0] > uart, \
            f"typing lines raised no UART interrupt (count stayed {uart})"
        uart = rows[IRQ_UART0][0]


@pytest.mark.points(2)
def test_typed_ahead_across_two_busy_spells(kernel, rng):
    """One burst: busy A, some echo lines, busy B, more echo lines. At the end of
    busy A everything after its line waits in the buffer; at the end of busy B,
    exactly the lines after it."""
    a, b = rng.randrange(10, 25), rng.randrange(2, 10)
    first = [random_text(rng, 5, 60) for _ in range(rng.randrange(2, 6))]
    second = [random_text(rng, 5, 60) for _ in range(rng.randrange(2, 6))]
    rest_b = "".join(f"echo {t}\r" for t in second)
    rest_a = "".join(f"echo {t}\r" for t in first) + f"busy {b}\r" + rest_b
    kernel.send(f"busy {a}\r" + rest_a)
    kernel.expect_exact(f"busy {a}\r\n", what=f"the echo of 'busy {a}'")
    m = kernel.expect(BUSY_RE, timeout=10, what=f"the report of busy {a}")
    assert int(m[4]) == 0, f"busy {a}: {m[4]} bytes dropped"
    assert int(m[3]) == len(rest_a), \
        (f"at the end of busy {a}, the {len(rest_a)} bytes typed after its line should "
         f"wait in the buffer; it holds {m[3]}")
    for t in first:
        kernel.expect_exact(f"> echo {t}\r\n{t}\r\n", what="a line typed ahead, run in order")
    kernel.expect_exact(f"> busy {b}\r\n", what=f"the typed-ahead 'busy {b}'")
    m = kernel.expect(BUSY_RE, timeout=10, what=f"the report of busy {b}")
    assert int(m[3]) == len(rest_b) and int(m[4]) == 0, \
        (f"at the end of busy {b}, exactly the {len(rest_b)} bytes after its line should "
         f"wait in the buffer, none dropped; got {m[3]} buffered, {m[4]} dropped")
    for t in second:
        kernel.expect_exact(f"> echo {t}\r\n{t}\r\n", what="a line typed ahead, run in order")
    kernel.expect_prompt()


def overflowing_burst(rng, total):
    """echo lines adding up to `total` bytes or a little more, arranged so that byte
    RINGBUF_SIZE falls inside the text of a line (past its 'echo ' and one more
    character). Returns (data, the kept part's complete lines, the cut line's text)."""
    lines = []
    while True:
        lines.append(random_text(rng, 20, 200))
        data = "".join(f"echo {t}\r" for t in lines)
        if len(data) > RINGBUF_SIZE:
            break
    start = len(data) - len(lines[-1]) - 6          # where the crossing line begins
    if RINGBUF_SIZE - start < 6:                    # cut inside 'echo ': lengthen one line
        lines[-2] += random_text(rng, 6, 7)
    while len("".join(f"echo {t}\r" for t in lines)) < total:
        lines.append(random_text(rng, 20, 200))
    data = "".join(f"echo {t}\r" for t in lines)
    kept = data[:RINGBUF_SIZE].split("\r")
    assert kept[-1].startswith("echo ") and len(kept[-1]) > 5
    return data, kept[:-1], kept[-1][5:]


@pytest.mark.points(2)
def test_burst_longer_than_the_buffer_keeps_4096_and_counts_the_rest(kernel, rng):
    data, complete, cut = overflowing_burst(rng, rng.randrange(4400, 4900))
    ms = 45         # the public burst test's rate: about 100 bytes per busy ms
    kernel.send(f"busy {ms}\r")
    kernel.expect_exact(f"busy {ms}\r\n", what="the busy command to start")
    kernel.send(data)
    m = kernel.expect(BUSY_RE, timeout=10, what=f"the report of busy {ms}")
    buffered, dropped = int(m[3]), int(m[4])
    assert (buffered, dropped) == (RINGBUF_SIZE, len(data) - RINGBUF_SIZE), \
        (f"{len(data)} bytes sent during busy: expected the buffer full ({RINGBUF_SIZE}) and "
         f"{len(data) - RINGBUF_SIZE} dropped, got {buffered} buffered, {dropped} dropped")
    for line in complete:
        kernel.expect_exact(f"> {line}\r\n{line[5:]}\r\n", timeout=10,
                            what="a kept line of the burst, run in order")
    # the last kept line was cut at byte 4096: its Enter was dropped, so end it now
    kernel.expect_exact(f"> echo {cut}", what="the cut line, waiting for its Enter")
    kernel.send("\r")
    kernel.expect_exact(f"\r\n{cut}\r\n> ", what="the cut line run when Enter comes")
    word = random_text(rng, 5, 20)
    assert kernel.cmd(f"echo {word}") == word
    m = re.fullmatch(BUSY_RE.replace(r"\r\n", ""), kernel.cmd("busy 1"))
    assert m and int(m[3]) == 0 and int(m[4]) == len(data) - RINGBUF_SIZE, \
        f"busy 1 afterwards: expected 0 buffered and {len(data) - RINGBUF_SIZE} dropped since boot"
