"""The commands a person uses: `make run` (pios-qemu run) gives a working console,
`make debug` (pios-qemu debug) stops at the entry point with the symbols loaded."""

import os
import re
import subprocess
from pathlib import Path

import pexpect
from pexpect.popen_spawn import PopenSpawn

LESSON = 1
TOOLS = Path(__file__).parent / "tools"


def test_run_gives_a_console(lesson, rng):
    """What `make run` starts: the banner appears; in a shell lesson, a command typed
    gets its answer and `halt` ends QEMU; Ctrl-A X (QEMU's quit key) works too."""
    child = PopenSpawn([str(TOOLS / "pios-qemu"), "run", str(lesson.elf)], timeout=20,
                       encoding="utf-8", codec_errors="replace")
    try:
        child.expect(r"Quit: Ctrl-A then X")
        child.expect(f"piOS lesson {lesson.name}\r\n")
        if lesson.has_shell:
            word = "".join(rng.choice("abcdefgh") for _ in range(10))
            child.expect("> ")
            child.send(f"echo {word}\r")
            child.expect(f"\r\n{word}\r\n> ")
            child.send("\x01x")                 # Ctrl-A X: QEMU's own quit key
        child.expect(pexpect.EOF)
        assert child.proc.wait(timeout=10) is not None
    finally:
        if child.proc.poll() is None:
            child.proc.kill()


def test_debug_stops_at_entry_with_symbols(lesson):
    """`make debug`, driven in GDB batch mode: QEMU waits at the entry (0x8000); a
    breakpoint on kernel_main is hit; the pios-cpsr command from the repo's GDB
    script decodes SVC mode."""
    out = subprocess.run(
        [str(TOOLS / "pios-qemu"), "debug", str(lesson.elf), "-batch",
         "-ex", "info registers pc", "-ex", "break kernel_main", "-ex", "continue",
         "-ex", "pios-cpsr"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        env=dict(os.environ, TERM="dumb")).stdout
    entry = lesson.virt_to_phys(lesson.symbol("_start"))
    assert entry == 0x8000
    # From lesson 07 on, _start is linked at 0x80008000 but runs at 0x8000 until the
    # MMU is on, so GDB shows no symbol name for the first instructions.
    name = r" <_start>" if lesson.symbol("_start") == entry else ""
    assert re.search(rf"^pc\s+0x8000\s+0x8000{name}$", out, re.M), out
    assert re.search(r"Breakpoint 1, kernel_main \(\) at kernel\.c:\d+", out), out
    assert re.search(r"cpsr 0x[0-9a-f]{8} .* mode SVC", out), out
