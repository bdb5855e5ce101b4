"""The host side of the UART chainloader protocol (harness/chainloader/loader.c).

send_kernel(port, data) waits for the loader's announcement, sends the header and
the kernel, and retries when the loader reports a damaged or cut transfer. `port`
is anything with pyserial's read/write/timeout: a serial.Serial, or
serial.serial_for_url("socket://127.0.0.1:PORT") for QEMU."""

import binascii
import struct
import time

READY = b"PIOS-LOADER READY"
REPLIES = (b"PIOS-LOADER GO", b"PIOS-LOADER SIZE", b"PIOS-LOADER OK", b"PIOS-LOADER CRC",
           b"PIOS-LOADER TIMEOUT")


class LoadError(Exception):
    pass


def _read_line_with(port, wanted, deadline):
    """Read lines until one contains one of `wanted`; returns it (bytes)."""
    buf = b""
    while time.monotonic() < deadline:
        chunk = port.read(1)
        if not chunk:
            continue
        buf += chunk
        if chunk == b"\n":
            for w in wanted:
                if w in buf:
                    return w
            buf = b""
    raise LoadError(f"no {' or '.join(w.decode() for w in wanted)} from the loader in time")


def send_kernel(port, data, attempts=3, wait=30.0, chunk=1024, damage=None, cut=None,
                log=print):
    """Send `data` (a kernel.img). Waits `wait` seconds for each announcement (None:
    for ever, so the Pi may be powered on at any time). damage(attempt, payload)
    may return a changed payload and cut(attempt) a shorter length: for tests of
    the error paths. Returns the number of attempts it took."""
    header = b"PIOS" + struct.pack("<II", len(data), binascii.crc32(data) & 0xFFFFFFFF)
    for attempt in range(1, attempts + 1):
        _read_line_with(port, [READY], time.monotonic() + wait if wait else float("inf"))
        port.write(header)
        reply = _read_line_with(port, REPLIES[:2] + (b"PIOS-LOADER TIMEOUT",),
                                time.monotonic() + 5)
        if reply == b"PIOS-LOADER TIMEOUT":
            log(f"pios-send: attempt {attempt}: the header did not arrive whole; again")
            continue
        if reply == b"PIOS-LOADER SIZE":
            raise LoadError(f"the loader refuses {len(data)} bytes")
        payload = damage(attempt, data) if damage else data
        length = cut(attempt) if cut else len(payload)
        start = time.monotonic()
        for i in range(0, length, chunk):
            port.write(payload[i:min(i + chunk, length)])
        reply = _read_line_with(port, REPLIES[2:], time.monotonic() + 10 + len(data) / 5000)
        rate = length / max(time.monotonic() - start, 1e-6)
        log(f"pios-send: attempt {attempt}: {length} bytes, {reply.decode()} "
            f"({rate / 1024:.1f} KiB/s)")
        if reply == b"PIOS-LOADER OK":
            return attempt
    raise LoadError(f"no good transfer in {attempts} attempts")
