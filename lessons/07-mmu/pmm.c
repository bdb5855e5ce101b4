/*
 * pmm.c - a bitmap page-frame allocator.
 *
 * One bit per 4 KB frame says "in use"; a second bitmap says "reserved", so that
 * freeing the kernel's own memory can be told apart from a double free. For the
 * largest Pi 1 (512 MB) that is 2 x 16 KB, in .bss.
 *
 * Why a bitmap and not a free list (a linked list threaded through the free
 * frames themselves, O(1) to allocate)? Two reasons that matter in this course:
 * a free list must write into free frames, and from lesson 07 on the kernel does
 * not map all of RAM, so it could not reach them; and aligned contiguous runs
 * (16 KB for an L1 table, 8 KB for a process's L1) are a scan of the bitmap but a
 * search through an unordered list. Costs: 0.006% of RAM; allocating one frame
 * scans words from where the last search stopped (next fit), so it is O(1) while
 * memory is mostly free and O(frames / 32) at worst; a run is O(frames); a free
 * is O(count).
 */
#include "pmm.h"
#include "arm.h"
#include "kprintf.h"
#include "kstring.h"

#define BITS_PER_WORD   32u
#define BITMAP_WORDS    (PMM_MAX_FRAMES / BITS_PER_WORD)

static u32 used[BITMAP_WORDS];      /* 1: allocated or reserved */
static u32 reserved[BITMAP_WORDS];  /* 1: reserved */
static u32 base, nframes;           /* RAM managed: [base, base + nframes pages) */
static u32 nfree, nreserved;
static u32 next_word;               /* next-fit: where the last search succeeded */

static int test_bit(const u32 *map, u32 i)
{
    return (map[i / BITS_PER_WORD] >> (i % BITS_PER_WORD)) & 1;
}

static void set_bit(u32 *map, u32 i)
{
    map[i / BITS_PER_WORD] |= 1u << (i % BITS_PER_WORD);
}

static void clear_bit(u32 *map, u32 i)
{
    map[i / BITS_PER_WORD] &= ~(1u << (i % BITS_PER_WORD));
}

static u32 frame_addr(u32 i)
{
    return base + i * PAGE_SIZE;
}

void pmm_init(u32 ram_base, u32 ram_size)
{
/* BEGIN SOLUTION pmm_init */
    if (ram_size > PMM_MAX_RAM)
        ram_size = PMM_MAX_RAM;
    base = ram_base;
    nframes = ram_size / PAGE_SIZE;
    nfree = nframes;
    nreserved = 0;
    next_word = 0;
    memset(used, 0, sizeof(used));
    memset(reserved, 0, sizeof(reserved));
    /* Bits past the end of RAM look "in use" so that no search ever returns them. */
    for (u32 i = nframes; i < PMM_MAX_FRAMES; i++)
        set_bit(used, i);
/* END SOLUTION */
}

void pmm_reserve(u32 start, u32 end)
{
    u32 first, last;

/* BEGIN SOLUTION pmm_reserve */
    if (end <= base || start >= frame_addr(nframes) || end <= start)
        return;
    first = (start < base ? 0 : start - base) / PAGE_SIZE;
    /* one past, rounded up (without adding first: end - base may be near 4 GB) */
    last = (end - base) / PAGE_SIZE + ((end - base) % PAGE_SIZE != 0);
    if (last > nframes)
        last = nframes;
    for (u32 i = first; i < last; i++) {
        if (test_bit(reserved, i))
            continue;
        if (!test_bit(used, i))
            nfree--;
        set_bit(used, i);
        set_bit(reserved, i);
        nreserved++;
    }
/* END SOLUTION */
}

u32 pmm_alloc(void)
{
/* BEGIN SOLUTION pmm_alloc */
    u32 words = (nframes + BITS_PER_WORD - 1) / BITS_PER_WORD;

    for (u32 n = 0; n < words; n++) {
        u32 w = (next_word + n) % words;
        if (used[w] != 0xFFFFFFFFu) {
            u32 i = w * BITS_PER_WORD + (u32)__builtin_ctz(~used[w]);
            set_bit(used, i);
            nfree--;
            next_word = w;
            return frame_addr(i);
        }
    }
/* END SOLUTION */
    return 0;
}

u32 pmm_alloc_run(u32 count, u32 align)
{
    u32 step;

    if (count == 0 || align < PAGE_SIZE || (align & (align - 1)))
        return 0;
    step = align / PAGE_SIZE;
/* BEGIN SOLUTION pmm_alloc_run */
    /* Candidates are the frames whose physical address is a multiple of align:
     * the first one, then every `step` frames. */
    u32 first = (((base + align - 1) & ~(align - 1)) - base) / PAGE_SIZE;
    u32 start = first;
    while (start < nframes && count <= nframes - start) {  /* (no overflow) */
        u32 i = 0;
        while (i < count && !test_bit(used, start + i))
            i++;
        if (i == count) {
            for (i = 0; i < count; i++)
                set_bit(used, start + i);
            nfree -= count;
            return frame_addr(start);
        }
        /* Frame start + i is in use: jump to the first candidate after it. */
        start = first + (start + i + 1 - first + step - 1) / step * step;
    }
/* END SOLUTION */
    return 0;
}

int pmm_free_run(u32 pa, u32 count)
{
    u32 first;

    if (pa % PAGE_SIZE)
        return PMM_ERR_UNALIGNED;
    if (pa < base || pa >= frame_addr(nframes))
        return PMM_ERR_NOT_RAM;
    first = (pa - base) / PAGE_SIZE;
    if (count == 0 || count > nframes - first)
        return PMM_ERR_COUNT;
/* BEGIN SOLUTION pmm_free_run */
    /* Check every frame before changing any: a bad free must not half-happen. */
    for (u32 i = first; i < first + count; i++) {
        if (test_bit(reserved, i))
            return PMM_ERR_RESERVED;
        if (!test_bit(used, i))
            return PMM_ERR_NOT_ALLOCATED;
    }
    for (u32 i = first; i < first + count; i++)
        clear_bit(used, i);
    nfree += count;
    return PMM_OK;
/* END SOLUTION */
}

int pmm_free(u32 pa)
{
    return pmm_free_run(pa, 1);
}

const char *pmm_strerror(int err)
{
    switch (err) {
    case PMM_OK: return "ok";
    case PMM_ERR_UNALIGNED: return "not the start of a frame";
    case PMM_ERR_NOT_RAM: return "not in RAM";
    case PMM_ERR_RESERVED: return "reserved";
    case PMM_ERR_NOT_ALLOCATED: return "not allocated (double free?)";
    case PMM_ERR_COUNT: return "bad frame count";
    }
    return "unknown error";
}

void pmm_stats(struct pmm_stats *st)
{
    st->ram_base = base;
    st->ram_size = nframes * PAGE_SIZE;
    st->total = nframes;
    st->free = nfree;
    st->reserved = nreserved;
    st->allocated = nframes - nfree - nreserved;
}

int pmm_frame_state(u32 pa)
{
    u32 i;
    if (pa < base || pa >= frame_addr(nframes))
        return -1;
    i = (pa - base) / PAGE_SIZE;
    return test_bit(reserved, i) ? -1 : test_bit(used, i);
}
