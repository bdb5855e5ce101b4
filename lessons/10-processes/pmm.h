/*
 * pmm.h - the physical memory manager: which 4 KB frames of RAM are free.
 *
 * Frame 0 holds the vectors and the firmware's boot data, so it is always
 * reserved, and an address of 0 can mean "no frame".
 */
#ifndef PMM_H
#define PMM_H

#include "types.h"

#define PAGE_SIZE       4096u
#define PAGE_SHIFT      12
#define PMM_MAX_RAM     (512u << 20)                /* the most a Pi 1 / Zero has */
#define PMM_MAX_FRAMES  (PMM_MAX_RAM / PAGE_SIZE)

/* Errors from pmm_free_run (negative), with a message from pmm_strerror(). */
#define PMM_OK              0
#define PMM_ERR_UNALIGNED   (-1)    /* not the start of a frame */
#define PMM_ERR_NOT_RAM     (-2)    /* outside the RAM the allocator manages */
#define PMM_ERR_RESERVED    (-3)    /* kernel, vectors, firmware data */
#define PMM_ERR_NOT_ALLOCATED (-4)  /* free already: a double free */
#define PMM_ERR_COUNT       (-5)    /* zero frames, or a run past the end of RAM */

/* Start with all of [base, base + size) free; size is cut to PMM_MAX_RAM. */
void pmm_init(u32 ram_base, u32 ram_size);

/* Mark the frames overlapping [start, end) reserved: never handed out or freed. */
void pmm_reserve(u32 start, u32 end);

/* One frame, or 0 when memory is exhausted. */
u32 pmm_alloc(void);

/* `count` contiguous frames whose first address is a multiple of `align` bytes (a
 * power of two, at least PAGE_SIZE), or 0 if no such run is free. */
u32 pmm_alloc_run(u32 count, u32 align);

/* Free `count` frames from `pa`. All or nothing: on an error nothing changes. */
int pmm_free_run(u32 pa, u32 count);
int pmm_free(u32 pa);

const char *pmm_strerror(int err);

struct pmm_stats {
    u32 ram_base, ram_size;
    u32 total;          /* frames managed */
    u32 free;
    u32 allocated;
    u32 reserved;
};
void pmm_stats(struct pmm_stats *stats);

/* Whether pa's frame is handed out (1), free (0), or reserved/outside RAM (-1). */
int pmm_frame_state(u32 pa);

#endif
