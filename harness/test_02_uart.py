"""Lesson 02: the shell over the PL011 UART. Every check sends text the test made up
and checks what comes back."""

import re
import string

import pytest

LESSON = 2

LINE_MAX = 255          # characters in a line (the README's contract)
PRINTABLE = string.ascii_letters + string.digits + string.punctuation + " "


def random_text(rng, n):
    """Printable text that does not start with a space (echo's argument starts after
    the one space that ends the command word)."""
    first = rng.choice(string.ascii_letters + string.digits + string.punctuation)
    return first + "".join(rng.choice(PRINTABLE) for _ in range(n - 1))


def random_word(rng, n):
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))


@pytest.mark.points(2)
def test_echo_random_text(kernel, rng):
    for _ in range(8):
        text = random_text(rng, rng.randrange(1, 200))
        assert kernel.cmd("echo " + text) == text


@pytest.mark.points(1)
def test_echo_keeps_spaces_exactly(kernel, rng):
    text = "  ".join(random_word(rng, 5) for _ in range(3)) + "   " + random_word(rng, 4)
    assert kernel.cmd("echo " + text) == text


@pytest.mark.points(1)
def test_boot_reports_uart_divisor(kernel):
    m = re.search(r"^uart: 115200 baud, clock (\d+) Hz \((from firmware|fallback)\), "
                  r"IBRD (\d+) FBRD (\d+)$", kernel.boot_text, re.M)
    assert m, "no 'uart: 115200 baud, clock N Hz (...), IBRD I FBRD F' line at boot"
    clock, source, ibrd, fbrd = int(m[1]), m[2], int(m[3]), int(m[4])
    assert source == "from firmware" and clock == 3_000_000, \
        "QEMU's mailbox answers 3 MHz for the UART clock (docs/qemu.md)"
    div64 = round(clock * 64 / (16 * 115200))
    assert (ibrd, fbrd) == (div64 >> 6, div64 & 63), "baud divisor miscomputed"


@pytest.mark.points(1)
@pytest.mark.parametrize("ending", ["\r", "\n", "\r\n"], ids=["CR", "LF", "CRLF"])
def test_line_endings(kernel, rng, ending):
    """A burst of lines, each ended the same way: one command per line and no empty
    extra commands (the LF of CR LF must not end a second line)."""
    words = [random_word(rng, rng.randrange(3, 12)) for _ in range(5)]
    kernel.send("".join(f"echo {w}{ending}" for w in words))
    expected = "".join(f"echo {w}\r\n{w}\r\n> " for w in words)
    kernel.expect_exact(expected, what="each line echoed, answered and prompted once")
    kernel.send("echo end\r")
    assert kernel.expect(r"echo end\r\nend\r\n> ")
    assert kernel.before == "", "extra output (an empty line taken as a command?)"


@pytest.mark.points(1)
def test_mixed_line_endings(kernel, rng):
    a, b, c = (random_word(rng, 6) for _ in range(3))
    kernel.send(f"echo {a}\r\necho {b}\recho {c}\n")
    kernel.expect_exact(f"echo {a}\r\n{a}\r\n> echo {b}\r\n{b}\r\n> echo {c}\r\n{c}\r\n> ")


@pytest.mark.points(1)
@pytest.mark.parametrize("key", ["\b", "\x7f"], ids=["BS", "DEL"])
def test_backspace_edits_the_line(kernel, rng, key):
    target = random_word(rng, 12)
    typed, echo = "echo ", "echo "
    for ch in target:
        if rng.random() < 0.3:          # a typo, then erased
            wrong = rng.choice("0123456789")
            typed += wrong + key
            echo += wrong + "\b \b"
        typed += ch
        echo += ch
    kernel.send(typed + "\r")
    kernel.expect_exact(echo + "\r\n", what="the edited line echoed with '\\b \\b'")
    kernel.expect_exact(f"{target}\r\n> ", what=f"echo to print {target!r}")


@pytest.mark.points(1)
def test_backspace_at_line_start_does_nothing(kernel, rng):
    word = random_word(rng, 8)
    kernel.send("\x7f\b\x7fecho " + word + "\r")
    kernel.expect_exact(f"echo {word}\r\n{word}\r\n> ")
    assert "\b" not in kernel.before


@pytest.mark.points(1)
def test_longest_line_is_accepted(kernel, rng):
    text = random_text(rng, LINE_MAX - len("echo "))
    assert kernel.cmd("echo " + text) == text


@pytest.mark.points(1)
def test_too_long_line_is_refused_and_shell_goes_on(kernel, rng):
    for n in (LINE_MAX + 1, rng.randrange(LINE_MAX + 2, 4 * LINE_MAX)):
        kernel.send("echo " + random_text(rng, n - 5) + "\r")
        kernel.expect_exact(f"error: line too long (max {LINE_MAX} characters)\r\n> ")
    word = random_word(rng, 10)
    assert kernel.cmd("echo " + word) == word


@pytest.mark.points(1)
def test_unknown_command(kernel, rng):
    for _ in range(3):
        name = "x" + random_word(rng, rng.randrange(3, 15))
        out = kernel.cmd(f"{name} {random_word(rng, 4)}")
        assert out == f"error: unknown command '{name}' (type 'help' for the list)"
    word = random_word(rng, 6)
    assert kernel.cmd("echo " + word) == word


@pytest.mark.points(1)
def test_empty_and_blank_lines_just_prompt(kernel, rng):
    kernel.send("\r   \r")
    kernel.expect_exact("\r\n> " + "   \r\n> ")
    word = random_word(rng, 7)
    assert kernel.cmd("echo " + word) == word


@pytest.mark.points(1)
def test_control_characters_and_arrow_keys_are_ignored(kernel, rng):
    word = random_word(rng, 6)
    keys = ["\x1b[A", "\x1b[D", "\x1bOP", "\x1b[15~", "\x01", "\t"]
    typed = "ec" + rng.choice(keys) + "ho " + word[:3] + rng.choice(keys) + word[3:]
    kernel.send(typed + "\r")
    kernel.expect_exact(f"echo {word}\r\n{word}\r\n> ")


@pytest.mark.points(1)
def test_echo_of_many_words(kernel, rng):
    text = " ".join(random_word(rng, rng.randrange(1, 4)) for _ in range(40))
    assert kernel.cmd("echo " + text) == text


@pytest.mark.points(1)
def test_help_lists_the_commands(kernel):
    out = kernel.cmd("help")
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    for cmd in ("echo", "halt", "help", "panic", "printf"):
        assert cmd in names, f"help does not list {cmd}"
    assert names == sorted(names), "help lists the commands sorted by name"


@pytest.mark.points(1)
def test_halt_exits_with_status_0(kernel):
    kernel.send("halt\r")
    kernel.expect_exact("halt\r\nhalting\r\n", what="the echo of 'halt', then 'halting'")
    assert kernel.wait_exit() == 0


@pytest.mark.points(2)
def test_panic_dumps_registers_and_exits_nonzero(kernel, rng):
    msg = random_text(rng, 30).strip()
    kernel.send("panic " + msg + "\r")
    kernel.expect_exact("PANIC: " + msg + "\r\n", what="the panic line with our message")
    status = kernel.wait_exit()
    dump = kernel.before
    for reg in ("r0", "r7", "r12", "sp", "lr", "pc", "cpsr"):
        assert re.search(rf"\b{reg}\s+[0-9a-f]{{8}}\b", dump), f"no {reg} in the dump"
    assert status != 0, "a panic must end QEMU with a non-zero status"


@pytest.mark.points(1)
def test_lone_escape_keeps_the_next_key(kernel, rng):
    """ESC alone (not the start of an arrow key's ESC [ ... sequence) is dropped,
    and the key typed after it still counts."""
    word = random_word(rng, 7)
    kernel.send("\x1becho " + word + "\x1b\r")
    kernel.expect_exact(f"echo {word}\r\n{word}\r\n> ")
