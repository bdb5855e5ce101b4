"""Hidden tests, lesson 02: the UART driver as the hardware sees it, and line editing
at the edges of a line.

The public tests check what the kernel prints. These are hidden so that a kernel
tuned to the visible tests still has to be right:

- the GPIO function registers, read by QEMU's monitor (the README says no QEMU test
  can see them; the monitor can): pins 14 and 15 in ALT0 after boot, and every other
  pin's function as it was when the machine started;
- the pull sequence, seen in QEMU's trace of device writes (QEMU keeps no pull
  state to read back): for each UART pin GPPUD set to "off", the pin's bit clocked
  into GPPUDCLK0, then the clock removed; no other pin clocked;
- the PL011's own registers hold the divisor the boot report announces, 8-bit words
  with FIFOs, and UART, TX and RX enabled;
- line editing over the whole line: spaces before the command word and after it, a
  typo erased inside the command word, backspaces past the start of the line, and a
  line that overflowed and was then backspaced below the limit (still refused).
"""

import re
import string

import pytest

LESSON = 2

LINE_MAX = 255
GPFSEL0 = 0x20200000                # GPFSEL0..5, 10 pins each, 3 bits per pin
UART0 = 0x20201000
IBRD, FBRD, LCRH, CR = 0x24, 0x28, 0x2C, 0x30
LCRH_FEN, LCRH_WLEN_8, LCRH_PEN, LCRH_STP2, LCRH_BRK = 1 << 4, 3 << 5, 1 << 1, 1 << 3, 1 << 0
CR_UARTEN, CR_TXE, CR_RXE = 1 << 0, 1 << 8, 1 << 9
ALT0 = 4                            # GPFSEL function code of ALT0
GPPUD, GPPUDCLK0, GPPUDCLK1 = 0x94, 0x98, 0x9C
GPIO_PUD_OFF = 0
REG_NAMES = {GPPUD: "GPPUD", GPPUDCLK0: "GPPUDCLK0", GPPUDCLK1: "GPPUDCLK1"}
UART_PINS = (14, 15)                # TXD0, RXD0


def random_word(rng, n):
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))


def random_text(rng, n):
    first = rng.choice(string.ascii_letters + string.digits)
    return first + "".join(rng.choice(string.ascii_letters + string.digits + "-_.,:")
                           for _ in range(n - 1))


def fsel_words(monitor):
    return [monitor.read_phys_word(GPFSEL0 + 4 * i) for i in range(6)]


@pytest.mark.points(1)
def test_uart_pins_are_alt0_and_no_other_pin_changes(boot, lesson, rng):
    """QEMU starts paused (-S): the monitor reads GPFSEL0-5 before the kernel's first
    instruction and again at the prompt. The fields of pins 14 and 15 must now be
    ALT0; every other pin's 3-bit field must be as it was."""
    k = boot(monitor=True, extra=["-S"])
    before = fsel_words(k.monitor)
    k.monitor.command("cont")
    name, _ = k.read_boot()
    assert name == lesson.name
    after = fsel_words(k.monitor)
    for pin in range(54):
        reg, shift = pin // 10, 3 * (pin % 10)
        was, now = (before[reg] >> shift) & 7, (after[reg] >> shift) & 7
        if pin in UART_PINS:
            assert now == ALT0, (f"GPIO {pin}: function {now} in GPFSEL{reg} "
                                 f"(0x{after[reg]:08x}), expected ALT0 ({ALT0})")
        else:
            assert now == was, (f"GPIO {pin}: function changed from {was} to {now} "
                                f"(GPFSEL{reg} 0x{before[reg]:08x} -> 0x{after[reg]:08x}); only "
                                f"pins 14 and 15 may change")
    word = random_word(rng, 8)
    assert k.cmd("echo " + word) == word, "the UART must work on those pins"


@pytest.mark.points(1)
def test_uart_pins_pulls_are_switched_off_by_the_clocked_sequence(boot, lesson, rng):
    """QEMU does not keep GPPUD/GPPUDCLK (reads give 0), but its trace of device
    writes shows them. For each UART pin, in order: GPPUD <- off (0), its bit alone
    in GPPUDCLK0, then GPPUDCLK0 <- 0; and no pin but 14 and 15 is ever clocked."""
    k = boot(extra=["-trace", "memory_region_ops_write"])
    name, _ = k.read_boot()
    assert name == lesson.name
    word = random_word(rng, 8)
    assert k.cmd("echo " + word) == word
    writes = [(int(m[1], 16), int(m[2], 16)) for m in re.finditer(
        r"memory_region_ops_write .*? addr 0x([0-9a-f]+) value 0x([0-9a-f]+) size \d+ "
        r"name 'bcm2835_gpio'", k.stderr_path.read_text(errors="replace"))]
    pulls = [(a - GPFSEL0, v) for a, v in writes if a - GPFSEL0 in (GPPUD, GPPUDCLK0, GPPUDCLK1)]
    assert pulls, "no write to GPPUD or GPPUDCLK0/1 at all: the pulls were never set"
    shown = ", ".join(f"{REG_NAMES[r]}=0x{v:x}" for r, v in pulls)
    for pin in UART_PINS:
        clocks = [i for i, (r, v) in enumerate(pulls) if r == GPPUDCLK0 and v == 1 << pin]
        assert clocks, \
            f"GPIO {pin}'s bit (0x{1 << pin:x}) never written alone to GPPUDCLK0: {shown}"
        i = clocks[0]
        before = [v for r, v in pulls[:i] if r == GPPUD]
        assert before and before[-1] == GPIO_PUD_OFF, \
            f"GPIO {pin}: GPPUD must hold 'off' (0), written before its clock: {shown}"
        after = [v for r, v in pulls[i + 1:] if r == GPPUDCLK0]
        assert after and after[0] == 0, \
            f"GPIO {pin}: GPPUDCLK0 must be cleared after its clock: {shown}"
    clocked = 0
    for r, v in pulls:
        if r in (GPPUDCLK0, GPPUDCLK1):
            clocked |= v << (32 if r == GPPUDCLK1 else 0)
    assert clocked == (1 << 14) | (1 << 15), \
        f"only GPIO 14 and 15 may be clocked, pins {bin(clocked)} were: {shown}"
    last = {r: v for r, v in pulls}
    assert all(v == 0 for v in last.values()), f"GPPUD/GPPUDCLK must end at 0: {shown}"


@pytest.mark.points(1)
def test_uart_registers_hold_the_reported_divisor(boot, lesson, rng):
    k = boot(monitor=True)
    name, text = k.read_boot()
    assert name == lesson.name
    m = re.search(r"^uart: (\d+) baud, clock (\d+) Hz \((from firmware|fallback)\), "
                  r"IBRD (\d+) FBRD (\d+)$", text, re.M)
    assert m, f"no 'uart: ...' line in the boot report:\n{text}"
    baud, clock, source, ibrd, fbrd = int(m[1]), int(m[2]), m[3], int(m[4]), int(m[5])
    assert source == "from firmware", \
        f"the UART clock must come from the mailbox (QEMU answers it), got '{source}'"
    div64 = (4 * clock + baud // 2) // baud
    regs = {r: k.monitor.read_phys_word(UART0 + r) for r in (IBRD, FBRD, LCRH, CR)}
    assert (regs[IBRD], regs[FBRD]) == (div64 >> 6, div64 & 63) == (ibrd, fbrd), \
        (f"{baud} baud from {clock} Hz needs IBRD {div64 >> 6} FBRD {div64 & 63}; the boot "
         f"report says IBRD {ibrd} FBRD {fbrd}, the UART holds IBRD {regs[IBRD]} "
         f"FBRD {regs[FBRD]}")
    lcrh = regs[LCRH]
    assert lcrh & (LCRH_WLEN_8 | LCRH_FEN) == LCRH_WLEN_8 | LCRH_FEN, \
        f"UART0_LCRH 0x{lcrh:02x}: expected 8-bit words (WLEN 0b11) and FIFOs on (FEN)"
    assert not lcrh & (LCRH_PEN | LCRH_STP2 | LCRH_BRK), \
        f"UART0_LCRH 0x{lcrh:02x}: 8N1 has no parity, one stop bit, no break"
    cr = regs[CR]
    assert cr & (CR_UARTEN | CR_TXE | CR_RXE) == CR_UARTEN | CR_TXE | CR_RXE, \
        f"UART0_CR 0x{cr:04x}: expected UARTEN, TXE and RXE set"
    word = random_word(rng, 10)
    assert k.cmd("echo " + word) == word


@pytest.mark.points(2)
def test_editing_across_the_whole_line(kernel, rng):
    # 1. Spaces before the command word, a typo erased inside it, several spaces
    # after it: echo prints its text from the second of those spaces on.
    def bs():
        return rng.choice(["\b", "\x7f"])     # BS or DEL, as terminals send either

    lead = " " * rng.randrange(1, 4)
    gap = " " * rng.randrange(2, 5)
    words = [random_word(rng, rng.randrange(2, 7)) for _ in range(rng.randrange(2, 5))]
    text = "".join(w + " " * rng.randrange(1, 4) for w in words[:-1]) + words[-1]
    cut = rng.randrange(1, 4)
    wrong = rng.choice("0123456789")
    typed = lead + "echo"[:cut] + wrong + bs() + "echo"[cut:] + gap + text
    shown = lead + "echo"[:cut] + wrong + "\b \b" + "echo"[cut:] + gap + text
    kernel.send(typed + "\r")
    kernel.expect_exact(shown + "\r\n", what="the edited line echoed with '\\b \\b'")
    kernel.expect_exact(gap[1:] + text + "\r\n> ",
                        what=f"echo to print {gap[1:] + text!r} (its text after one space)")

    # 2. A word erased with more backspaces than it has characters: the extra ones
    # send nothing, and the line typed after them works.
    junk = random_word(rng, rng.randrange(3, 9))
    extra = rng.randrange(1, 5)
    word = random_word(rng, 9)
    kernel.send(junk + "".join(bs() for _ in range(len(junk) + extra)) + "echo " + word + "\r")
    kernel.expect_exact(junk + "\b \b" * len(junk) + f"echo {word}\r\n{word}\r\n> ",
                        what=f"{len(junk)} erasures echoed, {extra} more ignored, then the echo")

    # 3. A line that went past 255 characters stays refused even when backspaced
    # below the limit: one character over, then many.
    for over in (1, rng.randrange(2, 40)):
        line = "echo " + random_text(rng, LINE_MAX + over - 5)
        back = over + rng.randrange(1, 6)
        kernel.send(line + "".join(bs() for _ in range(back)) + "\r")
        kernel.expect_exact(line[:LINE_MAX] + "\r\n"
                            f"error: line too long (max {LINE_MAX} characters)\r\n> ",
                            what=f"a {len(line)}-character line, then {back} backspaces: "
                                 f"the first {LINE_MAX} echoed, nothing more, and refused")
    word = random_word(rng, 7)
    assert kernel.cmd("echo " + word) == word, "the shell must go on"
