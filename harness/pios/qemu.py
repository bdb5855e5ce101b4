"""Booting a piOS kernel in QEMU: the command line (one definition, used by the tests
and by `make run` / `make debug`) and a pexpect session on its serial console."""

import ctypes
import os
import re
import signal
import socket
import time
from pathlib import Path

QEMU = os.environ.get("QEMU", "qemu-system-arm")
DEFAULT_MACHINE = "raspi0"
SEMIHOST_SVC_NOTE = "-semihosting lets the kernel end QEMU with an exit status"

# Boot an ELF the way the firmware boots kernel.img: QEMU enters it at 0x8000 in SVC
# mode. sleep=off with icount makes guest time depend only on instructions executed,
# so runs are repeatable and idle (WFI) time costs no wall time (QEMU-NOTES.md).
TEST_FLAGS = ["-icount", "shift=0,sleep=off"]


def base_command(machine=DEFAULT_MACHINE):
    return [QEMU, "-M", machine, "-display", "none", "-semihosting"]


def elf_boot_args(elf):
    return ["-kernel", str(elf)]


def raw_boot_args(img, load_addr=0x8000):
    """Load the raw kernel.img at 0x8000 and start the CPU there, as the Pi firmware
    does (`-kernel kernel.img` would enter it at 0x10000: QEMU-NOTES.md)."""
    return ["-device", f"loader,file={img},addr={load_addr:#x},force-raw=on",
            "-device", f"loader,addr={load_addr:#x},cpu-num=0"]


def test_command(elf=None, img=None, machine=DEFAULT_MACHINE, extra=()):
    """The harness's command line: serial on stdio, no monitor, deterministic time."""
    cmd = base_command(machine) + ["-serial", "stdio", "-monitor", "none"] + TEST_FLAGS
    cmd += raw_boot_args(img) if img else elf_boot_args(elf)
    return cmd + list(extra)


def free_tcp_port():
    """A port nobody listens on right now (for QEMU's GDB stub); xdist-safe because
    the OS hands out each free port to one caller at a time."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    """Runs in the child before exec: if the test process dies (even by SIGKILL),
    the kernel sends QEMU SIGKILL, so no QEMU outlives its test."""
    PR_SET_PDEATHSIG = 1
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


class CappedLog:
    """A log file that stops growing at `limit` bytes (a kernel that floods its
    console must not fill the disk)."""

    def __init__(self, path, limit=4 << 20):
        self.path = Path(path)
        self.file = open(self.path, "w", encoding="utf-8", errors="replace")
        self.limit = limit
        self.written = 0
        self.truncated = False

    def write(self, text):
        if self.written >= self.limit:
            if not self.truncated:
                self.file.write("\n[... log truncated: over %d bytes ...]\n" % self.limit)
                self.truncated = True
            return
        text = text[: self.limit - self.written]
        self.written += len(text)
        self.file.write(text)

    def flush(self):
        self.file.flush()

    def close(self):
        self.file.close()

    def tail(self, lines=40):
        self.flush()
        with open(self.path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
