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
