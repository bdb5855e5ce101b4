"""Hidden tests, lesson 06: the frame allocator with (almost) all of memory in use.

The public tests allocate from a nearly empty RAM, where nearly any search finds a
run at once. These take every free frame first, give back a few holes the test
places, and then hold the allocator to its contract exactly: a run is returned if
and only if one fits (aligned, every frame free), single frames are found wherever
they are (next fit must wrap round), and a refused free changes nothing. A kernel
tuned to the visible tests still has to be right here. Instructor-only: never
handed out."""

import re

import pytest

LESSON = 6

PAGE = 4096


def stats(kernel):
    out = kernel.cmd("pmm")
    m = re.fullmatch(r"ram 0x([0-9a-f]{8})-0x([0-9a-f]{8}): (\d+) frames of 4096 bytes\n"
                     r"free (\d+), allocated (\d+), reserved (\d+)", out)
    assert m, f"expected the two lines of `pmm`, got:\n{out}"
    free, allocated, reserved = (int(x) for x in m.groups()[3:])
    return dict(free=free, allocated=allocated, reserved=reserved)


def alloc(kernel, count=1, align=PAGE, plain=False):
    """The address (an int), or the kernel's answer (a str) if it is not an allocation."""
    cmd = "alloc" if plain else f"alloc {count} {align:#x}"
    out = kernel.cmd(cmd)
    m = re.fullmatch(rf"allocated {count} frames at 0x([0-9a-f]{{8}})", out)
    return int(m[1], 16) if m else out


def out_of_memory(out, count, align=PAGE):
    return isinstance(out, str) and out.startswith(
        f"error: out of memory: no free run of {count} frames aligned to {align:#x}")


def free(kernel, addr, count=1):
    out = kernel.cmd(f"free {addr:#x} {count}")
    assert out == f"freed {count} frames at 0x{addr:08x}", \
        f"free {addr:#x} {count}: expected 'freed {count} frames at 0x{addr:08x}', got {out!r}"


def take_everything(kernel):
    """One run of every free frame (free RAM is one piece after boot). Returns
    (stats before, first frame number, frame count)."""
    st0 = stats(kernel)
    n = st0["free"]
    big = alloc(kernel, n)
    assert isinstance(big, int), f"alloc {n} (every free frame) should succeed, got {big!r}"
    st = stats(kernel)
    assert st["free"] == 0, f"after taking all {n} free frames, pmm says {st['free']} are free"
    return st0, big // PAGE, n


def give_back_all(kernel, first, n, free_set):
    """Free every frame of the big run that the model says is allocated, in runs."""
    f = first
    while f < first + n:
        if f in free_set:
            f += 1
            continue
        g = f
        while g < first + n and g not in free_set:
            g += 1
        free(kernel, f * PAGE, g - f)
        f = g


def fits(free_set, count, step):
    """Every start frame of an aligned run of `count` free frames (the model's answer)."""
    return {s for s in free_set
            if s % step == 0 and all(s + i in free_set for i in range(count))}


@pytest.mark.points(3)
def test_runs_in_a_nearly_full_memory_are_exact(kernel, rng):
    """Holes made on purpose: a short one at an aligned frame (a run may not start
    there, it is too short) and a long enough one that starts off the alignment (a
    run may not start there either). `alloc N ALIGN` must then say out of memory;
    with an aligned hole added it must return exactly that one. Then random allocs
    and frees in the holes, each checked against the model: success exactly when
    a fitting run exists, and every run returned aligned and made of free frames."""
    st0, first, n = take_everything(kernel)
    free_set = set()

    step = rng.choice([2, 4, 8, 16])            # the alignment, in frames
    need = rng.randrange(2, step + 1)           # the run wanted: 2..step frames
    d = rng.randrange(1, need)                  # the short hole: 1..need-1 frames
    window = first + rng.randrange(64, max(65, n - 4096))
    x = (window + step - 1) // step * step      # aligned: the short hole
    y = x + step * rng.randrange(2, 6)          # the off-alignment hole starts at y + d
    z = y + step * rng.randrange(3, 8)          # aligned, for later
    assert z + step * 40 < first + n
    for start, count in ((x, d), (y + d, need)):
        free(kernel, start * PAGE, count)
        free_set.update(range(start, start + count))
    align = step * PAGE
    out = alloc(kernel, need, align)
    assert out_of_memory(out, need, align), (
        f"free frames: {d} at 0x{x * PAGE:08x} (aligned to {align:#x}, too short) and "
        f"{need} at 0x{(y + d) * PAGE:08x} (not aligned): `alloc {need} {align:#x}` has no "
        f"answer and must say out of memory; got {out!r}")
    assert stats(kernel)["free"] == len(free_set), "a failed alloc must change nothing"
    free(kernel, z * PAGE, need)
    free_set.update(range(z, z + need))
    got = alloc(kernel, need, align)
    assert got == z * PAGE, (f"the only aligned run of {need} free frames starts at "
                             f"0x{z * PAGE:08x}: expected it from `alloc {need} {align:#x}`, "
                             f"got {got!r}")
    free_set -= set(range(z, z + need))

    # Random operations inside a window of the big run.
    lo, hi = x, z + step * 40
    for i in range(30):
        if rng.random() < 0.45:
            start = rng.randrange(lo, hi - 8)
            count = rng.randrange(1, 7)
            frames = set(range(start, start + count))
            out = kernel.cmd(f"free {start * PAGE:#x} {count}")
            if frames & free_set:
                assert out.endswith("not allocated (double free?)"), (
                    f"free {start * PAGE:#x} {count} takes in a free frame: expected "
                    f"'... not allocated (double free?)', got {out!r}")
            else:
                assert out == f"freed {count} frames at 0x{start * PAGE:08x}", \
                    f"free {start * PAGE:#x} {count} (all allocated): got {out!r}"
                free_set |= frames
        else:
            count = rng.randrange(1, 7)
            s = rng.choice([1, 1, 2, 4, 8, 16])
            plain = count == 1 and s == 1 and rng.random() < 0.5
            answers = fits(free_set, count, s)
            got = alloc(kernel, count, s * PAGE, plain)
            what = "alloc" if plain else f"alloc {count} {s * PAGE:#x}"
            if not answers:
                assert out_of_memory(got, count, s * PAGE), (
                    f"{what}: no aligned run of {count} free frames exists (free: "
                    f"{sorted(free_set)[:20]}...), expected out of memory, got {got!r}")
            else:
                assert isinstance(got, int), \
                    f"{what}: {len(answers)} runs would fit (e.g. at " \
                    f"0x{min(answers) * PAGE:08x}), got {got!r}"
                assert got // PAGE in answers, (
                    f"{what} returned 0x{got:08x}: not aligned to {s * PAGE:#x} or not "
                    f"{count} free frames")
                free_set -= set(range(got // PAGE, got // PAGE + count))
        if i % 6 == 5:
            st = stats(kernel)
            assert st["free"] == len(free_set), \
                f"pmm says {st['free']} frames are free, the model {len(free_set)}"
    give_back_all(kernel, first, n, free_set)
    assert stats(kernel) == st0, "after giving everything back, pmm is where it started"


@pytest.mark.points(2)
def test_single_frames_are_found_wherever_they_are(kernel, rng):
    """Every frame taken; the top one given back and taken with a plain `alloc`
    (pmm_alloc, next fit: its search now starts at the top); then frames scattered
    over all of RAM given back, below and above: each plain `alloc` must find one of
    them (wrapping round), every one exactly once, then say out of memory."""
    st0, first, n = take_everything(kernel)
    top = first + n - 1
    free(kernel, top * PAGE)
    got = alloc(kernel, plain=True)
    assert got == top * PAGE, \
        f"the only free frame is 0x{top * PAGE:08x}: expected it from `alloc`, got {got!r}"
    k = rng.randrange(6, 14)
    holes = set(rng.sample(range(first + 1, top), k - 2)) | {first, top}
    for f in holes:
        free(kernel, f * PAGE)
    assert stats(kernel)["free"] == len(holes)
    found = []
    for _ in range(len(holes)):
        got = alloc(kernel, plain=True)
        assert isinstance(got, int), (f"{len(holes) - len(found)} frames are still free "
                                      f"({sorted(hex(f * PAGE) for f in holes - set(found))}), "
                                      f"`alloc` said {got!r}")
        assert got // PAGE in holes and got // PAGE not in found, \
            f"`alloc` returned 0x{got:08x}: not one of the free frames"
        found.append(got // PAGE)
    out = alloc(kernel, plain=True)
    assert out_of_memory(out, 1), f"nothing is free: expected out of memory, got {out!r}"
    st = stats(kernel)
    assert st["free"] == 0 and st["allocated"] == st0["allocated"] + st0["free"], \
        f"every frame is allocated again: expected free 0, got {st}"
    give_back_all(kernel, first, n, set())
    assert stats(kernel) == st0


@pytest.mark.points(2)
def test_refused_frees_in_a_full_memory_change_nothing(kernel, lesson, rng):
    """With every frame allocated but one hole: a free that runs from allocated
    frames into the hole, a free of the hole itself (double free) and a free that
    starts in the kernel's reserved frames are all refused, and each leaves every
    count - and every frame - as it was; the allocated frames are still freeable
    afterwards, exactly once."""
    st0, first, n = take_everything(kernel)
    a = rng.randrange(1, 9)                                 # allocated frames before
    h = first + rng.randrange(16, n - 16)                   # the hole
    hlen = rng.randrange(1, 4)
    free(kernel, h * PAGE, hlen)
    before = stats(kernel)
    assert before["free"] == hlen

    out = kernel.cmd(f"free {(h - a) * PAGE:#x} {a + 1}")
    assert out == (f"error: cannot free 0x{(h - a) * PAGE:08x} ({a + 1} frames): "
                   f"not allocated (double free?)"), \
        f"{a} allocated frames then a free one: expected a refusal, got {out!r}"
    assert stats(kernel) == before, "a refused free must not free the frames before the bad one"

    out = kernel.cmd(f"free {h * PAGE:#x} {hlen}")
    assert out.endswith("not allocated (double free?)"), \
        f"free of a hole that is free already: expected a refusal, got {out!r}"
    assert stats(kernel) == before, "a refused double free changes nothing"

    kend = lesson.virt_to_phys(lesson.symbol("__kernel_end"))
    last_reserved = (kend + PAGE - 1) // PAGE - 1
    count = rng.randrange(2, 6)
    out = kernel.cmd(f"free {last_reserved * PAGE:#x} {count}")
    assert out == (f"error: cannot free 0x{last_reserved * PAGE:08x} ({count} frames): "
                   f"reserved"), f"a run starting in the kernel's last frame: got {out!r}"
    assert stats(kernel) == before, "a refused free of reserved frames changes nothing"

    free(kernel, (h - a) * PAGE, a)                         # still allocated: once
    out = kernel.cmd(f"free {(h - a) * PAGE:#x} {a}")
    assert out.endswith("not allocated (double free?)"), f"freed twice: got {out!r}"
    st = stats(kernel)
    assert st["free"] == hlen + a, f"expected {hlen + a} free frames, pmm says {st['free']}"
    give_back_all(kernel, first, n, set(range(h - a, h + hlen)))
    assert stats(kernel) == st0
