/*
 * mbox.c - the mailbox property interface.
 *
 * The ARM and the VideoCore GPU talk through a pair of hardware FIFOs. To ask a
 * question, the ARM writes the bus address of a buffer of "tags" (with the channel
 * number in the low 4 bits, hence the 16-byte alignment) and the firmware writes
 * its answers into the same buffer. Buffer layout, in 32-bit words:
 *
 *   [0] total size in bytes   [1] MBOX_REQUEST; becomes MBOX_RESPONSE_OK
 *   [2] tag id  [3] value buffer size  [4] request/response size  [5..] values
 *   ...more tags...           [n] MBOX_TAG_END
 *
 * Reference: the Raspberry Pi firmware wiki, "Mailbox property interface". The
 * data cache is off until lesson 07, so no cache maintenance is needed here yet.
 */
#include "mbox.h"
#include "board.h"
#include "mmio.h"

int mbox_call(volatile u32 *buf)
{
/* BEGIN SOLUTION mbox_call */
    u32 msg = (((u32)(uintptr_t)buf) | BUS_RAM_ALIAS) | MBOX_CH_PROPERTY;

    while (mmio_read(MBOX_WRITE_STATUS) & MBOX_STATUS_FULL)
        ;
    mmio_write(MBOX_WRITE, msg);
    for (;;) {
        while (mmio_read(MBOX_STATUS) & MBOX_STATUS_EMPTY)
            ;
        if (mmio_read(MBOX_READ) == msg)    /* our reply, not another channel's */
            return buf[1] == MBOX_RESPONSE_OK ? 0 : -1;
    }
/* END SOLUTION */
    return -1;
}

u32 mbox_get_clock_rate(u32 id)
{
    static volatile u32 buf[8] __attribute__((aligned(16)));

    buf[0] = sizeof(buf);
    buf[1] = MBOX_REQUEST;
    buf[2] = MBOX_TAG_GET_CLOCK_RATE;
    buf[3] = 8;                 /* value buffer: clock id, rate */
    buf[4] = 4;                 /* request: 4 bytes (the id) */
    buf[5] = id;
    buf[6] = 0;
    buf[7] = MBOX_TAG_END;
    if (mbox_call(buf) != 0 || !(buf[4] & MBOX_TAG_RESPONSE))
        return 0;
    return buf[6];
}
