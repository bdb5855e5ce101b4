"""Slides: every slides/NN-*.md deck renders with the pinned marp-cli.

Introduced with the course material, not with a lesson. The decks are rendered to
HTML in one marp-cli run (into a temporary directory, so slides/build/ is left
alone), and each HTML file must hold exactly as many slides (<section id="N">) as
the Markdown has: 1 + the number of `---` separators outside the front matter,
code fences and HTML comments. A separator that Markdown reads as something else
(e.g. `---` right under a line of text is a setext heading, not a new slide) makes
the counts differ and the test fail.

`make test` installs Node.js, npm and the pinned marp-cli first (setup-host), so a
missing renderer is a failure here, not a skip.

The decks are also checked for a lecture hall, without a browser: the theme's type
sizes, every code block's size in its box, every picture's smallest text at the size
its deck shows it (the section below). `make -C slides png` renders every slide to
look at.
"""

import pathlib
import re
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.slides

SLIDES = pathlib.Path(__file__).resolve().parent.parent / "slides"
DECKS = sorted(SLIDES.glob("[0-9][0-9]-*.md"))
MARP = SLIDES / "node_modules" / ".bin" / "marp"
CONFIG = SLIDES / ".marprc.yml"

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
SEPARATOR = re.compile(r"^ {0,3}---\s*$")
SLIDE_SECTION = re.compile(r'<section\b[^>]*\bid="(\d+)"')


def expected_slides(text):
    """Number of slides in a Marp deck: 1 + the `---` separators in its body."""
    lines = text.splitlines()
    i = 0
    if lines and lines[0].strip() == "---":          # YAML front matter
        i = 1
        while i < len(lines) and lines[i].strip() not in ("---", "..."):
            i += 1
        i += 1
    fence = None        # the opening fence while inside a code block
    in_comment = False
    separators = 0
    for line in lines[i:]:
        if fence:
            m = FENCE.match(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not line.strip()[len(m.group(1)):].strip():
                fence = None
            continue
        if in_comment:
            in_comment = "-->" not in line
            continue
        m = FENCE.match(line)
        if m:
            fence = m.group(1)
        elif line.lstrip().startswith("<!--") and "-->" not in line:
            in_comment = True
        elif SEPARATOR.match(line):
            separators += 1
    return separators + 1


def test_decks_exist():
    assert DECKS, f"no slides/NN-*.md decks in {SLIDES}"
    for deck in DECKS:
        head = deck.read_text(encoding="utf-8").splitlines()[:10]
        assert head and head[0].strip() == "---", f"{deck.name}: no front matter"
        assert "marp: true" in head, f"{deck.name}: front matter lacks 'marp: true'"


def _ensure_marp():
    if not shutil.which("node") or not shutil.which("npm") or not MARP.exists():
        pytest.fail("the slide renderer is not installed (Node.js, npm, slides/node_modules):"
                    " run make setup, or harness/tools/setup-host --install slides",
                    pytrace=False)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Renders all decks in one marp-cli run; returns the output directory."""
    _ensure_marp()
    tmp = tmp_path_factory.mktemp("slides")
    src, out = tmp / "src", tmp / "out"
    src.mkdir()
    for deck in DECKS:
        shutil.copy(deck, src / deck.name)
    cmd = [str(MARP), "--config-file", str(CONFIG), "--no-stdin",
           "--input-dir", str(src), "--output", str(out)]
    r = subprocess.run(cmd, cwd=SLIDES, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"marp failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    # marp reports problems it recovers from (an unknown theme, ...) as warnings.
    assert "WARN" not in r.stderr, f"marp warned:\n{r.stderr}"
    return out


@pytest.mark.parametrize("deck", DECKS, ids=[d.stem for d in DECKS])
def test_deck_renders(rendered, deck):
    html_file = rendered / (deck.stem + ".html")
    assert html_file.is_file(), f"marp wrote no {html_file.name}"
    html = html_file.read_text(encoding="utf-8")
    ids = [int(n) for n in SLIDE_SECTION.findall(html)]
    want = expected_slides(deck.read_text(encoding="utf-8"))
    assert len(ids) == want, (
        f"{deck.name}: the Markdown has {want} slides but the HTML has {len(ids)} "
        f"(a `---` directly under a text line is a heading, not a slide break)")
    assert ids == list(range(1, want + 1))
    themed = "--pios-accent" in html
    assert themed, f"{deck.name}: the pios theme was not applied (front matter `theme: pios`?)"


def test_separator_counting():
    """The counter itself: front matter, fences and comments are not slides."""
    deck = "\n".join([
        "---", "marp: true", "---", "", "# one", "",
        "```", "---", "```", "",
        "---", "", "# two", "",
        "~~~~", "```", "---", "~~~~", "",
        "<!--", "---", "-->", "",
        "---", "", "# three", "",
    ])
    assert expected_slides(deck) == 3


# ---- readable in a lecture hall ---------------------------------------------------
#
# The theme (slides/themes/pios.css) sets the sizes: body text 28 px (24 px on a
# `small` slide), code 22 px (20 px on a `small` slide) on the 1280 x 720 slide. Marp
# shrinks a code block that is too wide for its box (auto-scaling), so the width a
# block may have follows from its box: the slide's content width, or one column of
# <div class="columns"> (1:1, or 3:2 with wide-left / wide-right). A block must keep
# MIN_CODE_PX, and a picture's smallest text, at the size the deck shows it, must
# keep MIN_PICTURE_PX. A deck has no <style> of its own and no class but the theme's.

THEME = SLIDES / "themes" / "pios.css"
CONTENT_PX = 1280 - 2 * 48          # the theme's section padding
CODE_PAD_PX = 24                    # pre padding, both sides
COLUMN_GAP_PX = 1.2 * 24            # 1.2em at a small slide's 24 px (28 px: a little more)
MONO_ADVANCE = 0.602                # DejaVu Sans Mono: one column, in em
MIN_CODE_PX = 19
MIN_PICTURE_PX = 15
MAX_CODE_LINES = 24
CLASSES = {"title", "section", "small"}
DIRECTIVE = re.compile(r"<!--\s*_?class:\s*([\w-]+)\s*-->")
BLOCK = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
COLUMNS = re.compile(r'<div class="columns( wide-left| wide-right)?">')


def slides_of(text):
    """The slides of a deck: its body split at the `---` separators."""
    body = text.split("\n---\n", 1)[1] if text.startswith("---\n") else text
    return re.split(r"\n---\n", body)


def _column_widths(kind):
    inner = CONTENT_PX - COLUMN_GAP_PX
    return {None: [inner / 2] * 2, " wide-left": [inner * 3 / 5, inner * 2 / 5],
            " wide-right": [inner * 2 / 5, inner * 3 / 5]}[kind]


def code_sizes(slide):
    """[(first line, effective px)] of the slide's code blocks: the theme's size, or
    smaller where the block is wider than its box."""
    base = 20 if "_class: small" in slide else 22
    out = []
    # Which box each block is in: the part before the first column, then each <div>.
    m = COLUMNS.search(slide)
    parts = [(slide, CONTENT_PX)]
    if m:
        head, rest = slide[:m.start()], slide[m.end():]
        cols = re.split(r"</div>\s*<div>", rest, maxsplit=1)
        end = cols[-1].rfind("</div>\n</div>")
        tail = cols[-1][end:] if end >= 0 else ""
        cols[-1] = cols[-1][:end] if end >= 0 else cols[-1]
        parts = [(head + tail, CONTENT_PX)] + list(zip(cols, _column_widths(m.group(1))))
    for text, box in parts:
        for block in BLOCK.findall(text):
            lines = block.rstrip("\n").split("\n")
            cols = max(len(line.expandtabs()) for line in lines)
            fit = (box - CODE_PAD_PX) / (cols * MONO_ADVANCE)
            out.append((lines[0].strip(), min(base, fit), len(lines)))
    return out


def picture_min_px(deck_dir, target, alt):
    """The smallest text of an SVG picture at the size the deck shows it (w: or h:
    in the alt text, else its own width, at most the content width)."""
    svg = (deck_dir / target).read_text()
    w, h = (float(v) for v in re.search(r'<svg [^>]*width="([\d.]+)" height="([\d.]+)"',
                                         svg).groups())
    sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)"', svg)]
    mw, mh = re.search(r"\bw:(\d+)", alt), re.search(r"\bh:(\d+)", alt)
    scale = (int(mw.group(1)) / w if mw else int(mh.group(1)) / h if mh
             else min(1.0, CONTENT_PX / w))
    return min(sizes) * scale


def test_theme_sizes_are_for_a_lecture_hall():
    css = THEME.read_text()
    sizes = re.findall(r"font-size:\s*([\d.]+)(px|em)", css)
    assert sizes
    for value, unit in sizes:
        assert (unit == "px" and float(value) >= 20) or (unit == "em" and float(value) >= 1), \
            f"pios.css: font-size {value}{unit} is under 20 px"
    assert re.search(r"section pre \{[^}]*font-size: 22px", css)
    assert re.search(r"section\.small \{ font-size: 24px; \}", css)


@pytest.mark.parametrize("deck", DECKS, ids=[d.stem for d in DECKS])
def test_deck_text_is_readable(deck):
    text = deck.read_text(encoding="utf-8")
    assert "<style" not in text and "style=" not in text, \
        f"{deck.name}: a deck sets no styles of its own (the theme sizes the text)"
    problems = []
    for n, slide in enumerate(slides_of(text), 1):
        for cls in DIRECTIVE.findall(slide):
            if cls not in CLASSES:
                problems.append(f"slide {n}: class {cls} is not the theme's")
        for first, px, lines in code_sizes(slide):
            if px < MIN_CODE_PX:
                problems.append(f"slide {n}: code `{first}` at {px:.1f} px: too wide for its box")
            if lines > MAX_CODE_LINES:
                problems.append(f"slide {n}: code `{first}`: {lines} lines")
        for alt, target in re.findall(r"!\[([^\]]*)\]\(([^)\s]+)\)", slide):
            if target.endswith(".svg"):
                px = picture_min_px(deck.parent, target, alt)
                if px < MIN_PICTURE_PX:
                    problems.append(f"slide {n}: {target}: text at {px:.1f} px")
    assert not problems, f"{deck.name}: " + "; ".join(problems)


def test_readability_check_can_fail():
    """The measures above on slides made to fail them: a block too wide for a column,
    one too long, a small class the theme does not have."""
    wide = "x" * 70
    slide = f'# t\n\n<div class="columns">\n<div>\n\n```c\n{wide}\n```\n\n</div>\n<div>\n\nhi\n\n</div>\n</div>\n'
    assert code_sizes(slide)[0][1] < MIN_CODE_PX
    assert code_sizes(slide.replace(wide, "x" * 40))[0][1] >= MIN_CODE_PX
    assert code_sizes("```c\n" + "x\n" * 30 + "```\n")[0][2] == 30
    assert DIRECTIVE.findall("<!-- _class: tiny -->") == ["tiny"]
