"""Building a lesson once per test session, also with several xdist workers."""

import fcntl
import os
import subprocess


class BuildError(Exception):
    pass


def build(lesson, make="make"):
    """Run `make` in the lesson's folder under a lock (parallel workers must not run
    two makes in one folder). Raises BuildError with the compiler output."""
    lesson.build.mkdir(exist_ok=True)
    with open(lesson.build / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run([make, "-C", str(lesson.path), "--no-print-directory"],
                                capture_output=True, text=True, timeout=300,
                                env=dict(os.environ, MAKEFLAGS=""))
    if result.returncode != 0:
        raise BuildError(f"building {lesson.name} failed (make exit {result.returncode}):\n"
                         + (result.stdout + result.stderr)[-8000:])
    return result.stdout
