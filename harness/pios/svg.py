"""A small SVG writer for the lesson pictures (harness/pios/pictures.py).

Deterministic: the same calls give the same bytes (coordinates are rounded to one
decimal, attributes are written in a fixed order, nothing depends on the time or
the machine). Every picture has an opaque white background, so that it reads the
same on a light and on a dark page, and no text is smaller than MIN_TEXT pixels at
the picture's natural size.
"""

from html import escape

MIN_TEXT = 12
SANS = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
INK = "#1a1a1a"
GREY_INK = "#555555"

# Fills, each with one meaning across every picture (each picture's legend says
# which it uses).
FILL = {
    "image": "#c9e7e1",       # the kernel image as a whole
    "code": "#f6c89f",        # kernel read-only, executable
    "const": "#fbe8a6",       # kernel read-only, never executable
    "data": "#b9d9f2",        # kernel read/write, never executable
    "tables": "#f4b6c2",      # page tables
    "device": "#d9c3e6",      # device memory (the peripherals)
    "user": "#bfe6c5",        # user pages
    "free": "#ffffff",        # nothing there yet
    "fault": "#e6e6e6",       # not mapped: an access faults
    "note": "#fff8dc",        # a highlighted entry
    "scratch": "#fff8dc",     # a scratch page's entry
    "reg": "#dfe7ee",         # a CPU register
    "switch": "#fbe8a6",      # the words cpu_switch pops
    "irqframe": "#d9c3e6",    # an interrupt frame (struct regs)
    "cframes": "#bfe6c5",     # a thread's own C frames
    "misc": "#e6e6e6",        # other words
    "inimage": "#fbe8a6",     # in kernel.img
    "noload": "#b9d9f2",      # reserved, not in kernel.img
    "reserved": "#f4b6c2",    # a reserved frame
    "allocated": "#b9d9f2",   # an allocated frame
    "gpu": "#e6e6e6",         # memory that is not the ARM's
    "mask": "#fff8dc",        # a gate the kernel opens
    "used": "#bfe6c5",        # a source piOS uses
    "ours": "#bfe6c5",        # a timer channel piOS uses
    "theirs": "#e6e6e6",      # a timer channel the GPU uses
}
LEGEND = {
    "image": "the kernel image",
    "code": "kernel read-only, executable",
    "const": "kernel read-only, never executable (XN)",
    "data": "kernel read/write, XN",
    "tables": "page tables",
    "device": "device memory, XN",
    "user": "user pages",
    "free": "free",
    "fault": "not mapped: an access faults",
    "note": "the entry this walk reads",
    "scratch": "a scratch page: any frame, for a moment",
    "reg": "CPU register",
    "switch": "what cpu_switch pops: callee-saved registers, return address",
    "irqframe": "the interrupt frame: struct regs, pushed by irq_entry",
    "cframes": "the thread's own C frames",
    "misc": "irq_entry's alignment word(s) and the frame's address",
    "inimage": "in kernel.img: the firmware loads it",
    "noload": "NOLOAD: reserved, not in kernel.img",
    "reserved": "reserved: never handed out or freed",
    "allocated": "allocated",
    "gpu": "not the allocator's: the GPU's memory, device registers",
    "mask": "a gate: a mask the kernel sets",
    "used": "an interrupt source piOS uses",
    "ours": "a channel piOS uses",
    "theirs": "a channel the GPU firmware uses: not ours",
}


def num(v):
    """A coordinate: an integer when it is one, else one decimal."""
    r = round(v, 1)
    return str(int(r)) if r == int(r) else f"{r:.1f}"


def text_width(s, size, mono=False):
    """About how wide s is at this font size (for layout; fonts differ a little)."""
    return len(s) * size * (0.61 if mono else 0.58)


class Svg:
    def __init__(self, width, height, title, desc, source):
        self.width, self.height = width, height
        self.title, self.desc, self.source = title, desc, source
        self.items = []
        self.text_scale = 1.0       # a slide's copy: larger text, same layout
        self.view = None            # a slide's copy: (x, y, w, h), the part shown

    def rect(self, x, y, w, h, fill="#ffffff", stroke=INK, sw=1.2, rx=0, dash=None):
        extra = f' rx="{num(rx)}"' if rx else ""
        extra += f' stroke-dasharray="{dash}"' if dash else ""
        self.items.append(f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}"'
                          f' fill="{fill}" stroke="{stroke}" stroke-width="{num(sw)}"{extra}/>')

    def text(self, x, y, s, size=14, anchor="start", bold=False, mono=False, fill=INK,
             rotate=False, italic=False):
        size = size * self.text_scale
        assert size >= MIN_TEXT, f"text {s!r} at {size} px: under {MIN_TEXT} px"
        attrs = f'x="{num(x)}" y="{num(y)}" font-size="{num(size)}"'
        if mono:
            attrs += ' font-family="' + MONO + '"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if bold:
            attrs += ' font-weight="bold"'
        if italic:
            attrs += ' font-style="italic"'
        if fill != INK:
            attrs += f' fill="{fill}"'
        if rotate:
            attrs += f' transform="rotate(-90 {num(x)} {num(y)})"'
        self.items.append(f"<text {attrs}>{escape(s, quote=False)}</text>")

    def line(self, x1, y1, x2, y2, stroke=INK, sw=1.4, arrow=False, dash=None):
        extra = ' marker-end="url(#arrow)"' if arrow else ""
        extra += f' stroke-dasharray="{dash}"' if dash else ""
        self.items.append(f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}"'
                          f' stroke="{stroke}" stroke-width="{num(sw)}"{extra}/>')

    def path(self, points, stroke=INK, sw=1.4, arrow=False, dash=None, fill="none"):
        """A polyline through points [(x, y), ...]."""
        d = "M " + " L ".join(f"{num(x)} {num(y)}" for x, y in points)
        extra = ' marker-end="url(#arrow)"' if arrow else ""
        extra += f' stroke-dasharray="{dash}"' if dash else ""
        self.items.append(f'<path d="{d}" fill="{fill}" stroke="{stroke}"'
                          f' stroke-width="{num(sw)}"{extra}/>')

    def legend(self, x, y, keys, size=13, columns=2, col_width=330):
        """Coloured swatches with what each colour means, `columns` to a row."""
        widths = col_width if isinstance(col_width, list) else [col_width] * columns
        for i, key in enumerate(keys):
            cx = x + sum(widths[:i % columns])
            cy = y + (i // columns) * (size + 10)
            self.rect(cx, cy - size + 2, size + 4, size, fill=FILL[key], sw=1)
            self.text(cx + size + 12, cy, LEGEND[key], size=size)
        return y + ((len(keys) + columns - 1) // columns) * (size + 10)

    def render(self):
        x, y, w, h = self.view or (0, 0, self.width, self.height)
        x, y, w, h = num(x), num(y), num(w), num(h)
        head = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f"<!-- Generated by harness/pios/pictures.py from {escape(self.source)}."
            " Do not edit: run `make pictures`. -->",
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}"'
            f' viewBox="{x} {y} {w} {h}" role="img"'
            f' font-family="{SANS}" fill="{INK}">',
            f"<title>{escape(self.title)}</title>",
            f"<desc>{escape(self.desc)}</desc>",
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7"'
            ' markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"'
            f' fill="{INK}"/></marker></defs>',
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="#ffffff"/>',
        ]
        return "\n".join(head + self.items + ["</svg>", ""])
