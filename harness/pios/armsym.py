"""Walk the paths of a function in a built kernel, with symbolic register values.

The lint (lint.py) asks questions QEMU cannot answer -- "is this page-table entry
cleaned from the data cache before the walker can read it?", "is TTBR0 written while
the reserved ASID is in CONTEXTIDR?" -- of the instruction stream itself. This module
turns a function's machine code (from `arm-none-eabi-objdump -d -l`) into every path
through it, each path a list of events: stores (address and value), CP15 operations
(which one, and the value written), calls, IRQ masking and the return.

Values are symbolic, tracked only as far as the rules need: a constant, or a linear
combination of atoms (the function's arguments, values loaded from memory, results of
calls) with an offset; anything else (a bic, an orr of two unknowns) becomes an atom
of its own that remembers how it was made. Two computations of the same address give
the same expression, whatever registers the compiler chose.

Paths: a branch whose condition the values decide is followed one way; otherwise both.
Conditional instructions after the same compare follow the same decision. Loops are
unrolled a few times (MAX_VISITS). Small helpers that were not inlined are followed
into (FOLLOW_MAX instructions, FOLLOW_DEPTH deep), so a student's helper function is
checked as if it were inlined.
"""

import functools
import re
import subprocess
from dataclasses import dataclass, field

MASK = 0xFFFFFFFF
MAX_VISITS = 2          # times one path may pass one instruction (loops)
MAX_PATHS = 4000        # paths per function before the walk gives up
MAX_STEPS = 20000       # instructions per path
FOLLOW_MAX = 160        # helpers up to this many instructions are walked into
FOLLOW_DEPTH = 5
NORETURN = {"panic", "kernel_panic", "halt", "exc_entry_missing", "semihost_exit",
            "thread_exit", "proc_exit"}
# Library routines walked over, not into: what they store is not a page-table entry
# written one at a time, and their loops would only multiply the paths.
OPAQUE = {"memset", "memcpy", "memmove", "memcmp", "strlen", "strlcpy", "kprintf",
          "ksnprintf", "kvprintf", "uart_putc", "uart_puts", "__aeabi_uidiv",
          "__aeabi_idiv", "__aeabi_uidivmod", "__aeabi_idivmod"}


# ---- symbolic values ---------------------------------------------------------------
#
# A value is an int (a constant) or a Lin: a linear combination of atoms plus a
# constant. Atoms are tuples: ("arg", n), ("ld", addr, size), ("call", name, n),
# ("unk", n), ("op", name, a, b) for anything non-linear, ("bic", x, mask).

@dataclass(frozen=True)
class Lin:
    terms: tuple            # ((atom, coefficient), ...), sorted, no zero coefficients
    const: int = 0

    def __repr__(self):
        parts = [("%s*%r" % (c, a) if c != 1 else repr(a)) for a, c in self.terms]
        if self.const:
            parts.append(hex(self.const))
        return " + ".join(parts) or "0"


def _key(atom):
    return repr(atom)


def lin(terms, const=0):
    merged = {}
    for a, c in terms:
        merged[a] = merged.get(a, 0) + c
    items = tuple(sorted(((a, c & MASK) for a, c in merged.items() if c & MASK),
                         key=lambda t: _key(t[0])))
    const &= MASK
    if not items:
        return const
    return Lin(items, const)


def atom(a):
    return Lin(((a, 1),), 0)


def parts(v):
    """(terms, const) of any value."""
    if isinstance(v, int):
        return (), v & MASK
    return v.terms, v.const


def add(a, b):
    ta, ca = parts(a)
    tb, cb = parts(b)
    return lin(ta + tb, ca + cb)


def neg(a):
    ta, ca = parts(a)
    return lin(tuple((x, -c) for x, c in ta), -ca)


def sub(a, b):
    return add(a, neg(b))


def mul(a, k):
    ta, ca = parts(a)
    return lin(tuple((x, c * k) for x, c in ta), ca * k)


def op(name, a, b=None):
    """A non-linear operation: folded when the operands are constants."""
    if isinstance(a, int) and (b is None or isinstance(b, int)):
        return FOLD[name](a, b) & MASK
    if name == "orr" and b == 0:
        return a
    if name == "orr" and a == 0:
        return b
    if name in ("and",) and b == MASK:
        return a
    if name == "bic" and isinstance(b, int):
        if b == 0:
            return a
        # bic(bic(x, m1), m2) = bic(x, m1 | m2): two-step masks compare equal
        ta, ca = parts(a)
        if not ca and len(ta) == 1 and ta[0][1] == 1 and ta[0][0][0] == "bic":
            return atom(("bic", ta[0][0][1], ta[0][0][2] | b))
        return atom(("bic", a, b))
    if name == "lsl" and isinstance(b, int):
        return mul(a, 1 << (b & 31))
    return atom(("op", name, a, b))


FOLD = {
    "orr": lambda a, b: a | b, "and": lambda a, b: a & b, "eor": lambda a, b: a ^ b,
    "bic": lambda a, b: a & ~b, "lsl": lambda a, b: a << (b & 0xFF) if b < 32 else 0,
    "lsr": lambda a, b: a >> (b & 0xFF) if b < 32 else 0,
    "asr": lambda a, b: ((a - (1 << 32) if a & 0x80000000 else a) >> min(b, 31)),
    "ror": lambda a, b: ((a >> (b % 32)) | (a << (32 - b % 32))) if b % 32 else a,
    "mvn": lambda a, b: ~a, "mul": lambda a, b: a * b,
    "clz": lambda a, b: 32 - a.bit_length(), "uxtb": lambda a, b: a & 0xFF,
    "uxth": lambda a, b: a & 0xFFFF, "ubfx": lambda a, b: (a >> (b >> 8)) & ((1 << (b & 0xFF)) - 1),
    "rev": lambda a, b: int.from_bytes((a & MASK).to_bytes(4, "little"), "big"),
}


def signed(v):
    return v - (1 << 32) if v & 0x80000000 else v


def difference_range(a, b, depth=0):
    """The range [lo, hi] of b - a when it is known (the atoms cancel, a bic(x, m)
    counting as x minus 0..m), else None."""
    terms, const = parts(sub(b, a))
    lo = hi = signed(const)
    rest = 0
    for at, c in terms:
        c = signed(c)
        if at[0] == "bic" and isinstance(at[2], int) and abs(c) == 1:
            rest = add(rest, mul(at[1], c))     # c * bic(x, m) = c * x - c * (0..m)
            if c > 0:
                lo -= at[2] & MASK
            else:
                hi += at[2] & MASK
        else:
            rest = add(rest, lin(((at, c),)))
    if isinstance(rest, int):
        return (lo + signed(rest), hi + signed(rest))
    if depth < 2 and any(at[0] == "bic" for at, _ in rest.terms):
        r = difference_range(0, rest, depth + 1)
        if r:
            return (lo + r[0], hi + r[1])
    return None


def compare(a, b):
    """-1 if a < b, 0 if equal, 1 if a > b, None if the values do not tell."""
    if isinstance(a, int) and isinstance(b, int):
        return (a > b) - (a < b)
    if a == b:
        return 0
    r = difference_range(a, b)
    if r is None:
        return None
    lo, hi = r
    if lo > 0:
        return -1
    if hi < 0:
        return 1
    if lo == hi == 0:
        return 0
    return None


def range_loop(a, b):
    """The first test of a loop over a range by cache lines, `for (p = start & ~31; p <
    start + size; ...)`: the range is taken to be non-empty (-1: a < b). A clean or
    invalidate loop skipped for an empty range does nothing, and a path through it
    would only report a clean missing where nothing was written."""
    terms, _ = parts(a)
    if len(terms) != 1 or terms[0][0][0] != "bic" or terms[0][1] != 1:
        return None
    x = terms[0][0][1]
    rest = sub(b, x)            # b = x + size
    return None if isinstance(rest, int) else -1


def atoms_of(v, kind=None):
    """Every atom in v, nested ones too (of one kind, if given)."""
    out = []

    def walk(x):
        if isinstance(x, Lin):
            for a, _ in x.terms:
                if kind is None or a[0] == kind:
                    out.append(a)
                for sub_ in a[1:]:
                    walk(sub_)
        elif isinstance(x, tuple):
            for sub_ in x:
                walk(sub_)
    walk(v)
    return out


def depends_on(v, arg):
    """True when v was computed from the function's argument register `arg` (not
    merely loaded from an address computed from it)."""
    def walk(x):
        if isinstance(x, Lin):
            return any(a == ("arg", arg) or (a[0] != "ld" and any(walk(y) for y in a[1:]))
                       for a, _ in x.terms)
        if isinstance(x, tuple):
            return any(walk(y) for y in x)
        return False
    return walk(v)


# ---- the disassembly ---------------------------------------------------------------

@dataclass
class Insn:
    addr: int
    mnem: str
    ops: list
    text: str
    line: str = ""          # innermost source file:line (objdump -l)
    func: str = ""          # the (possibly inlined) function it came from
    target: str = ""        # a branch's symbol, or a literal load's address
    literal: int = None     # the address of a pc-relative literal


@dataclass
class Image:
    insns: dict                             # address -> Insn
    order: list                             # addresses in order
    symbols: dict                           # name -> (address, size)
    words: dict = field(default_factory=dict)   # literal address -> 32-bit value

    def function(self, name):
        addr, size = self.symbols[name]
        return [self.insns[a] for a in self.order if addr <= a < addr + size]

    def symbol_at(self, addr):
        """(name, offset) of the data or code symbol holding addr, or None."""
        best = None
        for name, (a, size) in self.symbols.items():
            if a <= addr < a + max(size, 1) and (best is None or size < best[2]):
                best = (name, addr - a, size)
        return best[:2] if best else None


LINE = re.compile(r"^\s*([0-9a-f]+):\t(\S+)(?:\t([^@;]*))?(?:\s*[@;]\s*(.*))?$")


def load_image(elf, cross="arm-none-eabi-"):
    """Disassemble elf's .text (with source lines) and read its symbols and literals."""
    dis = subprocess.run([cross + "objdump", "-d", "-l", "--no-show-raw-insn", str(elf)],
                         capture_output=True, text=True, check=True).stdout
    nm = subprocess.run([cross + "nm", "-l", "-S", "--defined-only", str(elf)],
                        capture_output=True, text=True, check=True).stdout
    symbols, defined = {}, {}
    for ln in nm.splitlines():
        ln, _, where = ln.partition("\t")
        f = ln.split()
        if len(f) == 4:
            symbols[f[3]] = (int(f[0], 16), int(f[1], 16))
        elif len(f) == 3 and f[2] not in symbols:
            symbols[f[2]] = (int(f[0], 16), 0)
        if where and f:
            defined[f[-1]] = where.rsplit(":", 1)[0]
    insns, order = {}, []
    line, func = "", ""
    for raw in dis.splitlines():
        if re.match(r"^\S.*:\d+", raw) and not raw.startswith(" "):
            line = raw.split()[0]
            continue
        if re.match(r"^[A-Za-z_][\w.]*\(\):$", raw):
            func = raw[:-3]
            continue
        m = LINE.match(raw)
        if not m:
            continue
        addr = int(m.group(1), 16)
        mnem, opstr, comment = m.group(2), (m.group(3) or "").strip(), m.group(4) or ""
        if mnem.startswith(".") or mnem == "<UNDEFINED>":
            continue
        ins = Insn(addr, mnem, split_ops(opstr), raw.strip(), line, func)
        t = re.search(r"<([^>+]+)(\+0x[0-9a-f]+)?>", raw)
        if t:
            ins.target = t.group(1) if not t.group(2) else ""
        if re.search(r"\[pc(, #-?\d+)?\]", opstr) and comment:
            lit = re.match(r"([0-9a-f]+)", comment.strip())
            if lit:
                ins.literal = int(lit.group(1), 16)
        insns[addr] = ins
        order.append(addr)
    img = Image(insns, order, symbols)
    img.functions = {n for n, (_, size) in symbols.items() if size}
    img.defined = defined           # name -> the source file that defines it
    img.words = _literals(elf, [i.literal for i in insns.values() if i.literal], cross)
    # functions without a size (assembly labels): up to the next symbol
    starts = sorted({a for a, _ in symbols.values()})
    for name, (a, size) in list(symbols.items()):
        if size == 0 and a in insns:
            nxt = next((s for s in starts if s > a), a + 4)
            symbols[name] = (a, nxt - a)
    return img


def _literals(elf, addrs, cross):
    """The 32-bit words at the given addresses (pc-relative literals)."""
    if not addrs:
        return {}
    out = subprocess.run([cross + "objdump", "-s", "-j", ".text", str(elf)],
                         capture_output=True, text=True, check=True).stdout
    mem = {}
    for ln in out.splitlines():
        m = re.match(r"^ ([0-9a-f]{4,8}) ((?:[0-9a-f]{8} ?){1,4})", ln)
        if not m:
            continue
        base = int(m.group(1), 16)
        for i, w in enumerate(m.group(2).split()):
            mem[base + 4 * i] = int.from_bytes(bytes.fromhex(w), "little")
    return {a: mem[a] for a in addrs if a in mem}


def split_ops(s):
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


# ---- mnemonics -----------------------------------------------------------------------

CONDS = ["eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge",
         "lt", "gt", "le", "al"]
BASES = sorted("""and eor sub rsb add adc sbc rsc tst teq cmp cmn orr mov bic mvn lsl lsr
    asr ror rrx mul mla mls umull smull umlal smlal ldr ldrb ldrh ldrsb ldrsh ldrd ldrex
    str strb strh strd strex ldm ldmia ldmib ldmda ldmdb ldmfd stm stmia stmib stmda
    stmdb stmfd push pop b bl bx blx mcr mrc mcrr mrrc mrs msr cps cpsid cpsie nop svc
    wfi wfe sev ubfx sbfx uxtb uxth sxtb sxth uxtab uxtah clz rev rev16 clrex bkpt udf
    srsdb rfeia""".split(), key=len, reverse=True)
NO_S = {"b", "bl", "bx", "blx", "ldr", "str", "ldrb", "strb", "ldrh", "strh", "push",
        "pop", "mcr", "mrc", "cmp", "cmn", "tst", "teq"}


@functools.lru_cache(maxsize=None)     # a kernel uses a few hundred mnemonics
def decode(mnem):
    """'ldrne' -> ('ldr', False, 'ne'); 'movs' -> ('mov', True, 'al')."""
    for base in BASES:
        if not mnem.startswith(base):
            continue
        rest = mnem[len(base):]
        s = False
        if rest.startswith("s") and base not in NO_S and rest[1:] in CONDS + [""]:
            s, rest = True, rest[1:]
        if rest == "" or rest in CONDS:
            return base, s, rest or "al"
    return mnem, False, "al"


# ---- CP15 operations -----------------------------------------------------------------

CP15 = {
    (0, 7, 10, 4): "DSB", (0, 7, 10, 5): "DMB", (0, 7, 5, 4): "ISB",
    (0, 8, 7, 0): "TLBIALL", (0, 8, 5, 0): "TLBIALL", (0, 8, 6, 0): "TLBIALL",
    (0, 8, 7, 1): "TLBIMVA", (0, 8, 5, 1): "TLBIMVA", (0, 8, 6, 1): "TLBIMVA",
    (0, 8, 7, 2): "TLBIASID", (0, 8, 5, 2): "TLBIASID", (0, 8, 6, 2): "TLBIASID",
    (0, 7, 5, 0): "ICIALLU", (0, 7, 5, 1): "ICIMVA", (0, 7, 5, 6): "BPIALL",
    (0, 7, 5, 7): "BPIMVA", (0, 7, 7, 0): "IDCIALL", (0, 7, 10, 1): "DCCMVAC",
    (0, 7, 14, 1): "DCCIMVAC", (0, 7, 10, 0): "DCCALL", (0, 7, 14, 0): "DCCIALL",
    (0, 7, 6, 1): "DCIMVAC", (0, 7, 6, 0): "DCIALL",
    (0, 2, 0, 0): "TTBR0", (0, 2, 0, 1): "TTBR1", (0, 2, 0, 2): "TTBCR",
    (0, 3, 0, 0): "DACR", (0, 1, 0, 0): "SCTLR", (0, 13, 0, 1): "CONTEXTIDR",
    (0, 13, 0, 2): "TPIDRURW", (0, 13, 0, 3): "TPIDRURO",
}


def cp15_op(ins):
    """('mcr', 'TTBR0', rt) for an mcr/mrc to CP15, else None."""
    o = ins.ops
    if len(o) < 6 or o[0] not in ("15", "p15"):
        return None
    try:
        key = (int(o[1]), int(o[3].lstrip("cr").lstrip("c")), int(o[4].lstrip("cr").lstrip("c")),
               int(o[5].strip("{}")))
    except ValueError:
        return None
    return CP15.get(key, "cp15(%d,c%d,c%d,%d)" % key), o[2]


# ---- walking the paths ---------------------------------------------------------------

@dataclass
class Event:
    kind: str               # store load cp15 call ret jump irq
    ins: Insn
    what: str = ""          # the CP15 operation, the callee, the IRQ change
    addr: object = None     # store/load address
    value: object = None    # value stored or written to CP15
    size: int = 4
    depth: int = 0          # 0: the function itself; more: inside a followed helper
    cond: bool = False      # a conditional instruction that was executed


REGS = {"sb": "r9", "sl": "r10", "fp": "r11", "ip": "r12", "sp": "r13", "lr": "r14",
        "pc": "r15"}
STACK = 0x7FFF0000


def reg(name):
    name = name.strip().rstrip("!")
    return REGS.get(name, name)


class State:
    __slots__ = ("pc", "regs", "mem", "flags", "decided", "visits", "events", "frames",
                 "steps", "fresh")

    def copy(self):
        s = State()
        s.pc = self.pc
        s.regs = dict(self.regs)
        s.mem = dict(self.mem)
        s.flags = self.flags
        s.decided = dict(self.decided)
        s.visits = dict(self.visits)
        s.events = list(self.events)
        s.frames = list(self.frames)
        s.steps = self.steps
        s.fresh = self.fresh
        return s


class Walker:
    def __init__(self, image):
        self.img = image
        self.opaque = set()
        self._files = {}
        self.sizes = {n: s // 4 for n, (_, s) in image.symbols.items()}
        self.relevant = self._relevant()
        self.by_addr = {}
        for n, (a, s) in image.symbols.items():
            if a in image.insns:
                self.by_addr.setdefault(a, n)

    def paths(self, name, opaque=(), keep=None):
        """Every path through function `name`: (end, events), end 'ret' or 'jump'.
        `opaque`: helpers to walk over, not into. `keep(event)`: the events a rule
        looks at; two paths that reach one instruction with the same such events
        go on alike for the rule, and only one is walked (default: everything but
        loads and the function's own stack). Raises RuntimeError when the function
        has too many paths to walk."""
        keep = keep or (lambda e: e.kind != "load" and not _on_stack(e))
        self.opaque = set(opaque)
        self.root_file = self.file_of(name)
        start, _ = self.img.symbols[name]
        s = State()
        s.pc = start
        s.regs = {"r%d" % i: atom(("arg", i)) for i in range(13)}
        s.regs["r13"] = STACK
        s.regs["r14"] = atom(("retaddr", 0))
        s.mem, s.flags, s.decided, s.visits = {}, None, {}, {}
        s.events, s.frames, s.steps, s.fresh = [], [], 0, 0
        todo, done, seen = [s], [], set()
        while todo:
            st = todo.pop()
            # Two paths at one instruction with the same history of events go on
            # alike as far as the rules can tell: walk one of them.
            key = (st.pc, tuple(st.frames), tuple((e.kind, e.ins.addr, e.what, repr(e.value))
                                                  for e in st.events if keep(e)))
            if key in seen:
                continue
            seen.add(key)
            for out in self.run(st):
                if isinstance(out, State):
                    todo.append(out)
                else:
                    done.append(out)
            if len(done) > MAX_PATHS or len(seen) > 50 * MAX_PATHS:
                raise RuntimeError("%s: more than %d paths" % (name, MAX_PATHS))
        return done

    # Run one path until it ends or forks. Yields finished (end, events) and forks.
    def run(self, s):
        while True:
            ins = self.img.insns.get(s.pc)
            if ins is None:
                yield ("lost", s.events)
                return
            here = self.visit_key(s, s.pc)      # a helper called twice: two places
            s.visits[here] = s.visits.get(here, 0) + 1
            s.steps += 1
            if s.visits[here] > MAX_VISITS or s.steps > MAX_STEPS:
                return                                  # a loop unrolled enough
            base, setflags, cond = decode(ins.mnem)
            if cond != "al":
                taken = self.decide(s, cond)
                if base == "b" and (taken is None or self.constant_flags(s)):
                    taken = self.widen(s, ins, taken)
                if taken is None:
                    other = s.copy()
                    self.remember(other, cond, False)
                    other.pc = s.pc + 4
                    yield other
                    self.remember(s, cond, True)
                elif not taken:
                    s.pc += 4
                    continue
            r = self.step(s, ins, base, setflags, cond != "al")
            if r is not None:
                if r == "noreturn":
                    return
                yield (r, s.events)
                return

    @staticmethod
    def visit_key(s, pc):
        return (tuple(back for _, back in s.frames), pc)

    @staticmethod
    def constant_flags(s):
        return s.flags is not None and isinstance(s.flags[1], int) and \
            (s.flags[2] is None or isinstance(s.flags[2], int))

    def widen(self, s, ins, taken):
        """A loop that has run MAX_VISITS times is left: a conditional branch
        whose one way leads back into it takes the other way. Only for a loop
        counted with constants (it would run to its end, thousands of times); a
        path that goes round a loop whose count the values do not fix once too
        often is dropped, and the path that left it earlier stands for it."""
        there = int(ins.ops[0].split()[0], 16)
        here = s.pc + 4
        full = [s.visits.get(self.visit_key(s, a), 0) >= MAX_VISITS for a in (there, here)]
        if full[0] and not full[1]:
            return False
        if full[1] and not full[0]:
            return True
        return taken

    # ---- conditions
    def decide(self, s, cond):
        if s.flags is None:
            return None
        fid, a, b = s.flags
        known = s.decided.get((fid, cond))
        if known is None:   # the same two values compared before on this path
            known = s.decided.get(("fact", repr(a), repr(b), cond))
        if known is not None:
            return known
        c = compare(a, b) if b is not None else None
        if c is None and b is not None and cond in ("cc", "lo", "cs", "hs", "ls", "hi"):
            c = range_loop(a, b)
            if c is None and range_loop(b, a) is not None:
                c = -range_loop(b, a)           # compared the other way round
        if c is None and isinstance(a, int) and b is None:
            c = 0 if a == 0 else 1
        if c is None:
            return None
        if b is None:       # tst: only zero or not
            return {"eq": c == 0, "ne": c != 0}.get(cond)
        return {"eq": c == 0, "ne": c != 0, "cs": c >= 0, "hs": c >= 0, "cc": c < 0,
                "lo": c < 0, "hi": c > 0, "ls": c <= 0, "ge": c >= 0, "lt": c < 0,
                "gt": c > 0, "le": c <= 0}.get(cond)

    INVERSE = {"eq": "ne", "ne": "eq", "cs": "cc", "hs": "lo", "cc": "cs", "lo": "hs",
               "hi": "ls", "ls": "hi", "ge": "lt", "lt": "ge", "gt": "le", "le": "gt",
               "mi": "pl", "pl": "mi", "vs": "vc", "vc": "vs"}

    def remember(self, s, cond, taken):
        if s.flags is None:
            return
        fid = s.flags[0]
        s.decided[("fact", repr(s.flags[1]), repr(s.flags[2]), cond)] = taken
        s.decided[("fact", repr(s.flags[1]), repr(s.flags[2]), self.INVERSE[cond])] = not taken
        s.decided[(fid, cond)] = taken
        s.decided[(fid, self.INVERSE[cond])] = not taken
        # Equal on this path: a register holding the compared value holds the
        # constant (the compiler stores a register it knows is 0 as the zero).
        a, b = s.flags[1], s.flags[2]
        if (cond, taken) in (("eq", True), ("ne", False)) and isinstance(b, int) \
                and not isinstance(a, int):
            for r, v in s.regs.items():
                if v == a:
                    s.regs[r] = b
        # the synonyms, so that cs/hs and cc/lo agree
        for x, y in (("cs", "hs"), ("cc", "lo")):
            if (fid, x) in s.decided:
                s.decided[(fid, y)] = s.decided[(fid, x)]
            if (fid, y) in s.decided:
                s.decided[(fid, x)] = s.decided[(fid, y)]

    # ---- values
    def fresh(self, s, kind, name=""):
        s.fresh += 1
        return atom((kind, name, s.fresh))

    def val(self, s, o):
        o = o.strip()
        if o.startswith("#"):
            return int(o[1:].split()[0], 0) & MASK
        r = reg(o)
        if r == "r15":
            return (s.pc + 8) & MASK
        return s.regs.get(r, 0)

    def operand2(self, s, ops):
        """The flexible second operand: '#imm', 'rm', 'rm, lsl #n', 'rm, lsl rs'."""
        v = self.val(s, ops[0])
        if len(ops) > 1:
            sh = ops[1].split()
            kind = sh[0]
            amount = self.val(s, sh[1]) if len(sh) > 1 else 1
            if kind == "rrx":
                return op("ror", v, 1)
            return op(kind, v, amount)
        return v

    def address(self, s, m):
        """The address of a memory operand and the base register's update:
        '[rn, #off]', '[rn, rm, lsl #2]', '[rn, #off]!', '[rn], #off'."""
        inner = m[0].strip()
        wb = inner.endswith("!")
        inner = inner.rstrip("!")
        parts_ = split_ops(inner.strip("[]"))
        base = reg(parts_[0])
        bv = (s.pc + 8) & MASK if base == "r15" else s.regs.get(base, 0)
        off = 0
        if len(parts_) > 1:
            o = parts_[1]
            negative = o.startswith("-")
            off = self.operand2(s, [o.lstrip("-")] + parts_[2:])
            if negative:
                off = neg(off)
        post = None
        if len(m) > 1:          # post-indexed: [rn], #off
            o = m[1]
            negative = o.startswith("-")
            post = self.operand2(s, [o.lstrip("-")] + m[2:])
            if negative:
                post = neg(post)
            return bv, base, add(bv, post)
        addr = add(bv, off)
        return addr, base, (addr if wb else None)

    def load(self, s, addr, size, ins):
        if ins.literal is not None:
            return self.img.words.get(ins.literal, self.fresh(s, "lit"))
        key = repr(addr)
        if key in s.mem:
            return s.mem[key]
        return atom(("ld", addr, size))

    def event(self, s, kind, ins, **kw):
        s.events.append(Event(kind, ins, depth=len(s.frames), **kw))

    def setflags(self, s, a, b):
        s.fresh += 1
        s.flags = (s.fresh, a, b)

    # ---- one instruction; returns 'ret', 'jump', 'noreturn' or None to go on
    def step(self, s, ins, base, setflags, conditional):
        o = ins.ops
        pc = s.pc
        s.pc = pc + 4
        R = s.regs
        if base in ("mov", "mvn") and o:
            v = self.operand2(s, o[1:])
            v = op("mvn", v) if base == "mvn" else v
            if reg(o[0]) == "r15":
                return self.jump_to(s, v, ins)
            R[reg(o[0])] = v
            if setflags:
                self.setflags(s, v, 0)
        elif base in ("add", "sub", "rsb", "and", "orr", "eor", "bic", "adc", "sbc") and len(o) >= 2:
            if len(o) == 2:
                o = [o[0]] + o
            a = self.val(s, o[1])
            b = self.operand2(s, o[2:])
            v = {"add": lambda: add(a, b), "sub": lambda: sub(a, b),
                 "rsb": lambda: sub(b, a), "adc": lambda: self.fresh(s, "adc"),
                 "sbc": lambda: self.fresh(s, "sbc")}.get(base, lambda: op(base, a, b))()
            if reg(o[0]) == "r15":
                return self.jump_to(s, v, ins)
            R[reg(o[0])] = v
            if setflags:
                self.setflags(s, v, 0)
        elif base in ("lsl", "lsr", "asr", "ror") and len(o) >= 2:
            src = self.val(s, o[1])
            amount = self.val(s, o[2]) if len(o) > 2 else 1
            R[reg(o[0])] = op(base, src, amount)
            if setflags:
                self.setflags(s, R[reg(o[0])], 0)
        elif base in ("cmp", "cmn", "tst", "teq"):
            a = self.val(s, o[0])
            b = self.operand2(s, o[1:])
            if base == "cmp":
                self.setflags(s, a, b)
            elif base == "cmn":
                self.setflags(s, a, neg(b))
            elif base == "tst":
                self.setflags(s, op("and", a, b), None)
            else:
                self.setflags(s, op("eor", a, b), None)
        elif base in ("mul", "mla", "mls"):
            a, b = self.val(s, o[1]), self.val(s, o[2])
            v = mul(a, b) if isinstance(b, int) else (mul(b, a) if isinstance(a, int) else op("mul", a, b))
            if base != "mul":
                c = self.val(s, o[3])
                v = add(c, v) if base == "mla" else sub(c, v)
            R[reg(o[0])] = v
        elif base in ("uxtb", "uxth", "clz", "rev", "rev16", "sxtb", "sxth"):
            src = self.val(s, o[1])
            if base == "uxtb":
                R[reg(o[0])] = op("and", src, 0xFF)
            elif base == "uxth":
                R[reg(o[0])] = op("and", src, 0xFFFF)
            else:
                R[reg(o[0])] = op(base, src)
        elif base == "ubfx":
            src = self.val(s, o[1])
            lsb, width = self.val(s, o[2]), self.val(s, o[3])
            R[reg(o[0])] = op("and", op("lsr", src, lsb), (1 << width) - 1)
        elif base.startswith("ldr") and base not in ("ldrd", "ldrex"):
            size = {"ldrb": 1, "ldrh": 2, "ldrsb": 1, "ldrsh": 2}.get(base, 4)
            addr, b, upd = self.address(s, o[1:])
            v = self.load(s, addr, size, ins)
            self.event(s, "load", ins, addr=addr, size=size, cond=conditional)
            if upd is not None:
                R[b] = upd
            if reg(o[0]) == "r15":
                return self.jump_to(s, v, ins)
            R[reg(o[0])] = v
        elif base.startswith("str") and base not in ("strd", "strex"):
            size = {"strb": 1, "strh": 2}.get(base, 4)
            addr, b, upd = self.address(s, o[1:])
            v = self.val(s, o[0])
            s.mem[repr(addr)] = v
            self.event(s, "store", ins, addr=addr, value=v, size=size, cond=conditional)
            if upd is not None:
                R[b] = upd
        elif base in ("ldrd", "strd", "ldrex", "strex"):
            for r_ in o[:2]:
                if r_.startswith("r") and base.startswith("ldr"):
                    R[reg(r_)] = self.fresh(s, base)
            if base.startswith("str"):
                self.event(s, "store", ins, addr=self.fresh(s, "addr"), value=None, size=8)
                if base == "strex":
                    R[reg(o[0])] = self.fresh(s, "strex")
        elif base in ("push", "pop") or base.startswith(("ldm", "stm")):
            return self.multiple(s, ins, base, o)
        elif base in ("b", "bl", "blx", "bx"):
            return self.branch(s, ins, base, o, pc)
        elif base in ("mcr", "mrc"):
            c = cp15_op(ins)
            if c is None:
                return None
            what, rt = c
            if base == "mcr":
                self.event(s, "cp15", ins, what=what, value=self.val(s, rt), cond=conditional)
            else:
                R[reg(rt)] = self.fresh(s, "mrc", what)
        elif base in ("cpsid", "cpsie"):
            if "i" in o[0]:
                self.event(s, "irq", ins, what="off" if base == "cpsid" else "on")
        elif base == "msr":
            if o and o[0].startswith("cpsr"):
                self.event(s, "irq", ins, what="restore", value=self.val(s, o[1]))
        elif base == "mrs":
            R[reg(o[0])] = self.fresh(s, "cpsr")
        elif base == "svc":
            for r_ in ("r0", "r1", "r2", "r3", "r12", "r14"):
                R[r_] = self.fresh(s, "svc")
        elif base in ("nop", "wfi", "wfe", "sev", "cps", "clrex", "bkpt"):
            pass
        elif base == "udf":
            return "noreturn"
        elif o and re.match(r"^(r\d+|sb|sl|fp|ip|lr)$", o[0]):
            R[reg(o[0])] = self.fresh(s, "insn", base)   # not modelled: unknown value
        return None

    def multiple(self, s, ins, base, o):
        R = s.regs
        if base in ("push", "pop"):
            rn, wb, regs_ = "r13", True, o[0]
            mode = "db" if base == "push" else "ia"
            load = base == "pop"
        else:
            rn = reg(o[0])
            wb = o[0].endswith("!")
            regs_ = o[1]
            load = base.startswith("ldm")
            mode = base[3:] or "ia"
            mode = {"fd": "ia" if load else "db"}.get(mode, mode)
        names = [reg(x) for x in _reglist(regs_)]
        n = len(names)
        b = R.get(rn, 0)
        start = {"ia": b, "ib": add(b, 4), "da": sub(b, 4 * n - 4), "db": sub(b, 4 * n)}[mode]
        end = add(b, 4 * n) if mode in ("ia", "ib") else sub(b, 4 * n)
        newpc = None
        for i, r_ in enumerate(names):
            a = add(start, 4 * i)
            if load:
                v = s.mem.get(repr(a), atom(("ld", a, 4)))
                if r_ == "r15":
                    newpc = v
                else:
                    R[r_] = v
            else:
                s.mem[repr(a)] = R.get(r_, 0)
                self.event(s, "store", ins, addr=a, value=R.get(r_, 0))
        if wb:
            R[rn] = end
        if newpc is not None:
            return self.jump_to(s, newpc, ins)
        return None

    def branch(self, s, ins, base, o, pc):
        R = s.regs
        if base == "bx" or (base == "blx" and not ins.target):
            target = self.val(s, o[0])
            if base == "bx":
                return self.jump_to(s, target, ins)
            return self.call_opaque(s, ins, "(indirect)")
        tgt = int(o[0].split()[0], 16)
        name = ins.target or self.by_addr.get(tgt, "")
        if base == "b":
            if name in self.img.functions and self.img.symbols[name][0] == tgt:
                # a tail call: behaves like bl + return
                if self.follow(name, s):
                    s.frames.append(("tail", None))
                    self.event(s, "call", ins, what=name, value="followed")
                    s.pc = tgt
                    return None
                r = self.call_opaque(s, ins, name)
                if r:
                    return r
                return self.jump_to(s, R["r14"], ins)
            s.pc = tgt
            return None
        # bl
        if name in NORETURN:
            self.event(s, "call", ins, what=name)
            return "noreturn"
        if self.follow(name, s):
            self.event(s, "call", ins, what=name, value="followed")
            ret = self.fresh(s, "retaddr", name)
            s.frames.append((ret, pc + 4))
            R["r14"] = ret
            s.pc = tgt
            return None
        return self.call_opaque(s, ins, name)

    def _relevant(self):
        """The functions worth walking into: those that do a CP15 operation or mask
        IRQs (a student's pte-write or barrier helper), or call one that does.
        Everything else is a call the rules see from outside."""
        img, direct, calls = self.img, set(), {}
        for name in img.functions:
            a, size = img.symbols[name]
            for addr in range(a, a + size, 4):
                ins = img.insns.get(addr)
                if ins is None:
                    continue
                base = decode(ins.mnem)[0]
                if base in ("mcr", "cpsid", "cpsie") or (base == "msr" and "cpsr" in ins.text):
                    direct.add(name)
                elif base in ("bl", "b") and ins.target in img.functions:   # b: a tail call
                    calls.setdefault(name, set()).add(ins.target)
        relevant, grew = set(direct), True
        while grew:
            grew = False
            for name, callees in calls.items():
                if name not in relevant and callees & relevant:
                    relevant.add(name)
                    grew = True
        return relevant

    def file_of(self, name):
        """The source file that defines a function (else the one most of its
        instructions come from)."""
        if name in self.img.defined:
            return self.img.defined[name]
        if name in self._files:
            return self._files[name]
        a, size = self.img.symbols[name]
        count = {}
        for addr in range(a, a + size, 4):
            ins = self.img.insns.get(addr)
            if ins and ins.line:
                f = ins.line.rsplit(":", 1)[0]
                count[f] = count.get(f, 0) + 1
        self._files[name] = max(count, key=count.get) if count else ""
        return self._files[name]

    def follow(self, name, s):
        """Walk into a helper that matters to the rules, defined in the same source
        file or in a header (other files' functions are subsystems of their own:
        seen as calls)."""
        return (name and name in self.relevant and name not in OPAQUE and name not in self.opaque
                and (self.file_of(name) == self.root_file or self.file_of(name).endswith(".h"))
                and name in self.img.symbols
                and self.img.symbols[name][0] in self.img.insns
                and self.sizes.get(name, 999) <= FOLLOW_MAX and len(s.frames) < FOLLOW_DEPTH)

    def call_opaque(self, s, ins, name):
        self.event(s, "call", ins, what=name)
        if name in NORETURN:
            return "noreturn"
        for r_ in ("r0", "r1", "r2", "r3", "r12", "r14"):
            s.regs[r_] = self.fresh(s, "call", name)
        return None

    def jump_to(self, s, target, ins):
        """A computed jump: a return from a followed helper, the function's own
        return, or a jump away (start.S's `ldr pc, =high_start`)."""
        if s.frames:
            ret, back = s.frames[-1]
            if ret == "tail" or target == ret:
                s.frames.pop()
                if ret == "tail":
                    return self.jump_to(s, target, ins)
                s.pc = back
                return None
        if isinstance(target, Lin) and target.terms and target.terms[0][0][0] == "retaddr":
            self.event(s, "ret", ins)
            return "ret"
        if isinstance(target, Lin) and any(a[0] == "ld" for a, _ in target.terms):
            # popped from the stack the function itself did not write: its return
            self.event(s, "ret", ins)
            return "ret"
        self.event(s, "jump", ins, value=target)
        return "jump"


def _on_stack(e):
    """A store into the function's own stack frame (a spill, a saved register)."""
    if e.kind != "store":
        return False
    a = e.addr
    return isinstance(a, int) and STACK - 0x10000 <= a <= STACK + 0x100


def _reglist(s):
    out = []
    for part in s.strip("{}^ ").split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-")
            ra, rb = int(reg(a)[1:]), int(reg(b)[1:])
            out += ["r%d" % i for i in range(ra, rb + 1)]
        elif part:
            out.append(part)
    return out
