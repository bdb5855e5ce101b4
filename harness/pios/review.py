"""What a TA reads by hand: the properties of a lesson's code that QEMU cannot show.

QEMU has no caches, flushes its whole TLB on every ASID or table change, and does
not model the waits real hardware needs, so some of what a lesson teaches passes
every test when it is wrong and only fails on a Pi. Each report ends with this
list, each item pointing at the function in the student's own file, so a TA knows
where to look. It is the same list a student sees in their practice report: it is
a rubric, not a secret.

An item is (file in the lesson folder, the function or assembly label, what to
check). A lesson's list is its own items: the points are its own work.
"""

import re
from pathlib import Path

REVIEW = {
    1: [
        ("start.S", "_start", "sp is set before the first call (a real Pi starts "
         "with sp wherever the firmware left it; QEMU's is harmless)"),
        ("uart.c", "uart_putc", "TXFF is polled before every write to DR (QEMU's "
         "FIFO never fills; a Pi's 16 bytes fill in 1.4 ms at 115200 baud)"),
    ],
    2: [
        ("uart.c", "uart_init", "the UART is disabled (CR = 0) and BUSY waited out "
         "before LCRH and the divisors change; CR is written last"),
        ("gpio.c", "gpio_set_pull", "the waits between GPPUD, GPPUDCLK and their "
         "clearing are there (150 cycles each: QEMU ignores the sequence)"),
        ("mbox.c", "mbox_call", "the buffer is 16-byte aligned, its bus address is "
         "sent, and FULL/EMPTY are polled (QEMU answers at once)"),
    ],
    3: [
        ("start.S", "_start", "each mode's stack is set with IRQ and FIQ masked "
         "(cpsid if), and the code returns to SVC mode before calling C"),
        ("exceptions.c", "exc_svc", "the SVC number is read from the instruction at "
         "pc - 4 of the saved frame, masked to 24 bits"),
    ],
    4: [
        ("uart.c", "uart_rx_irq", "the interrupt is cleared before the FIFO is "
         "drained (a byte arriving in between would raise no new interrupt)"),
        ("uart.c", "uart_getc", "the empty-buffer check and WFI happen with IRQs "
         "masked (WFI wakes on a pending IRQ even when masked): no lost wake-up"),
        ("irq.c", "dispatch", "an unhandled source is disabled at the controller, "
         "not only counted"),
    ],
    5: [
        ("timer.c", "tick_irq", "the match is acknowledged (CS) before anything "
         "else, and the next deadline counts from the last deadline, not from CLO"),
        ("timer.c", "run_expired", "a timer leaves the list (or is re-inserted) "
         "before its callback runs; arming checks for a deadline already passed"),
    ],
    6: [
        ("pmm.c", "pmm_free_run", "every frame is checked before any is freed "
         "(all or nothing)"),
        ("pmm.c", "pmm_alloc_run", "the first frame's address is a multiple of "
         "align, and the search stops at the end of RAM without wrapping"),
    ],
    # (What the lint decides -- harness/pios/lint.py: the MMU-on order, every cache
    # clean, TLB invalidate and barrier of the scratch page, unmap and the ASID
    # switch -- is graded by the lessons' test_lint_* tests, not listed here.)
    7: [
        ("mmu.c", "mmu_boot_tables", "the tables are complete before the MMU is "
         "on: the boot runs from the identity map it writes"),
        ("mbox.c", "mbox_call", "the firmware gets the buffer's physical (bus) "
         "address, not its virtual one"),
    ],
    8: [
        ("vmm.c", "scratch_unmap", "the entry is cleared at all (the lint checks the "
         "invalidate after an entry write; a scratch_unmap that writes nothing leaves "
         "the last frame mapped, and no test can see it)"),
        ("vmm.c", "map_page", "a new L2 table is zeroed and written back before the "
         "L1 entry that points at it (the lint does not follow memset)"),
    ],
    9: [
        ("switch.S", "cpu_switch", "r4-r11, sp and lr are saved and restored, and "
         "nothing else is assumed preserved"),
        ("sched.c", "schedule", "every caller masks IRQs around it (thread_yield, "
         "the IRQ exit): a tick between the choice of next and the switch re-enters it"),
    ],
    10: [
        ("syscall.c", "sys_write", "the whole buffer [buf, buf + len) is checked "
         "(vmm_user_ok with its length) before any byte is read"),
        ("vmm.c", "unmap_page", "the table is freed when its count of live entries "
         "(l2_live) drops to zero, not found empty by reading its 256 entries (both "
         "free the same tables: only make bench L=10 tells them apart)"),
    ],
}


DEFINITION = re.compile(r"^(?:[A-Za-z_][^;=(]*\b(\w+)\s*\([^;]*|(\w+)\s*:)\s*$")


def _defined(line):
    """The name a line defines (a C function at column 0, or an assembly label), or
    None."""
    m = DEFINITION.match(line)
    return (m.group(1) or m.group(2)) if m and not line.startswith(("#", " ", "\t")) else None


def _definition(text, name):
    """The 1-based line where a C function or an assembly label is defined, or None."""
    return next((i for i, line in enumerate(text.split("\n"), 1) if _defined(line) == name),
                None)


def function_at(text, line):
    """The name of the C function or assembly label whose body holds `line`
    (1-based): the nearest definition above it."""
    lines = text.split("\n")
    return next((_defined(lines[i]) for i in range(line - 1, -1, -1) if _defined(lines[i])),
                None)


def covers(lesson_number, rel, text, line):
    """The review item for the function that holds line `line` of file `rel`, or
    None: what stands in for a test where no test can tell (test_course.py)."""
    name = function_at(text, line)
    return next((what for f, n, what in REVIEW.get(lesson_number, [])
                 if f == rel and n == name), None)


def items(lesson, lesson_dir):
    """The lesson's review list, each item located in the graded tree's lesson
    folder: [(where, what)] with where as 'lessons/NN-name/file:line name()'."""
    out = []
    for rel, name, what in REVIEW.get(lesson.number, []):
        path = Path(lesson_dir) / rel
        line = None
        if path.is_file():
            line = _definition(path.read_text(errors="replace"), name)
        call = name if rel.endswith(".S") else f"{name}()"
        where = f"lessons/{lesson.name}/{rel}" + (f":{line}" if line else "")
        out.append((f"{where} {call}" + ("" if line else " (not found)"), what))
    return out


def lines(found):
    """The report's section."""
    if not found:
        return []
    out = ["review by hand (what QEMU cannot show; not scored):"]
    for where, what in found:
        out.append(f"  - {where}: {what}")
    return out
