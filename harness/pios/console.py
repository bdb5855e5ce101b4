"""A pexpect session on a booted kernel's serial console.

Every wait has a wall-clock timeout. The defaults are generous: the slowest answer
in the whole suite takes under 2 s on a loaded 2-core machine, a typical one a few
milliseconds, and a kernel that does not answer fails in 5 s instead of hanging
its test. On a much slower host, PIOS_TIMEOUT_SCALE=3 (say) multiplies them all.
"""

import os
import subprocess
from pathlib import Path

import pexpect
from pexpect.fdpexpect import fdspawn

from .qemu import LOG_LIMIT, CappedLog, _die_with_parent
from .sandbox import kill_tree

BANNER_RE = r"piOS lesson (\d\d-[a-z0-9-]+)\r\n"
PROMPT = "> "
DEFAULT_TIMEOUT = 5.0
TIMEOUT_SCALE = float(os.environ.get("PIOS_TIMEOUT_SCALE") or 1)


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
        self.log.write("$ " + " ".join(cmd) + "\n")
        # QEMU's own messages (warnings, errors) go to a file of their own: mixed into
        # the serial stream they would break the matching of the kernel's output.
        self.stderr_path = Path(str(log_path) + ".stderr")
        stderr_fd = os.open(self.stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)

        def child_setup():
            os.dup2(stderr_fd, 2)
            _die_with_parent()

        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         preexec_fn=child_setup)
        finally:
            os.close(stderr_fd)
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
        kill_tree(self.proc.pid)

    # ---- waiting for output -------------------------------------------------------
    def _describe(self, what, err):
        seen = (self.child.before or "")[-600:]
        kind = "the kernel stopped (QEMU exited)" if isinstance(err, pexpect.EOF) \
            else f"nothing matched within {self.timeout if err is None else err.timeout_used}s"
        if self.flooded:
            kind = (f"output flood: the kernel printed over {self.log.limit >> 10} KB, "
                    "so it was stopped")
        return f"waiting for {what}: {kind}.\nLast output:\n{seen}"

    def expect(self, pattern, timeout=None, what=None):
        """Wait for a regex; returns the match. Raises KernelError on timeout or exit."""
        return self._wait(self.child.expect, pattern, timeout, what or repr(pattern))

    def expect_exact(self, text, timeout=None, what=None):
        return self._wait(self.child.expect_exact, text, timeout, what or repr(text))

    def _wait(self, fn, pattern, timeout, what):
        timeout = (self.timeout if timeout is None else timeout) * TIMEOUT_SCALE
        try:
            fn(pattern, timeout=timeout)
        except pexpect.TIMEOUT as e:
            e.timeout_used = timeout
            raise KernelError(self._describe(what, e)) from None
        except pexpect.EOF as e:
            raise KernelError(self._describe(what, e)) from None
        return self.child.match

    @property
    def before(self):
        """What came before the last match, with CR LF as LF."""
        return (self.child.before or "").replace("\r\n", "\n")

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

    def expect_prompt(self, timeout=None):
        """A prompt at the start of a line (the kernel's boot text ends with one)."""
        return self.expect(r"(^|\n)> ", timeout, what="the prompt '> '")

    def cmd(self, line, timeout=None):
        """Type a command, check it is echoed, return its output (LF line ends, no
        trailing newline) once the next prompt appears."""
        self.send(line + "\r")
        self.expect_exact(line + "\r\n", timeout, what=f"the echo of {line!r}")
        self.expect(r"(^|\r\n)> ", timeout, what=f"the prompt after {line!r}")
        return self.before

    def wait_exit(self, timeout=None):
        """Wait until QEMU exits; returns its exit status."""
        self.expect(pexpect.EOF, timeout, what="QEMU to exit")
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
            kill_tree(proc.pid)     # QEMU, and the sandbox around it if there is one
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
