"""The lessons of a piOS tree: their numbers, names, folders and build outputs."""

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

# The course plan. Lessons not written yet are listed so that the
# README's course map and error messages can name them.
COURSE = [
    "01-boot", "02-uart", "03-exceptions", "04-irq", "05-timer",
    "06-pmm", "07-mmu", "08-vmm", "09-scheduler", "10-processes",
]

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Lesson:
    number: int
    name: str               # "02-uart"
    path: Path              # .../lessons/02-uart
    _symbols: dict = field(default=None, repr=False)

    @property
    def build(self):
        return self.path / "build"

    @property
    def elf(self):
        return self.build / "kernel.elf"

    @property
    def img(self):
        return self.build / "kernel.img"

    @property
    def has_shell(self):
        """Lesson 01 prints and halts; every later lesson ends boot in the shell."""
        return self.number >= 2

    def segments(self):
        """The ELF's loadable segments as (virtual address, physical address, size)."""
        import struct
        data = self.elf.read_bytes()
        phoff, = struct.unpack_from("<I", data, 0x1C)
        phentsize, phnum = struct.unpack_from("<HH", data, 0x2A)
        segs = []
        for i in range(phnum):
            p_type, _, vaddr, paddr, _, memsz = struct.unpack_from("<6I", data, phoff + i * phentsize)
            if p_type == 1:                     # PT_LOAD
                segs.append((vaddr, paddr, memsz))
        return segs

    def virt_to_phys(self, addr):
        """Where a linked (virtual) address sits in RAM: from lesson 07 on the kernel
        is linked at 0x80000000 + its load address."""
        for vaddr, paddr, size in self.segments():
            if vaddr <= addr <= vaddr + size:
                return addr - vaddr + paddr
        return addr

    def symbol(self, name):
        """Address of an ELF symbol (from nm), e.g. lesson.symbol('_start')."""
        if self._symbols is None:
            out = subprocess.run([nm_tool(), str(self.elf)], check=True,
                                 capture_output=True, text=True).stdout
            self._symbols = {}
            for line in out.splitlines():
                parts = line.split()
                if len(parts) == 3:
                    self._symbols[parts[2]] = int(parts[0], 16)
        return self._symbols[name]

    def __str__(self):
        return self.name


def nm_tool():
    return os.environ.get("CROSS", "arm-none-eabi-") + "nm"


def find_lessons(root=REPO_ROOT):
    """All lessons present under root/lessons, in course order."""
    lessons = []
    for d in sorted((Path(root) / "lessons").glob("[0-9][0-9]-*")):
        if d.is_dir() and (d / "Makefile").exists():
            lessons.append(Lesson(int(d.name[:2]), d.name, d))
    return lessons


def resolve(spec, lessons):
    """Turn '2', '02', '02-uart' (or 'uart') into one of `lessons`.
    Raises ValueError with the list of lessons when it matches none."""
    spec = str(spec).strip()
    for lesson in lessons:
        if spec == lesson.name or spec == lesson.name[3:]:
            return lesson
        if re.fullmatch(r"\d+", spec) and int(spec) == lesson.number:
            return lesson
    names = ", ".join(l.name for l in lessons)
    raise ValueError(f"no lesson '{spec}'; the lessons are: {names}")
