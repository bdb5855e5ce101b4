"""The UART chainloader, end to end in QEMU: the loader kernel boots with its
serial line on a TCP socket, the host sender (pyserial) pushes a lesson's
kernel.img, and that lesson's banner and shell answer on the same line. Also:
a damaged transfer is caught by the CRC and sent again; a cut one times out and
the loader starts over."""

import re
import subprocess
import time
from pathlib import Path

import pytest

from pios import qemu
from pios.chainload import send_kernel

try:
    import serial
except ImportError:         # make test installs it (setup-host): missing is a failure
    serial = None


@pytest.fixture(autouse=True)
def _pyserial():
    if serial is None:
        pytest.fail("pyserial is not installed: run make setup (apt-get install "
                    "python3-serial)", pytrace=False)

LESSON = 3       # student trees have the chainloader from lesson 03 on (starter.py)
LOADER = Path(__file__).parent / "chainloader"


def _built_lesson(les, _built):
    from pios.build import build
    if les.name not in _built:
        build(les)
        _built[les.name] = None
    return les


@pytest.fixture
def newest_lesson(request, _built):
    """The newest selected lesson, the biggest kernel: what a hobbyist sends, and
    a transfer long enough to show the loader keeps up."""
    return _built_lesson(max(request.config.pios_lessons, key=lambda l: l.number), _built)


@pytest.fixture
def small_lesson(request, _built):
    """The first selected lesson with a shell (02, 9 KB): the error paths do not
    depend on the kernel, and QEMU's serial socket moves about 17 KB/s, so a small
    one keeps each retried transfer under a second."""
    return _built_lesson(min((l for l in request.config.pios_lessons if l.has_shell),
                             key=lambda l: l.number), _built)


@pytest.fixture(scope="session")
def loader_elf():
    r = subprocess.run(["make", "-s", "-C", str(LOADER)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return LOADER / "build" / "kernel.elf"


@pytest.fixture
def loader_port(loader_elf, tmp_path):
    """QEMU running the chainloader (real time: no icount), its UART on a socket."""
    port = qemu.free_tcp_port()
    cmd = qemu.base_command() + [
        "-chardev", f"socket,id=line,host=127.0.0.1,port={port},server=on,wait=off",
        "-serial", "chardev:line", "-monitor", "none"] + qemu.elf_boot_args(loader_elf)
    err = open(tmp_path / "qemu.stderr", "w")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                            preexec_fn=qemu._die_with_parent)
    line = None
    for _ in range(100):
        try:
            line = serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=0.1)
            break
        except serial.SerialException:
            time.sleep(0.05)
    assert line, "could not connect to QEMU's serial socket"
    yield line
    line.close()
    proc.kill()
    proc.wait()
    err.close()


def read_until(line, pattern, seconds=20):
    buf = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        buf += line.read(4096)
        m = re.search(pattern, buf)
        if m:
            return buf, m
    raise AssertionError(f"no {pattern!r} within {seconds}s; got {buf[-400:]!r}")


def test_send_a_lesson_and_use_its_shell(loader_port, newest_lesson, rng):
    messages = []
    assert send_kernel(loader_port, newest_lesson.img.read_bytes(), log=messages.append) == 1
    read_until(loader_port, rf"piOS lesson {newest_lesson.name}\r\n[\s\S]*\n> ".encode())
    word = "".join(rng.choice("abcdefgh") for _ in range(12))
    loader_port.write(f"echo {word}\r".encode())
    read_until(loader_port, f"echo {word}\r\n{word}\r\n> ".encode())
    assert re.search(r"\d+ bytes, PIOS-LOADER OK \([\d.]+ KiB/s\)", messages[-1])


def test_damaged_transfer_is_detected_and_sent_again(loader_port, small_lesson, rng):
    data = small_lesson.img.read_bytes()
    where = rng.randrange(len(data))

    def damage(attempt, payload):
        if attempt > 1:
            return payload
        return payload[:where] + bytes([payload[where] ^ 0x40]) + payload[where + 1:]

    messages = []
    assert send_kernel(loader_port, data, damage=damage, log=messages.append) == 2
    assert "PIOS-LOADER CRC" in messages[0] and "PIOS-LOADER OK" in messages[1]
    read_until(loader_port, rf"piOS lesson {small_lesson.name}\r\n".encode())


def test_cut_transfer_times_out_and_the_loader_starts_over(loader_port, small_lesson, rng):
    data = small_lesson.img.read_bytes()
    cut_at = rng.randrange(1, len(data))
    messages = []
    attempts = send_kernel(loader_port, data, cut=lambda a: cut_at if a == 1 else len(data),
                           log=messages.append)
    assert attempts == 2
    assert "PIOS-LOADER TIMEOUT" in messages[0] and "PIOS-LOADER OK" in messages[1]
    read_until(loader_port, rf"piOS lesson {small_lesson.name}\r\n".encode())
