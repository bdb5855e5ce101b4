"""The lesson pictures (lessons/NN-name/pictures/*.svg) are drawn from the code by
harness/pios/pictures.py: memlayout.h, mmu.h, board.h and the built kernel's symbols.
A committed picture that differs from what the code draws now is stale (the code
moved, the picture did not): `make pictures L=NN` redraws it. Every picture is shown
by its lesson's README, every image a README or slide names exists, and every
picture keeps its text readable (12 px or more) on an opaque background.

Not handed to students (starter.py): a student's own kernel places its parts
elsewhere, so the pictures are the reference's.
"""

import re
import shutil

import pytest

from pios import codefacts as C
from pios import pictures as P

LESSON = 1          # the first lesson with pictures
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _selected(config):
    names = {l.name for l in config.pios_lessons}
    return [p for p in P.pictures(config.pios_root) if p[0].name in names]


def pytest_generate_tests(metafunc):
    if "picture" in metafunc.fixturenames:
        pics = _selected(metafunc.config)
        metafunc.parametrize("picture", pics, ids=[f"{f.name}/{n}" for f, n, _ in pics])


def test_picture_is_current(picture, pytestconfig):
    folder, name, path = picture
    number = folder.name[:2]
    try:
        svg = P.draw(folder, name, pytestconfig.pios_root)
    except C.MissingKernel as e:
        pytest.fail(f"{e} (make test builds every lesson first)", pytrace=False)
    rel = path.relative_to(pytestconfig.pios_root)
    assert path.exists(), f"{rel} is missing: draw it with `make pictures L={number}`"
    assert path.read_text() == svg, \
        f"{rel} is stale (the code changed since it was drawn): run `make pictures L={number}`"


def test_picture_is_readable(picture):
    """Text 12 px or more, an opaque background the size of the picture."""
    _, name, path = picture
    svg = path.read_text()
    sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)"', svg)]
    assert sizes and min(sizes) >= 12, f"{name}: text at {min(sizes)} px"
    x, y, w, h = re.search(r'<svg [^>]*viewBox="([\d.-]+) ([\d.-]+) ([\d.]+) ([\d.]+)"',
                           svg).groups()
    assert f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="#ffffff"/>' in svg, \
        f"{name}: no opaque background"
    assert re.search(r"<title>[^<]+</title>", svg) and re.search(r"<desc>[^<]+</desc>", svg)


def test_readme_shows_each_picture(pytestconfig):
    """Each lesson's README embeds every picture in its pictures/ folder, with alt
    text, except the slide-*.svg copies (larger text; cropped, or drawn again at the
    slide's size), which its slide deck shows; and every image a README or a slide
    deck names exists."""
    root = pytestconfig.pios_root
    for lesson in pytestconfig.pios_lessons:
        readme = lesson.path / "README.md"
        shown = {}
        for alt, target in IMAGE.findall(readme.read_text()):
            assert (lesson.path / target).is_file(), f"{readme}: {target} does not exist"
            shown[target] = alt
        deck = root / "slides" / f"{lesson.name}.md"
        on_slides = IMAGE.findall(deck.read_text()) if deck.exists() else []
        for svg in sorted((lesson.path / "pictures").glob("*.svg")):
            if svg.name.startswith("slide-"):
                target = f"../lessons/{lesson.name}/pictures/{svg.name}"
                assert any(t == target for _, t in on_slides), \
                    f"slides/{lesson.name}.md does not show {target}"
                continue
            target = f"pictures/{svg.name}"
            assert target in shown, f"{lesson.name}/README.md does not show {target}"
            assert shown[target].strip(), f"{lesson.name}/README.md: {target} has no alt text"
    for deck in sorted((root / "slides").glob("[0-9][0-9]-*.md")):
        for alt, target in IMAGE.findall(deck.read_text()):
            if "://" not in target:
                assert (deck.parent / target).is_file(), f"{deck.name}: {target} does not exist"
                words = [w for w in alt.split() if not re.fullmatch(r"(w|h|width|height):\S+", w)]
                assert words, f"{deck.name}: {target} has no alt text"


def _copy_lesson(src_root, lesson, dest):
    """A tree with one lesson's sources (and its built kernel) and common/."""
    shutil.copytree(src_root / "common", dest / "common")
    out = dest / "lessons" / lesson
    shutil.copytree(src_root / "lessons" / lesson, out, ignore=shutil.ignore_patterns("build"))
    (out / "build").mkdir()
    shutil.copy2(src_root / "lessons" / lesson / "build" / "kernel.elf", out / "build")
    return out


def test_a_changed_constant_makes_a_picture_stale(pytestconfig, tmp_path):
    """The staleness test can fail: move the peripherals in memlayout.h and the
    lesson 07 map, drawn again, differs from the committed one and shows the new
    address (the code's value, not one written in the generator)."""
    root = pytestconfig.pios_root
    if not (root / "lessons/07-mmu/build/kernel.elf").exists():
        pytest.fail("lesson 07 is not built: make build L=07", pytrace=False)
    lesson = _copy_lesson(root, "07-mmu", tmp_path)
    committed = (lesson / "pictures" / "vmmap.svg").read_text()
    assert P.draw(lesson, "vmmap.svg", tmp_path) == committed
    layout = lesson / "memlayout.h"
    text = layout.read_text()
    assert "0xF2000000" in text
    layout.write_text(text.replace("0xF2000000", "0xE4000000"))
    redrawn = P.draw(lesson, "vmmap.svg", tmp_path)
    assert redrawn != committed and "0xE4000000" in redrawn and "0xF2000000" not in redrawn


def test_defines_are_evaluated_as_c_would(tmp_path):
    """codefacts.Defines: suffixes, casts, function-like macros, the first
    definition wins (as #ifndef in board.h has it)."""
    (tmp_path / "a.h").write_text("#define BASE 0x80000000u\n#define SHIFT(x) ((u32)(x) << 4)\n"
                                  "#define BOTH (BASE | SHIFT(3)) /* comment */\n")
    (tmp_path / "b.h").write_text("#define BASE 0x20000000u\n#define MASK 0xFFFFF000u\n")
    d = C.Defines([tmp_path / "a.h", tmp_path / "b.h"])
    assert d["BOTH"] == 0x80000030 and d.value("SHIFT", 0xF) == 0xF0
    assert C.field_bits(d["MASK"]) == (31, 12)
    with pytest.raises(AssertionError):
        C.field_bits(0x5)
