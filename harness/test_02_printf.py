"""Lesson 02: kprintf formats exactly like the host C library's printf.

The shell's `printf FORMAT ARG...` formats with kprintf; the test builds random
formats and values, and computes the expected text with the host's own snprintf
(through ctypes), passing each value with the C type the conversion reads on the
ARM (int and long are 32 bits there; ll is 64)."""

import ctypes
import string

import pytest

LESSON = 2

libc = ctypes.CDLL(None)
libc.snprintf.restype = ctypes.c_int

# The ' ' flag is left to the host-side unit test: the shell splits words at spaces.
FLAGS = "-0+"


def host_printf(fmt, args):
    buf = ctypes.create_string_buffer(2048)
    libc.snprintf(buf, len(buf), fmt.encode(), *args)
    return buf.value.decode()


def s32(v):
    return v - (1 << 32) if v & 0x80000000 else v


def c_arg(conv, length, value):
    """The host C argument that reads `value` the way the ARM kernel does."""
    if conv in "di":
        return [ctypes.c_int, ctypes.c_long, ctypes.c_longlong][length](s32(value))
    if conv in "uxX":
        return [ctypes.c_uint, ctypes.c_ulong, ctypes.c_ulonglong][length](value)
    if conv == "p":
        return ctypes.c_void_p(value or None)
    if conv == "c":
        return ctypes.c_int(value)
    return ctypes.c_char_p(value.encode())


def number_text(rng, value):
    """How the test writes a 32-bit value on the command line: decimal, negative
    decimal or hex (the kernel's parser takes all three)."""
    form = rng.randrange(3)
    if form == 0:
        return str(value)
    if form == 1 and value & 0x80000000:
        return str(s32(value))
    return hex(value)


def random_value(rng):
    return rng.choice([0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
                       rng.randrange(10), rng.randrange(1 << 16), rng.randrange(1 << 32)])


def random_conversion(rng):
    """One conversion: (spec, kernel arguments, host arguments). Leaves out what C
    leaves undefined: '0' with %s %c %p, '+' with %p."""
    conv = rng.choice("diuxXpsc")
    length = rng.choice([0, 0, 1, 2]) if conv in "diuxX" else 0
    allowed = FLAGS
    if conv in "scp":
        allowed = allowed.replace("0", "")
    if conv == "p":
        allowed = "-"
    flags = "".join(f for f in allowed if rng.random() < 0.3)
    kargs, hargs = [], []
    width = ""
    if rng.random() < 0.2:
        w = rng.randrange(-20, 21)
        width = "*"
        kargs.append(str(w))
        hargs.append(ctypes.c_int(w))
    elif rng.random() < 0.6:
        width = str(rng.randrange(1, 25))
    if conv == "s":
        value = "".join(rng.choice(string.ascii_letters + string.digits + "_.:")
                        for _ in range(rng.randrange(1, 15)))
        kargs.append(value)
    elif conv == "c":
        value = ord(rng.choice(string.ascii_letters + string.digits + "#&=?"))
        kargs.append(number_text(rng, value))
    else:
        value = random_value(rng)
        kargs.append(number_text(rng, value))
    hargs.append(c_arg(conv, length, value))
    return "%" + flags + width + "l" * length + conv, kargs, hargs


def random_case(rng):
    fmt, kargs, hargs = "", [], []
    for _ in range(rng.randrange(1, 4)):
        if rng.random() < 0.5:
            fmt += rng.choice(["[", "|", "x=", "%%", "_", "]", ":"])
        spec, k, h = random_conversion(rng)
        fmt, kargs, hargs = fmt + spec, kargs + k, hargs + h
    return fmt, kargs, hargs


@pytest.mark.points(3)
def test_printf_matches_host_printf(kernel, rng, credit):
    for i in range(60):
        fmt, kargs, hargs = random_case(rng)
        line = "printf " + " ".join([fmt] + kargs)
        expected = host_printf(fmt, hargs)
        got = kernel.cmd(line)
        assert got == expected, f"{line!r}: kernel printed {got!r}, host printf {expected!r}"
        credit.part(i + 1, 60)          # graded: the share of cases right before a miss


@pytest.mark.points(1)
@pytest.mark.parametrize("conv", list("diuxXp"))
def test_printf_extremes(kernel, conv):
    for value in (0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF):
        for spec in (f"%{conv}", f"%-12{conv}", f"%12{conv}") + \
                ((f"%012{conv}", f"%l{conv}", f"%ll{conv}") if conv != "p" else ()):
            length = spec.count("l")
            expected = host_printf(spec, [c_arg(conv, length, value)])
            assert kernel.cmd(f"printf {spec} {value:#x}") == expected, spec


@pytest.mark.points(1)
def test_printf_errors_are_reported(kernel, rng):
    word = "".join(rng.choice(string.ascii_lowercase) for _ in range(6))
    assert kernel.cmd("printf <%d>") == "error: printf: missing argument for %d"
    assert kernel.cmd(f"printf %x {word}") == f"error: printf: '{word}' is not a number"
    assert kernel.cmd("printf %u 0x100000000") == "error: printf: '0x100000000' is not a number"
    assert kernel.cmd("printf") == "usage: printf FORMAT [ARG...]"
    assert kernel.cmd(f"echo {word}") == word
