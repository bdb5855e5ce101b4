"""The lesson pictures: SVG diagrams drawn from the code's own constants.

Every address, size, bit position and field name in a picture is read from the
code: a lesson's memlayout.h and other headers, common/board.h and common/arm.h
(codefacts.Defines), or the lesson's built kernel (codefacts.symbols: the linker's
placement of each part). Words (what a region is for) are the only thing written
here. So a picture cannot drift from the code: `make pictures` redraws them all,
and harness/test_pictures.py fails when a committed one differs from what this
module draws now.

Each picture is a function of a Lesson context; PICTURES lists them per lesson,
with the file each is written to (lessons/NN-name/pictures/NAME.svg).
"""

from functools import cached_property
from pathlib import Path

from . import codefacts as C
from .svg import FILL, GREY_INK, Svg, text_width

ROOT = Path(__file__).resolve().parents[2]


def hx(v, digits=8):
    return f"0x{v:0{digits}X}"


class Lesson:
    def __init__(self, path, root=ROOT):
        self.path, self.root = Path(path), Path(root)
        self.name = self.path.name
        self.d = C.lesson_defines(self.path, self.root)

    @cached_property
    def syms(self):
        return C.symbols(self.path / "build" / "kernel.elf")

    def sym(self, name):
        assert name in self.syms, f"{self.name}: the kernel has no symbol {name}"
        return self.syms[name]

    def source(self, *names, elf=False):
        """The files a picture is drawn from, for its header comment."""
        files = sorted({str(self.d.where[n].relative_to(self.root)) for n in names})
        if elf:
            files.append(f"lessons/{self.name}/build/kernel.elf (symbols)")
        return ", ".join(files)


# ---- lesson 01: where the kernel is in memory ----------------------------------------

SECTION_WHAT = {".text": ".text.boot first (_start), then all code",
                ".rodata": "constants and strings",
                ".ARM.exidx": "libgcc's unwind index (unused)",
                ".data": "initialised variables",
                ".bss": "zero-initialised variables: start.S zeroes them",
                ".stack": "the SVC stack: sp starts at the top, grows down"}


def kernel_sections(L, width):
    """Lesson 01's kernel as both its pictures draw it: (svg, sections, __kernel_start,
    __kernel_end, bytes of safety vectors, bytes of kernel.img)."""
    secs = C.sections(L.path / "build" / "kernel.elf")
    start, end = L.sym("__kernel_start"), L.sym("__kernel_end")
    low = L.sym("stop") - L.sym("safety_vectors")
    loaded = [sec for sec in secs if sec[4]]
    img = max(lma + size for _, size, _, lma, _ in loaded) - min(lma for *_, lma, _ in loaded)
    assert secs[0][2] == start and L.sym("_start") == start
    s = Svg(width, 10, "Lesson 01: where the kernel is in memory",
            "The kernel's sections from 0x8000 up, as the linker placed them: the code and "
            "constants that kernel.img holds, then .bss and the stack, which it does not.",
            f"lessons/{L.name}/build/kernel.elf (sections, symbols), common/kernel.ld")
    return s, secs, start, end, low, img


def memory_01(L):
    s, secs, start, end, low, img = kernel_sections(L, 1000)
    s.text(20, 30, "Lesson 01: the kernel in memory (common/kernel.ld)", size=18, bold=True)
    s.text(20, 54, "Low addresses at the top. The firmware copies kernel.img to "
           f"{hx(start)} and jumps there.", size=14)
    x, w, y = 140, 250, 90
    s.rect(x, y, w, 50, fill=FILL["free"])
    s.text(x - 8, y + 5, hx(0), size=13, mono=True, anchor="end")
    s.text(x + w / 2, y + 30, "below the kernel", size=14, anchor="middle")
    s.text(x + w + 16, y + 22, f"start.S copies {low} bytes of safety vectors to 0:", size=13)
    s.text(x + w + 16, y + 40, "any exception stops the CPU (lesson 03 replaces them)", size=13)
    y += 50
    img_top = y
    img_bottom = None
    for name, size, vma, lma, is_loaded in secs:
        h = 30 if size < 0x100 else 56 if size < 0x1000 else 96
        s.rect(x, y, w, h, fill=FILL["inimage"] if is_loaded else FILL["noload"])
        s.text(x - 8, y + 5, hx(vma), size=13, mono=True, anchor="end")
        s.text(x + 10, y + h / 2 + 5, name, size=14, mono=True, bold=True)
        s.text(x + w - 10, y + h / 2 + 5, f"{size} bytes" if size < 0x1000 else
               f"{size // 1024} KB", size=13, anchor="end")
        s.text(x + w + 16, y + h / 2 + 5, SECTION_WHAT.get(name, ""), size=13)
        y += h
        if is_loaded:
            img_bottom = y
    s.text(x - 8, y + 5, hx(end), size=13, mono=True, anchor="end")
    s.text(x + w + 16, y + 5, "__kernel_end = svc_stack_top", size=13, mono=True)
    # kernel.img: the loaded sections.
    bx = 30
    s.path([(bx + 10, img_top + 2), (bx, img_top + 2), (bx, img_bottom - 2),
            (bx + 10, img_bottom - 2)], sw=2)
    s.text(bx - 8, (img_top + img_bottom) / 2, f"kernel.img: {img} bytes", size=13,
           rotate=True, anchor="middle", bold=True)
    s.height = s.legend(20, y + 50, ["inimage", "noload"], columns=2, col_width=[330]) + 6
    return s


def memory_01_slide(L):
    """The slide's copy: the kernel's sections, drawn at the slide's own size (1160 px
    wide, shown 1:1), text 18 px and more; kernel.img's size in the key."""
    s, secs, start, end, low, img = kernel_sections(L, 1160)
    x, w, y = 150, 300, 16
    lx = x + w + 18
    s.rect(x, y, w, 56, fill=FILL["free"])
    s.text(x - 10, y + 6, hx(0), size=18, mono=True, anchor="end")
    s.text(x + w / 2, y + 35, "below the kernel", size=19, anchor="middle")
    s.text(lx, y + 24, f"{low} bytes of safety vectors (start.S):", size=18)
    s.text(lx, y + 48, "any exception stops the CPU", size=18)
    y += 56
    for name, size, vma, lma, is_loaded in secs:
        h = 40 if size < 0x100 else 64 if size < 0x1000 else 110
        s.rect(x, y, w, h, fill=FILL["inimage"] if is_loaded else FILL["noload"])
        s.text(x - 10, y + 6, hx(vma), size=18, mono=True, anchor="end")
        s.text(x + 12, y + h / 2 + 7, name, size=19, mono=True, bold=True)
        s.text(x + w - 12, y + h / 2 + 7, f"{size} bytes" if size < 0x1000 else
               f"{size // 1024} KB", size=18, anchor="end")
        s.text(lx, y + h / 2 + 7, SECTION_WHAT.get(name, ""), size=18)
        y += h
    s.text(x - 10, y + 6, hx(end), size=18, mono=True, anchor="end")
    s.text(lx, y + 6, "__kernel_end = svc_stack_top", size=18, mono=True)
    y += 50
    for i, (key, what) in enumerate((("inimage", f"in kernel.img ({img} bytes): the "
                                      "firmware copies it to " + hx(start)),
                                     ("noload", "NOLOAD: reserved, not in kernel.img"))):
        yy = y + i * 32
        s.rect(x - 130, yy - 17, 22, 20, fill=FILL[key], sw=1)
        s.text(x - 96, yy, what, size=18)
    s.height = y + 32 + 16
    return s


# ---- lesson 02: the UART's and the GPIO's registers -------------------------------------

def register_comments(path, prefix):
    """[(name, comment)] of the `#define PREFIX... /* comment */` lines of a header."""
    import re
    out = []
    for m in re.finditer(r"^#define\s+(" + prefix + r"\w*)\s+.*?(?:/\*\s*(.*?)\s*\*/)?\s*$",
                         Path(path).read_text(), re.M):
        out.append((m.group(1), m.group(2) or ""))
    return out


def bit_strip(s, x, y, nbits, fields, title, cw=44, first=0):
    """Bits first .. first + nbits - 1 of a register, fields [(high, low, label, value)]
    (bit numbers relative to first) drawn, the others blank."""
    s.text(x, y - 28, title, size=14, bold=True, mono=True)
    for b in range(nbits):
        bx = x + (nbits - 1 - b) * cw
        s.rect(bx, y, cw, 34, fill=FILL["fault"], sw=0.8)
        s.text(bx + cw / 2, y - 6, str(b + first), size=12, anchor="middle", fill=GREY_INK)
    for hi, lo, label, value in fields:
        fx = x + (nbits - 1 - hi) * cw
        fw = (hi - lo + 1) * cw
        s.rect(fx, y, fw, 34, fill=FILL["note"], sw=1.2)
        s.text(fx + fw / 2, y + (15 if value is not None else 22), label, size=12,
               anchor="middle", bold=True)
        if value is not None:
            s.text(fx + fw / 2, y + 29, value, size=12, anchor="middle", mono=True)
    return y + 34


def registers_02(L):
    d = L.d
    board = L.root / "common" / "board.h"
    uart = [(n, c) for n, c in register_comments(board, "UART0_") if n != "UART0_BASE"]
    base = d["UART0_BASE"]

    s = Svg(1060, 10, "Lesson 02: the PL011 UART's and the GPIO's registers",
            "The UART0 registers by offset, the bits of the flag, control, line control and "
            "data registers piOS uses, and GPIO pins 14 and 15 set to ALT0 (TXD0, RXD0) in "
            "GPFSEL1.", "common/board.h")
    s.text(20, 30, "Lesson 02: the registers behind uart_putc() (common/board.h)", size=18,
           bold=True)
    s.text(20, 56, f"UART0 (PL011) at {hx(base)}", size=15, bold=True)
    y = 68
    for name, comment in uart:
        s.rect(20, y, 430, 28, fill="#ffffff", sw=0.8)
        s.text(28, y + 19, f"+{hx(d[name] - base, 2)}", size=13, mono=True)
        s.text(86, y + 19, name, size=13, mono=True, bold=True)
        s.text(220, y + 19, comment, size=12 if len(comment) > 30 else 13)
        y += 28
    left_bottom = y

    def fld(mask_name, label):
        hi, lo = C.field_bits(d[mask_name])
        return (hi, lo, label, None)

    x, y = 480, 110
    strips = [
        ("UART0_FR", 8, [fld("UART_FR_BUSY", "BUSY"), fld("UART_FR_RXFE", "RXFE"),
                         fld("UART_FR_TXFF", "TXFF"), fld("UART_FR_RXFF", "RXFF"),
                         fld("UART_FR_TXFE", "TXFE")]),
        ("UART0_CR", 10, [fld("UART_CR_UARTEN", "EN"), fld("UART_CR_TXE", "TXE"),
                          fld("UART_CR_RXE", "RXE")]),
        ("UART0_LCRH", 8, [fld("UART_LCRH_FEN", "FEN"),
                           (*C.field_bits(d["UART_LCRH_WLEN_8"]), "WLEN", "8 bits")]),
        ("UART0_DR", 12, [(*C.field_bits(d["UART_DR_ERROR_MASK"]), "errors", None),
                          (*C.field_bits(d["UART_DR_DATA_MASK"]), "data byte", None)]),
    ]
    for name, nbits, fields in strips:
        y = bit_strip(s, x + (12 - nbits) * 44, y, nbits, fields, name) + 62
    # GPIO: the function-select fields of the UART's pins.
    fsel_bits, per = d["GPIO_FSEL_BITS"], d["GPIO_PINS_PER_FSEL"]
    pins = [(d["GPIO_UART0_TXD"], "TXD0"), (d["GPIO_UART0_RXD"], "RXD0")]
    reg = pins[0][0] // per
    assert all(p // per == reg for p, _ in pins)
    alt0 = format(d["GPIO_FUNC_ALT0"], f"0{fsel_bits}b")
    fields = [((p % per) * fsel_bits + fsel_bits - 1, (p % per) * fsel_bits,
               f"pin {p}: {fn}", alt0) for p, fn in pins]
    lo = min(f[1] for f in fields)
    shifted = [(hi - lo, l - lo, label, v) for hi, l, label, v in fields]
    s.text(x, y - 28, f"GPFSEL{reg} at +{hx(d['GPFSEL0'] + 4 * reg - d['GPIO_BASE'], 2)} "
           f"of GPIO {hx(d['GPIO_BASE'])}: bits {fields[-1][0]}:{lo}", size=14, bold=True)
    bit_strip(s, x + (12 - 2 * fsel_bits) * 44, y, 2 * fsel_bits, shifted, "", first=lo)
    y += 34 + 24
    s.text(x, y, f"ALT0 = {alt0} (GPIO_FUNC_ALT0); {fsel_bits} bits a pin, {per} pins a "
           "register", size=13)
    s.height = max(left_bottom, y) + 50
    s.rect(20, s.height - 34, 17, 13, fill=FILL["note"], sw=1)
    s.text(45, s.height - 22, "a field piOS reads or writes (board.h names it)", size=13)
    return s


def registers_02_slide(L):
    """The slide's copy: the bits of the UART registers piOS uses and GPFSEL1's fields
    for pins 14 and 15, drawn at the slide's own size (1160 px wide, shown 1:1), text
    16 px and more."""
    d = L.d
    cw, bh = 64, 54

    def strip(x, y, nbits, fields, title, first=0):
        s.text(x, y - 32, title, size=20, bold=True, mono=True)
        for b in range(nbits):
            bx = x + (nbits - 1 - b) * cw
            s.rect(bx, y, cw, bh, fill=FILL["fault"], sw=1)
            s.text(bx + cw / 2, y - 7, str(b + first), size=18, anchor="middle", fill=GREY_INK)
        for hi, lo, label, value in fields:
            fx, fw = x + (nbits - 1 - hi) * cw, (hi - lo + 1) * cw
            s.rect(fx, y, fw, bh, fill=FILL["note"], sw=1.6)
            s.text(fx + fw / 2, y + (23 if value is not None else 34), label, size=18,
                   anchor="middle", bold=True)
            if value is not None:
                s.text(fx + fw / 2, y + 46, value, size=18, anchor="middle", mono=True)

    def fld(mask_name, label, value=None):
        return (*C.field_bits(d[mask_name]), label, value)

    s = Svg(1160, 10, "Lesson 02: the bits of the PL011 UART's and the GPIO's registers",
            "The bits of the flag, line control, control and data registers piOS uses, and "
            "GPIO pins 14 and 15 set to ALT0 (TXD0, RXD0) in GPFSEL1.", "common/board.h")
    r1, r2, r3 = 56, 196, 336
    strip(20, r1, 8, [fld("UART_FR_BUSY", "BUSY"), fld("UART_FR_RXFE", "RXFE"),
                      fld("UART_FR_TXFF", "TXFF"), fld("UART_FR_RXFF", "RXFF"),
                      fld("UART_FR_TXFE", "TXFE")], "UART0_FR: flags")
    hi, lo = C.field_bits(d["UART_LCRH_WLEN_8"])
    wlen = format(d["UART_LCRH_WLEN_8"] >> lo, f"0{hi - lo + 1}b")
    strip(620, r1, 8, [fld("UART_LCRH_FEN", "FEN"),
                       fld("UART_LCRH_WLEN_8", "WLEN", f"{wlen}: 8 bits")], "UART0_LCRH")
    strip(20, r2, 10, [fld("UART_CR_UARTEN", "EN"), fld("UART_CR_TXE", "TXE"),
                       fld("UART_CR_RXE", "RXE")], "UART0_CR: control")
    strip(20, r3, 12, [fld("UART_DR_ERROR_MASK", "errors"),
                       fld("UART_DR_DATA_MASK", "data byte")], "UART0_DR: data")
    # GPIO: the function-select fields of the UART's pins.
    fsel_bits, per = d["GPIO_FSEL_BITS"], d["GPIO_PINS_PER_FSEL"]
    pins = [(d["GPIO_UART0_TXD"], "TXD0"), (d["GPIO_UART0_RXD"], "RXD0")]
    reg = pins[0][0] // per
    assert all(p // per == reg for p, _ in pins)
    alt0 = format(d["GPIO_FUNC_ALT0"], f"0{fsel_bits}b")
    fields = [((p % per) * fsel_bits + fsel_bits - 1, (p % per) * fsel_bits,
               f"pin {p}: {fn}", alt0) for p, fn in pins]
    lo = min(f[1] for f in fields)
    gx = 1140 - 2 * fsel_bits * cw
    strip(gx, r2, 2 * fsel_bits, [(hi - lo, l - lo, label, v) for hi, l, label, v in fields],
          f"GPFSEL{reg}: bits {fields[-1][0]}:{lo}", first=lo)
    s.text(gx, r2 + bh + 34, f"ALT0 = {alt0}: {fsel_bits} bits a pin,", size=18)
    s.text(gx, r2 + bh + 58, f"{per} pins a register", size=18)
    s.rect(830, r3 + 16, 22, 20, fill=FILL["note"], sw=1.6)
    s.text(864, r3 + 33, "a field board.h names", size=18)
    s.height = r3 + bh + 16
    return s


# ---- lesson 03: the vector table and a stack per mode --------------------------------

# The mode each exception enters [ARM ARM A2.6]; None: no stack of its own (piOS never
# resets the CPU: "reset" is a jump to address 0, in the caller's mode).
EXCEPTION_MODE = {"reset": None, "undefined": "UND", "SVC": "SVC", "prefetch": "ABT",
                  "data": "ABT", "(reserved)": None, "IRQ": "IRQ", "FIQ": None}
MODE_FILL = {"SVC": "#b9d9f2", "IRQ": "#d9c3e6", "ABT": "#f4b6c2", "UND": "#fbe8a6"}


def vector_table(path):
    """[(offset, exception, handler)] from vectors.S: the eight `@ 0xNN name` slots
    and the `.word handler` after them."""
    import re
    text = Path(path).read_text()
    slots = re.findall(r"^\s*ldr\s+pc,.*@\s*(0x[0-9A-Fa-f]{2})\s+(.*)$", text, re.M)
    body = text[text.index("vectors:"):]
    words = re.findall(r"^\s*\.word\s+(\w+)", body, re.M)[:len(slots)]
    assert len(slots) == 8 and len(words) == 8, "vectors.S: eight slots, eight handlers"
    return [(int(o, 16), name.strip(), w) for (o, name), w in zip(slots, words)]


def vectors_03(L, slide=False):
    d = L.d
    table = vector_table(L.path / "vectors.S")
    size = L.sym("vectors_end") - L.sym("vectors")
    tops = sorted((L.sym(n), n.split("_")[0].upper()) for n in L.syms
                  if n.endswith("_stack_top"))
    base = tops[0][0] - d["SVC_STACK_SIZE"]
    assert [m for _, m in tops] == ["SVC", "IRQ", "ABT", "UND"]
    assert all(b - a == d["MODE_STACK_SIZE"] for (a, _), (b, _) in zip(tops, tops[1:]))

    s = Svg(1060, 10, "Lesson 03: the vector table and a stack per mode",
            "The eight exception vectors at address 0, each loading its handler's address, "
            "and the mode each exception enters; the stacks of SVC, IRQ, ABT and UND mode "
            "in the kernel's .stack section.",
            L.source("SVC_STACK_SIZE", "CPSR_MODE_SVC") + f", lessons/{L.name}/vectors.S"
            f", lessons/{L.name}/build/kernel.elf (symbols)")
    s.text_scale = 1.15 if slide else 1.0
    s.text(20, 30, "Lesson 03: the vectors and a stack per mode", size=18, bold=True)
    s.text(20, 54, f"install_vectors copies vectors .. vectors_end ({size} bytes) to "
           "address 0: eight slots, then the eight handler addresses they load.", size=14)

    x, y, rh = 20, 110, 40
    cols = [(0, 70, "offset"), (70, 200, "exception"), (270, 190, "handler"),
            (460, 150, "enters mode")]
    for cx, _, head in cols:
        s.text(x + cx + 8, y - 10, head, size=14, bold=True)
    for off, name, handler in table:
        key = next(k for k in EXCEPTION_MODE if name.startswith(k))
        mode = EXCEPTION_MODE[key]
        for cx, cw, head in cols:
            fill = MODE_FILL[mode] if head == "enters mode" and mode else "#ffffff"
            s.rect(x + cx, y, cw, rh, fill=fill)
        s.text(x + 8, y + 25, hx(off, 2), size=13, mono=True)
        s.text(x + 78, y + 25, name.split(" (in")[0], size=14)
        s.text(x + 278, y + 25, handler, size=13, mono=True)
        if mode:
            s.text(x + 468, y + 25, f"{mode} {hx(d['CPSR_MODE_' + mode], 2)}", size=13,
                   mono=True)
        else:
            note = {"FIQ": "FIQ: no stack", "reset": "a jump: no switch"}.get(key, "never taken")
            s.text(x + 468, y + 25, note, size=13, fill=GREY_INK)
        y += rh
    table_bottom = y

    # The stacks, highest address at the top.
    sx, sw = 700, 190
    s.text(sx, 96, ".stack: a stack per mode", size=15, bold=True)
    y = 110
    rows = list(reversed(list(zip([base] + [t for t, _ in tops[:-1]], tops))))
    for lo, (top, mode) in rows:
        h = 46 if top - lo <= d["MODE_STACK_SIZE"] else 120
        s.rect(sx, y, sw, h, fill=MODE_FILL[mode])
        s.text(sx + sw / 2, y + h / 2 + 5, f"{mode}: {(top - lo) // 1024} KB", size=14,
               anchor="middle", bold=True)
        s.text(sx + sw + 8, y + 5, hx(top), size=13, mono=True)
        s.text(sx + sw + 8, y + 22, f"{mode.lower()}_stack_top", size=13, mono=True,
               fill=GREY_INK)
        y += h
    s.text(sx + sw + 8, y + 5, hx(base), size=13, mono=True)
    s.text(sx, y + 34, "Each grows down from its top.", size=13)
    s.text(sx, y + 52, "start.S gives each mode its sp.", size=13)
    y = max(table_bottom, y + 60) + 30
    s.text(20, y, "The exception itself switches mode, and with it sp: each handler starts "
           "on its own mode's stack, whatever was interrupted.", size=14)
    s.height = y + 24
    if slide:
        s.view = (0, 38, s.width, s.height - 38)
    return s


# ---- lesson 04: from a device to the CPU -------------------------------------------------

def shortcuts(d):
    """IRQ_BASIC_SHORTCUTS: the GPU sources basic pending reports directly, in order."""
    body = d.macros["IRQ_BASIC_SHORTCUTS"][1].strip()
    assert body.startswith("{") and body.endswith("}")
    return [int(v) for v in body[1:-1].split(",")]


def irq_04(L, slide=False):
    d = L.d
    src, basic, count = d["IRQ_UART0"], d["IRQ_BASIC"], d["IRQ_COUNT"]
    bank_bits = basic // 2                       # two GPU banks below the ARM's sources
    bank, bit = divmod(src, bank_bits)
    bank += 1                                    # IRQ_PENDING_1 holds sources 0-31
    short = d["IRQ_BASIC_SHORTCUT_FIRST"] + shortcuts(d).index(src)
    cpsr_i = C.field_bits(d["CPSR_I"])[1]
    vec = next(off for off, name, _ in vector_table(L.path / "vectors.S") if name == "IRQ")
    handler = next(h for _, name, h in vector_table(L.path / "vectors.S") if name == "IRQ")
    phys = d["PERIPHERAL_PHYS"]
    off = lambda reg: d[reg] - d["PERIPHERAL_BASE"] + phys          # noqa: E731

    s = Svg(1060, 10, "Lesson 04: an interrupt's way from the UART to the CPU",
            "Three gates, each with its own mask: the UART's IMSC, the interrupt "
            "controller's enable register, the CPU's CPSR.I. Then the IRQ vector.",
            L.source("IRQ_UART0", "IRQ_ENABLE_2", "CPSR_I") + f", lessons/{L.name}/vectors.S")
    s.text_scale = 1.25 if slide else 1.0
    s.text(20, 30, "Lesson 04: three gates between a device and the CPU", size=18, bold=True)

    cols = [(20, "the device: UART0 (PL011)", hx(d["UART0_BASE"] - d["PERIPHERAL_BASE"] + phys)),
            (370, "the interrupt controller", hx(d["IRQ_BASE"] - d["PERIPHERAL_BASE"] + phys)),
            (720, "the CPU (ARM1176)", "")]
    for x, title, addr in cols:
        s.text(x, 70, title, size=15, bold=True)
        if addr:
            s.text(x, 90, f"at {addr} (physical)", size=13, fill=GREY_INK)
    w = 310
    steps = [
        (20, [("RIS: a byte arrived", f"RX bit {C.field_bits(d['UART_INT_RX'])[1]}", "free"),
              ("IMSC: the device's mask", "UART_INT_RX, UART_INT_RT", "note"),
              ("MIS: raw AND mask", f"{hx(off('UART0_MIS'))}", "free")]),
        (370, [(f"source {src} (IRQ_UART0) pending", f"IRQ_PENDING_{bank} bit {bit}", "free"),
               (f"IRQ_ENABLE_{bank}: its mask", f"write 1 << {bit}; IRQ_DISABLE_{bank}", "note"),
               ("the IRQ line; a shortcut:", f"IRQ_BASIC_PENDING bit {short}", "free")]),
        (720, [("CPSR.I: the CPU's mask", f"bit {cpsr_i}: 0 lets IRQs in", "note"),
               ("IRQ exception", f"vector {hx(vec, 2)} -> {handler}", "free"),
               ("irq_handle(): which source?", "read pending, call its handler", "free")]),
    ]
    for x, boxes in steps:
        y = 110
        for i, (title, sub, fill) in enumerate(boxes):
            s.rect(x, y, w, 64, fill=FILL["mask"] if fill == "note" else "#ffffff", rx=6)
            s.text(x + 10, y + 26, title, size=14, bold=fill == "note")
            s.text(x + 10, y + 48, sub, size=13, mono=True)
            if i < len(boxes) - 1:
                s.line(x + w / 2, y + 64, x + w / 2, y + 94, arrow=True)
            y += 94
    for x0 in (20, 370):
        s.path([(x0 + w, 110 + 2 * 94 + 32), (x0 + w + 20, 110 + 2 * 94 + 32),
                (x0 + w + 20, 110 + 32), (x0 + 350 - 4, 110 + 32)], arrow=True)
    y = 110 + 3 * 94 + 20
    gates_bottom = y - 42

    # The sources, by bank.
    s.text(20, y, f"The controller's {count} sources, as piOS numbers them", size=15, bold=True)
    y += 44
    cw = 13
    banks = [(0, bank_bits, "GPU bank 1: IRQ_PENDING_1, IRQ_ENABLE_1"),
             (bank_bits, basic, "GPU bank 2: IRQ_PENDING_2, IRQ_ENABLE_2"),
             (basic, count, "ARM: IRQ_BASIC_PENDING")]
    marks = {src: "UART0", d["IRQ_SYSTIMER_1"]: "timer C1", d["IRQ_SYSTIMER_3"]: "C3"}
    for lo, hi, label in banks:
        s.text(20 + lo * cw, y + 56, label if hi - lo > 8 else "ARM", size=13)
        for n in range(lo, hi):
            fill = FILL["used"] if n in marks else ("#ffffff" if lo < basic else FILL["reg"])
            s.rect(20 + n * cw, y + 4, cw, 26, fill=fill, sw=0.8)
        s.text(20 + lo * cw + 2, y + 44, str(lo), size=12, fill=GREY_INK)
    for n, name in marks.items():
        s.line(20 + n * cw + cw / 2, y + 4, 20 + n * cw + cw / 2, y - 2)
    s.text(20 + src * cw - 30, y - 6, f"{src}: UART0", size=13, anchor="end")
    s.text(20 + d["IRQ_SYSTIMER_1"] * cw, y - 6, "1, 3: system timer (lesson 05)", size=13)
    s.text(20 + count * cw + 8, y + 22, str(count - 1), size=12, fill=GREY_INK)
    y += 90
    s.text(20, y, "Level-triggered: a source stays pending while the device's condition "
           "holds;", size=14)
    s.text(20, y + 20, "the handler removes the cause at the device (ICR, reading the data).",
           size=14)
    s.height = s.legend(20, y + 54, ["mask", "used"], columns=2, col_width=[420]) + 6
    if slide:
        s.view = (0, 52, s.width, gates_bottom - 52)
    return s


# ---- lesson 05: a compare channel -----------------------------------------------------

def timer_05(L, slide=False):
    d = L.d
    hz, tick_ch, cb_ch = d["SYSTIMER_HZ"], d["TIMER_TICK_CHANNEL"], d["TIMER_CALLBACK_CHANNEL"]
    period = hz // d["TIMER_DEFAULT_HZ"]
    deadline = period                            # the first tick, from CLO = 0
    channels = 4                                 # C0-C3 [BCM p.172]
    phys = lambda reg: d[reg] - d["PERIPHERAL_BASE"] + d["PERIPHERAL_PHYS"]  # noqa: E731
    assert d.value("SYSTIMER_C", channels - 1) - d["SYSTIMER_C0"] == 4 * (channels - 1)

    s = Svg(1060, 10, "Lesson 05: the system timer's compare channels",
            "A free-running 1 MHz counter, four compare registers; a channel matches when "
            "CLO equals its register, sets its bit in CS and raises its interrupt until the "
            "handler writes the bit back.",
            L.source("SYSTIMER_HZ", "TIMER_TICK_CHANNEL", "IRQ_SYSTIMER_1"))
    s.text_scale = 1.2 if slide else 1.0
    s.text(20, 30, "Lesson 05: one counter, four comparators (timer.c)", size=18, bold=True)
    s.text(20, 54, f"CLO counts at {hz // 1000000} MHz (SYSTIMER_HZ): one step per microsecond. "
           "A channel matches when CLO equals its compare register.", size=14)

    # The registers.
    y = 90
    regs = [("SYSTIMER_CS", "match flags M0-M3", None),
            ("SYSTIMER_CLO", "counter, low 32 bits", None),
            ("SYSTIMER_CHI", "counter, high 32 bits", None)]
    regs += [(f"SYSTIMER_C({n})", f"compare {n}", n) for n in range(channels)]
    owner = {tick_ch: f"the tick (TIMER_TICK_CHANNEL), IRQ {d['IRQ_SYSTIMER_1']}",
             cb_ch: f"timer callbacks (TIMER_CALLBACK_CHANNEL), IRQ {d['IRQ_SYSTIMER_3']}"}
    for name, what, n in regs:
        addr = phys(name) if n is None else d.value("SYSTIMER_C", n) - d["PERIPHERAL_BASE"] \
            + d["PERIPHERAL_PHYS"]
        fill = "#ffffff"
        if n is not None:
            fill = FILL["ours"] if n in owner else FILL["theirs"]
        s.rect(20, y, 500, 30, fill=fill, sw=1)
        s.text(28, y + 20, hx(addr), size=13, mono=True)
        s.text(140, y + 20, name, size=13, mono=True, bold=True)
        s.text(300, y + 20, what, size=13)
        if n is not None:
            s.text(530, y + 20, owner.get(n, "the GPU firmware's: not ours"), size=13,
                   fill="#1a1a1a" if n in owner else GREY_INK)
        y += 30

    # A match, step by step.
    y += 50
    s.text(20, y - 16, f"Channel {tick_ch} matching at C{tick_ch} = {deadline}: one tick "
           f"period at TIMER_DEFAULT_HZ = {hz // period}", size=15, bold=True)
    steps = [deadline - 2 + i for i in range(6)]
    ack = 4                                      # the handler runs here
    cx, cw = 200, 130
    rows = [("CLO", [str(v) for v in steps]),
            (f"C{tick_ch}", [str(deadline)] * len(steps)),
            (f"CS bit M{tick_ch}", ["1" if deadline <= v and i < ack else "0"
                                    for i, v in enumerate(steps)]),
            (f"IRQ {d['IRQ_SYSTIMER_1']} pending", None)]
    for r, (name, cells) in enumerate(rows):
        ry = y + r * 40
        s.text(cx - 12, ry + 24, name, size=14, anchor="end", mono=True)
        if cells:
            for i, v in enumerate(cells):
                fill = FILL["note"] if (r == 2 and v == "1") else "#ffffff"
                s.rect(cx + i * cw, ry, cw, 36, fill=fill, sw=1)
                s.text(cx + i * cw + cw / 2, ry + 24, v, size=14, mono=True, anchor="middle")
        else:
            hi = [deadline <= v and i < ack for i, v in enumerate(steps)]
            pts = []
            for i, h in enumerate(hi):
                level = ry + 6 if h else ry + 30
                pts += [(cx + i * cw, level), (cx + (i + 1) * cw, level)]
            s.path(pts, sw=2.5, stroke="#b03030")
    ax = cx + ack * cw
    s.line(ax, y - 6, ax, y + 4 * 40, dash="6 4", stroke=GREY_INK)
    s.text(ax + 6, y + 4 * 40 + 16, f"handler: SYSTIMER_CS_M({tick_ch}) -> CS", size=13)
    diagram = (y - 42, y + 4 * 40 + 26)
    s.text(cx + 2 * cw + 6, y + 4 * 40 + 16, f"CLO == C{tick_ch}: a match", size=13)
    y += 4 * 40 + 50
    s.text(20, y, "Equal, not greater or equal: a deadline written after CLO passed it "
           "matches only when the counter comes round again,", size=14)
    s.text(20, y + 20, "2^32 microseconds later. No auto-reload either: a periodic tick "
           "writes each next deadline itself.", size=14)
    s.height = s.legend(20, y + 54, ["ours", "theirs"], columns=2, col_width=[420]) + 6
    if slide:
        s.view = (0, diagram[0], s.width, diagram[1] - diagram[0])
    return s


# ---- lesson 06: the frame bitmaps ----------------------------------------------------

def bitmap_06(L):
    d = L.d
    page, bits = d["PAGE_SIZE"], d["BITS_PER_WORD"]
    start, end = L.sym("__kernel_start"), L.sym("__kernel_end")
    nres = (end + page - 1) // page                     # pmm_reserve(0, __kernel_end)
    words = d["BITMAP_WORDS"]
    pphys, psize = d["PERIPHERAL_PHYS"], d["PERIPHERAL_SIZE"]

    s = Svg(1060, 10, "Lesson 06: physical memory and the frame bitmaps",
            "Physical memory from 0: frame 0, the kernel, free RAM up to where the firmware "
            "says the ARM's memory ends, the GPU's memory, the peripherals. Two bitmaps, used "
            "and reserved, have one bit per 4 KB frame.",
            L.source("PAGE_SIZE", "BITMAP_WORDS", "PERIPHERAL_PHYS", elf=True))
    s.text(20, 30, "Lesson 06: one bit per frame (pmm.c)", size=18, bold=True)

    x, w, y = 110, 220, 80
    s.text(x + w / 2, y - 10, "physical memory", size=15, bold=True, anchor="middle")
    rows = [(0, page, 40, "reserved", "frame 0: vectors, boot data"),
            (page, start, 40, "reserved", "below the load address"),
            (start, end, 70, "reserved", "kernel, with both bitmaps"),
            (end, None, 120, "free", "free RAM: frames to hand out"),
            (None, pphys, 60, "gpu", "the GPU's memory"),
            (pphys, pphys + psize, 50, "gpu", "peripherals: not RAM")]
    top = y
    for lo, hi, h, fill, label in rows:
        s.rect(x, y, w, h, fill=FILL[fill])
        s.text(x + w / 2, y + h / 2 + 5, label, size=14, anchor="middle")
        if lo is not None:
            s.text(x - 8, y + 5, hx(lo), size=13, mono=True, anchor="end")
        if lo is None:
            s.text(x + w + 10, y + 5, "the ARM's RAM ends where", size=13)
            s.text(x + w + 10, y + 23, "the firmware says", size=13)
            s.text(x + w + 10, y + 41, "(MBOX_TAG_GET_ARM_MEMORY)", size=13, mono=True)
        y += h
        if lo == start:
            res_bottom = y
    s.text(x - 8, y + 5, hx(pphys + psize), size=13, mono=True, anchor="end")
    s.path([(x + w + 4, top + 2), (x + w + 12, top + 2), (x + w + 12, res_bottom - 2),
            (x + w + 4, res_bottom - 2)], sw=2)
    s.text(x + w + 20, (top + res_bottom) / 2 - 4, "reserved at boot:", size=13)
    s.text(x + w + 20, (top + res_bottom) / 2 + 14, f"{nres} frames", size=13)
    s.text(x + w + 10, res_bottom + 5, "__kernel_end", size=13, mono=True)
    s.text(x + w + 10, res_bottom + 23, hx(end), size=13, mono=True)
    map_bottom = y

    # The bitmaps: word 0 of each, bit j = frame j.
    bx, cw = 560, 14
    s.text(bx, 96, f"used[] and reserved[]: {words} words of {bits} bits each "
           f"({words * bits // 8 // 1024} KB)", size=14, bold=True)
    s.text(bx, 116, f"bit j of word i: frame {bits} x i + j; word 0 after boot:", size=14)
    for r, (name, sym) in enumerate((("used", "used"), ("reserved", "reserved"))):
        ry = 170 + r * 70
        s.text(bx, ry - 8, f"{name}[0]", size=13, mono=True, bold=True)
        s.text(bx + 110, ry - 8, f"({name}[] at {hx(L.sym(sym))})", size=12, mono=True,
               fill=GREY_INK)
        for j in range(bits):
            on = j < nres
            s.rect(bx + j * cw, ry, cw, 30,
                   fill=FILL["reserved"] if on else FILL["free"], sw=1)
            s.text(bx + j * cw + cw / 2, ry + 21, "1" if on else "0", size=12,
                   mono=True, anchor="middle")
    for j in (0, 8, 16, 24, bits - 1):
        s.text(bx + j * cw + cw / 2, 300, str(j), size=12, anchor="middle",
               fill=GREY_INK)
    s.text(bx + bits * cw + 8, 300, "bit j", size=12, fill=GREY_INK)
    ty = 340
    s.text(bx, ty, "what a frame's two bits mean", size=14, bold=True)
    states = [("0", "0", "free", "free"), ("1", "0", "allocated", "allocated"),
              ("1", "1", "reserved (kernel, frame 0)", "reserved"),
              ("0", "1", "never", "free")]
    s.text(bx + 8, ty + 26, "used", size=13, mono=True)
    s.text(bx + 68, ty + 26, "reserved", size=13, mono=True)
    for i, (u, r, what, fill) in enumerate(states):
        yy = ty + 36 + i * 30
        s.rect(bx, yy, 380, 30, fill=FILL[fill], sw=1)
        s.text(bx + 20, yy + 20, u, size=13, mono=True)
        s.text(bx + 96, yy + 20, r, size=13, mono=True)
        s.text(bx + 160, yy + 20, what, size=13)
    y = max(map_bottom, ty + 36 + 4 * 30) + 40
    s.text(20, y, "Two bitmaps, not one: freeing a reserved frame is an error "
           "(PMM_ERR_RESERVED), freeing a free one a double free (PMM_ERR_NOT_ALLOCATED).",
           size=14)
    s.height = s.legend(20, y + 34, ["reserved", "allocated", "free", "gpu"], columns=2,
                        col_width=[430]) + 6
    return s


def bitmap_06_slide(L):
    """The slide's copy: physical memory and what a frame's two bits mean, drawn at
    the slide's own size (1160 px wide, shown 1:1), text 18 px and more."""
    d = L.d
    page = d["PAGE_SIZE"]
    start, end = L.sym("__kernel_start"), L.sym("__kernel_end")
    nres = (end + page - 1) // page                     # pmm_reserve(0, __kernel_end)
    pphys, psize = d["PERIPHERAL_PHYS"], d["PERIPHERAL_SIZE"]

    s = Svg(1160, 10, "Lesson 06: physical memory and a frame's two bits",
            "Physical memory from 0: frame 0, the kernel, free RAM up to where the firmware "
            "says the ARM's memory ends, the GPU's memory, the peripherals; and what the "
            "used and reserved bits of a frame mean.",
            L.source("PAGE_SIZE", "PERIPHERAL_PHYS", elf=True))
    x, w, y = 150, 340, 16
    rows = [(0, 44, "reserved", "frame 0: vectors, boot data"),
            (page, 44, "reserved", "below the load address"),
            (start, 64, "reserved", "kernel, with both bitmaps"),
            (end, 120, "free", "free RAM: frames to hand out"),
            (None, 60, "gpu", "the GPU's memory"),
            (pphys, 50, "gpu", "peripherals: not RAM")]
    top = y
    for lo, h, fill, label in rows:
        s.rect(x, y, w, h, fill=FILL[fill])
        s.text(x + w / 2, y + h / 2 + 7, label, size=19, anchor="middle")
        if lo is not None:
            s.text(x - 10, y + 6, hx(lo), size=18, mono=True, anchor="end")
        else:
            s.text(x + w + 14, y - 18, "the ARM's RAM ends", size=18)
            s.text(x + w + 14, y + 6, "where the firmware says", size=18)
            s.text(x + w + 14, y + 30, "(MBOX_TAG_GET_ARM_MEMORY)", size=18, mono=True)
        y += h
        if lo == start:
            res_bottom = y
    s.text(x - 10, y + 6, hx(pphys + psize), size=18, mono=True, anchor="end")
    s.path([(x + w + 4, top + 2), (x + w + 16, top + 2), (x + w + 16, res_bottom - 2),
            (x + w + 4, res_bottom - 2)], sw=2.5)
    s.text(x + w + 28, top + 40, f"reserved at boot: {nres} frames", size=19, bold=True)
    s.text(x + w + 28, top + 66, "pmm_reserve(0, __kernel_end)", size=18, mono=True)

    # What a frame's two bits mean.
    tx, ty = 820, res_bottom + 40
    s.text(tx, ty, "a frame's two bits", size=19, bold=True)
    s.text(tx + 14, ty + 34, "used", size=18, mono=True)
    s.text(tx + 90, ty + 34, "reserved", size=18, mono=True)
    states = [("0", "0", "free", "free"), ("1", "0", "allocated", "allocated"),
              ("1", "1", "reserved", "reserved"), ("0", "1", "never", "free")]
    for i, (u, r, what, fill) in enumerate(states):
        yy = ty + 46 + i * 38
        s.rect(tx, yy, 320, 38, fill=FILL[fill], sw=1)
        s.text(tx + 30, yy + 26, u, size=19, mono=True)
        s.text(tx + 124, yy + 26, r, size=19, mono=True)
        s.text(tx + 200, yy + 26, what, size=19)
    s.height = max(y + 6, ty + 46 + 4 * 38) + 16
    return s


# ---- lesson 07: the virtual memory map --------------------------------------------

def vmmap_07(L, slide=False):
    d = L.d
    kb, pb, psize, pphys = d["KERNEL_BASE"], d["PERIPHERAL_BASE"], d["PERIPHERAL_SIZE"], \
        d["PERIPHERAL_PHYS"]
    fixed, vectors, page = d["FIXED_L2_BASE"], d["HIGH_VECTORS"], d["SMALL_PAGE_SIZE"]
    split = 1 << (32 - d["TTBCR_N_2GB"])         # TTBR0 below, TTBR1 from here
    kstart, kend = L.sym("__kernel_start"), L.sym("__kernel_end")
    vec_pa = L.sym("__vectors_start") - kb
    assert split == kb, "the kernel half starts where TTBR1's half does"

    s = Svg(960, 720, "Lesson 07: the virtual memory map",
            "Virtual addresses 0 to 4 GB on the left, where they go in physical memory on "
            "the right: the kernel image at KERNEL_BASE + its physical address, the "
            "peripherals at PERIPHERAL_BASE, the high vectors in the top megabyte.",
            L.source("KERNEL_BASE", "PERIPHERAL_PHYS", "TTBCR_N_2GB", elf=True))
    s.text_scale = 1.35 if slide else 1.0     # a slide shows it smaller: larger text
    s.text(20, 30, "Lesson 07: the virtual memory map (memlayout.h)", size=18, bold=True)
    s.text(210, 62, "virtual (4 GB)", size=15, bold=True, anchor="middle")
    s.text(700, 62, "physical", size=15, bold=True, anchor="middle")

    vx, vw = 130, 200
    rows = [  # (start, end, height, fill, lines)
        (0, kb, 150, "fault", ["user space", "nothing mapped:", "NULL faults"]),
        (kb, kstart, 36, "fault", ["not mapped"]),
        (kstart, kend, 64, "image", ["kernel image", "4 KB pages"]),
        (kend, pb, 70, "fault", ["not mapped"]),
        (pb, pb + psize, 64, "device", ["peripherals", "1 MB sections"]),
        (pb + psize, fixed, 50, "fault", ["not mapped"]),
        (fixed, vectors, 46, "fault", ["top megabyte", "(fixed_l2)"]),
        (vectors, vectors + page, 34, "code", ["high vectors"]),
        (vectors + page, 1 << 32, 30, "fault", ["not mapped"]),
    ]
    y = 80
    ys = {}
    for start, end, h, fill, lines in rows:
        s.rect(vx, y, vw, h, fill=FILL[fill])
        s.text(vx - 8, y + 5, hx(start), size=13, mono=True, anchor="end")
        ty = y + h / 2 - (len(lines) - 1) * 9 * s.text_scale + 5
        for i, t in enumerate(lines):
            s.text(vx + vw / 2, ty + i * 18 * s.text_scale, t, size=14, anchor="middle")
        ys[start] = (y, y + h)
        y += h
    s.text(vx - 8, y + 5, hx((1 << 32) - 1), size=13, mono=True, anchor="end")
    bottom = y

    # Which table translates which half (TTBCR.N).
    top_kernel = ys[kb][0]
    for y0, y1, label in ((80, top_kernel, "TTBR0: user_l1"),
                          (top_kernel, bottom, "TTBR1: kernel_l1")):
        s.path([(vx + vw + 14, y0 + 3), (vx + vw + 22, y0 + 3), (vx + vw + 22, y1 - 3),
                (vx + vw + 14, y1 - 3)])
        s.text(vx + vw + 40, (y0 + y1) / 2, label, size=14, anchor="middle", rotate=True,
               bold=True)

    # Physical memory (not to scale either).
    px, pw = 640, 180
    phys = [
        (0, kstart - kb, 50, "free", ["RAM"]),
        (kstart - kb, kend - kb, 90, "image", ["kernel image", "(kernel.img)"]),
        (kend - kb, pphys, 150, "free", ["RAM: frames for", "pmm_alloc()"]),
        (pphys, pphys + psize, 64, "device", ["peripherals"]),
    ]
    y = 80
    pys = {}
    for start, end, h, fill, lines in phys:
        s.rect(px, y, pw, h, fill=FILL[fill])
        s.text(px + pw + 8, y + 5, hx(start), size=13, mono=True)
        ty = y + h / 2 - (len(lines) - 1) * 9 * s.text_scale + 5
        for i, t in enumerate(lines):
            s.text(px + pw / 2, ty + i * 18 * s.text_scale, t, size=14, anchor="middle")
        pys[start] = (y, y + h)
        y += h
    s.text(px + pw + 8, y + 5, hx(pphys + psize), size=13, mono=True)

    def arrow(vrow, prow, label, frac=0.5):
        vy = (ys[vrow][0] + ys[vrow][1]) / 2
        py = pys[prow][0] + (pys[prow][1] - pys[prow][0]) * frac
        s.path([(vx + vw + 60, vy), (px - 90, vy), (px - 4, py)], arrow=True)
        s.text(vx + vw + 66, vy - 7, label, size=13, fill=GREY_INK)

    arrow(kstart, kstart - kb, "va - KERNEL_BASE", 0.35)
    arrow(pb, pphys, "PERIPHERAL_PHYS")
    arrow(vectors, kstart - kb, f".vectors page {hx(vec_pa, 5)}", 0.75)

    y = bottom + 46
    s.text(20, y, f"TTBCR.N = {d['TTBCR_N_2GB']}: addresses with bit 31 clear use TTBR0's "
           "table, the others TTBR1's.", size=14)
    s.text(20, y + 22, f"Not to scale. Kernel image {hx(kstart)}-{hx(kend - 1)} "
           f"({(kend - kstart) // 1024} KB); peripherals {psize >> 20} MB; "
           f"a section is {d['SECTION_SIZE'] >> 20} MB, a small page "
           f"{d['SMALL_PAGE_SIZE'] // 1024} KB.", size=14)
    s.height = s.legend(20, y + 56, ["image", "code", "device", "fault"], columns=2,
                        col_width=420) + 6
    if slide:
        s.view = (0, 44, s.width, bottom - 44 + 14)
    return s


# ---- lesson 07: the kernel image, part by part -----------------------------------

def kernel_image_07(L):
    d = L.d
    kb = d["KERNEL_BASE"]
    sym = L.sym
    tables = sorted((sym(n), n) for n in ("fixed_l2", "image_l2", "user_l1", "kernel_l1"))
    stacks = sorted((sym(n), n) for n in L.syms if n.endswith("_stack_top"))
    parts = [  # (start, end, fill, name, what, rights)
        (sym("__text_start"), sym("__vectors_start"), "code", "text",
         ".text.boot, .text", "read-only, executable"),
        (sym("__vectors_start"), sym("__text_end"), "code", "vectors",
         ".vectors: also at HIGH_VECTORS", "read-only, executable"),
        (sym("__rodata_start"), sym("__rodata_end"), "const", "rodata",
         ".rodata, shell commands", "read-only, XN"),
        (sym("__data_start"), tables[0][0], "data", "data, bss",
         f".bss from {hx(sym('__bss_start'))}", "read/write, XN"),
        (tables[0][0], sym("__pagetables_end"), "tables", "page tables",
         ", ".join(n for _, n in tables), "read/write, XN"),
        (sym("__pagetables_end"), sym("__kernel_end"), "data", "stacks",
         stack_sizes(stacks, sym("__pagetables_end")), "read/write, XN"),
    ]
    assert sym("__text_end") == sym("__rodata_start"), "rodata follows the vectors page"
    assert stacks and stacks[-1][0] == sym("__kernel_end"), "the stacks end the image"

    s = Svg(1010, 170 + 64 * len(parts) + 70, "Lesson 07: the kernel image in 4 KB pages",
            "Each part of the kernel image starts on a page boundary, so each gets its "
            "own permissions: code read-only and executable, constants read-only and "
            "never executable, everything else read/write and never executable.",
            L.source("KERNEL_BASE", elf=True))
    s.text(20, 30, "Lesson 07: the kernel image, part by part (kernel.ld)", size=18, bold=True)
    s.text(20, 56, "Each part starts on a page boundary, so each has its own rights.",
           size=14)
    x, w, y = 170, 230, 104
    s.text(x - 10, y - 10, "virtual", size=14, bold=True, anchor="end")
    s.text(x + w + 10, y - 10, "physical", size=14, bold=True)
    s.text(x + w + 130, y - 10, "what", size=14, bold=True)
    s.text(x + w + 420, y - 10, "kernel may", size=14, bold=True)
    for start, end, fill, name, what, rights in parts:
        h = 64
        s.rect(x, y, w, h, fill=FILL[fill])
        s.text(x - 10, y + 5, hx(start), size=13, mono=True, anchor="end")
        s.text(x + w + 10, y + 5, hx(start - kb), size=13, mono=True, fill=GREY_INK)
        s.text(x + w / 2, y + 28, name, size=15, bold=True, anchor="middle")
        s.text(x + w / 2, y + 48, f"{(end - start) // 1024} KB", size=13, anchor="middle")
        s.text(x + w + 130, y + 37, what, size=13, mono=what.startswith("."))
        s.text(x + w + 420, y + 37, rights, size=14)
        y += h
    s.text(x - 10, y + 5, hx(sym("__kernel_end")), size=13, mono=True, anchor="end")
    s.text(x + w + 10, y + 5, hx(sym("__kernel_end") - kb), size=13, mono=True, fill=GREY_INK)
    s.text(x + w + 130, y + 5, "__kernel_end", size=13, mono=True)
    s.legend(20, y + 44, ["code", "const", "data", "tables"], columns=2, col_width=420)
    return s


def stack_sizes(tops, base):
    """"SVC 16 KB, IRQ 4 KB, ..." from the *_stack_top symbols, lowest first."""
    out = []
    for top, name in tops:
        out.append(f"{name.split('_')[0].upper()} {(top - base) // 1024} KB")
        base = top
    return ", ".join(out)


# ---- lesson 07: the descriptors' bit fields ---------------------------------------

BIT_W = 29          # pixels per bit in a descriptor strip

# Field widths the architecture fixes and mmu.h does not spell out (its macros give
# each field's lowest bit): the TEX, AP and domain fields [ARM ARM B4.7].
FIELD_WIDTH = {"TEX": 3, "AP": 2, "domain": 4}
# Bits mmu.h names no macro for, by what the ARM ARM calls them.
UNNAMED = {"section": {19: "NS", 18: "0", 9: "P"},
           "coarse": {9: "P", 4: "0", 3: "NS", 2: "0"},
           "small": {}}


def descriptor_fields(d, kind):
    """[(high, low, label, macro, value or None)] of one descriptor, from mmu.h."""
    def bit(label, macro):
        hi, lo = C.field_bits(d[macro])
        return (hi, lo, label, macro, None)

    def fn(label, macro):
        lo = C.field_bits(d.value(macro, 1))[1]
        return (lo + FIELD_WIDTH[label] - 1, lo, label, macro + "()", None)

    def typ(mask, value):
        hi, lo = C.field_bits(d[mask])
        return (hi, lo, "type", value, format(d[value] >> lo, f"0{hi - lo + 1}b"))

    if kind == "section":
        f = [bit("base", "PMD_SECT_BASE_MASK"), bit("nG", "PMD_SECT_NG"),
             bit("S", "PMD_SECT_S"), bit("APX", "PMD_SECT_APX"), fn("TEX", "PMD_SECT_TEX"),
             fn("AP", "PMD_SECT_AP"), fn("domain", "PMD_DOMAIN"), bit("XN", "PMD_SECT_XN"),
             bit("C", "PMD_SECT_C"), bit("B", "PMD_SECT_B"), typ("PMD_TYPE_MASK", "PMD_TYPE_SECT")]
    elif kind == "coarse":
        f = [bit("L2 table base", "PMD_TABLE_BASE_MASK"), fn("domain", "PMD_DOMAIN"),
             typ("PMD_TYPE_MASK", "PMD_TYPE_TABLE")]
    else:
        hi, lo = C.field_bits(d["PTE_TYPE_SMALL"])
        f = [bit("page base", "PTE_BASE_MASK"), bit("nG", "PTE_NG"), bit("S", "PTE_S"),
             bit("APX", "PTE_APX"), fn("TEX", "PTE_TEX"), fn("AP", "PTE_AP"),
             bit("C", "PTE_C"), bit("B", "PTE_B"), (hi, lo, "type", "PTE_TYPE_SMALL", "1"),
             bit("XN", "PTE_XN")]
    used = set()
    for hi, lo, label, *_ in f:
        bits = set(range(lo, hi + 1))
        assert not bits & used, f"{kind}: {label} overlaps another field"
        used |= bits
    for b, name in UNNAMED[kind].items():
        assert b not in used, f"{kind}: bit {b} is {name} but mmu.h uses it"
        f.append((b, b, name, None, None))
        used.add(b)
    assert used == set(range(32)), f"{kind}: bits {sorted(set(range(32)) - used)} unexplained"
    return sorted(f, reverse=True)


def strip(s, x, y, fields, title, note, macros=True):
    """One descriptor: bit numbers above, fields in the bar, macros below (unless
    macros is False: a slide's copy, where the deck shows the macros as code)."""
    h = 46
    s.text(x, y - 34, title, size=15, bold=True)
    s.text(x + 32 * BIT_W, y - 34, note, size=13, anchor="end", fill=GREY_INK)
    below = 0
    for hi, lo, label, macro, value in fields:
        fx = x + (31 - hi) * BIT_W
        fw = (hi - lo + 1) * BIT_W
        s.rect(fx, y, fw, h, fill=FILL["fault"] if macro is None else "#ffffff")
        s.text(fx + 3, y - 6, str(hi), size=12, fill=GREY_INK)
        if hi != lo:
            s.text(fx + fw - 3, y - 6, str(lo), size=12, anchor="end", fill=GREY_INK)
        label_size = 14 if text_width(label, 14 * s.text_scale) < fw - 4 else 12
        s.text(fx + fw / 2, y + (20 if value else 29), label, size=label_size, anchor="middle",
               fill=INK_FOR(macro))
        if value:
            s.text(fx + fw / 2, y + 38, value, size=13, mono=True, anchor="middle")
        if macro and macros:
            if text_width(macro, 12, mono=True) < fw - 6:
                s.text(fx + fw / 2, y + h + 18, macro, size=12, mono=True, anchor="middle")
            else:
                s.text(fx + fw / 2 + 4, y + h + 8, macro, size=12, mono=True, anchor="end",
                       rotate=True)
                below = max(below, text_width(macro, 12, mono=True))
    return y + h + (max(below + 14, 30) if macros else 0)


def INK_FOR(macro):
    return GREY_INK if macro is None else "#1a1a1a"


def descriptors_07(L, slide=False):
    d = L.d
    kinds = [("section", "L1 entry: section (1 MB)", "bits 1:0 = PMD_TYPE_SECT"),
             ("coarse", "L1 entry: pointer to an L2 table (coarse page table)",
              "bits 1:0 = PMD_TYPE_TABLE"),
             ("small", "L2 entry: small page (4 KB), SCTLR.XP = 1", "bit 1 set; bit 0 is XN")]
    fields = {k: descriptor_fields(d, k) for k, _, _ in kinds}
    s = Svg(32 * BIT_W + 60, 10, "Lesson 07: L1 and L2 descriptors, bit by bit",
            "The three descriptor formats piOS uses, each field with its bits and the mmu.h "
            "macro that builds it.", L.source("PMD_TYPE_SECT", "PTE_XN"))
    s.text_scale = 1.2 if slide else 1.0
    s.text(30, 30, "Lesson 07: the descriptors, bit by bit (mmu.h)", size=18, bold=True)
    y = 100
    for k, title, note in kinds:
        y = strip(s, 30, y, fields[k], title, note, macros=not slide) + (56 if not slide else 72)
    s.rect(30, y - 40, 18, 14, fill=FILL["fault"], sw=1)
    s.text(56, y - 28, "grey: a bit mmu.h has no macro for (piOS leaves it 0)", size=13)
    s.height = round(y - 10)
    if slide:
        s.view = (24, 44, s.width - 30, s.height - 44)
    return s


# ---- lesson 07: walking one address -------------------------------------------------

def walk_07(L, slide=False):
    d = L.d
    kb = d["KERNEL_BASE"]
    offset_example = 0x123
    va = L.sym("__rodata_start") + offset_example
    l1i, l2i = d.value("L1_INDEX", va), d.value("L2_INDEX", va)
    page_mask = d["SMALL_PAGE_SIZE"] - 1
    off = va & page_mask
    l1_hi = 31
    l1_lo = 32 - d.value("L1_INDEX", 0xFFFFFFFF).bit_length()      # L1_INDEX: va >> 20
    assert d.value("L1_INDEX", 0xFFFFFFFF) == d["L1_ENTRIES"] - 1
    l2_lo = C.field_bits(d["SMALL_PAGE_SIZE"])[1]
    l2_hi = l1_lo - 1
    assert d.value("L2_INDEX", 0xFFFFFFFF) == d["L2_ENTRIES"] - 1
    assert (d["L2_ENTRIES"] - 1).bit_length() == l2_hi - l2_lo + 1
    l1_pa = L.sym("kernel_l1") - kb
    ttbr1 = l1_pa | d["TTBR_WALK_CACHED"]
    l1e_pa = l1_pa + 4 * l1i
    l2_pa = L.sym("image_l2") - kb + (l1i - d.value("L1_INDEX", L.sym("__kernel_start"))) \
        * d["L2_TABLE_SIZE"]
    l1e = l2_pa | d["L1_TABLE"]
    l2e_pa = l2_pa + 4 * l2i
    page_pa = (va - kb) & ~page_mask
    pa = page_pa | off

    s = Svg(1000, 600, "Lesson 07: walking a virtual address through the tables",
            f"The MMU translates {hx(va)}: TTBR1 gives the L1 table, the top 12 bits "
            "index it, the entry points to an L2 table, the next 8 bits index that, the "
            "entry gives the page, the low 12 bits are the offset.",
            L.source("L1_INDEX", "KERNEL_BASE", "TTBR_WALK_CACHED", "L1_TABLE", elf=True))
    s.text_scale = 1.1 if slide else 1.0
    s.text(20, 30, f"Lesson 07: the MMU walks va = {hx(va)} (in .rodata)", size=18, bold=True)

    # The virtual address, split.
    bw, bx, by = 24, 116, 90
    fields = [(l1_hi, l1_lo, "L1 index", l1i, 3, "code"),
              (l2_hi, l2_lo, "L2 index", l2i, 2, "const"),
              (l2_lo - 1, 0, "offset in the page", off, 3, "data")]
    s.text(bx - 10, by + 30, "va", size=15, bold=True, anchor="end")
    centers = {}
    for hi, lo, label, v, digits, fill in fields:
        fx, fw = bx + (31 - hi) * bw, (hi - lo + 1) * bw
        s.rect(fx, by, fw, 44, fill=FILL[fill])
        s.text(fx + 3, by - 6, str(hi), size=12, fill=GREY_INK)
        s.text(fx + fw - 3, by - 6, str(lo), size=12, fill=GREY_INK, anchor="end")
        s.text(fx + fw / 2, by + 19, label, size=14, anchor="middle")
        s.text(fx + fw / 2, by + 37, hx(v, digits), size=14, mono=True, anchor="middle",
               bold=True)
        centers[label] = fx + fw / 2
    s.text(20, 52, "The fields are mmu.h's L1_INDEX(va) and L2_INDEX(va). Tables, entries "
           "and pages are at physical addresses.", size=14)

    # Registers and tables: every address below is physical.
    ty = by + 190

    def table(x, w, title, sub, rows, hit):
        s.text(x, ty - 30, title, size=15, bold=True)
        s.text(x, ty - 12, sub, size=13, mono=True)
        rh = 30
        for i, (idx, body) in enumerate(rows):
            fill = FILL["note"] if i == hit else "#ffffff"
            s.rect(x, ty + i * rh, w, rh, fill=fill)
            s.text(x + 6, ty + i * rh + 20, idx, size=13, mono=True, bold=(i == hit))
            s.text(x + 70, ty + i * rh + 20, body, size=13, mono=True)
        return ty + hit * rh + rh / 2

    s.rect(20, ty, 170, 60, fill=FILL["reg"])
    s.text(30, ty + 24, "TTBR1", size=15, bold=True)
    s.text(30, ty + 46, hx(ttbr1), size=14, mono=True)
    s.text(20, ty + 82, "kernel_l1's physical", size=13)
    s.text(20, ty + 100, "address | TTBR_WALK_CACHED", size=13)

    x1, x2, x3 = 250, 520, 790
    l1_row = table(x1, 220, "L1: kernel_l1 (16 KB)", f"at {hx(l1_pa)}",
                   [("[0x000]", "..."), (f"[{hx(l1i, 3)}]", hx(l1e)), ("", "..."),
                    ("[0xFFF]", "...")], 1)
    l2_row = table(x2, 220, "L2: image_l2 (1 KB)", f"at {hx(l2_pa)}",
                   [("[0x00]", "..."), (f"[{hx(l2i, 2)}]", "small page"), ("", "..."),
                    ("[0xFF]", "...")], 1)
    s.text(x3, ty - 30, "the 4 KB page", size=15, bold=True)
    s.text(x3, ty - 12, f"at {hx(page_pa)}", size=13, mono=True)
    s.rect(x3, ty, 190, 120, fill=FILL["const"])
    s.rect(x3, ty + 60, 190, 26, fill=FILL["note"])
    s.text(x3 + 6, ty + 78, f"+{hx(off, 3)}: pa {hx(pa)}", size=13, mono=True, bold=True)

    # Arrows: TTBR1 to the table, index fields to their rows, entry to the next table.
    s.path([(190, ty + 30), (x1 - 4, ty + 6)], arrow=True)
    s.path([(centers["L1 index"], by + 44), (centers["L1 index"], by + 96), (x1 + 110, by + 96),
            (x1 + 110, ty - 46)], arrow=True)
    s.text(x1 + 118, by + 120, f"+ 4 x {hx(l1i, 3)}", size=13, mono=True)
    s.path([(centers["L2 index"], by + 44), (centers["L2 index"], by + 80), (x2 + 110, by + 80),
            (x2 + 110, ty - 46)], arrow=True)
    s.text(x2 + 118, by + 120, f"+ 4 x {hx(l2i, 2)}", size=13, mono=True)
    s.path([(centers["offset in the page"], by + 44), (centers["offset in the page"], by + 64),
            (x3 + 160, by + 64), (x3 + 160, ty - 46)], arrow=True)
    s.text(x3 + 40, by + 120, f"+ {hx(off, 3)}", size=13, mono=True)
    s.path([(x1 + 220, l1_row), (x2 - 4, ty + 4)], arrow=True)
    s.path([(x2 + 220, l2_row), (x3 - 4, ty + 4)], arrow=True)

    y = ty + 160
    s.text(x1, y, f"entry at {hx(l1e_pa)}:", size=13, mono=True)
    s.text(x1, y + 20, "type 01: an L2 table,", size=13)
    s.text(x1, y + 38, f"base {hx(l2_pa)}, domain 0", size=13)
    s.text(x2, y, f"entry at {hx(l2e_pa)}:", size=13, mono=True)
    s.text(x2, y + 20, "type 1x: a small page,", size=13)
    s.text(x2, y + 38, f"base {hx(page_pa)}, XN", size=13)
    s.text(x3, y, f"pa = {hx(page_pa)}", size=13, mono=True)
    s.text(x3, y + 20, f"   | {hx(off, 3)}", size=13, mono=True)
    s.text(x3, y + 38, f"   = {hx(pa)}", size=13, mono=True, bold=True)
    s.text(20, y + 84, "Every address the walk reads is physical: the MMU does not translate "
           "its own reads. The TLB keeps the result,", size=14)
    s.text(20, y + 104, "so the walk happens only on a TLB miss.", size=14)
    if slide:
        s.view = (0, by - 24, s.width, y + 48 - (by - 24))
    return s


# ---- lesson 08: the scratch page ---------------------------------------------------

def _box(s, x, y, w, h, lines, fill="#ffffff", size=14, bold_first=False):
    s.rect(x, y, w, h, fill=FILL.get(fill, fill), rx=6)
    step = size * s.text_scale + 4
    ty = y + h / 2 - (len(lines) - 1) * step / 2 + size * s.text_scale / 3
    for i, t in enumerate(lines):
        s.text(x + w / 2, ty + i * step, t, size=size, anchor="middle",
               bold=bold_first and i == 0)


def scratch_08(L, slide=False):
    d = L.d
    kb, fixed, vectors = d["KERNEL_BASE"], d["FIXED_L2_BASE"], d["HIGH_VECTORS"]
    slots = [d.value("SCRATCH_VA", n) for n in range(d["SCRATCH_PAGES"])]
    assert all(d.value("L1_INDEX", v) == d.value("L1_INDEX", fixed) for v in slots + [vectors])
    fixed_va = L.sym("fixed_l2")
    fixed_pa = fixed_va - kb
    top = d.value("L1_INDEX", fixed)
    l1e = fixed_pa | d["L1_TABLE"]
    last = d["L2_ENTRIES"] - 1

    s = Svg(1120, 600, "Lesson 08: the scratch page, the catch-22 and the way out",
            "Left: to write a new L2 table the kernel needs a mapping, and a mapping may need "
            "a new L2 table. Right: the top megabyte's L2 table, fixed_l2, is part of the "
            "kernel image and always mapped; two of its entries are scratch pages that can "
            "point at any frame for a moment.",
            L.source("SCRATCH_VA", "FIXED_L2_BASE", "L1_TABLE", elf=True))
    s.text_scale = 1.25 if slide else 1.0
    s.text(20, 30, "Lesson 08: the scratch page", size=18, bold=True)

    # Left: the loop.
    s.text(20, 66, "The catch-22", size=16, bold=True)
    bx, bw, bh = 40, 380, 62
    steps = [["vmm_map(va, pa)", "L1[L1_INDEX(va)] is a fault entry:", "the megabyte needs an L2 table"],
             ["pmm_alloc(): a frame for it", "a physical address, full of garbage"],
             ["zero the table before L1 points at it", "but a store needs a virtual address"],
             ["map the frame at some virtual page", "whose megabyte may have no L2 table"]]
    ys = [84, 186, 288, 390]
    for y, lines in zip(ys, steps):
        _box(s, bx, y, bw, bh + (8 if len(lines) == 3 else 0), lines, size=14, bold_first=True)
    for y0, y1 in zip(ys, ys[1:]):
        s.line(bx + bw / 2, y0 + bh + (8 if y0 == ys[0] else 0), bx + bw / 2, y1 - 2, arrow=True)
    s.path([(bx + bw, ys[3] + bh / 2), (bx + bw + 30, ys[3] + bh / 2),
            (bx + bw + 30, ys[1] + bh / 2), (bx + bw + 4, ys[1] + bh / 2)], arrow=True,
           stroke="#b03030", sw=2)
    s.text(bx + bw + 22, (ys[1] + ys[3] + bh) / 2, "again", size=14, fill="#b03030",
           rotate=True, anchor="middle", bold=True)
    s.text(bx, ys[3] + bh + 34, "Every way to write the new table needs a mapping,", size=14)
    s.text(bx, ys[3] + bh + 54, "and a mapping may need a new table.", size=14)

    # Right: kernel_l1's top entry, fixed_l2 and its scratch entries.
    rx = 520
    s.text(rx, 66, "The way out: an L2 entry that always exists", size=16, bold=True)
    s.text(rx, 96, "kernel_l1", size=14, bold=True)
    s.rect(rx, 104, 190, 30, fill=FILL["tables"])
    s.text(rx + 6, 124, f"[{hx(top, 3)}] {hx(l1e)}", size=13, mono=True)
    s.text(rx, 154, "FIXED_L2_BASE", size=13, mono=True)
    s.text(rx, 172, hx(fixed), size=13, mono=True)

    fx, fw = 730, 360
    s.text(fx, 96, "fixed_l2 (1 KB)", size=14, bold=True)
    s.text(fx, 112 + 2, f"at {hx(fixed_pa)}, in the image", size=13, mono=False)
    rows = []
    prev = 0
    marks = [(d.value("L2_INDEX", v), f"SCRATCH_VA({n})", hx(v), "scratch")
             for n, v in enumerate(slots)]
    marks.append((d.value("L2_INDEX", vectors), "HIGH_VECTORS", hx(vectors), "code"))
    for idx, name, addr, fill in sorted(marks):
        if idx > prev:
            rows.append((f"[{hx(prev, 2)}-{hx(idx - 1, 2)}]", "fault", "fault"))
        rows.append((f"[{hx(idx, 2)}]", f"{name} {addr}", fill))
        prev = idx + 1
    if prev <= last:
        rows.append((f"[{hx(prev, 2)}-{hx(last, 2)}]", "fault", "fault"))
    ry, rh = 124, 34
    centres = {}
    for idx, label, fill in rows:
        s.rect(fx, ry, fw, rh, fill=FILL[fill])
        s.text(fx + 6, ry + 22, idx, size=13, mono=True)
        s.text(fx + 116, ry + 22, label, size=13, mono=label != "fault",
               fill=GREY_INK if label == "fault" else "#1a1a1a")
        centres[label.split()[0]] = ry + rh / 2
        ry += rh
    s.path([(rx + 190, 119), (fx - 4, 128)], arrow=True)

    # Where the entries point.
    ay = ry + 60
    _box(s, fx + 40, ay, fw - 40, 78, ["any frame, for a moment:", "a new L2 table to zero,",
                             "an L2 table to edit"], fill="free", size=13)
    for n in range(len(slots)):
        cy = centres[f"SCRATCH_VA({n})"]
        s.path([(fx + fw, cy), (fx + fw + 10 + 6 * n, cy), (fx + fw + 10 + 6 * n, ay + 20 + 12 * n),
                (fx + fw + 2, ay + 20 + 12 * n)], arrow=True, dash="6 4")
    vy = centres["HIGH_VECTORS"]
    s.text(rx, vy - 6, "the .vectors page", size=13)
    s.text(rx, vy + 12, "(lesson 07)", size=13)
    s.line(fx, vy, rx + text_width("the .vectors page", 13 * s.text_scale) + 10, vy,
           arrow=True)

    ny = ay + 112
    for i, line in enumerate([
            "fixed_l2 is part of the kernel image, always mapped",
            f"(at virtual {hx(fixed_va)}): the kernel writes its entries",
            "with plain stores. Pointing a scratch page at a frame",
            "never needs a new mapping: the loop is broken."]):
        s.text(rx, ny + i * 20, line, size=14)
    s.height = ny + 4 * 20 + 50
    s.legend(20, s.height - 30, ["tables", "scratch", "code", "fault"], columns=4,
             col_width=[150, 340, 240])
    if slide:
        s.view = (rx - 10, 80, s.width - rx + 10, ay + 90 - 80)
    return s


def l2_frames_08(L, slide=False):
    d = L.d
    page, table = d["PAGE_SIZE"], d["L2_TABLE_SIZE"]
    quarters = d["L2_QUARTERS"]
    assert quarters * table == page
    heap_mb = d.value("L1_INDEX", d["HEAP_BASE"])
    entries = d["L2_ENTRIES"]
    flag = d["L1_TABLE"]

    s = Svg(1040, 470, "Lesson 08: four 1 KB L2 tables in one 4 KB frame",
            "An L2 table is 1 KB; a frame is 4 KB. vmm.c keeps l2_frames[], each frame with a "
            "mask of the quarters that hold a table; L1 entries point at the quarters.",
            L.source("L2_QUARTERS", "L2_TABLE_SIZE", "PAGE_SIZE", "HEAP_BASE", "L1_TABLE"))
    s.text_scale = 1.15 if slide else 1.0
    s.text(20, 30, f"Lesson 08: {quarters} L2 tables of {table // 1024} KB in one "
           f"{page // 1024} KB frame", size=18, bold=True)

    fx, fw, qh = 450, 340, 78
    fy = 110
    s.text(fx, fy - 14, "a frame from pmm_alloc(), at pa", size=14, bold=True)
    used_bits = 0b11
    owners = [f"{hx(heap_mb, 3)} (HEAP_BASE)", "another megabyte m"]
    for q in range(quarters):
        y = fy + q * qh
        busy = q < len(owners)
        s.rect(fx, y, fw, qh, fill=FILL["tables"] if busy else FILL["free"])
        s.text(fx - 8, y + 18, f"pa + {hx(q * table, 3)}", size=13, mono=True, anchor="end")
        if busy:
            s.text(fx + fw / 2, y + 32, f"L2 table of {owners[q]}", size=15, anchor="middle")
            s.text(fx + fw / 2, y + 54, f"{entries} entries x 4 bytes", size=13,
                   anchor="middle", fill=GREY_INK)
        else:
            s.text(fx + fw / 2, y + 44, "free quarter", size=14, anchor="middle",
                   fill=GREY_INK)
    s.text(fx - 8, fy + quarters * qh + 5, f"pa + {hx(page, 4)}", size=13, mono=True,
           anchor="end")

    # L1 entries pointing at the quarters.
    lx = 16
    s.text(lx, fy - 14, "kernel_l1", size=14, bold=True)
    for q, name in enumerate([f"[{hx(heap_mb, 3)}]", "[m]"]):
        y = fy + q * qh + 14
        s.rect(lx, y, 262, 34, fill=FILL["tables"])
        s.text(lx + 6, y + 22, f"{name} pa + {hx(q * table, 3)} | {hx(flag, 3)}", size=13,
               mono=True)
        s.path([(lx + 262, y + 17), (fx - 4, fy + q * qh + qh / 2)], arrow=True)
    s.text(lx, fy + 2 * qh + 40, f"L1_TABLE = {hx(flag, 3)}: an L2 table, domain 0", size=13)
    hi, lo = C.field_bits(d["PMD_TABLE_BASE_MASK"])
    s.text(lx, fy + 2 * qh + 60, f"(bits {hi}:{lo} hold a {table // 1024} KB-aligned address)",
           size=13)

    # The bookkeeping.
    bx = 830
    s.text(bx, fy - 14, "l2_frames[i]", size=14, bold=True)
    s.rect(bx, fy, 180, 34, fill=FILL["reg"])
    s.text(bx + 6, fy + 22, "pa", size=13, mono=True)
    s.rect(bx, fy + 34, 180, 34, fill=FILL["reg"])
    s.text(bx + 6, fy + 56, "used = 0b" + format(used_bits, f"0{quarters}b"), size=13,
           mono=True)
    s.text(bx, fy + 94, "bit q: quarter q", size=13)
    s.text(bx, fy + 112, "holds a table", size=13)
    s.text(bx, fy + 140, f"{d['L2_FRAMES_MAX']} frames:", size=13)
    s.text(bx, fy + 158, f"{d['L2_FRAMES_MAX'] * quarters} tables", size=13)

    y = fy + quarters * qh + 44
    for i, line in enumerate([
            "A new table takes the first free quarter of a frame in use; a new frame only "
            "when every quarter is taken.",
            "A table whose last page is unmapped gives its quarter back; the last quarter "
            "gives the frame back."]):
        s.text(20, y + i * 22, line, size=14)
    s.legend(20, y + 60, ["tables", "free"], columns=2, col_width=300)
    s.height = y + 80
    if slide:
        s.view = (0, fy - 40, s.width, quarters * qh + 56)
    return s


# ---- lesson 09: the stack of a switched-out thread ---------------------------------

# What a called function must give back to its caller [AAPCS 5.1.1]: r4-r11 (and sp,
# kept in t->sp), and the return address. cpu_switch is called like a function, so
# that is what a switched-out thread keeps on its stack.
CALLEE_SAVED = [f"r{n}" for n in range(4, 12)]


def switch_frames_09(L, slide=False):
    d = L.d
    regs = C.struct_fields(L.path / "panic.h", "regs")
    frame_words = sum(n for _, n in regs)
    assert frame_words * 4 == d["FRAME_SIZE"], "struct regs and vectors.S's FRAME_SIZE agree"
    nine = len(CALLEE_SAVED) + 1
    size = d["THREAD_STACK_SIZE"]

    s = Svg(1050, 10, "Lesson 09: the stack of a switched-out thread",
            "Three ways a thread's stack looks while it is not running: new, having given "
            "the CPU away, preempted by the tick. Each ends with the words cpu_switch pops, "
            "and t->sp points at them.",
            L.source("THREAD_STACK_SIZE", "FRAME_SIZE") + f", lessons/{L.name}/panic.h")
    s.text_scale = 1.15 if slide else 1.0
    s.text(20, 30, "Lesson 09: what t->sp points at", size=18, bold=True)
    s.text(20, 54, f"A thread's stack: {size} bytes (THREAD_STACK_SIZE) from kmalloc(), "
           "growing down. Higher addresses at the top.", size=14)

    def column(x, title, sub, rows):
        w = 280
        s.text(x, 96, title, size=15, bold=True)
        s.text(x, 116, sub, size=13, fill=GREY_INK)
        y = 140
        s.text(x + w + 8, y + 5, "top", size=13, mono=True)
        for label, words, fill, note in rows:
            h = 28 if words == 1 else 44
            s.rect(x, y, w, h, fill=FILL[fill])
            s.text(x + 8, y + h / 2 + 5, label, size=13, mono=fill != "cframes")
            if note:
                s.text(x + w - 8, y + h / 2 + 5, note, size=13, anchor="end", fill=GREY_INK)
            y += h
        s.line(x + w + 60, y, x + w + 4, y, arrow=True)
        s.text(x + w + 8, y - 8, "t->sp", size=13, mono=True, bold=True)
        s.rect(x, y, w, 40, fill=FILL["free"], dash="5 4")
        s.text(x + w / 2, y + 25, "free", size=13, anchor="middle", fill=GREY_INK)
        return y + 40

    words = [(f"{CALLEE_SAVED[-1]} ... {CALLEE_SAVED[0]}", len(CALLEE_SAVED))]
    bottoms = []
    bottoms.append(column(30, "A new thread", "thread_create() built it",
                          [("lr = thread_start", 1, "switch", "into pc"),
                           (words[0][0] + " = 0", words[0][1], "switch",
                            f"top - {nine * 4}")]))
    bottoms.append(column(365, "It gave the CPU away", "yield, sleep, wait, a mutex",
                          [("its calls, down to schedule()", 3, "cframes", None),
                           ("lr: after schedule()", 1, "switch", None),
                           (words[0][0], words[0][1], "switch", None)]))
    frame = []
    offset = d["FRAME_SIZE"]
    for name, n in reversed(regs):
        offset -= 4 * n
        label = f"{name}0-{name}{n - 1}" if n > 1 else name
        frame.append((label, n, "irqframe", f"+{offset}"))
    bottoms.append(column(700, "The tick preempted it", "an interrupt at any instruction",
                          [("its calls", 3, "cframes", None)] + frame +
                          [("irq_entry's words", 1, "misc", None),
                           ("lr: back to exception_return", 1, "switch", None),
                           (words[0][0], words[0][1], "switch", None)]))
    y = max(bottoms) + 34
    s.text(20, y, f"The interrupt frame is struct regs (panic.h): {frame_words} words, "
           f"FRAME_SIZE = {d['FRAME_SIZE']} bytes; offsets from its lowest word.", size=14)
    s.text(20, y + 22, f"cpu_switch pops {nine} words whichever way the thread left: it "
           "cannot tell the three apart.", size=14)
    s.height = s.legend(20, y + 58, ["cframes", "irqframe", "switch", "misc", "free"], columns=2,
                        col_width=470) + 6
    if slide:
        s.view = (0, 76, s.width, max(bottoms) + 8 - 76)
    return s


# ---- lesson 10: a process's address space ------------------------------------------

def user_link_address(lesson_path):
    """Where user programs are linked: the first `. = ADDR;` of user/user.ld."""
    import re
    text = (Path(lesson_path) / "user" / "user.ld").read_text()
    m = re.search(r"^\s*\.\s*=\s*(0x[0-9A-Fa-f]+)\s*;", text, re.M)
    assert m, "user/user.ld sets no link address"
    return int(m.group(1), 16)


def address_space_facts(L):
    """What both lesson 10 pictures draw, from the code: the user half's pages and
    the kernel half's regions, the split, the ASID's width and the L1 tables' sizes."""
    d = L.d
    top, stack_top = d["USER_TOP"], d["USER_STACK_TOP"]
    kb = d["KERNEL_BASE"]
    assert top == kb == 1 << (32 - d["TTBCR_N_2GB"])
    return (d, top, stack_top, stack_top - d["USER_STACK_PAGES"] * d["PAGE_SIZE"],
            user_link_address(L.path), kb, d["VMM_BASE"], d["USER_L1_WINDOW"],
            d["USER_L1_WINDOW_SIZE"], d["PERIPHERAL_BASE"], d["PERIPHERAL_SIZE"],
            d["FIXED_L2_BASE"], d["ASID_MAX"].bit_length(), d["L1_USER_ENTRIES"] * 4,
            d["L1_ENTRIES"] * 4)


def addrspace_10(L):
    (d, top, stack_top, stack_low, text, kb, vmm, win, win_size, pb, psize, fixed,
     asid_bits, user_l1, kernel_l1) = address_space_facts(L)

    s = Svg(1120, 10, "Lesson 10: a process's address space, TTBR0, TTBR1 and the ASID",
            "The kernel half above 0x80000000 is translated through TTBR1 by kernel_l1, the same "
            "for every process, with global pages. The user half is each process's own 8 KB "
            "table in TTBR0, with non-global pages tagged in the TLB with the ASID in CONTEXTIDR.",
            L.source("USER_TOP", "ASID_MAX", "L1_USER_ENTRIES", "KERNEL_BASE") +
            f", lessons/{L.name}/user/user.ld")
    s.text(20, 30, "Lesson 10: two processes, one kernel", size=18, bold=True)

    ax, cw, gap = 130, 210, 30
    bx = ax + cw + gap
    # The kernel half: one band across both processes.
    krows = [(fixed, (1 << 32), "fixed L2: scratch pages, vectors", "tables"),
             (pb, pb + psize, "peripherals", "device"),
             (win, win + win_size, "processes' L1 tables (window)", "tables"),
             (vmm, win, "kernel heap, VMM mappings", "data"),
             (kb, vmm, "kernel image", "image")]
    y = 90
    s.text(ax + cw + gap / 2, y - 14, "kernel half: the same in every process", size=14,
           bold=True, anchor="middle")
    kernel_top = y
    for start, end, label, fill in krows:
        h = 34
        s.rect(ax, y, 2 * cw + gap, h, fill=FILL[fill])
        s.text(ax - 8, y + h - 6, hx(start), size=13, mono=True, anchor="end")
        s.text(ax + cw + gap / 2, y + 22, label, size=14, anchor="middle")
        y += h + (10 if start != kb else 0)
    kernel_bottom = y
    s.line(20, y + 14, ax + 2 * cw + gap + 10, y + 14, dash="6 4", stroke=GREY_INK)
    s.text(20, y + 32, f"{hx(kb)}: VA bit 31 picks TTBR1 above, TTBR0 below", size=13,
           fill=GREY_INK)

    urows = [(stack_top, top, 30, "fault", "not mapped"),
             (stack_low, stack_top, 50, "user", f"stack, {d['USER_STACK_PAGES']} pages"),
             (None, stack_low, 96, "fault", "not mapped"),
             (None, None, 44, "user", "heap (sbrk)"),
             (None, None, 40, "user", "data, bss: RW, XN"),
             (text, None, 44, "user", "text, rodata: RO"),
             (0, text, 40, "fault", "page 0 up: NULL faults")]
    uy0 = y + 60
    for col, name in ((ax, "process B (waiting)"), (bx, "process A (running)")):
        s.text(col + cw / 2, uy0 - 10, name, size=14, bold=True, anchor="middle")
        y = uy0
        for start, end, h, fill, label in urows:
            s.rect(col, y, cw, h, fill=FILL[fill])
            s.text(col + cw / 2, y + h / 2 + 5, label, size=14, anchor="middle")
            if col == ax and start is not None:
                s.text(ax - 8, y + h, hx(start), size=13, mono=True, anchor="end")
            y += h
    s.text(ax - 8, uy0 + 10, hx(top - 1), size=13, mono=True, anchor="end")

    # The registers, and where they point.
    rx = bx + cw + 50
    for name, what, ty, to in (
            ("TTBR1", f"kernel_l1: {kernel_l1 // 1024} KB, for everyone",
             (kernel_top + kernel_bottom) / 2, ax + 2 * cw + gap),
            ("TTBR0", f"A's L1: {user_l1 // 1024} KB, A's own", uy0 + 40, bx + cw)):
        s.rect(rx, ty - 24, 110, 48, fill=FILL["reg"])
        s.text(rx + 55, ty + 6, name, size=15, bold=True, anchor="middle")
        s.text(rx + 122, ty + 6, what, size=14)
        s.line(rx, ty, to + 4, ty, arrow=True)
    s.text(rx + 122, uy0 + 64, "(B's waits in the window)", size=13, fill=GREY_INK)

    # CONTEXTIDR: the pid above the ASID.
    cy = uy0 + 130
    s.text(rx, cy - 26, "CONTEXTIDR", size=15, bold=True)
    bw = 14
    for hi, lo, label, fill in ((31, asid_bits, "PROCID: A's pid", "reg"),
                                (asid_bits - 1, 0, "ASID: A's", "note")):
        fx, fw = rx + (31 - hi) * bw, (hi - lo + 1) * bw
        s.rect(fx, cy + 6, fw, 36, fill=FILL[fill])
        s.text(fx + 3, cy, str(hi), size=12, fill=GREY_INK)
        s.text(fx + fw - 3, cy, str(lo), size=12, fill=GREY_INK, anchor="end")
        s.text(fx + fw / 2, cy + 29, label, size=13, anchor="middle")

    # The TLB.
    y = cy + 100
    tw = 32 * bw
    s.text(rx, y - 10, "the TLB holds entries of both", size=15, bold=True)
    for i, (tag, what, fill) in enumerate((
            ("global", "a kernel page: matches any ASID", "data"),
            ("nG, A's ASID", "a page of A: only while A runs", "user"),
            ("nG, B's ASID", "a page of B: only while B runs", "user"))):
        ry = y + i * 34
        s.rect(rx, ry, tw, 34, fill=FILL[fill])
        s.text(rx + 8, ry + 22, tag, size=13, mono=True)
        s.text(rx + 124, ry + 22, what, size=13)
    s.text(rx, y + 3 * 34 + 24, "A switch loads TTBR0 and the ASID: no TLB", size=14)
    s.text(rx, y + 3 * 34 + 44, "flush; B's entries wait, unseen.", size=14)

    s.width = rx + tw + 20
    ly = max(uy0 + sum(r[2] for r in urows), y + 3 * 34 + 44) + 40
    s.height = s.legend(20, ly, ["image", "data", "tables", "device", "user", "fault"],
                        columns=3, col_width=[300, 260, 260]) + 6
    return s


def addrspace_10_slide(L):
    """The slide's copy: one process's address space, drawn at the slide's own size
    (1160 px wide, shown 1:1), text 18 px and more."""
    (d, top, stack_top, stack_low, text, kb, vmm, win, win_size, pb, psize, fixed,
     asid_bits, user_l1, kernel_l1) = address_space_facts(L)

    s = Svg(1160, 10, "Lesson 10: a process's address space, TTBR0, TTBR1 and the ASID",
            "The kernel half above 0x80000000 through TTBR1, the same in every process; the "
            "user half through the process's own L1 table in TTBR0, its pages tagged with "
            "the ASID in CONTEXTIDR.",
            L.source("USER_TOP", "ASID_MAX", "L1_USER_ENTRIES", "KERNEL_BASE") +
            f", lessons/{L.name}/user/user.ld")
    x, w, y = 150, 370, 16
    rows = [(fixed, "fixed L2: scratch pages, vectors", 34, "tables"),
            (pb, "peripherals", 34, "device"),
            (win, "processes' L1 tables (window)", 34, "tables"),
            (vmm, "kernel heap, VMM mappings", 34, "data"),
            (kb, "kernel image", 34, "image"),
            (stack_top, "not mapped", 30, "fault"),
            (stack_low, f"stack, {d['USER_STACK_PAGES']} pages", 40, "user"),
            (None, "not mapped", 44, "fault"),
            (None, "heap (sbrk)", 34, "user"),
            (None, "data, bss: RW, XN", 34, "user"),
            (text, "text, rodata: RO", 34, "user"),
            (0, "page 0 up: NULL faults", 30, "fault")]
    s.text(x - 10, y + 6, hx((1 << 32) - 1), size=18, mono=True, anchor="end")
    for start, label, h, fill in rows:
        s.rect(x, y, w, h, fill=FILL[fill])
        s.text(x + w / 2, y + h / 2 + 7, label, size=19, anchor="middle")
        if start is not None:
            s.text(x - 10, y + h + 6, hx(start), size=18, mono=True, anchor="end")
        y += h
        if start == kb:
            split = y
    bottom = y
    s.line(x, split, x + w + 30, split, sw=3, stroke="#c7053d")
    s.text(x + w + 36, split + 7, "VA bit 31: TTBR1 above, TTBR0 below", size=19,
           fill="#c7053d", bold=True)
    s.text(x + w + 36, split + 31, f"(TTBCR.N = {d['TTBCR_N_2GB']})", size=18,
           fill=GREY_INK)

    rx, rw = x + w + 70, 120
    for name, lines, lo, hi in (
            ("TTBR1", [f"kernel_l1: {kernel_l1 // 1024} KB,", "the same for every process",
                       "global pages"], 16, split),
            ("TTBR0", [f"this process's L1: {user_l1 // 1024} KB", "non-global pages (nG),",
                       "tagged with its ASID"], split, bottom)):
        cy = (lo + hi) / 2 if name == "TTBR1" else lo + 76
        s.rect(rx, cy - 26, rw, 52, fill=FILL["reg"])
        s.text(rx + rw / 2, cy + 8, name, size=22, bold=True, anchor="middle")
        s.line(rx, cy, x + w + 4, cy, arrow=True, sw=2)
        for i, line in enumerate(lines):
            s.text(rx + rw + 16, cy - 18 + i * 24, line, size=19)

    # CONTEXTIDR: the pid above the ASID.
    cy = split + 190
    s.text(rx, cy - 34, "CONTEXTIDR", size=20, bold=True, mono=True)
    bw = 15
    for hi, lo, label, fill in ((31, asid_bits, "PROCID: pid", "reg"),
                                (asid_bits - 1, 0, "ASID", "note")):
        fx, fw = rx + (31 - hi) * bw, (hi - lo + 1) * bw
        s.rect(fx, cy, fw, 40, fill=FILL[fill])
        s.text(fx + 3, cy - 6, str(hi), size=18, fill=GREY_INK)
        s.text(fx + fw - 3, cy - 6, str(lo), size=18, fill=GREY_INK, anchor="end")
        s.text(fx + fw / 2, cy + 27, label, size=19, anchor="middle", bold=True)
    s.text(rx, cy + 72, "A switch loads TTBR0 and the ASID:", size=19)
    s.text(rx, cy + 96, "no TLB flush.", size=19)
    s.height = max(bottom, cy + 96) + 16
    return s


PICTURES = {
    "02-uart": {"registers.svg": registers_02, "slide-registers.svg": registers_02_slide},
    "01-boot": {"memory.svg": memory_01, "slide-memory.svg": memory_01_slide},
    "03-exceptions": {"vectors.svg": vectors_03,
                      "slide-vectors.svg": lambda L: vectors_03(L, slide=True)},
    "04-irq": {"irq.svg": irq_04, "slide-irq.svg": lambda L: irq_04(L, slide=True)},
    "05-timer": {"compare.svg": timer_05,
                 "slide-compare.svg": lambda L: timer_05(L, slide=True)},
    "06-pmm": {"bitmap.svg": bitmap_06, "slide-bitmap.svg": bitmap_06_slide},
    "07-mmu": {"vmmap.svg": vmmap_07, "kernel-image.svg": kernel_image_07,
               "walk.svg": walk_07, "descriptors.svg": descriptors_07,
               "slide-descriptors.svg": lambda L: descriptors_07(L, slide=True),
               "slide-vmmap.svg": lambda L: vmmap_07(L, slide=True),
               "slide-walk.svg": lambda L: walk_07(L, slide=True)},
    "08-vmm": {"scratch.svg": scratch_08, "l2-frames.svg": l2_frames_08,
               "slide-scratch.svg": lambda L: scratch_08(L, slide=True),
               "slide-l2-frames.svg": lambda L: l2_frames_08(L, slide=True)},
    "09-scheduler": {"switch-frames.svg": switch_frames_09,
                     "slide-switch-frames.svg": lambda L: switch_frames_09(L, slide=True)},
    "10-processes": {"address-space.svg": addrspace_10,
                     "slide-address-space.svg": addrspace_10_slide},
}


def draw(lesson_path, name, root=ROOT):
    """The SVG text of one picture, as this module draws it now."""
    lesson = Lesson(lesson_path, root)
    return PICTURES[lesson.name][name](lesson).render()


def pictures(root=ROOT, lessons=None):
    """[(lesson folder, picture file name, output path)] for the lessons given (names)."""
    out = []
    for lesson, names in sorted(PICTURES.items()):
        if lessons and lesson not in lessons:
            continue
        folder = Path(root) / "lessons" / lesson
        if folder.is_dir():
            out += [(folder, n, folder / "pictures" / n) for n in names]
    return out
