/*
 * kernel.c - lesson 07: finish the page tables, set up the UART, the exception
 * model, interrupts, the timer tick and the frame allocator, report the boot, run
 * the shell. start.S has already turned the MMU on: everything here is virtual.
 *
 * The boot report keeps lesson 01's proofs (where _start was linked, the CPU mode,
 * .bss cleared) and adds what the UART driver chose.
 */
#include "arm.h"
#include "bench.h"
#include "board.h"
#include "exceptions.h"
#include "irq.h"
#include "kprintf.h"
#include "mbox.h"
#include "mmu.h"
#include "pmm.h"
#include "shell.h"
#include "timer.h"
#include "uart.h"

extern char _start[], __bss_start[], __bss_end[], __kernel_end[];

static u32 count_nonzero_bss_words(void)
{
    u32 n = 0;
    for (volatile u32 *p = (u32 *)__bss_start; p < (u32 *)__bss_end; p++)
        if (*p)
            n++;
    return n;
}

static void report_boot(u32 bss_nonzero)
{
    const struct uart_config *uc = uart_config();
    u32 cpsr = read_cpsr();

    kprintf("kernel: 0x%08x-0x%08x\n", (u32)_start, (u32)__kernel_end);
    kprintf("mode: %s cpsr=0x%08x\n",
            (cpsr & CPSR_MODE_MASK) == CPSR_MODE_SVC ? "SVC" : "not SVC", cpsr);
    kprintf("bss: 0x%08x-0x%08x\n", (u32)__bss_start, (u32)__bss_end);
    if (bss_nonzero)
        kprintf("bss: NOT ZERO, non-zero words: %u\n", bss_nonzero);
    else
        kprintf("bss: all zero\n");
    kprintf("uart: %u baud, clock %u Hz (%s), IBRD %u FBRD %u\n", UART_BAUD,
            uc->clock_hz, uc->clock_from_firmware ? "from firmware" : "fallback",
            uc->ibrd, uc->fbrd);
}

/* Hand RAM to the frame allocator, minus what is already in use: frame 0 (the
 * firmware's boot data; the vectors live in the kernel image now) up to the end
 * of the kernel image, its .bss, page tables and stacks. The peripherals are not RAM: the firmware's ARM memory
 * ends well below them, so the allocator never sees them. */
static void memory_init(void)
{
    u32 base, size;
    int from_firmware = mbox_get_arm_memory(&base, &size) == 0;

    if (!from_firmware) {
        base = 0;
        size = RAM_FALLBACK_SIZE;
    }
    pmm_init(base, size);
    pmm_reserve(0, KERNEL_VIRT_TO_PHYS(__kernel_end));
    kprintf("ram: 0x%08x-0x%08x, %u MB (%s)\n", base, base + size, size >> 20,
            from_firmware ? "from firmware" : "fallback");
}

void kernel_main(void)
{
    u32 nonzero = count_nonzero_bss_words();   /* before anything writes .bss */

    mmu_init();                 /* the final kernel mappings; caches on */
    uart_init();
    exceptions_init();
    irq_init();
    uart_enable_rx_irq();
    timer_init(TIMER_DEFAULT_HZ);
    irq_cpu_enable();           /* from here on, interrupts are taken */
    kprintf("piOS lesson " LESSON_NAME "\n");
    report_boot(nonzero);
    memory_init();
    kprintf("Type 'help' for the commands.\n");
    bench_boot_done();          /* for `bench boot` */
    shell_run();
}
