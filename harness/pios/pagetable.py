"""A running kernel's page tables, read from QEMU's physical memory and drawn.

`make pt L=NN [CMDS="map 0xb0000000; run memcheck 5 100000 &"]` boots the lesson,
types the commands, stops the machine and writes build/pt.html: every megabyte of
the 4 GB as a cell (fault, section, or L2 table, coloured by what it allows), then
each L2 table's 256 pages the same way. From lesson 10 each live process's own L1
table (TTBR0's, the user half) is drawn too, with its ASID. The tables are read
with the monitor's `xp`, from physical memory: what the MMU would walk, not what
the kernel believes.

Descriptors are decoded as the ARMv6 MMU reads them with SCTLR.XP = 1 (ARM ARM
B4.7: short descriptors; the lessons' mmu.h names the same bits).
"""

import html
import re
from dataclasses import dataclass, field

L1_ENTRIES, L2_ENTRIES = 4096, 256
ACCESS = [["none", "kernel rw", "kernel rw, user ro", "kernel rw, user rw"],
          ["reserved", "kernel ro", "kernel ro, user ro", "kernel ro, user ro"]]
# The colours of an entry: what user mode may do decides the hue, execute-never a
# lighter shade. Fault entries are white; tables grey.
COLOURS = {"none": "#ffffff", "kernel rw": "#4c72b0", "kernel ro": "#8da0cb",
           "kernel rw, user ro": "#55a868", "kernel ro, user ro": "#8fd19e",
           "kernel rw, user rw": "#dd8452", "reserved": "#000000", "table": "#bbbbbb"}


@dataclass
class Entry:
    """One decoded descriptor: kind 'fault', 'section', 'table' or 'page'."""
    raw: int
    kind: str
    base: int = 0               # section/page: physical address; table: L2's address
    access: str = "none"
    xn: bool = False
    ng: bool = False
    memory: str = ""

    def describe(self):
        if self.kind == "fault":
            return "fault"
        if self.kind == "table":
            return f"L2 table at 0x{self.base:08x}"
        flags = [self.access, self.memory] + (["xn"] if self.xn else []) + \
            (["nG"] if self.ng else [])
        return f"{self.kind} 0x{self.base:08x}: " + ", ".join(f for f in flags if f)


def _memory(tex, c, b):
    if tex == 0 and not c:
        return "device" if b else "strongly-ordered"
    return "normal"


def decode_l1(raw):
    kind = raw & 3
    if kind == 1:
        return Entry(raw, "table", raw & 0xFFFFFC00)
    if kind == 2 and not raw & (1 << 18):           # (bit 18: a supersection)
        ap = (raw >> 10) & 3
        apx = (raw >> 15) & 1
        return Entry(raw, "section", raw & 0xFFF00000, ACCESS[apx][ap], bool(raw & (1 << 4)),
                     bool(raw & (1 << 17)), _memory((raw >> 12) & 7, raw & 8, raw & 4))
    return Entry(raw, "fault")


def decode_l2(raw):
    if raw & 2:                                     # small page (bit 0 is XN)
        ap = (raw >> 4) & 3
        apx = (raw >> 9) & 1
        return Entry(raw, "page", raw & 0xFFFFF000, ACCESS[apx][ap], bool(raw & 1),
                     bool(raw & (1 << 11)), _memory((raw >> 6) & 7, raw & 8, raw & 4))
    if raw & 3 == 1:
        return Entry(raw, "large page", raw & 0xFFFF0000)
    return Entry(raw, "fault")


@dataclass
class Table:
    """An L1 table (its entries, and the L2 tables they point at, read too)."""
    title: str
    base: int                               # physical address
    first_mb: int                           # the megabyte its entry 0 maps
    entries: list
    l2: dict = field(default_factory=dict)  # megabyte -> [Entry] * 256


def read_words(monitor, addr, count):
    """count 32-bit words of physical memory, read by QEMU's monitor."""
    words = []
    while len(words) < count:
        n = min(256, count - len(words))
        out = monitor.command(f"xp /{n}wx {addr + 4 * len(words):#x}")
        got = [int(w, 16) for w in re.findall(r"0x([0-9a-f]{8})", _values(out))]
        if not got:
            raise ValueError(f"xp gave nothing at 0x{addr:08x}: {out!r}")
        words += got[:n]
    return words


def _values(out):
    """The values of an `xp` dump (each line: 'address: value value ...')."""
    return " ".join(line.split(":", 1)[1] for line in out.splitlines() if ":" in line)


def read_table(monitor, title, base, entries=L1_ENTRIES, first_mb=0):
    raw = read_words(monitor, base, entries)
    t = Table(title, base, first_mb, [decode_l1(w) for w in raw])
    for i, e in enumerate(t.entries):
        if e.kind == "table":
            t.l2[first_mb + i] = [decode_l2(w) for w in read_words(monitor, e.base, L2_ENTRIES)]
    return t


def walk(table, va):
    """The physical address va maps to through this table, or None (a fault)."""
    mb = va >> 20
    e = table.entries[mb - table.first_mb]
    if e.kind == "section":
        return e.base | (va & 0xFFFFF)
    if e.kind == "table":
        pte = table.l2[mb][(va >> 12) & 0xFF]
        if pte.kind == "page":
            return pte.base | (va & 0xFFF)
    return None


# ---- drawing ---------------------------------------------------------------------

CELL = 9


def _colour(e):
    if e.kind == "fault":
        return COLOURS["none"]
    if e.kind == "table":
        return COLOURS["table"]
    return COLOURS.get(e.access, "#000000")


def _cell(x, y, e, label, size=CELL):
    fill = _colour(e)
    style = ' stroke="#333" stroke-width="0.3"'
    hatch = ' fill-opacity="0.55"' if e.xn else ""
    mark = (f'<circle cx="{x + size / 2}" cy="{y + size / 2}" r="{size / 5}" fill="#000"/>'
            if e.ng else "")
    return (f'<rect x="{x}" y="{y}" width="{size}" height="{size}" fill="{fill}"{hatch}{style}>'
            f"<title>{html.escape(label)}</title></rect>{mark}")


def svg_l1(table, marks=()):
    """The L1 table as a grid of megabytes, 64 a row."""
    n = len(table.entries)
    cols = 64
    rows = (n + cols - 1) // cols
    w, h = 80 + cols * CELL + 4, 24 + rows * CELL
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="{w}" height="{h}" fill="#fff"/>']
    for r in range(rows):
        mb = table.first_mb + r * cols
        if r % 4 == 0:          # a label every 4 rows: 256 MB
            parts.append(f'<text x="0" y="{20 + r * CELL + CELL}" font-size="12">'
                         f"0x{mb << 20:08x}</text>")
    for i, e in enumerate(table.entries):
        mb = table.first_mb + i
        x, y = 80 + (i % cols) * CELL, 20 + (i // cols) * CELL
        label = f"0x{mb << 20:08x}-0x{((mb + 1) << 20) - 1:08x}: {e.describe()}"
        parts.append(_cell(x, y, e, label))
    for mb, text in marks:
        i = mb - table.first_mb
        if 0 <= i < n:
            x, y = 80 + (i % cols) * CELL, 20 + (i // cols) * CELL
            parts.append(f'<rect x="{x - 1}" y="{y - 1}" width="{CELL + 2}" height="{CELL + 2}" '
                         f'fill="none" stroke="#d62728" stroke-width="2"><title>'
                         f"{html.escape(text)}</title></rect>")
    parts.append("</svg>")
    return "\n".join(parts)


def svg_l2(mb, ptes, marks=()):
    """One L2 table: 256 pages, 16 a row."""
    size = 18
    w, h = 16 * size + 70, 16 * size + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="{w}" height="{h}" fill="#fff"/>']
    for r in range(16):
        parts.append(f'<text x="0" y="{5 + r * size + 13}" font-size="11">'
                     f"+0x{r * 16 << 12:05x}</text>")
    for i, e in enumerate(ptes):
        va = (mb << 20) | (i << 12)
        x, y = 62 + (i % 16) * size, 5 + (i // 16) * size
        label = f"0x{va:08x}: {e.describe()}"
        parts.append(_cell(x, y, e, label, size))
    for va, text in marks:
        if va >> 20 == mb:
            i = (va >> 12) & 0xFF
            x, y = 62 + (i % 16) * size, 5 + (i // 16) * size
            parts.append(f'<rect x="{x - 1}" y="{y - 1}" width="{size + 2}" height="{size + 2}" '
                         f'fill="none" stroke="#d62728" stroke-width="2"><title>'
                         f"{html.escape(text)}</title></rect>")
    parts.append("</svg>")
    return "\n".join(parts)


def legend():
    items = [("fault: no translation", COLOURS["none"]), ("L2 table", COLOURS["table"])] + \
        [(k, v) for k, v in COLOURS.items() if k not in ("none", "table", "reserved")]
    rows = "".join(f'<span class="key"><span class="sw" style="background:{c}"></span>'
                   f"{html.escape(t)}</span>" for t, c in items)
    return (f'<p class="legend">{rows}<span class="key">paler: execute-never (xn)</span>'
            f'<span class="key">&#9679; non-global (nG): tagged with an ASID</span>'
            f'<span class="key"><span class="sw" style="border:2px solid #d62728"></span>'
            f"marked: scratch pages, the fixed top L2, your addresses</span></p>")


def page(title, tables, marks_mb=(), marks_va=(), notes=()):
    """The whole HTML page: each L1 table, then each of its L2 tables."""
    out = ["<!doctype html><meta charset=utf-8>",
           f"<title>{html.escape(title)}</title>",
           "<style>body{font-family:sans-serif;background:#fff;color:#111;margin:1em}"
           ".key{margin-right:1.2em;white-space:nowrap}.sw{display:inline-block;width:1em;"
           "height:1em;vertical-align:middle;margin-right:.3em;border:1px solid #333}"
           "h2{margin-top:1.5em}.l2{display:inline-block;margin:0 1em 1em 0;vertical-align:top}"
           "</style>", f"<h1>{html.escape(title)}</h1>", legend()]
    out += [f"<p>{html.escape(n)}</p>" for n in notes]
    for t in tables:
        out.append(f"<h2>{html.escape(t.title)}: L1 at physical 0x{t.base:08x}</h2>")
        out.append("<p>One cell a megabyte; hover for the descriptor.</p>")
        out.append(svg_l1(t, marks_mb))
        for mb, ptes in sorted(t.l2.items()):
            used = sum(p.kind != "fault" for p in ptes)
            out.append(f'<div class="l2"><h3>0x{mb << 20:08x}: L2 table at physical '
                       f"0x{t.entries[mb - t.first_mb].base:08x}, {used} pages</h3>")
            out.append(svg_l2(mb, ptes, marks_va))
            out.append("</div>")
    return "\n".join(out)


# ---- from a lesson to a page --------------------------------------------------------

def layout(lesson_dir):
    """The marks a lesson's memlayout.h gives: the scratch pages and the fixed top L2
    (lesson 08 on), the processes' L1 window (lesson 10)."""
    text = (lesson_dir / "memlayout.h").read_text() if (lesson_dir / "memlayout.h").exists() else ""

    def define(name):
        m = re.search(rf"#define\s+{name}\s+\(?(0x[0-9A-Fa-f]+|\d+)", text)
        return int(m[1], 0) if m else None

    scratch = re.search(r"#define\s+SCRATCH_VA\(n\)\s+\((0x[0-9A-Fa-f]+)\s*\+", text)
    return {"fixed_l2": define("FIXED_L2_BASE"), "scratch": int(scratch[1], 16) if scratch else None,
            "scratch_pages": define("SCRATCH_PAGES") or 0, "l1_window": define("USER_L1_WINDOW")}


def capture(monitor, lesson, procs_out=""):
    """Stop the machine and read its tables: the kernel's (TTBR1's) and, from lesson
    10, each live process's, found through the kernel's own mapping of their L1
    window. Returns (tables, marks_mb, marks_va, notes)."""
    lay = layout(lesson.path)
    monitor.command("stop")
    kernel_l1 = lesson.virt_to_phys(lesson.symbol("kernel_l1"))
    k = read_table(monitor, "the kernel's table (TTBR1; the high half)", kernel_l1)
    tables, marks_mb, marks_va, notes = [k], [], [], []
    if lay["fixed_l2"]:
        marks_mb.append((lay["fixed_l2"] >> 20, "the fixed top L2: scratch pages and the high vectors"))
    if lay["scratch"] is not None:
        for n in range(lay["scratch_pages"]):
            marks_va.append((lay["scratch"] + n * 0x1000, f"scratch page {n}"))
    if lay["l1_window"] is not None:
        alive = re.findall(r"^(\d+)\s+(\S+)\s+alive\s+\d+\s+(\d+)", procs_out, re.M)
        marks_mb.append((lay["l1_window"] >> 20, "the processes' L1 tables (8 KB each)"))
        slot_pa = [walk(k, lay["l1_window"] + i * 0x2000) for i in range(64)]
        slot_pa = [pa for pa in slot_pa if pa is not None]
        for (pid, name, asid), pa in zip(alive, slot_pa):
            tables.append(read_table(monitor, f"pid {pid} {name}, ASID {asid} (TTBR0; the "
                                     f"user half)", pa, entries=L1_ENTRIES // 2))
        if alive:
            notes.append("A process's table has entries for the user half only (TTBCR.N = 1: "
                         "TTBR0 below 2 GB); its pages are non-global (nG), tagged with its ASID.")
    return tables, marks_mb, marks_va, notes


def main(argv=None):
    import argparse
    import shutil
    import tempfile
    from pathlib import Path
    from . import qemu
    from .console import Kernel
    from .lessons import REPO_ROOT, find_lessons

    ap = argparse.ArgumentParser(prog="pios-pt", description=__doc__.split("\n")[0])
    ap.add_argument("lesson", help="a lesson folder name, e.g. 08-vmm (built)")
    ap.add_argument("-c", "--command", action="append", default=[],
                    help="a shell command to type before the tables are read (repeatable; "
                         "a line with ';' holds several)")
    ap.add_argument("-o", "--out", help="the HTML file (default: the lesson's build/pt.html)")
    args = ap.parse_args(argv)
    lesson = next((l for l in find_lessons(REPO_ROOT) if l.name == args.lesson
                   or l.name.startswith(args.lesson)), None)
    if lesson is None or lesson.number < 7:
        print("pios-pt: the page tables start in lesson 07 (07-mmu .. 10-processes)")
        return 2
    if not lesson.elf.is_file():
        print(f"pios-pt: {lesson.elf} does not exist: make build L={lesson.number:02d}")
        return 2
    out = Path(args.out) if args.out else lesson.build / "pt.html"
    tmp = Path(tempfile.mkdtemp(prefix="pios-pt-"))
    k = None
    try:
        sock = tmp / "monitor.sock"
        k = Kernel(qemu.test_command(elf=lesson.elf, monitor=sock), tmp / "serial.log",
                   timeout=10)
        k.read_boot()
        typed = [c.strip() for line in args.command for c in line.split(";") if c.strip()]
        for c in typed:
            print(f"> {c}\n{k.cmd(c)}")
        procs = k.cmd("procs") if lesson.number >= 10 else ""
        mon = qemu.Monitor(sock)
        tables, marks_mb, marks_va, notes = capture(mon, lesson, procs)
        mon.close()
        title = f"{lesson.name}: page tables" + (f" after {'; '.join(typed)}" if typed else "")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page(title, tables, marks_mb, marks_va, notes))
        print(f"{out}: {len(tables)} L1 table(s), "
              f"{sum(len(t.l2) for t in tables)} L2 table(s). Open it in a browser.")
        return 0
    finally:
        if k:
            k.close()
        shutil.rmtree(tmp, ignore_errors=True)
