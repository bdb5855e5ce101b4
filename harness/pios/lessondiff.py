"""What a lesson adds to the previous one, as the reference's code reads.

`make diff L=NN` prints it as a unified diff; `make diff-html [L=NN]` writes it as a
side-by-side page per lesson (build/diff/NN-name.html). Two things make it more than
`diff -ru`:

- a file new in the lesson is shown in full, as added lines (a lesson's subsystem is
  mostly new files: lesson 05's is timer.c), and a file it drops in full as removed;
- the solution regions' markers (harness/pios/starter.py explains them) are left out
  of both sides, and so is starter.txt (the starter's TODO and stub texts), so a file
  reads as the reference's code does and a TODO reworded between two lessons is no
  change.

READMEs and their pictures are left out (they always differ), and so are build outputs.
"""

import difflib
import html
from pathlib import Path

from . import starter as S

SKIPPED = {"README.md", S.TEXTS_FILE}     # the starter's TODOs and stubs: scaffolding


def lesson_files(lesson_dir):
    """A lesson's files, relative to its folder: everything but build output,
    READMEs and their pictures, hidden files and editor backups."""
    lesson_dir = Path(lesson_dir)
    found = set()
    for p in lesson_dir.rglob("*"):
        rel = p.relative_to(lesson_dir)
        if (not p.is_file() or "build" in rel.parts or "pictures" in rel.parts
                or p.name in SKIPPED
                or any(part.startswith(".") for part in rel.parts) or p.name.endswith("~")):
            continue
        found.add(rel.as_posix())
    return found


def readable(path):
    """A file's text as the diff shows it: a source file without its solution
    markers (each region's reference code kept), anything else as it is."""
    path = Path(path)
    if not path.is_file():
        return ""
    text = path.read_text(errors="replace")
    if path.suffix in S.SOURCE_SUFFIXES:
        text = S.unmarked(text, str(path))
    return text


def changed_files(previous_dir, lesson_dir):
    """[(relative path, old text, new text)] for every file that differs once the
    markers are gone, in path order; old is '' for a new file, new '' for a dropped
    one."""
    out = []
    for rel in sorted(lesson_files(previous_dir) | lesson_files(lesson_dir)):
        old = readable(Path(previous_dir) / rel)
        new = readable(Path(lesson_dir) / rel)
        if old != new or (Path(previous_dir) / rel).exists() != (Path(lesson_dir) / rel).exists():
            out.append((rel, old, new))
    return out


def _lines(text):
    return text.splitlines(keepends=True) if text else []


def unified(previous_dir, lesson_dir, context=3):
    """The whole diff as unified-diff text (new and dropped files in full)."""
    previous_dir, lesson_dir = Path(previous_dir), Path(lesson_dir)
    chunks = []
    for rel, old, new in changed_files(previous_dir, lesson_dir):
        a = f"lessons/{previous_dir.name}/{rel}" if old or (previous_dir / rel).exists() else "/dev/null"
        b = f"lessons/{lesson_dir.name}/{rel}" if new or (lesson_dir / rel).exists() else "/dev/null"
        body = list(difflib.unified_diff(_lines(old), _lines(new), a, b, n=context))
        if not body:                    # an empty file added or dropped
            body = [f"--- {a}\n", f"+++ {b}\n"]
        chunks.append("".join(l if l.endswith("\n") else l + "\n\\ No newline at end of file\n"
                              for l in body))
    return "".join(chunks)


PAGE_STYLE = """
body { font-family: sans-serif; margin: 1em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; font-family: monospace; }
table.diff { font-family: monospace; font-size: 0.85em; border-collapse: collapse; width: 100%; }
table.diff td { padding: 0 0.4em; vertical-align: top; white-space: pre-wrap; }
.diff_header { background: #eee; color: #666; text-align: right; }
.diff_next { display: none; }
.diff_add { background: #cfc; } .diff_chg { background: #ffa; } .diff_sub { background: #fcc; }
"""


def html_page(previous_dir, lesson_dir):
    """A side-by-side page: one table per changed file, the previous lesson's version
    on the left (empty for a new file), this lesson's on the right."""
    previous_dir, lesson_dir = Path(previous_dir), Path(lesson_dir)
    maker = difflib.HtmlDiff(tabsize=8, wrapcolumn=None)
    files = changed_files(previous_dir, lesson_dir)
    parts = [
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>",
        f"<title>piOS {html.escape(lesson_dir.name)}: what it adds to "
        f"{html.escape(previous_dir.name)}</title>",
        f"<style>{PAGE_STYLE}</style></head><body>",
        f"<h1>piOS lesson {html.escape(lesson_dir.name)}: what it adds to "
        f"{html.escape(previous_dir.name)}</h1>",
        "<p>Left: the previous lesson; right: this one. New files are shown in full. "
        "The solution markers and their TODO text are left out, and so are the "
        "READMEs. Produced by <code>make diff-html</code>.</p>",
        "<ul>" + "".join(f"<li><a href='#f{i}'>{html.escape(rel)}</a> "
                         f"({'new' if not (previous_dir / rel).exists() else 'dropped' if not (lesson_dir / rel).exists() else 'changed'})</li>"
                         for i, (rel, _, _) in enumerate(files)) + "</ul>",
    ]
    for i, (rel, old, new) in enumerate(files):
        whole = not old or not new      # a new or dropped file: every line
        table = maker.make_table(old.splitlines(), new.splitlines(),
                                 f"{previous_dir.name}/{rel}" if old else "(none)",
                                 f"{lesson_dir.name}/{rel}" if new else "(none)",
                                 context=not whole, numlines=5)
        parts.append(f"<h2 id='f{i}'>{html.escape(rel)}</h2>\n{table}")
    parts.append("</body></html>\n")
    return "\n".join(parts)
