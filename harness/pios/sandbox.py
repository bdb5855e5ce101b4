"""Running untrusted work in a sandbox: bubblewrap (Debian's `bubblewrap`).

The grader builds and boots code a student wrote. The compiler reads whatever the
sources name (`#include "/etc/passwd"`, an `.incbin` built by an assembler macro),
and QEMU runs the kernel. Both run here, in a fresh mount namespace that shows:

    /usr/bin /usr/lib /usr/lib64 /usr/libexec /usr/share/qemu /usr/share/gdb
        read-only: programs, their libraries, QEMU's and GDB's data files (and /bin
        /lib /lib64 /sbin as the host has them: links into /usr, or read-only folders)
    the install folder of the program run (and of the tools it names) when it is
        outside /usr, read-only, its bin/ first on PATH
    the folders the caller names, read-only or writable (the build tree)
    /dev (null, zero, random, ... only), an empty /tmp

and nothing else: no /etc, /home, /root, /proc, no repository, no other submission.
It has no network, its own process and IPC namespaces, no capabilities, and an
environment of PATH, HOME=/tmp, TMPDIR=/tmp, LC_ALL=C and what the caller adds
(never PIOS_GRADE_SECRET). Stop it with kill_tree(): killing bwrap alone can leave
the sandboxed process running.

PIOS_SANDBOX=bwrap in the environment makes pios.qemu start every QEMU this way (the
grader sets it for the test run it starts); anything else leaves QEMU as it is.
"""

import functools
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

ENV = "PIOS_SANDBOX"
BWRAP = "bwrap"
SYSTEM_RO = ("/usr/bin", "/usr/lib", "/usr/lib64", "/usr/libexec", "/usr/share/qemu",
             "/usr/share/gdb")
TOP_LEVEL = ("/bin", "/lib", "/lib32", "/lib64", "/sbin")
PATH = "/usr/local/bin:/usr/bin:/bin"


def active():
    """True when this process was asked to sandbox QEMU (the grader's test run)."""
    return os.environ.get(ENV) == "bwrap"


def _system_args():
    args = []
    for p in SYSTEM_RO:
        if os.path.isdir(p):
            args += ["--ro-bind", p, p]
    for p in TOP_LEVEL:            # merged /usr: links; older layouts: real folders
        if os.path.islink(p):
            args += ["--symlink", os.readlink(p), p]
        elif os.path.isdir(p):
            args += ["--ro-bind", p, p]
    return args


def tool_dirs(*programs):
    """The install folder of each program found outside /usr (a cross compiler
    unpacked in /opt, say): it must be visible in the sandbox too. Never / or a
    home folder (that would show the sandbox everything there)."""
    dirs = []
    home = Path.home().resolve()
    for prog in programs:
        found = shutil.which(prog)
        if not found:
            continue
        real = Path(found).resolve()
        if real.parts[1:2] == ("usr",) and real.parts[1:3] != ("usr", "local"):
            continue
        prefix = real.parent.parent             # .../bin/prog -> ...
        if prefix == Path("/") or prefix == home or home in prefix.parents \
                or prefix in home.parents:
            continue
        dirs.append(str(prefix))
    return sorted(set(dirs))


def command(cmd, ro=(), rw=(), env=None, cwd=None, tools=()):
    """cmd wrapped in bwrap: it sees the system folders, the install folders of
    cmd[0] and of `tools` (other programs it runs) when they are outside /usr, `ro`
    read-only and `rw` writable (each at its own path), and runs in `cwd` with
    `env` added to the minimal environment."""
    dirs = tool_dirs(str(cmd[0]), *tools)
    path = ":".join([f"{d}/bin" for d in dirs] + [PATH])
    args = [BWRAP, "--unshare-all", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--hostname", "pios-sandbox", "--clearenv",
            "--setenv", "PATH", path, "--setenv", "HOME", "/tmp",
            "--setenv", "TMPDIR", "/tmp", "--setenv", "LC_ALL", "C"]
    for k, v in (env or {}).items():
        args += ["--setenv", k, v]
    args += _system_args() + ["--dev", "/dev", "--tmpfs", "/tmp"]
    for d in list(ro) + dirs:
        args += ["--ro-bind", str(d), str(d)]
    for d in rw:
        args += ["--bind", str(d), str(d)]
    if cwd:
        args += ["--chdir", str(cwd)]
    return args + ["--"] + [str(c) for c in cmd]


@functools.lru_cache(maxsize=None)
def problem():
    """None if the sandbox works on this machine, else why not (one line)."""
    if shutil.which(BWRAP) is None:
        return ("bubblewrap is not installed (sudo apt-get install bubblewrap, or "
                "harness/tools/setup-host --install grade)")
    try:
        p = subprocess.run(command(["true"]), capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"bubblewrap did not run: {e}"
    if p.returncode != 0:
        why = (p.stderr.strip().splitlines() or ["no message"])[-1]
        return (f"bubblewrap cannot make a sandbox here ({why}): this machine or "
                "container does not allow user namespaces")
    return None


def _children(pid):
    kids = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                kids += [int(k) for k in f.read().split()]
        except OSError:
            pass
    return kids


def tree(pid):
    """pid and every process below it, as /proc lists them now."""
    found, todo = [], [pid]
    while todo and len(found) < 64:
        p = todo.pop()
        if p not in found:
            found.append(p)
            todo += _children(p)
    return found


_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(pid):
    """CPU seconds (user and system) used so far by pid and every process below it
    (QEMU inside its sandbox), with the children they have reaped; 0 for processes
    already gone."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += sum(int(x) for x in fields[11:15])    # utime stime cutime cstime
    return total / _TICK


def tree_asleep(pid):
    """True if every thread of pid and of every process below it sleeps, waiting
    for an event ('S'): none runs, none waits for a CPU or for the disk."""
    for p in tree(pid):
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] != "S":
                        return False
            except (OSError, IndexError):
                continue
    return True


def kill_tree(pid):
    """SIGKILL pid and everything below it. bwrap's sandboxed child runs in a session
    and a PID namespace of its own, so killing bwrap (or its process group) can leave
    it running: its --die-with-parent does not fire when bwrap dies early. Each
    process is stopped first, so none can start another while the tree is listed;
    the listing is repeated until it finds nothing new (a stop takes effect when the
    process next leaves the kernel). Killing a namespace's first process ends every
    process in it."""
    found = []
    for _ in range(8):          # pytest > bwrap > its init > QEMU: 4 levels
        new = [p for p in [pid] + [k for q in found for k in _children(q)] if p not in found]
        if not new and found:
            break
        for p in new:
            try:
                os.kill(p, signal.SIGSTOP)
                found.append(p)
            except (ProcessLookupError, PermissionError):
                pass
        if not found:
            return
        time.sleep(0.0002)
    for p in reversed(found):
        try:
            os.kill(p, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
