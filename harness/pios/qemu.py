"""Booting a piOS kernel in QEMU: the command line (one definition, used by the tests
and by `make run` / `make debug`) and a pexpect session on its serial console."""

import ctypes
import functools
import os
import re
import signal
import socket
import time
from pathlib import Path

from . import sandbox

QEMU = os.environ.get("QEMU", "qemu-system-arm")
DEFAULT_MACHINE = "raspi0"
# Semihosting lets the kernel end QEMU with an exit status (common/semihost.c). With
# plain -semihosting the guest could also open and write any file on the host, and a
# graded kernel is untrusted code: target=gdb hands every file call to a debugger
# (none is attached, so they fail) while QEMU still performs SYS_EXIT itself.
SEMIHOSTING = ["-semihosting-config", "enable=on,target=gdb"]

# Boot an ELF the way the firmware boots kernel.img: QEMU enters it at 0x8000 in SVC
# mode. sleep=off with icount makes guest time depend only on instructions executed,
# so runs are repeatable and idle (WFI) time costs no wall time (docs/qemu.md).
TEST_FLAGS = ["-icount", "shift=0,sleep=off"]


def base_command(machine=DEFAULT_MACHINE):
    # With a GDB attached, target=gdb would pass the guest's file calls to GDB, which
    # carries them out on the host: a graded kernel under GDB gets no semihosting at
    # all (PIOS_SEMIHOSTING=off; harness/test_08_vmm.py's GDB test sets it).
    semi = SEMIHOSTING if os.environ.get("PIOS_SEMIHOSTING") != "off" else \
        ["-semihosting-config", "enable=off"]
    return [QEMU, "-M", machine, "-display", "none"] + semi


def elf_boot_args(elf):
    return ["-kernel", str(elf)]


def raw_boot_args(img, load_addr=0x8000):
    """Load the raw kernel.img at 0x8000 and start the CPU there, as the Pi firmware
    does (`-kernel kernel.img` would enter it at 0x10000: docs/qemu.md)."""
    return ["-device", f"loader,file={img},addr={load_addr:#x},force-raw=on",
            "-device", f"loader,addr={load_addr:#x},cpu-num=0"]


# The harness reads the guest's clock through a second monitor, on a socket QEMU
# inherits (console.Kernel puts the socket's descriptor in place of CLOCK_FD), so a
# wait can tell a kernel that idles (its clock races ahead under sleep=off) from
# one that computes. The guest cannot reach this monitor; nothing but the harness can.
CLOCK_FD = "@PIOS_CLOCK_FD@"
CLOCK_ARGS = ["-chardev", f"socket,id=pios-clock,fd={CLOCK_FD}",
              "-mon", "chardev=pios-clock,mode=readline"]


def test_command(elf=None, img=None, machine=DEFAULT_MACHINE, extra=(), monitor=None):
    """The harness's command line: serial on stdio, deterministic time, the clock's
    monitor (CLOCK_ARGS), and no other monitor unless `monitor` names a unix socket
    for one (tests that inspect the machine from outside, e.g. physical memory with
    `xp`)."""
    mon = f"unix:{monitor},server=on,wait=off" if monitor else "none"
    cmd = base_command(machine) + ["-serial", "stdio", "-monitor", mon] + TEST_FLAGS
    cmd += CLOCK_ARGS
    cmd += raw_boot_args(img) if img else elf_boot_args(elf)
    cmd += list(extra)
    if sandbox.active():        # a graded kernel: QEMU sees the files it loads only
        files = [img or elf] + re.findall(r"\bfile=([^,]+)", " ".join(map(str, extra)))
        cmd = sandbox.command(cmd, ro=sorted({Path(f).resolve().parent for f in files}),
                              rw=[Path(monitor).parent] if monitor else [])
    return cmd


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


# The most a kernel prints in a test is ~12 KB (lesson 04's input bursts): 64 KB is
# five times that, and bounds a flood's log, its test output and memory. A test that
# lets a kernel print more says so (Kernel(log_limit=...), boot(log_limit=...)).
# A flood's cost is its bytes: QEMU writes each one to the pipe on its own.
LOG_LIMIT = 64 << 10


class CappedLog:
    """A log file that stops growing at `limit` bytes (a kernel that floods its
    console must not fill the disk)."""

    def __init__(self, path, limit=LOG_LIMIT, on_full=None):
        self.path = Path(path)
        self.on_full = on_full          # called once, when the limit is reached
        self.file = open(self.path, "w", encoding="utf-8", errors="replace")
        self.limit = limit
        self.written = 0
        self.truncated = False

    def write(self, text):
        if self.written >= self.limit:
            if not self.truncated:
                self.file.write("\n[... log truncated: over %d bytes ...]\n" % self.limit)
                self.truncated = True
                if self.on_full:
                    self.on_full()
            return
        text = text[: self.limit - self.written]
        self.written += len(text)
        self.file.write(text)

    def flush(self):
        self.file.flush()

    def close(self):
        self.file.close()

    def tail(self, lines=30, limit=3000):
        """The last `lines` lines, and at most the last `limit` bytes of them (a
        flood without newlines is one line of megabytes)."""
        if not self.file.closed:        # a teardown failure asks after close()
            self.flush()
        with open(self.path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - limit))
            text = f.read().decode("utf-8", errors="replace")
        kept = "".join(text.splitlines(True)[-lines:])
        return ("[... earlier output cut ...]\n" if size > len(kept.encode()) else "") + kept


class Monitor:
    """QEMU's human monitor (HMP) on a unix socket: the view from outside the guest."""

    PROMPT = b"(qemu) "

    def __init__(self, path, timeout=10.0):
        self.path = str(path)
        self.timeout = timeout
        self.sock = None

    def _connect(self):
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.settimeout(self.timeout)
                self.sock.connect(self.path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        self._read_to_prompt()

    def _read_to_prompt(self):
        data = b""
        while not data.endswith(self.PROMPT):
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("QEMU monitor closed")
            data += chunk
        return data[: -len(self.PROMPT)].decode(errors="replace")

    def command(self, line):
        """Run one monitor command; returns its output (without the echo)."""
        if self.sock is None:
            self._connect()
        self.sock.sendall(line.encode() + b"\n")
        out = self._read_to_prompt().replace("\r", "")
        # HMP echoes the command line first (with terminal escapes): drop that line.
        return out.split("\n", 1)[1] if "\n" in out else ""

    def read_phys_word(self, addr):
        """The 32-bit word at physical address addr, read by QEMU, not the guest."""
        out = self.command(f"xp /1wx {addr:#x}")
        m = re.search(r"^[0-9a-f]+: 0x([0-9a-f]{8})", out, re.M)
        if not m:
            raise ValueError(f"unexpected xp output: {out!r}")
        return int(m.group(1), 16)

    def close(self):
        if self.sock:
            self.sock.close()


@functools.lru_cache(maxsize=None)
def system_timer_counter():
    """The physical address of the BCM2835 system timer's counter, CLO (CHI, its high
    word, follows it), as common/board.h names it."""
    from .codefacts import Defines
    from .lessons import REPO_ROOT
    return Defines([REPO_ROOT / "common" / "board.h"]).value("SYSTIMER_CLO")


class GuestClock(Monitor):
    """The guest's own time, read by QEMU from the system timer's 64-bit microsecond
    counter (reading it has no effect on the guest), over the monitor on a socket
    QEMU inherited (CLOCK_ARGS)."""

    def __init__(self, sock, timeout=1.0):
        super().__init__(path="(inherited socket)", timeout=timeout)
        self.sock = sock
        self.sock.settimeout(timeout)
        self.greeted = False
        self.broken = False

    def seconds(self):
        """Guest seconds since reset, or None if QEMU does not answer in time (it has
        exited, or is stuck): then never again, the stream being out of step."""
        if self.broken:
            return None
        try:
            if not self.greeted:
                self._read_to_prompt()          # the monitor's banner
                self.greeted = True
            out = self.command(f"xp /2wx {system_timer_counter():#x}")
            lo, hi = re.search(r": 0x([0-9a-f]{8}) 0x([0-9a-f]{8})", out).groups()
            return (int(hi, 16) << 32 | int(lo, 16)) / 1e6
        except (OSError, ConnectionError, AttributeError):
            self.broken = True
            return None
