"""The constants a picture shows, read from the code itself (harness/pios/pictures.py).

Defines: a lesson's headers (memlayout.h, mmu.h, ...), its C files' private
#defines, common/board.h and common/arm.h, evaluated as C would (the first
definition of a name wins, as `#ifndef` would have it: a lesson's memlayout.h is
read before board.h). Symbols: `arm-none-eabi-nm` on the lesson's built kernel.
"""

import re
import subprocess
from pathlib import Path

_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)(\(([^)]*)\))?[ \t]*(.*)$")
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_IDENT = re.compile(r"\b[A-Za-z_]\w*\b")
_CAST = re.compile(r"\(\s*(?:u8|u16|u32|u64|int|unsigned|uintptr_t)\s*\)")
_SUFFIX = re.compile(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b")


class Defines:
    """The #defines of some C files, evaluated on demand."""

    def __init__(self, paths):
        self.macros = {}
        self.where = {}
        for path in paths:
            path = Path(path)
            if not path.exists():
                continue
            text = _COMMENT.sub(" ", path.read_text().replace("\\\n", " "))
            for line in text.split("\n"):
                m = _DEFINE.match(line)
                if m and m.group(1) not in self.macros:
                    params = [p.strip() for p in m.group(3).split(",")] if m.group(2) else None
                    self.macros[m.group(1)] = (params, m.group(4).strip())
                    self.where[m.group(1)] = path

    def __contains__(self, name):
        return name in self.macros

    def expand(self, expr, depth=0):
        assert depth < 20, f"macro expansion too deep: {expr}"
        out, pos = [], 0
        for m in _IDENT.finditer(expr):
            if m.start() < pos:
                continue
            name = m.group(0)
            out.append(expr[pos:m.start()])
            pos = m.end()
            if name not in self.macros:
                out.append(name)
                continue
            params, body = self.macros[name]
            if params is not None:
                args, pos = _call_args(expr, pos)
                assert len(args) == len(params), f"{name}: {len(params)} arguments, got {args}"
                body = re.sub(r"\b\w+\b", lambda p: "(" + args[params.index(p.group(0))] + ")"
                              if p.group(0) in params else p.group(0), body)
            out.append("(" + self.expand(body, depth + 1) + ")")
        out.append(expr[pos:])
        return "".join(out)

    def value(self, name, *args):
        """The value of NAME, or of NAME(args...) for a function-like macro."""
        assert name in self.macros, f"no #define {name} in the code"
        expr = name + ("(" + ", ".join(str(a) for a in args) + ")" if args else "")
        c = _SUFFIX.sub(r"\1", _CAST.sub("", self.expand(expr)))
        assert not _IDENT.search(re.sub(r"\b0[xX][0-9a-fA-F]+\b", "", c)), \
            f"{expr} is not a constant: {c}"
        return eval(c.replace("/", "//"), {"__builtins__": {}}) & 0xFFFFFFFF  # noqa: S307

    def __getitem__(self, name):
        return self.value(name)


def _call_args(expr, pos):
    """The arguments of the call whose "(" is at or after pos; and the end."""
    while expr[pos] == " ":
        pos += 1
    assert expr[pos] == "(", f"macro call expected at {expr[pos:]!r}"
    depth, start, args = 0, pos + 1, []
    for i in range(pos, len(expr)):
        c = expr[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                args.append(expr[start:i].strip())
                return args, i + 1
        elif c == "," and depth == 1:
            args.append(expr[start:i].strip())
            start = i + 1
    raise AssertionError(f"unbalanced macro call in {expr!r}")


def lesson_defines(lesson_dir, root):
    """A lesson's #defines: its headers, then its C files, then common/."""
    lesson_dir, root = Path(lesson_dir), Path(root)
    paths = [lesson_dir / "memlayout.h"] + sorted(lesson_dir.glob("*.h"))
    paths += sorted(lesson_dir.glob("*.c")) + sorted(lesson_dir.glob("*.S"))
    paths += [root / "common" / "board.h", root / "common" / "arm.h"]
    return Defines(paths)


class MissingKernel(Exception):
    pass


def symbols(elf):
    """{name: address} of a built kernel (`arm-none-eabi-nm`)."""
    elf = Path(elf)
    if not elf.exists():
        raise MissingKernel(f"{elf} is not built: run `make build L={elf.parent.parent.name[:2]}`")
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    syms = {}
    for line in out.split("\n"):
        parts = line.split()
        if len(parts) == 3:
            syms.setdefault(parts[2], int(parts[0], 16))
    return syms


def field_bits(mask):
    """(high bit, low bit) of a contiguous mask."""
    assert mask, "empty mask"
    low = (mask & -mask).bit_length() - 1
    high = mask.bit_length() - 1
    assert mask == ((1 << (high + 1)) - (1 << low)), f"mask {mask:#x} is not contiguous"
    return high, low


def struct_fields(path, name):
    """[(field, words)] of `struct name { u32 a; u32 b[n]; ... };` in a header, in
    memory order (lowest address first). Only u32 fields and arrays of them."""
    text = _COMMENT.sub(" ", Path(path).read_text())
    m = re.search(r"struct\s+" + name + r"\s*\{(.*?)\};", text, re.S)
    assert m, f"no struct {name} in {path}"
    out = []
    for decl in m.group(1).split(";"):
        decl = decl.strip()
        if not decl:
            continue
        assert decl.startswith("u32 "), f"struct {name}: {decl!r} is not u32"
        for item in decl[4:].split(","):
            item = item.strip()
            a = re.fullmatch(r"(\w+)\[(\d+)\]", item)
            out.append((a.group(1), int(a.group(2))) if a else (item, 1))
    return out


def sections(elf):
    """[(name, size, vma, lma, loaded)] of a kernel's allocated sections, by address
    (`arm-none-eabi-objdump -h`; loaded: in the image, not NOLOAD)."""
    elf = Path(elf)
    if not elf.exists():
        raise MissingKernel(f"{elf} is not built: run `make build L={elf.parent.parent.name[:2]}`")
    lines = subprocess.run(["arm-none-eabi-objdump", "-h", str(elf)], capture_output=True,
                           text=True, check=True).stdout.split("\n")
    out = []
    for head, flags in zip(lines, lines[1:]):
        m = re.match(r"\s*\d+\s+(\S+)\s+([0-9a-f]{8})\s+([0-9a-f]{8})\s+([0-9a-f]{8})", head)
        if m and "ALLOC" in flags:
            out.append((m.group(1), int(m.group(2), 16), int(m.group(3), 16),
                        int(m.group(4), 16), "LOAD" in flags))
    return sorted(out, key=lambda s: s[2])
