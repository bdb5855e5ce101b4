"""Host-side unit tests of common/ code that needs no hardware, compiled with the host
gcc and sanitizers:

- common/format.c (the kprintf core) against the host C library's snprintf, on
  thousands of random cases (harness/unit/format_check.c says what it generates and
  what it leaves out); broken copies of format.c prove that the comparison can fail;
- common/kstring.c's parse_u32 against Python's own reading of random strings;
- common/kstring.c's word-at-a-time memset, memcpy and memmove against a byte model
  (harness/unit/kstring_check.c), at every alignment, with canaries around the
  destination; a byte-at-a-time copy of them passes, a broken one fails.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

LESSON = 2
pytestmark = pytest.mark.host

UNIT = Path(__file__).parent / "unit"
CASES = 20000
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g", "-O1",
            "-Wall", "-Wextra", "-Werror"]
# format_check makes each variadic call through libffi (see the top of format_check.c).
FFI_HINT = "format_check needs libffi's header: apt-get install libffi-dev"


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          errors="replace", timeout=120, **kw)


def compile_c(out, sources, extra=(), libs=(), what="a host unit test"):
    if shutil.which("gcc") is None:
        pytest.fail("the host unit tests need gcc: apt-get install gcc", pytrace=False)
    r = run(["gcc", *SANITIZE, *extra, *sources, *libs, "-o", out])
    if r.returncode != 0:
        hint = f"\n({FFI_HINT})" if "ffi.h" in r.stderr else ""
        pytest.fail(f"compiling {what} failed:\n$ gcc {' '.join(map(str, sources))}\n"
                    f"{r.stdout}{r.stderr}{hint}", pytrace=False)
    return out


def build_format_check(out_dir, format_c, common):
    """format_check linked with `format_c` (common/format.c or a broken copy of it;
    the headers come from `common`)."""
    return compile_c(out_dir / "format_check", [format_c, UNIT / "format_check.c"],
                     ["-I", str(common)], ["-lffi"], what=f"format_check with {format_c}")


@pytest.fixture(scope="session")
def root(request):
    return request.config.pios_root


@pytest.fixture(scope="session")
def format_check(root, tmp_path_factory):
    """format_check built against this tree's common/format.c."""
    return build_format_check(tmp_path_factory.mktemp("format_check"),
                              root / "common" / "format.c", root / "common")


def check_output(r):
    return (f"format_check exited {r.returncode}\n--- stdout ---\n{r.stdout[-6000:]}"
            f"\n--- stderr ---\n{r.stderr[-6000:]}")


def test_kprintf_core_matches_host_snprintf(format_check, rng):
    seed = rng.randrange(2**63)
    r = run([format_check, seed, CASES])
    if r.returncode != 0 or f"{CASES} cases OK" not in r.stdout:
        pytest.fail("common/format.c formats differently from the host's snprintf "
                    f"(rerun: {format_check} {seed} {CASES}):\n" + check_output(r),
                    pytrace=False)


# Deliberately broken copies of format.c: each edit must make format_check fail, or
# the comparison above could not fail either. (old, new, what shows the failure)
MUTANTS = {
    "zeros before the sign": (
        "    emit_str(s, prefix, plen);\n"
        "    if (!sp->left && sp->zero && zero_ok)\n"
        "        emit_n(s, '0', pad);\n",
        "    if (!sp->left && sp->zero && zero_ok)\n"
        "        emit_n(s, '0', pad);\n"
        "    emit_str(s, prefix, plen);\n",
        "MISMATCH"),
    "%X in lower case": (
        "p = utoa(uv, base, conv == 'X', end);",
        "p = utoa(uv, base, 0, end);",
        "MISMATCH"),
    "negative '*' width not left-justified": (
        "            sp->left = 1;\n            w = w < -FORMAT_WIDTH_MAX",
        "            w = w < -FORMAT_WIDTH_MAX",
        "MISMATCH"),
    "NUL written past a full buffer": (
        "buf[b.used < size ? b.used : size - 1] = '\\0';",
        "buf[b.used < size ? b.used : size] = '\\0';",
        "heap-buffer-overflow"),
}


@pytest.mark.parametrize("mutant", list(MUTANTS))
def test_checker_catches_a_broken_format_c(mutant, format_check, root, tmp_path, rng):
    old, new, sign = MUTANTS[mutant]
    source = (root / "common" / "format.c").read_text()
    assert source.count(old) == 1, (
        f"this test breaks common/format.c by replacing\n{old}\nwith\n{new}\nbut that "
        "code is no longer in format.c: update MUTANTS in harness/test_unit_format.py "
        "to a similar edit of the current code")
    broken = tmp_path / "format.c"
    broken.write_text(source.replace(old, new))
    exe = build_format_check(tmp_path, broken, root / "common")
    seed = rng.randrange(2**63)
    r = run([exe, seed, CASES])
    if r.returncode == 0 or sign not in r.stdout + r.stderr:
        pytest.fail(f"format_check did not notice a format.c with {mutant} (expected "
                    f"'{sign}' in its output): it cannot be trusted to catch a real "
                    "bug.\n" + check_output(r), pytrace=False)


# ---- parse_u32 -------------------------------------------------------------------

# kstring.c's memset, memcpy, ... keep the standard names for the kernel's sake; on the
# host they would replace the C library's (and ASan's interceptors). Compile it alone
# with each renamed, and without gcc's builtin knowledge of those names.
KSTRING_RENAMES = ["memset", "memcpy", "memmove", "memcmp", "strlen", "strcmp",
                   "strncmp", "strchr"]


def compile_kstring(out, kstring_c, common):
    """kstring.c (or a copy) compiled for the host, its standard names renamed."""
    obj = out / "kstring.o"
    r = run(["gcc", *SANITIZE, "-std=gnu11", "-fno-builtin", "-I", common,
             *[f"-D{n}=kstring_{n}" for n in KSTRING_RENAMES],
             "-c", kstring_c, "-o", obj])
    if r.returncode != 0:
        pytest.fail(f"compiling {kstring_c} for the host failed:\n{r.stderr}",
                    pytrace=False)
    return obj


@pytest.fixture(scope="session")
def parse_u32_check(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("parse_u32")
    common = root / "common"
    obj = compile_kstring(out, common / "kstring.c", common)
    return compile_c(out / "parse_u32_check", [UNIT / "parse_u32_check.c", obj],
                     ["-I", str(common)], what="parse_u32_check")


def expected_parse(s):
    """kstring.h's parse_u32, written from its contract: an optional sign, then
    decimal, 0x/0X hex or 0-prefixed octal digits, nothing else; the magnitude must
    fit 32 bits, and a negative one must not be below INT32_MIN; the value stored is
    wrapped to 32 bits. Returns the value, or None for an error."""
    sign, body = (s[0], s[1:]) if s[:1] in ("+", "-") else ("", s)
    if body[:2] in ("0x", "0X"):
        digits, base = body[2:], 16
    elif body.startswith("0") and len(body) > 1:
        digits, base = body[1:], 8
    else:
        digits, base = body, 10
    allowed = {8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}[base]
    if not digits or any(c not in allowed for c in digits):
        return None
    v = int(digits, base)
    if v > 0xFFFFFFFF or (sign == "-" and v > 0x80000000):
        return None
    return (-v if sign == "-" else v) & 0xFFFFFFFF


def spell(rng, v, sign=""):
    """v written in a random base, with random case and leading zeros."""
    base = rng.choice([10, 16, 8])
    if base == 16:
        digits = "".join(rng.choice((c.lower(), c.upper())) for c in format(v, "x"))
        return sign + rng.choice(["0x", "0X"]) + "0" * rng.choice([0, 0, 1, 5]) + digits
    if base == 8:
        return sign + "0" + "0" * rng.choice([0, 0, 3]) + format(v, "o")
    return sign + str(v)


def random_inputs(rng, n):
    edges = [0, 1, 7, 8, 9, 10, 15, 16, 0x7FFFFFFF, 0x80000000, 0x80000001,
             0xFFFFFFFF, 0x100000000, 2**64 - 1, 2**64, 10**30]
    fixed = ["", "+", "-", "0", "-0", "+0", "0x", "0X", "-0x", "00", "08", "09", "0x0",
             "0xg", "1 ", " 1", "1a", "--1", "+-1", "-+1", "0x-1", "0x+1", "1e3",
             "4294967295", "4294967296", "-2147483648", "-2147483649", "037777777777",
             "040000000000", "0xFFFFFFFF", "0x100000000", "-0x80000000", "-0x80000001"]
    out = list(fixed)
    junk = "0123456789abcdefxXg+- .\t_,zZ8"
    while len(out) < n:
        kind = rng.randrange(4)
        v = rng.choice(edges) if rng.randrange(4) == 0 else rng.getrandbits(rng.randrange(1, 40))
        sign = rng.choice(["", "", "+", "-"])
        s = spell(rng, v, sign)
        if kind == 3:                   # garbage: insert, replace or drop a character
            i = rng.randrange(len(s) + 1)
            op = rng.randrange(3)
            if op == 0:
                s = s[:i] + rng.choice(junk) + s[i:]
            elif op == 1 and s:
                i = min(i, len(s) - 1)
                s = s[:i] + rng.choice(junk) + s[i + 1:]
            else:
                s = s[:i] + s[i + 1:]
        out.append(s)
    return out


def test_parse_u32_matches_its_contract(parse_u32_check, rng):
    inputs = random_inputs(rng, 5000)
    r = run([parse_u32_check], input="".join(s + "\n" for s in inputs))
    assert r.returncode == 0, f"parse_u32_check exited {r.returncode}:\n{r.stderr[-4000:]}"
    answers = r.stdout.splitlines()
    assert len(answers) == len(inputs), f"{len(answers)} answers to {len(inputs)} inputs"
    wrong = []
    for s, got in zip(inputs, answers):
        want = expected_parse(s)
        want_text = "error" if want is None else f"ok {want}"
        if got != want_text:
            wrong.append(f"parse_u32({s!r}): expected {want_text!r}, got {got!r}")
    if wrong:
        pytest.fail(f"common/kstring.c: parse_u32 is wrong on {len(wrong)} of "
                    f"{len(inputs)} inputs:\n" + "\n".join(wrong[:20]), pytrace=False)
    # The random inputs must exercise both outcomes, or the test proves little.
    assert sum(a.startswith("ok") for a in answers) > len(inputs) // 4
    assert sum(a == "error" for a in answers) > len(inputs) // 10


# ---- memset, memcpy, memmove --------------------------------------------------------

def kstring_check(tmp_path, kstring_c, common):
    obj = compile_kstring(tmp_path, kstring_c, common)
    return compile_c(tmp_path / "kstring_check", [UNIT / "kstring_check.c", obj],
                     ["-I", str(common)], what=f"kstring_check with {kstring_c}")


def test_memset_memcpy_memmove_match_a_byte_model(root, tmp_path, rng):
    exe = kstring_check(tmp_path, root / "common" / "kstring.c", root / "common")
    r = run([exe, rng.randrange(2**31), CASES])
    assert r.returncode == 0 and r.stdout == f"ok {CASES}\n", r.stdout + r.stderr


@pytest.mark.parametrize("bug", ["fill", "tail", "overrun"])
def test_kstring_check_catches_a_broken_memset(root, tmp_path, rng, bug):
    """The comparison can fail: the same file with a word loop that stores the wrong
    fill, forgets the last bytes, or stores one word too many."""
    src = (root / "common" / "kstring.c").read_text()
    broken = {
        "fill": ("* 0x01010101u", "* 0x01010100u"),
        "tail": ("    for (; n; n--)\n        *d++ = (u8)c;", ""),
        "overrun": ("for (; n >= sizeof(word_t); n -= sizeof(word_t), d += sizeof(word_t))\n"
                    "        *(word_t *)d = fill;",
                    "for (; n + sizeof(word_t) > sizeof(word_t); n -= n < sizeof(word_t) ? n : "
                    "sizeof(word_t), d += sizeof(word_t))\n        *(word_t *)d = fill;"),
    }[bug]
    assert broken[0] in src, f"kstring.c changed: update this test's {bug!r} mutation"
    copy = tmp_path / "kstring.c"
    copy.write_text(src.replace(broken[0], broken[1], 1))
    r = run([kstring_check(tmp_path, copy, root / "common"), rng.randrange(2**31), CASES])
    assert r.returncode != 0, f"a memset with the {bug!r} bug passed:\n{r.stdout}"
