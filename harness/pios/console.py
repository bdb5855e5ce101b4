"""A pexpect session on a booted kernel's serial console.

Every wait has a wall-clock timeout. The defaults are generous: the slowest answer
in the whole suite takes under 2 s on a loaded 2-core machine, a typical one a few
milliseconds, and a kernel that does not answer fails in 5 s instead of hanging
its test. On a much slower host, PIOS_TIMEOUT_SCALE=3 (say) multiplies them all.

A wait also ends when QEMU has spent a fifth of its timeout, and at most 2 s, in
CPU time without the answer (cpu_budget), or the `cpu` seconds a test allows for an
answer it knows needs less (a lesson 10 program's run: 0.5 s): a kernel that spins,
in a loop or in a storm of timer ticks, fails then, where the reference's hungriest
answer (a 26-34 ms busy-wait with interrupts off, guest time being instructions)
takes 0.7 s on an idle host and its programs at most 0.17 s. CPU time stretches far
less than wall time when the host is busy, so this limit says nearly the same of a
kernel on a loaded machine as on an idle one. And a wait ends when QEMU has run not
at all for IDLE_WINDOW (1 s: the guest's clock, or without one QEMU's CPU time, the
same, and every thread asleep, at each look): under -icount with sleep=off a guest
waiting for a timer gets there at once (QEMU jumps its clock ahead, and runs), so a
QEMU that sleeps that long holds a CPU halted with no timer due and no key on the
way that could wake it, and no answer can come.

Third, a wait ends when the guest's own clock (the system timer, read through
QEMU's monitor: qemu.GuestClock) has run as long as the wait's timeout, or the
`guest` seconds a test allows for an answer it knows takes longer (a long sleep).
Under sleep=off an idle kernel's clock jumps from one timer tick to the next: a
kernel idling at its prompt lives through about 180 s of its own time per second of
wall time, and a 5 s wait for an answer that never comes ends after some 30 ms
instead of a second of ticks. A kernel that computes runs its clock at a fraction
of wall time (one instruction, one nanosecond) and meets its CPU budget first.
Guest time counts only once QEMU has taken every key sent to it (input_pending):
keys still in the pipe leave an idle guest racing through seconds that are not its
fault. And before a wait fails, for any of these reasons, it reads what QEMU has
printed by then (_printed_meanwhile): this process can stall between reading the
output and measuring, and an answer printed meanwhile counts.
"""

import fcntl
import os
import socket
import struct
import subprocess
import termios
import time
from pathlib import Path

import pexpect
from pexpect.fdpexpect import fdspawn

from .qemu import CLOCK_FD, LOG_LIMIT, CappedLog, GuestClock, _die_with_parent
from .sandbox import kill_tree, tree_asleep, tree_cpu

BANNER_RE = r"piOS lesson (\d\d-[a-z0-9-]+)\r\n"
PROMPT = "> "
DEFAULT_TIMEOUT = 5.0
TIMEOUT_SCALE = float(os.environ.get("PIOS_TIMEOUT_SCALE") or 1)
CPU_SHARE = 5           # a wait may use timeout / CPU_SHARE seconds of QEMU's CPU,
CPU_MAX = 2.0           # and at most this many (times PIOS_TIMEOUT_SCALE)
CPU_CHECK = 0.25        # seconds between looks at QEMU's CPU time while a wait lasts,
FIRST_LOOKS = (0.02, 0.05, 0.1, 0.2)    # after these first ones: an idle kernel's
                        # clock runs 5 s ahead in about 30 ms, so its wait ends early
IDLE_WINDOW = 1.0       # seconds in which QEMU ran not at all: the kernel is stuck
FLOOD_MEANWHILE = 64 << 10  # bytes printed in one wait that has found no answer: a flood
WAIT_STATS = os.environ.get("PIOS_WAIT_STATS")
KILLED_CPU = [0.0]      # CPU seconds of the QEMUs this process killed (grade.json's
                        # timing: a killed process's time reaches no parent's count)


class KernelError(AssertionError):
    """The kernel did not do what the test expected; the message says what."""


class Kernel:
    """QEMU running one kernel, driven through its serial console over pipes (no
    pty: no terminal line discipline between the test and the UART)."""

    def __init__(self, cmd, log_path, timeout=DEFAULT_TIMEOUT, log_limit=LOG_LIMIT):
        self.qemu_cmd = cmd
        self.timeout = timeout
        self.flooded = False
        self.log = CappedLog(log_path, limit=log_limit, on_full=self._flood)
        # QEMU's own messages (warnings, errors) go to a file of their own: mixed into
        # the serial stream they would break the matching of the kernel's output.
        self.stderr_path = Path(str(log_path) + ".stderr")
        stderr_fd = os.open(self.stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)

        def child_setup():
            os.dup2(stderr_fd, 2)
            _die_with_parent()

        # The guest's clock (qemu.CLOCK_ARGS): one end of a socket pair for QEMU.
        ours = theirs = None
        if any(CLOCK_FD in str(arg) for arg in cmd):
            ours, theirs = socket.socketpair()
            cmd = [str(arg).replace(CLOCK_FD, str(theirs.fileno())) for arg in cmd]
        self.log.write("$ " + " ".join(cmd) + "\n")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         preexec_fn=child_setup,
                                         pass_fds=[theirs.fileno()] if theirs else [])
        finally:
            os.close(stderr_fd)
            if theirs:
                theirs.close()
        self.clock = GuestClock(ours) if ours else None
        # fdspawn waits for output in select(): no polling while the kernel thinks
        # (pexpect's PopenSpawn polls its reader thread's queue every 0.1 ms)
        self.child = fdspawn(self.proc.stdout.fileno(), timeout=timeout, encoding="utf-8",
                             codec_errors="replace", maxread=65536)
        self.child.proc = self.proc
        self.child.logfile_read = self.log
        self.exit_status = None

    def _flood(self):
        """The log is full: a kernel that prints this much is flooding its console.
        Stop it, or every test would wait out its timeout matching megabytes."""
        self.flooded = True
        self._kill()

    def _kill(self):
        KILLED_CPU[0] += tree_cpu(self.proc.pid)
        kill_tree(self.proc.pid)     # QEMU, and the sandbox around it if there is one

    @staticmethod
    def cpu_budget(timeout):
        """The CPU seconds a wait of `timeout` seconds (scaled) may let QEMU use."""
        return min(timeout / CPU_SHARE, CPU_MAX * TIMEOUT_SCALE)

    def cpu_seconds(self):
        """CPU time QEMU (and its sandbox) has used so far."""
        return tree_cpu(self.proc.pid)

    # ---- waiting for output -------------------------------------------------------
    def _describe(self, what, err):
        seen = (self.child.before or "")[-600:]
        kind = "the kernel stopped (QEMU exited)" if isinstance(err, pexpect.EOF) \
            else f"nothing matched within {self.timeout if err is None else err.timeout_used}s"
        if getattr(err, "idle", False):
            kind = (f"nothing matched, and QEMU has not run at all for {IDLE_WINDOW:g} s: the "
                    "CPU is halted and no timer is due, nor a key on the way, that could "
                    "wake it, so no answer can come (interrupts masked or never enabled?)")
        elif getattr(err, "cpu_used", None) is not None:
            kind = (f"nothing matched while the kernel ran for {err.cpu_used:.1f} s of CPU "
                    f"time (this wait allows {err.cpu_allowed:g} s of CPU: it spins, or is "
                    "far slower than it needs to be)")
            if err.printed >= FLOOD_MEANWHILE:
                kind += (f"; it printed {err.printed >> 10} KB meanwhile: an output flood "
                         "(the shell never got its turn)")
        elif getattr(err, "guest_used", None) is not None:
            kind = (f"nothing matched while {err.guest_used:.0f} s passed on the kernel's own "
                    f"clock (the system timer; this wait allows {err.guest_allowed:g} s): it "
                    "idles, waiting for something that does not come")
        if self.flooded:
            kind = (f"output flood: the kernel printed over {self.log.limit >> 10} KB, "
                    "so it was stopped")
        return f"waiting for {what}: {kind}.\nLast output:\n{seen}"

    def expect(self, pattern, timeout=None, what=None, guest=None, cpu=None):
        """Wait for a regex; returns the match. Raises KernelError on timeout or exit.
        guest: the seconds of the kernel's own time the answer may take (default: the
        timeout); a test that has the kernel sleep longer says so. cpu: the seconds of
        QEMU's CPU it may take (default: cpu_budget(timeout)); a test that knows its
        answer needs far less may say so, and a kernel that spins fails sooner."""
        return self._wait(self.child.expect, pattern, timeout, what or repr(pattern), guest, cpu)

    def expect_exact(self, text, timeout=None, what=None, guest=None, cpu=None):
        return self._wait(self.child.expect_exact, text, timeout, what or repr(text), guest,
                          cpu)

    def _wait(self, fn, pattern, timeout, what, guest=None, cpu_allowed=None):
        """fn(pattern) until it matches, for at most `timeout` seconds of wall time,
        `cpu_allowed` (default cpu_budget(timeout)) seconds of QEMU's CPU time and
        `guest` seconds of the guest's clock (both counted from the first look,
        FIRST_LOOKS[0] seconds in: an answer that comes sooner costs no look)."""
        guest = (self.timeout if timeout is None else timeout) if guest is None else guest
        timeout = (self.timeout if timeout is None else timeout) * TIMEOUT_SCALE
        cpu_allowed = self.cpu_budget(timeout) if cpu_allowed is None \
            else cpu_allowed * TIMEOUT_SCALE
        deadline = time.monotonic() + timeout
        cpu_start = cpu_last = clock_last = idle_since = guest_start = None
        written, looks = self.log.written, 0
        while True:
            left = deadline - time.monotonic()
            step = FIRST_LOOKS[looks] if looks < len(FIRST_LOOKS) else CPU_CHECK
            looks += 1
            try:
                fn(pattern, timeout=max(0.0, min(step, left)))
                if WAIT_STATS and cpu_start is not None:
                    self._wait_stats(what, cpu_start, guest_start, deadline - timeout)
                return self.child.match
            except pexpect.TIMEOUT as e:
                e.timeout_used, e.cpu_used, e.idle, e.guest_used = timeout, None, False, None
                if left > step:
                    # QEMU's CPU time and clock first, then what it printed: this
                    # process may stall between two looks (a loaded host), and an
                    # answer printed before the measurement must still count.
                    now, cpu = time.monotonic(), self.cpu_seconds()
                    asleep = tree_asleep(self.proc.pid)     # (before the clock's query
                    clock = self.clock.seconds() if self.clock else None  # wakes QEMU)
                    cpu_start = cpu if cpu_start is None else cpu_start
                    if guest_start is None or self.input_pending():
                        guest_start = clock     # (keys still on their way: not its fault)
                    if cpu - cpu_start >= cpu_allowed:
                        e.cpu_used, e.printed = cpu - cpu_start, self.log.written - written
                        e.cpu_allowed = cpu_allowed
                    elif clock is not None and guest_start is not None \
                            and clock - guest_start >= guest:
                        e.guest_used, e.guest_allowed = clock - guest_start, guest
                    elif (clock != clock_last if clock is not None else cpu != cpu_last) \
                            or not asleep:
                        # (the guest's clock stands still only while its CPU is halted
                        # with no timer due; QEMU's CPU time also moves when it answers
                        # the clock's queries)
                        cpu_last, clock_last, idle_since = cpu, clock, now
                        continue
                    elif now - idle_since >= IDLE_WINDOW * TIMEOUT_SCALE:
                        e.idle = True
                    else:
                        continue
                if self._printed_meanwhile(fn, pattern, what):
                    return self.child.match
                raise KernelError(self._describe(what, e)) from None
            except pexpect.EOF as e:
                raise KernelError(self._describe(what, e)) from None

    def _printed_meanwhile(self, fn, pattern, what):
        """Before a wait fails: read whatever QEMU has printed by now, without
        waiting. True if the answer is in it."""
        while True:
            written = self.log.written
            try:
                fn(pattern, timeout=0)
                return True
            except pexpect.TIMEOUT:
                if self.log.written == written:
                    return False
            except pexpect.EOF as e:
                raise KernelError(self._describe(what, e)) from None

    def _wait_stats(self, what, cpu_start, guest_start, started):
        """PIOS_WAIT_STATS=FILE: a line per wait that outlasted its first look, with
        the CPU seconds, guest seconds and wall seconds it took (how the budgets
        above were chosen: docs/grading.md)."""
        clock = self.clock.seconds() if self.clock else None
        guest = clock - guest_start if clock is not None and guest_start is not None else -1
        with open(WAIT_STATS, "a") as f:
            f.write(f"{self.cpu_seconds() - cpu_start:.3f} {guest:.3f} "
                    f"{time.monotonic() - started:.3f} {self.log.path.name} {what!r}\n")

    @property
    def before(self):
        """What came before the last match, with CR LF as LF."""
        return (self.child.before or "").replace("\r\n", "\n")

    def input_pending(self):
        """True while QEMU has not yet taken every byte sent to it from the pipe. Its
        clock runs on meanwhile (an idle guest's clock races), but an answer to keys
        it has not received cannot come: a wait does not count that guest time."""
        try:
            n = fcntl.ioctl(self.proc.stdin.fileno(), termios.FIONREAD, b"\0\0\0\0")
            return struct.unpack("i", n)[0] > 0
        except (OSError, ValueError):
            return False

    # ---- talking to it ---------------------------------------------------------------
    def send(self, text):
        try:
            self.proc.stdin.write(text.encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass        # QEMU has exited: the next wait reports it

    def read_banner(self):
        """The banner must be the first thing the kernel prints. Returns its name."""
        m = self.expect(BANNER_RE, what="the banner 'piOS lesson NN-name'")
        if self.child.before:
            raise KernelError(f"output before the banner: {self.child.before!r}")
        return m.group(1)

    def read_boot(self):
        """Banner, then everything up to the first prompt. Returns (name, boot text)."""
        name = self.read_banner()
        self.expect_prompt()
        return name, self.before

    def expect_prompt(self, timeout=None, guest=None):
        """A prompt at the start of a line (the kernel's boot text ends with one)."""
        return self.expect(r"(^|\n)> ", timeout, what="the prompt '> '", guest=guest)

    def cmd(self, line, timeout=None, guest=None, cpu=None):
        """Type a command, check it is echoed, return its output (LF line ends, no
        trailing newline) once the next prompt appears (within `guest` seconds of the
        kernel's time and `cpu` of QEMU's CPU: see expect)."""
        self.send(line + "\r")
        self.expect_exact(line + "\r\n", timeout, what=f"the echo of {line!r}")
        self.expect(r"(^|\r\n)> ", timeout, what=f"the prompt after {line!r}", guest=guest,
                    cpu=cpu)
        return self.before

    def wait_exit(self, timeout=None, guest=None):
        """Wait until QEMU exits; returns its exit status."""
        self.expect(pexpect.EOF, timeout, what="QEMU to exit", guest=guest)
        try:
            self.exit_status = self.child.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            raise KernelError("QEMU closed its output but did not exit") from None
        return self.exit_status

    def stderr_text(self):
        """What QEMU itself printed (errors, warnings), minus the harmless icount notice."""
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""
        return "".join(line for line in text.splitlines(True)
                       if "icount sleep disabled and no active timers" not in line)

    def close(self):
        """Kill QEMU if it still runs, reap it, close the log. Safe to call twice."""
        proc = self.child.proc
        if proc.poll() is None:
            self._kill()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for f in (proc.stdin, proc.stdout):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        self.log.close()
        if self.clock:
            self.clock.close()
