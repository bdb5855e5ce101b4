"""The real-hardware path, checked without hardware: the SD card image holds an
MBR with a FAT32 partition and exactly the files a Pi needs, byte for byte."""

import struct
import subprocess
from pathlib import Path

LESSON = 1

TOOLS = Path(__file__).parent / "tools"
OFFSET = 2048 * 512


def mtools(*args):
    return subprocess.run(list(args), capture_output=True, check=True).stdout


def test_sd_card_image(lesson, rng, tmp_path):
    fw = tmp_path / "firmware"
    fw.mkdir()
    files = {name: bytes(rng.randrange(256) for _ in range(rng.randrange(1000, 40000)))
             for name in ("bootcode.bin", "start.elf", "fixup.dat")}
    for name, data in files.items():
        (fw / name).write_bytes(data)
    img = tmp_path / "sd.img"
    subprocess.run([str(TOOLS / "mksdcard"), str(img), str(lesson.img), str(fw), "--size-mb", "40"],
                   check=True, capture_output=True)
    raw = img.read_bytes()
    assert raw[510:512] == b"\x55\xaa", "MBR signature"
    status, ptype, start, count = struct.unpack_from("<B3xB3xII", raw, 446)
    assert (status, ptype, start) == (0x80, 0x0C, 2048), "one bootable FAT32 LBA partition"
    assert start + count == len(raw) // 512
    assert raw[OFFSET + 82:OFFSET + 90] == b"FAT32   ", "the partition is FAT32"
    part = f"{img}@@{OFFSET}"
    listing = mtools("mdir", "-b", "-i", part, "::/").decode().split()
    assert sorted(p.rsplit("/", 1)[-1] for p in listing) == \
        sorted(list(files) + ["config.txt", "kernel.img"])
    for name, data in files.items():
        assert mtools("mtype", "-i", part, f"::/{name}") == data, f"{name} differs"
    assert mtools("mtype", "-i", part, "::/kernel.img") == lesson.img.read_bytes()
    config = mtools("mtype", "-i", part, "::/config.txt").decode()
    for line in ("kernel=kernel.img", "enable_uart=1", "arm_64bit=0", "dtoverlay=disable-bt"):
        assert line in config.splitlines()


def test_sd_card_refuses_missing_firmware(lesson, tmp_path):
    (tmp_path / "bootcode.bin").write_bytes(b"x")
    r = subprocess.run([str(TOOLS / "mksdcard"), str(tmp_path / "sd.img"), str(lesson.img),
                        str(tmp_path)], capture_output=True, text=True)
    assert r.returncode != 0 and "lacks start.elf, fixup.dat" in r.stderr
