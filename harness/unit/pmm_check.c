/*
 * pmm_check.c - drives a lesson's pmm.c (the bitmap page-frame allocator) with random
 * operations and compares every answer with a shadow model. Built and run by
 * harness/test_unit_pmm.py:
 *
 *     cp lessons/06-pmm/pmm.c T/    (unchanged but for a #line 1 "lessons/06-pmm/pmm.c";
 *                                   see below why it is copied)
 *     gcc -fsanitize=address,undefined ... -I harness/unit/stubs -I lessons/06-pmm \
 *         -I common T/pmm.c harness/unit/pmm_check.c kstring.o -o pmm_check
 *     ./pmm_check SEED STEPS
 *
 * pmm.c includes "kprintf.h" and "shell.h" for its shell commands; the host versions
 * in harness/unit/stubs/ print with printf and register nothing. A quoted #include
 * looks in the including file's own directory first, so the test compiles a copy of
 * pmm.c in a directory of its own: then the stubs come before the lesson's headers.
 * kstring.o is common/kstring.c with its memset, memcpy, ... renamed (as in
 * test_unit_format.py), for parse_u32; pmm.c's own memset is the C library's.
 *
 * The model: one state byte per frame (free, allocated, reserved) and the counts.
 * The run is a series of rounds, STEPS random operations in all. Each round calls
 * pmm_init() with a random RAM: base 0 (every Pi) or a nonzero 4 KB-aligned base,
 * from 0 frames to PMM_MAX_RAM and beyond (pmm_init must clip), sometimes not a whole
 * number of frames; rounds 1-3 are always QEMU's 448 MB at 0, a RAM above
 * PMM_MAX_RAM and a nonzero base. Then it reserves random byte ranges (unaligned
 * ends, partly or wholly outside RAM, up to 0xFFFFFFFF, empty, repeated). With base
 * 0, frame 0 is always reserved, as the kernel does: pmm.h lets an address of 0 mean
 * "no frame", so frame 0 must never be handed out. Each round aims at its own level
 * of use, from mostly free to full. The random operations:
 *
 *  - pmm_alloc();
 *  - pmm_alloc_run(count, align): small counts, exact fits (the length of a free run
 *    of the model, aligned as that run's start allows), counts past the end and huge
 *    ones; alignments from 4 KB to 2 GB, and invalid ones (0, 2 KB, 0x3000);
 *  - pmm_free_run()/pmm_free() of live runs, whole or in part, or two neighbours at
 *    once, and of bogus arguments: double frees, reserved frames, addresses outside
 *    RAM or not frame-aligned, count 0, runs past the end of RAM, runs that are only
 *    partly allocated, huge counts;
 *  - now and then pmm_reserve() of a few frames, some of them allocated;
 *  - once in about half of the rounds, exhaustion: pmm_alloc() until it returns 0
 *    (the number of frames it gave must be the model's free count; then no run of any
 *    size fits), then frees of all or a random part of them (a fragmented RAM).
 *
 * After every operation it checks:
 *  - the return value. Which frames an allocation picks is the allocator's choice, so
 *    an allocation is checked for validity, not identity: inside RAM, aligned, every
 *    frame of the run free in the model. But it must return 0 exactly when the model
 *    finds no fitting run (no free frame, for pmm_alloc), and invalid arguments must
 *    return 0;
 *  - a free's error code: PMM_ERR_UNALIGNED, then PMM_ERR_NOT_RAM, then
 *    PMM_ERR_COUNT (that order is pmm.c's given code), then PMM_ERR_RESERVED if the run
 *    holds a reserved frame and PMM_ERR_NOT_ALLOCATED if it holds a free one (if it
 *    holds both, either is accepted: pmm.h does not say which frame is reported);
 *    and that a refused free changed nothing (all or nothing);
 *  - pmm_stats(): base, size, total, free, allocated, reserved equal the model's,
 *    and free + allocated + reserved == total;
 *  - pmm_frame_state() of the frames the operation touched and their neighbours, of a
 *    few random frames and of a random 32-bit address; all frames every 1024
 *    operations and at the end of each round.
 *
 * On the first mismatch it prints MISMATCH, what was expected and what came back,
 * the RAM of the round and the last operations, and exits 1; if a sanitizer stops it
 * first (an access outside the bitmaps, ...), it prints CRASH and the same context
 * before the sanitizer's report. On success it prints how many operations it checked
 * and what they exercised ("coverage: ..."), and exits 0. The same SEED gives the
 * same operations. Kept out on purpose: RAM that reaches the last frame of the 32-bit
 * address space (base + size > 0xFFFFF000), where the end of RAM is not a u32; the
 * kernel never sees such a RAM (pmm_stats() could not describe it either).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmm.h"

#if defined(__has_include)
#if __has_include(<sanitizer/common_interface_defs.h>)
#include <sanitizer/common_interface_defs.h>
#define HAVE_DEATH_CALLBACK 1
#endif
#endif

enum { M_FREE, M_USED, M_RSVD };

#define SWEEP_EVERY     1024        /* operations between two full pmm_frame_state sweeps */
#define HISTORY         12          /* operations shown in a mismatch report */
#define TOP_END         0xFFFFF000ull   /* RAM ends at or below this (see above) */

/* ---- random numbers: splitmix64, so that a seed means the same run everywhere ----- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)           /* 0..n-1, 0 if n is 0 */
{
    return n ? rnd() % n : 0;
}

static int chance(int percent)
{
    return (int)below(100) < percent;
}

/* ---- the model ------------------------------------------------------------------- */

static u32 m_base, m_nframes;
static uint64_t m_end;                      /* base + nframes pages, as a 64-bit number */
static u8 m_state[PMM_MAX_FRAMES];
static u32 m_free, m_used, m_rsvd;

/* Live runs: what the checker allocated and may free again (disjoint, each frame
 * M_USED in the model). A run that a reserve or an odd free cut is re-split. */
struct run { u32 first, count; };
static struct run live[PMM_MAX_FRAMES];
static u32 nlive;

static struct {
    unsigned long ops, rounds, alloc_ok, alloc_empty, run_ok, run_nofit, run_invalid,
        free_ok, err[6], exhaustions, exhausted_frames, reserves, clipped, based;
} cov;

static unsigned long op_no, round_no;
static char history[HISTORY][200];
static unsigned hist_next;

static u32 frame_pa(u32 i)
{
    return (u32)(m_base + (uint64_t)i * PAGE_SIZE);
}

static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(history[hist_next % HISTORY], sizeof(history[0]), fmt, ap);
    va_end(ap);
    hist_next++;
}

static const char *err_name(int e)
{
    static char other[32];
    switch (e) {
    case PMM_OK: return "PMM_OK";
    case PMM_ERR_UNALIGNED: return "PMM_ERR_UNALIGNED";
    case PMM_ERR_NOT_RAM: return "PMM_ERR_NOT_RAM";
    case PMM_ERR_RESERVED: return "PMM_ERR_RESERVED";
    case PMM_ERR_NOT_ALLOCATED: return "PMM_ERR_NOT_ALLOCATED";
    case PMM_ERR_COUNT: return "PMM_ERR_COUNT";
    }
    snprintf(other, sizeof(other), "%d (no such code)", e);
    return other;
}

static void print_context(void)
{
    printf("  RAM of this round: base 0x%08x, %u frames (0x%08x-0x%09llx); model: "
           "free %u, allocated %u, reserved %u\n", m_base, m_nframes, m_base,
           (unsigned long long)m_end, m_free, m_used, m_rsvd);
    printf("  last operations, oldest first (the last one failed):\n");
    for (unsigned i = hist_next > HISTORY ? hist_next - HISTORY : 0; i < hist_next; i++)
        printf("    %s\n", history[i % HISTORY]);
    fflush(stdout);
}

/* A sanitizer report (an access outside the bitmap, ...) ends the program before
 * fail() can say which call did it: print the same context when it dies. */
static void on_sanitizer_death(void)
{
    printf("CRASH in round %lu, operation %lu: the sanitizer's report is on stderr\n",
           round_no, op_no);
    print_context();
}

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    va_list ap;

    printf("MISMATCH in round %lu, operation %lu: ", round_no, op_no);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    print_context();
    exit(1);
}

static void set_state(u32 i, int s)
{
    switch (m_state[i]) {
    case M_FREE: m_free--; break;
    case M_USED: m_used--; break;
    default: m_rsvd--; break;
    }
    switch (s) {
    case M_FREE: m_free++; break;
    case M_USED: m_used++; break;
    default: m_rsvd++; break;
    }
    m_state[i] = (u8)s;
}

/* What pmm_frame_state(pa) must answer. */
static int model_frame_state(u32 pa)
{
    if (pa < m_base || pa >= m_end)
        return -1;
    switch (m_state[(pa - m_base) / PAGE_SIZE]) {
    case M_FREE: return 0;
    case M_USED: return 1;
    }
    return -1;
}

/* A random frame in the given state, or -1 if a few tries find none. */
static int64_t random_frame(int s)
{
    for (int tries = 0; tries < 32 && m_nframes; tries++) {
        u32 i = (u32)below(m_nframes);
        if (m_state[i] == s)
            return i;
    }
    return -1;
}

/* The first frame of a run of `count` free frames whose address is a multiple of
 * `align`, or -1 if there is none. One pass: the run ending at frame i is free when
 * the last frame not free lies at least `count` frames back. */
static int64_t model_fit(u32 count, u32 align)
{
    int64_t last_taken = -1;

    if (count == 0 || count > m_nframes)
        return -1;
    for (u32 i = 0; i < m_nframes; i++) {
        if (m_state[i] != M_FREE) {
            last_taken = i;
            continue;
        }
        if ((int64_t)i - last_taken >= (int64_t)count) {
            u32 s = i + 1 - count;
            if (((uint64_t)m_base + (uint64_t)s * PAGE_SIZE) % align == 0)
                return s;
        }
    }
    return -1;
}

/* ---- live runs ------------------------------------------------------------------- */

static void live_add(u32 first, u32 count)
{
    live[nlive].first = first;
    live[nlive].count = count;
    nlive++;
}

static void live_drop(u32 k)
{
    live[k] = live[--nlive];
}

/* After frames in [first, first + count) changed state behind the live list's back
 * (a successful free of an arbitrary range, a reserve): cut every live run that
 * overlaps the range into its pieces that are still allocated. A free of exactly the
 * last live run (free_live() and exhaust() move the run they free to the end) is the
 * quick common case. */
static void live_resync(u32 first, u32 count)
{
    static struct run cut[PMM_MAX_FRAMES];
    u32 end = first + count, ncut = 0, w = 0;

    if (nlive && live[nlive - 1].first == first && live[nlive - 1].count == count &&
        m_state[first] == M_FREE) {
        nlive--;
        return;
    }
    for (u32 k = 0; k < nlive; k++) {
        if (live[k].first >= end || live[k].first + live[k].count <= first)
            live[w++] = live[k];
        else
            cut[ncut++] = live[k];
    }
    nlive = w;
    for (u32 k = 0; k < ncut; k++) {
        u32 stop = cut[k].first + cut[k].count;
        for (u32 i = cut[k].first; i < stop; ) {
            u32 j = i;
            while (j < stop && m_state[j] == M_USED)
                j++;
            if (j > i)
                live_add(i, j - i);
            i = j + 1;
        }
    }
}

/* ---- checks after each operation ------------------------------------------------- */

static void check_stats(void)
{
    struct pmm_stats st;

    memset(&st, 0xA5, sizeof(st));
    pmm_stats(&st);
    if (st.ram_base != m_base || st.ram_size != m_nframes * PAGE_SIZE ||
        st.total != m_nframes || st.free != m_free || st.allocated != m_used ||
        st.reserved != m_rsvd)
        fail("pmm_stats() says base 0x%08x size 0x%08x total %u free %u allocated %u "
             "reserved %u; expected base 0x%08x size 0x%08x total %u free %u "
             "allocated %u reserved %u", st.ram_base, st.ram_size, st.total, st.free,
             st.allocated, st.reserved, m_base, m_nframes * PAGE_SIZE, m_nframes,
             m_free, m_used, m_rsvd);
    if ((uint64_t)st.free + st.allocated + st.reserved != st.total)
        fail("pmm_stats(): free %u + allocated %u + reserved %u != total %u", st.free,
             st.allocated, st.reserved, st.total);
}

static void check_pa(u32 pa)
{
    int want = model_frame_state(pa), got = pmm_frame_state(pa);
    if (got != want)
        fail("pmm_frame_state(0x%08x) returned %d, expected %d (%s)", pa, got, want,
             want == 1 ? "allocated" : want == 0 ? "free" : "reserved or outside RAM");
}

/* Frames first-1 .. first+count, clipped to RAM, and the end of RAM. */
static void check_frames(u32 first, u32 count)
{
    uint64_t lo = first ? first - 1 : 0, hi = (uint64_t)first + count + 1;

    if (hi > m_nframes)
        hi = m_nframes;
    for (uint64_t i = lo; i < hi; i++)
        check_pa(frame_pa((u32)i));
    if (m_end <= 0xFFFFFFFFull)
        check_pa((u32)m_end);
}

static void sweep(void)
{
    for (u32 i = 0; i < m_nframes; i++)
        check_pa(frame_pa(i) + (u32)below(PAGE_SIZE));   /* any byte of the frame */
}

static void after_op(u32 first, u32 count)
{
    check_stats();
    if (count && first < m_nframes)
        check_frames(first, count > m_nframes - first ? m_nframes - first : count);
    for (int k = 0; k < 3 && m_nframes; k++)
        check_pa(frame_pa((u32)below(m_nframes)));
    check_pa((u32)rnd());
    if (m_base >= PAGE_SIZE)
        check_pa(m_base - 1 - (u32)below(m_base < 0x10000 ? m_base : 0x10000));
    if (++op_no % SWEEP_EVERY == 0)
        sweep();
    cov.ops++;
}

/* ---- operations ------------------------------------------------------------------ */

/* A run the allocator handed out: check it is a valid choice, then record it. */
static void took(u32 pa, u32 count, u32 align, const char *call)
{
    u32 first;

    if (pa % align)
        fail("%s returned 0x%08x, not aligned to 0x%x", call, pa, align);
    if (pa < m_base || (uint64_t)pa + (uint64_t)count * PAGE_SIZE > m_end)
        fail("%s returned 0x%08x: %u frames from there are not inside RAM "
             "0x%08x-0x%09llx", call, pa, count, m_base, (unsigned long long)m_end);
    if ((pa - m_base) % PAGE_SIZE)
        fail("%s returned 0x%08x, not the start of a frame", call, pa);
    first = (pa - m_base) / PAGE_SIZE;
    for (u32 i = first; i < first + count; i++)
        if (m_state[i] != M_FREE)
            fail("%s returned 0x%08x, but frame 0x%08x (frame %u of the run) is %s",
                 call, pa, frame_pa(i), i - first,
                 m_state[i] == M_USED ? "already allocated" : "reserved");
    for (u32 i = first; i < first + count; i++)
        set_state(i, M_USED);
    live_add(first, count);
}

static void op_alloc(void)
{
    u32 pa;

    note("pmm_alloc()");                    /* shown as the last call if it crashes */
    pa = pmm_alloc();
    hist_next--;                            /* it returned: replace the line */
    note("pmm_alloc() = 0x%08x", pa);
    if (pa == 0) {
        if (m_free)
            fail("pmm_alloc() returned 0, but %u frames are free (e.g. 0x%08x)", m_free,
                 frame_pa((u32)model_fit(1, PAGE_SIZE)));
        cov.alloc_empty++;
        after_op(0, 0);
        return;
    }
    if (!m_free)
        fail("pmm_alloc() returned 0x%08x, but no frame is free", pa);
    took(pa, 1, PAGE_SIZE, "pmm_alloc()");
    cov.alloc_ok++;
    after_op((pa - m_base) / PAGE_SIZE, 1);
}

static void op_alloc_run(u32 count, u32 align)
{
    char call[64];
    int valid = count != 0 && align >= PAGE_SIZE && (align & (align - 1)) == 0;
    u32 pa;

    snprintf(call, sizeof(call), "pmm_alloc_run(%u, 0x%x)", count, align);
    note("%s", call);
    pa = pmm_alloc_run(count, align);
    hist_next--;
    note("%s = 0x%08x", call, pa);
    if (!valid) {
        if (pa)
            fail("%s returned 0x%08x: invalid arguments must return 0", call, pa);
        cov.run_invalid++;
        after_op(0, 0);
        return;
    }
    if (pa == 0) {
        int64_t s = model_fit(count, align);
        if (s >= 0)
            fail("%s returned 0, but the run at 0x%08x fits", call, frame_pa((u32)s));
        cov.run_nofit++;
        after_op(0, 0);
        return;
    }
    took(pa, count, align, call);
    cov.run_ok++;
    after_op((pa - m_base) / PAGE_SIZE, count);
}

/* The error pmm_free_run(pa, count) must return; *alt is a second acceptable one. */
static int model_free_result(u32 pa, u32 count, int *alt)
{
    u32 first;
    int any_rsvd = 0, any_free = 0;

    *alt = 1;                               /* no second answer */
    if (pa % PAGE_SIZE)
        return PMM_ERR_UNALIGNED;
    if (pa < m_base || pa >= m_end)
        return PMM_ERR_NOT_RAM;
    first = (pa - m_base) / PAGE_SIZE;
    if (count == 0 || (uint64_t)first + count > m_nframes)
        return PMM_ERR_COUNT;
    for (u32 i = first; i < first + count; i++) {
        any_rsvd |= m_state[i] == M_RSVD;
        any_free |= m_state[i] == M_FREE;
    }
    if (any_rsvd && any_free)
        *alt = PMM_ERR_NOT_ALLOCATED;
    return any_rsvd ? PMM_ERR_RESERVED : any_free ? PMM_ERR_NOT_ALLOCATED : PMM_OK;
}

static void op_free(u32 pa, u32 count, const char *what)
{
    int alt, want = model_free_result(pa, count, &alt), got;
    int single = count == 1 && chance(50);
    char call[80];

    if (single)
        snprintf(call, sizeof(call), "pmm_free(0x%08x)", pa);
    else
        snprintf(call, sizeof(call), "pmm_free_run(0x%08x, %u)", pa, count);
    note("%s [%s]", call, what);
    got = single ? pmm_free(pa) : pmm_free_run(pa, count);
    hist_next--;
    note("%s = %s [%s]", call, err_name(got), what);
    if (got != want && got != alt) {
        if (alt != 1)
            fail("%s returned %s, expected %s or %s", call, err_name(got),
                 err_name(want), err_name(alt));
        fail("%s returned %s, expected %s", call, err_name(got), err_name(want));
    }
    if (got == PMM_OK) {
        u32 first = (pa - m_base) / PAGE_SIZE;
        for (u32 i = first; i < first + count; i++)
            set_state(i, M_FREE);
        live_resync(first, count);
        cov.free_ok++;
        after_op(first, count);
        return;
    }
    cov.err[-got < 6 ? -got : 0]++;
    /* All or nothing: the stats and every frame of the run must be as before. */
    if (pa >= m_base && pa < m_end && !(pa % PAGE_SIZE))
        after_op((pa - m_base) / PAGE_SIZE, count);
    else
        after_op(0, 0);
}

/* Free a live run: all of it, a part, or it and a neighbouring live run at once. */
static void free_live(void)
{
    u32 k = (u32)below(nlive);
    struct run r = live[k];

    if (r.count > 1 && chance(20)) {
        u32 off = (u32)below(r.count), n = 1 + (u32)below(r.count - off);
        op_free(frame_pa(r.first + off), n, "part of a live run");
        return;
    }
    if (chance(10) && r.first + r.count < m_nframes && m_state[r.first + r.count] == M_USED) {
        u32 n = r.count;
        while (r.first + n < m_nframes && m_state[r.first + n] == M_USED && n < r.count + 64)
            n++;
        op_free(frame_pa(r.first), n, "live runs side by side");
        return;
    }
    live_drop(k);
    live_add(r.first, r.count);             /* now last: op_free's resync finds it fast */
    op_free(frame_pa(r.first), r.count, "a live run");
}

/* Free something that must be refused (or, by chance, a valid free: the model says). */
static void free_bogus(void)
{
    int64_t i;
    u32 n;

    switch (below(10)) {
    case 0:                                 /* double free */
        if ((i = random_frame(M_FREE)) >= 0) {
            op_free(frame_pa((u32)i), 1 + (u32)below(3), "free frames");
            return;
        }
        break;
    case 1:                                 /* reserved */
        if ((i = random_frame(M_RSVD)) >= 0) {
            op_free(frame_pa((u32)i), 1 + (u32)below(3), "reserved frames");
            return;
        }
        break;
    case 2: {                               /* outside RAM */
        uint64_t pa;
        switch (below(4)) {
        case 0: pa = m_end; break;
        case 1: pa = m_end + below(1u << 20) * PAGE_SIZE; break;
        case 2: pa = m_base ? m_base - PAGE_SIZE * (1 + below(m_base / PAGE_SIZE)) : 0; break;
        default: pa = TOP_END; break;
        }
        op_free((u32)pa, 1 + (u32)below(2), "outside RAM?");
        return;
    }
    case 3:                                 /* not frame-aligned */
        op_free((u32)rnd() | (1 + (u32)below(PAGE_SIZE - 1)), 1, "unaligned");
        return;
    case 4:                                 /* count 0 */
        if (nlive) {
            op_free(frame_pa(live[below(nlive)].first), 0, "count 0");
            return;
        }
        break;
    case 5:                                 /* past the end of RAM */
        if (m_nframes) {
            u32 f = m_nframes - 1 - (u32)below(m_nframes < 8 ? m_nframes : 8);
            n = m_nframes - f + 1 + (u32)below(3);
            if (chance(30))
                n = chance(50) ? 0xFFFFFFFFu : 0x80000000u + (u32)below(16);
            op_free(frame_pa(f), n, "past the end");
            return;
        }
        break;
    case 6:                                 /* a live run and one more frame */
    case 7:
        if (nlive) {
            struct run r = live[below(nlive)];
            if (chance(50) && r.first > 0)
                op_free(frame_pa(r.first - 1), r.count + 1, "one frame before a live run");
            else
                op_free(frame_pa(r.first), r.count + 1, "one frame past a live run");
            return;
        }
        break;
    case 8:                                 /* anything in RAM */
        if (m_nframes) {
            u32 f = (u32)below(m_nframes);
            op_free(frame_pa(f), 1 + (u32)below(16), "random frames");
            return;
        }
        break;
    }
    op_free((u32)rnd() & ~(PAGE_SIZE - 1), (u32)below(4), "random address");
}

/* A count and alignment for pmm_alloc_run, biased to the interesting cases. */
static void random_run_args(u32 *count, u32 *align)
{
    static const u32 odd_aligns[] = { 0, 1, 2, 0x800, 0x3000, 0x1800, 0x80000001u,
                                      0xFFFFF000u, 0x6000 };
    int64_t i;

    *align = PAGE_SIZE << below(chance(80) ? 5 : 20);       /* 4 KB .. 2 GB */
    switch (below(8)) {
    case 0: case 1: case 2:
        *count = 1 + (u32)below(4);
        break;
    case 3:
        *count = 1 + (u32)below(64);
        break;
    case 4:                                 /* an exact fit: a free run of the model */
        if ((i = random_frame(M_FREE)) >= 0) {
            u32 lo = (u32)i, hi = (u32)i;
            while (lo > 0 && m_state[lo - 1] == M_FREE)
                lo--;
            while (hi + 1 < m_nframes && m_state[hi + 1] == M_FREE)
                hi++;
            if (chance(50)) {               /* all of it, aligned as its start allows */
                u32 pa = frame_pa(lo);
                *count = hi - lo + 1;
                *align = pa ? pa & -pa : 0x80000000u;
                if (*align > 0x80000000u || *align < PAGE_SIZE)
                    *align = PAGE_SIZE;
            } else {                        /* from i to its end */
                *count = hi - (u32)i + 1 + (u32)(chance(20) ? 1 : 0);
            }
            return;
        }
        *count = 1;
        break;
    case 5:                                 /* everything that is free, or more */
        *count = m_free + (u32)below(3);
        if (*count == 0)
            *count = 1;
        break;
    case 6:                                 /* huge */
        *count = chance(50) ? 0xFFFFFFFFu - (u32)below(4) : m_nframes + 1 + (u32)below(1u << 20);
        break;
    default:                                /* invalid arguments */
        *count = chance(30) ? 0 : 1 + (u32)below(4);
        if (*count)
            *align = odd_aligns[below(sizeof(odd_aligns) / sizeof(odd_aligns[0]))];
        break;
    }
}

/* At boot (`boot`): any kind of range. Later: a few frames, as a kernel might take
 * for a device or a table after boot. */
static void op_reserve(int boot)
{
    uint64_t start, end, span = m_end - m_base + 2 * (uint64_t)PAGE_SIZE;

    /* Mostly ranges that leave most of RAM usable: a round whose RAM is all
     * reserved tests little. */
    switch (boot ? below(20) : 4) {
    case 0: case 1: case 2: case 3:         /* like the kernel: from the base up */
        start = m_base;
        end = m_base + below(span / 4);
        break;
    case 4: case 5: case 6: case 7: case 8: case 9:
        start = m_base + below(span);       /* a few frames anywhere, unaligned ends */
        start = start < PAGE_SIZE ? 0 : start - PAGE_SIZE;
        end = start + below(8 * PAGE_SIZE);
        break;
    case 10: case 11: case 12:              /* from below RAM into it */
        start = m_base > 0 ? below(m_base) : 0;
        end = m_base + below(span / 8);
        break;
    case 13: case 14: case 15:              /* from the last frames to above RAM */
        start = m_end - below(span / 8);
        end = chance(20) ? 0xFFFFFFFFull - below(PAGE_SIZE) : start + below(512u << 20);
        break;
    case 16:                                /* the whole of RAM, and more */
        start = below(m_base + 1);
        end = m_end + below(0x100000000ull - m_end);
        break;
    default:                                /* anything, often empty (end <= start) */
        start = (u32)rnd();
        end = (u32)rnd();
        break;
    }
    if (start > 0xFFFFFFFFull)
        start = 0xFFFFFFFFull;
    if (end > 0xFFFFFFFFull)
        end = 0xFFFFFFFFull;
    note("pmm_reserve(0x%08llx, 0x%08llx)", (unsigned long long)start, (unsigned long long)end);
    pmm_reserve((u32)start, (u32)end);
    if (end > start && end > m_base && start < m_end) {
        u32 first = start <= m_base ? 0 : (u32)((start - m_base) / PAGE_SIZE);
        uint64_t last = (end - m_base + PAGE_SIZE - 1) / PAGE_SIZE;
        if (last > m_nframes)
            last = m_nframes;
        for (u32 i = first; i < last; i++)
            set_state(i, M_RSVD);
        live_resync(first, (u32)last - first);
        after_op(first, (u32)last - first);
    } else {
        after_op(0, 0);
    }
    cov.reserves++;
}

/* pmm_alloc() until it says 0; then nothing fits; then give back all or some. */
static void exhaust(void)
{
    u32 expected = m_free, got = 0, keep;
    unsigned long start_live = nlive;

    note("exhaustion: pmm_alloc() until 0 (%u frames free)", m_free);
    for (;;) {
        u32 pa = pmm_alloc();
        if (pa == 0)
            break;
        if (got == expected)
            fail("exhaustion: pmm_alloc() returned frame %u (0x%08x), but only %u were "
                 "free", got + 1, pa, expected);
        took(pa, 1, PAGE_SIZE, "pmm_alloc() (exhaustion)");
        got++;
        if (got % 64 == 0 || got == expected)
            after_op((pa - m_base) / PAGE_SIZE, 1);
    }
    if (got != expected)
        fail("exhaustion: pmm_alloc() returned 0 after %u frames, but %u were free",
             got, expected);
    after_op(0, 0);
    cov.exhaustions++;
    cov.exhausted_frames += got;
    op_alloc();
    op_alloc_run(1, PAGE_SIZE);
    op_alloc_run(1 + (u32)below(100), PAGE_SIZE << below(8));
    /* Free all the frames the exhaustion took, or a random part of them (fragments). */
    keep = chance(50) ? 0 : (u32)below(100);
    for (u32 k = nlive; k-- > start_live; ) {
        if (k >= nlive || below(100) < keep)
            continue;
        struct run r = live[k];
        live_drop(k);
        live_add(r.first, r.count);
        op_free(frame_pa(r.first), r.count, "exhaustion, giving back");
    }
}

/* ---- rounds ---------------------------------------------------------------------- */

static void new_round(void)
{
    static const u32 fixed[] = { 448u << 20, 512u << 20, 256u << 20, 192u << 20,
                                 128u << 20, 0x1C000000u - 0x1000 };
    u32 size, nframes;
    uint64_t maxbase;

    round_no++;
    cov.rounds++;
    /* Rounds 1-3 make sure of what every run should see: QEMU's RAM (base 0, 448 MB),
     * a RAM larger than the allocator manages, and a nonzero base. Then random. */
    switch (round_no == 1 ? 6 : round_no == 2 ? 7 : below(10)) {    /* RAM size */
    case 0: case 1: case 2:
        nframes = (u32)below(65);           /* tiny: 0..64 frames */
        size = nframes * PAGE_SIZE;
        break;
    case 3: case 4:
        size = (65 + (u32)below(4000)) * PAGE_SIZE;
        break;
    case 5:
        size = (1 + (u32)below(PMM_MAX_FRAMES)) * PAGE_SIZE;
        break;
    case 6:
        size = round_no == 1 ? fixed[0] : fixed[below(sizeof(fixed) / sizeof(fixed[0]))];
        break;
    case 7:                                 /* more than the allocator manages: clipped */
        size = PMM_MAX_RAM + (u32)below(0xFFFFFFFFu - PMM_MAX_RAM) + 1;
        if (chance(30))
            size = 0xFFFFFFFFu;
        cov.clipped++;
        break;
    default:                                /* not a whole number of frames */
        size = (u32)below(64 * PAGE_SIZE) + (chance(50) ? (u32)below(PMM_MAX_RAM) : 0);
        break;
    }
    nframes = (size > PMM_MAX_RAM ? PMM_MAX_RAM : size) / PAGE_SIZE;
    m_base = 0;
    maxbase = TOP_END - (uint64_t)nframes * PAGE_SIZE;
    if (round_no == 3 || (round_no > 3 && chance(35))) {   /* nonzero, 4 KB-aligned */
        switch (below(3)) {
        case 0: m_base = (u32)(below(maxbase / PAGE_SIZE + 1) * PAGE_SIZE); break;
        case 1: m_base = PAGE_SIZE * (1 + 2 * (u32)below(16)); break;  /* odd frame */
        default: m_base = (u32)((below(maxbase >> 20) + 1) << 20); break;
        }
        if (m_base > maxbase)
            m_base = (u32)(maxbase & ~(uint64_t)(PAGE_SIZE - 1));
        if (m_base == 0)
            m_base = PAGE_SIZE;
        cov.based += m_base != 0;
    }
    m_nframes = nframes;
    m_end = m_base + (uint64_t)nframes * PAGE_SIZE;
    memset(m_state, M_FREE, sizeof(m_state));
    m_free = nframes;
    m_used = m_rsvd = 0;
    nlive = 0;
    note("round %lu: pmm_init(0x%08x, 0x%08x)", round_no, m_base, size);
    pmm_init(m_base, size);
    after_op(0, 0);
    sweep();

    /* Reservations, as a kernel makes them at boot. Frame 0 always, when it is RAM. */
    if (m_base == 0 && m_nframes) {
        u32 end = chance(50) ? PAGE_SIZE : PAGE_SIZE * (1 + (u32)below(m_nframes));
        note("pmm_reserve(0, 0x%08x)", end);
        pmm_reserve(0, end);
        for (u32 i = 0; i < end / PAGE_SIZE; i++)
            set_state(i, M_RSVD);
        after_op(0, end / PAGE_SIZE);
    }
    for (int n = (int)below(6); n > 0; n--)
        op_reserve(1);
}

/* `steps` random operations (an exhaustion counts as one). Each round aims at its
 * own level of use, from a mostly free RAM to a full one: below it, it mostly
 * allocates; above it, it mostly frees. */
static void run_round(unsigned long steps)
{
    unsigned long exhaust_at = chance(50) ? below(steps) : steps;
    u32 target = 10 + (u32)below(91);       /* percent of the non-reserved frames */

    for (unsigned long step = 0; step < steps; step++) {
        u64 usable = (u64)m_free + m_used;
        int fill = usable && m_used * 100ull >= target * usable;
        if (step == exhaust_at) {
            exhaust();
        } else if (chance(20)) {
            if (chance(3))
                op_reserve(0);
            else
                free_bogus();
        } else if (nlive && chance(fill ? 85 : 15)) {
            free_live();
        } else if (chance(60)) {
            op_alloc();
        } else {
            u32 count, align;
            random_run_args(&count, &align);
            op_alloc_run(count, align);
        }
    }
    sweep();
}

int main(int argc, char **argv)
{
    unsigned long ops;
    char *end;

    if (argc != 3) {
        fprintf(stderr, "usage: %s SEED OPERATIONS\n", argv[0]);
        return 2;
    }
#ifdef HAVE_DEATH_CALLBACK
    __sanitizer_set_death_callback(on_sanitizer_death);
#endif
    rng_state = strtoull(argv[1], &end, 0);
    ops = strtoul(argv[2], &end, 0);        /* random steps; exhaustions add more */

    /* Every code has a message of its own, not the one for unknown codes. */
    for (int e = PMM_ERR_COUNT; e <= PMM_OK; e++)
        for (int f = PMM_ERR_COUNT; f <= PMM_OK + 1; f++) {
            const char *a = pmm_strerror(e), *b = pmm_strerror(f == PMM_OK + 1 ? 12345 : f);
            if (!a || !b || (e != f && !strcmp(a, b)))
                fail("pmm_strerror(%d) gives no message of its own", e);
        }

    for (unsigned long done = 0; done < ops; ) {
        unsigned long n = 200 + below(4000);
        if (n > ops - done)
            n = ops - done;
        new_round();
        run_round(n);
        done += n;
    }
    printf("%lu operations in %lu rounds OK\n", cov.ops, cov.rounds);
    printf("coverage: alloc_ok %lu alloc_empty %lu run_ok %lu run_nofit %lu "
           "run_invalid %lu free_ok %lu err_unaligned %lu err_not_ram %lu "
           "err_reserved %lu err_not_allocated %lu err_count %lu exhaustions %lu "
           "exhausted_frames %lu reserves %lu clipped %lu nonzero_base %lu\n",
           cov.alloc_ok, cov.alloc_empty, cov.run_ok, cov.run_nofit, cov.run_invalid,
           cov.free_ok, cov.err[1], cov.err[2], cov.err[3], cov.err[4], cov.err[5],
           cov.exhaustions, cov.exhausted_frames, cov.reserves, cov.clipped, cov.based);
    return 0;
}
