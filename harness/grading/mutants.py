"""Broken copies of the reference lessons, kept to prove the tests catch real bugs.

Each mutant makes one small, plausible student mistake in one lesson's reference
code: `find` must occur exactly once in `file`, and is replaced by `replace`. Graded
with its lesson's tests, the mutant must lose points on every test named in
`catches` (harness/test_grading.py checks this for all of them).

These are reference code: the starter generator never hands this file out.
"""

from collections import namedtuple

Mutant = namedtuple("Mutant", "name lesson file find replace catches why")

MUTANTS = [
    # ---- 01-boot ----------------------------------------------------------------------
    Mutant("bss-r3-not-zeroed", "01-boot", "start.S",
           find="    mov     r3, #0\n",
           replace="",
           catches=["test_01_boot.py::test_bss_cleared_over_random_garbage"],
           why="the .bss loop stores r2 and r3 but only r2 was zeroed: every other word "
               "of .bss gets whatever r3 held (an address from the vector copy)"),
    Mutant("bss-loop-once", "01-boot", "start.S",
           find="    blo     clear_bss\n",
           replace="",
           catches=["test_01_boot.py::test_bss_cleared_over_random_garbage"],
           why="no branch back to the top of the .bss loop: only the first 8 bytes are "
               "cleared"),
    Mutant("no-stack", "01-boot", "start.S",
           find="    ldr     sp, =svc_stack_top      "
                "@ a full-descending stack: sp starts at the top\n",
           replace="",
           catches=["test_01_boot.py::test_kernel_linked_at_0x8000",
                    "test_01_boot.py::test_machine_ends_with_status_0"],
           why="sp never set: C runs on whatever sp the firmware left (0 under QEMU), and "
               "the kernel never gets to its report"),

    # ---- 02-uart ----------------------------------------------------------------------
    Mutant("bs-at-line-start", "02-uart", "readline.c",
           find="            if (len > 0 && !overflow) {\n",
           replace="            if (len >= 0 && !overflow) {\n",
           catches=["test_02_uart.py::test_backspace_at_line_start_does_nothing"],
           why="off by one in the backspace check: at the start of the line it still "
               "echoes \\b \\b and moves len below 0"),
    Mutant("line-no-room-for-nul", "02-uart", "readline.c",
           find="            if (len < size - 1) {\n",
           replace="            if (len < size) {\n",
           catches=["test_02_uart.py::test_too_long_line_is_refused_and_shell_goes_on"],
           why="the line buffer is filled to its last byte, leaving no room for the NUL: "
               "a line one character too long is accepted (and the NUL lands past buf)"),
    Mutant("split-before-copy", "02-uart", "shell.c",
           find="    memcpy(raw, args, strlen(args) + 1);\n\n"
                "    argc = split_words(line, argv, SHELL_ARGS_MAX);\n",
           replace="    argc = split_words(line, argv, SHELL_ARGS_MAX);\n"
                   "    memcpy(raw, args, strlen(args) + 1);\n",
           catches=["test_02_uart.py::test_echo_keeps_spaces_exactly"],
           why="wrong order: the raw argument text is copied after split_words() has put "
               "NULs over the spaces, so echo prints only the first word"),
    Mutant("mbox-checks-size-word", "02-uart", "mbox.c",
           find="            return buf[1] == MBOX_RESPONSE_OK ? 0 : -1;\n",
           replace="            return buf[0] == MBOX_RESPONSE_OK ? 0 : -1;\n",
           catches=["test_02_uart.py::test_boot_reports_uart_divisor"],
           why="the mailbox reply's status is read from buf[0] (the size) instead of "
               "buf[1]: every call looks failed and the UART clock falls back"),

    # ---- 03-exceptions ----------------------------------------------------------------
    Mutant("dabt-reads-ifsr", "03-exceptions", "exceptions.c",
           find='    report_abort("data abort", regs, read_dfsr(), read_dfar(), 1);\n',
           replace='    report_abort("data abort", regs, read_ifsr(), read_ifar(), 1);\n',
           catches=["test_03_exceptions.py::"
                    "test_data_abort_reports_address_status_and_registers"],
           why="a data abort reported from the instruction fault registers (IFSR/IFAR) "
               "instead of DFSR/DFAR: wrong status, wrong address"),
    Mutant("svc-reads-next-insn", "03-exceptions", "exceptions.c",
           find="    u32 insn = *(volatile u32 *)(uintptr_t)(regs->pc - 4);\n",
           replace="    u32 insn = *(volatile u32 *)(uintptr_t)regs->pc;\n",
           catches=["test_03_exceptions.py::test_svc_returns_its_number"],
           why="the SVC number decoded from the instruction at the return address (the "
               "one after the SVC), forgetting that lr points past the SVC"),
    Mutant("stays-in-und-mode", "03-exceptions", "start.S",
           find="    cps     #CPSR_MODE_SVC          @ back to SVC, where the kernel runs\n",
           replace="",
           catches=["test_03_exceptions.py::test_undefined_instruction"],
           why="after setting the exception modes' stacks, no switch back to SVC: the "
               "kernel runs on in UND mode"),
    Mutant("no-abort-stack", "03-exceptions", "start.S",
           find="    cps     #CPSR_MODE_ABT\n    ldr     sp, =abt_stack_top\n",
           replace="",
           catches=["test_03_exceptions.py::"
                    "test_data_abort_reports_address_status_and_registers"],
           why="no stack set for ABT mode: the abort handler pushes its frame through "
               "sp = 0 and never reports"),

    # ---- 04-irq -----------------------------------------------------------------------
    Mutant("irq-not-counted", "04-irq", "irq.c",
           find="    slot->count++;\n",
           replace="",
           catches=["test_04_irq.py::test_uart_interrupt_count_grows"],
           why="dispatch() calls the handler but never counts the interrupt"),
    Mutant("basic-bank-ignored", "04-irq", "irq.c",
           find="    pending[2] = basic & IRQ_BASIC_ARM_MASK;\n",
           replace="    pending[2] = 0;\n",
           catches=["test_04_irq.py::test_unhandled_source_is_counted_and_disabled"],
           why="read_pending() follows basic pending's pointers to banks 1 and 2 but "
               "drops the basic bank's own sources (ARM timer, mailbox...): the "
               "mailbox interrupt is never dispatched, never disabled"),
    Mutant("unhandled-left-enabled", "04-irq", "irq.c",
           find="        irq_disable(n);\n",
           replace="",
           catches=["test_04_irq.py::test_unhandled_source_is_counted_and_disabled"],
           why="a source with no handler is counted but not disabled: nobody clears its "
               "cause, so it interrupts again at once, forever"),

    # ---- 05-timer ---------------------------------------------------------------------
    Mutant("tick-drifts", "05-timer", "timer.c",
           find="    tick_deadline += tick_period_us;\n    while",
           replace="    tick_deadline = timer_now_us() + tick_period_us;\n    while",
           catches=["test_05_timer.py::"
                    "test_ticks_missed_with_interrupts_off_are_counted_and_the_tick_goes_on"],
           why="the next tick counted from now, not from the last deadline: ticks drift, "
               "and the ticks missed while interrupts were off are never counted"),
    Mutant("passed-tick-deadline-armed", "05-timer", "timer.c",
           find="    while (arm_channel(TIMER_TICK_CHANNEL, tick_deadline) != 0) {\n"
                "        tick_deadline += tick_period_us;\n"
                "        ticks++;\n"
                "        ticks_missed++;\n"
                "    }\n",
           replace="    arm_channel(TIMER_TICK_CHANNEL, tick_deadline);\n",
           catches=["test_05_timer.py::"
                    "test_ticks_missed_with_interrupts_off_are_counted_and_the_tick_goes_on"],
           why="the next deadline armed without checking it is still ahead: after a late "
               "tick the compare already went by and the tick stops for 71 minutes"),
    Mutant("no-far-deadline-clamp", "05-timer", "timer.c",
           find="        if (pending->deadline - now > TIMER_ARM_MAX_US)\n"
                "            now += TIMER_ARM_MAX_US;\n"
                "        else\n"
                "            now = pending->deadline;\n",
           replace="        now = pending->deadline;\n",
           catches=["test_05_timer.py::test_sleep_longer_than_the_32_bit_compare"],
           why="a deadline more than 2^31 us ahead armed directly: the 32-bit compare "
               "makes it look passed, and run_expired() spins forever (a hang: slow)"),

    # ---- 06-pmm -----------------------------------------------------------------------
    Mutant("free-half-happens", "06-pmm", "pmm.c",
           find="            return PMM_ERR_NOT_ALLOCATED;\n"
                "    }\n"
                "    for (u32 i = first; i < first + count; i++)\n"
                "        clear_bit(used, i);\n"
                "    nfree += count;\n",
           replace="            return PMM_ERR_NOT_ALLOCATED;\n"
                   "        clear_bit(used, i);\n"
                   "        nfree++;\n"
                   "    }\n",
           catches=["test_06_pmm.py::test_partial_run_free_changes_nothing"],
           why="a run is freed frame by frame while it is checked: a bad free (not all "
               "allocated) has already freed the frames before the bad one"),
    Mutant("alloc-forgets-nfree", "06-pmm", "pmm.c",
           find="            nfree--;\n            next_word = w;\n",
           replace="            next_word = w;\n",
           catches=["test_06_pmm.py::test_random_alloc_free_sequences"],
           why="pmm_alloc() takes a frame without counting it out of nfree: the free "
               "count drifts from the truth"),
    Mutant("double-free-accepted", "06-pmm", "pmm.c",
           find="        if (!test_bit(used, i))\n"
                "            return PMM_ERR_NOT_ALLOCATED;\n",
           replace="",
           catches=["test_06_pmm.py::test_double_free_is_refused"],
           why="no check that a frame is allocated before freeing it: a double free is "
               "accepted and nfree counts the frame twice"),
    Mutant("run-checks-first-frame-only", "06-pmm", "pmm.c",
           find="        while (i < count && !test_bit(used, start + i))\n",
           replace="        while (i < count && !test_bit(used, start))\n",
           catches=["test_06_pmm.py::test_random_alloc_free_sequences"],
           why="the run search tests the candidate's first frame count times instead of "
               "each frame of the run: runs overlap frames already in use"),
    Mutant("run-retry-misaligned", "06-pmm", "pmm.c",
           find="        start = first + (start + i + 1 - first + step - 1) / step * step;\n",
           replace="        start += i + step;\n",
           catches=["test_06_pmm.py::test_random_alloc_free_sequences"],
           why="after a frame in use, the next candidate is start + i + step, which is "
               "not a multiple of the alignment: misaligned runs"),

    # ---- 07-mmu -----------------------------------------------------------------------
    Mutant("devices-executable", "07-mmu", "mmu.c",
           find="        l1[L1_INDEX(PERIPHERAL_BASE + off)] = (PERIPHERAL_PHYS + off) | "
                "SECT_PERIPHERAL;\n",
           replace="        l1[L1_INDEX(PERIPHERAL_BASE + off)] = (PERIPHERAL_PHYS + off) | "
                   "SECT_KERNEL_RWX;\n",
           catches=["test_07_mmu.py::test_data_and_devices_are_not_executable",
                    "test_07_mmu.py::test_l1_maps_only_the_high_half"],
           why="the peripherals mapped with the kernel's section attributes: normal "
               "memory, executable, instead of device memory with XN"),
    Mutant("whole-megabyte-mapped", "07-mmu", "mmu.c",
           find="            l2[i] = (va >= (u32)__kernel_start && va < (u32)__kernel_end) ? "
                "image_pte(va) : 0;\n",
           replace="            l2[i] = image_pte(va);\n",
           catches=["test_07_mmu.py::test_unmapped_addresses_fault"],
           why="every page of the image's megabytes mapped, not just the image: memory "
               "after __kernel_end reads without a fault"),
    Mutant("domain-manager", "07-mmu", "start.S",
           find="    mov     r0, #DACR_VALUE\n",
           replace="    mvn     r0, #0\n",
           catches=["test_07_mmu.py::test_kernel_text_is_read_only",
                    "test_07_mmu.py::test_kernel_runs_in_the_high_half"],
           why="DACR set to all managers (as in the stub): permissions and XN are never "
               "checked, so kernel text is writable and data executable"),
    Mutant("l2-virtual-address", "07-mmu", "mmu.c",
           find="        kernel_l1[mb] = KERNEL_VIRT_TO_PHYS(l2) | L1_TABLE;\n",
           replace="        kernel_l1[mb] = (u32)l2 | L1_TABLE;\n",
           catches=["test_07_mmu.py::test_kernel_runs_in_the_high_half"],
           why="the L1 entry points at the L2 table's virtual address, not its physical "
               "one: the walk reads garbage and the kernel dies as the TLB is flushed"),

    # ---- 08-vmm -----------------------------------------------------------------------
    Mutant("empty-checked-before-clear", "08-vmm", "vmm.c",
           find="    pte = l2[L2_INDEX(va)];\n"
                "    if (pte)\n"
                "        pte_write(&l2[L2_INDEX(va)], 0);    "
                "/* the cleared entry is in memory... */\n"
                "    empty = l2_is_empty(l2);\n",
           replace="    pte = l2[L2_INDEX(va)];\n"
                   "    empty = l2_is_empty(l2);\n"
                   "    if (pte)\n"
                   "        pte_write(&l2[L2_INDEX(va)], 0);    "
                   "/* the cleared entry is in memory... */\n",
           catches=["test_08_vmm.py::test_l2_tables_follow_the_megabytes"],
           why="wrong order in unmap: the L2 table is tested for emptiness before the "
               "entry is cleared, so it never looks empty and is never freed"),
    Mutant("l2-index-wrong-shift", "08-vmm", "vmm.c",
           find="    err = l2[L2_INDEX(va)] ? VMM_ERR_MAPPED : VMM_OK;\n"
                "    if (!err)\n"
                "        pte_write(&l2[L2_INDEX(va)], pa | pte_bits(flags)); "
                "/* in memory (DSB) */\n",
           replace="    err = l2[(va >> 10) & 0xFF] ? VMM_ERR_MAPPED : VMM_OK;\n"
                   "    if (!err)\n"
                   "        pte_write(&l2[(va >> 10) & 0xFF], pa | pte_bits(flags)); "
                   "/* in memory (DSB) */\n",
           catches=["test_08_vmm.py::test_map_write_read_unmap_then_fault"],
           why="the L2 index taken with a shift of 10 (the 1 KB table size) instead of "
               "12 (the 4 KB page): map writes another page's entry"),
    Mutant("heap-split-forgets-header", "08-vmm", "heap.c",
           find="                struct block *rest = (struct block *)((u8 *)(b + 1) + size);\n",
           replace="                struct block *rest = (struct block *)((u8 *)b + size);\n",
           catches=["test_08_vmm.py::test_heap_blocks_are_distinct_and_hold_their_data"],
           why="the split-off remainder placed size bytes after the header's start, not "
               "after the payload: it overlaps the block just handed out"),
    Mutant("heap-no-merge-with-next", "08-vmm", "heap.c",
           find="    if (b->next && b->next->magic == BLOCK_FREE) {       "
                "/* merge with the next */\n"
                "        b->size += HDR + b->next->size;\n"
                "        b->next = b->next->next;\n"
                "    }\n",
           replace="",
           catches=["test_08_vmm.py::test_heap_blocks_are_distinct_and_hold_their_data"],
           why="kfree merges a block only with its free predecessor, not with a free "
               "successor: the heap fragments into free blocks that never rejoin"),

    # ---- 09-scheduler -----------------------------------------------------------------
    Mutant("first-stack-upside-down", "09-scheduler", "sched.c",
           find="    *--sp = (u32)(uintptr_t)thread_start;            /* lr, popped into pc */\n"
                "    for (int r = 11; r >= 4; r--)\n"
                "        *--sp = 0;                                   /* r11 .. r4 */\n",
           replace="    for (int r = 11; r >= 4; r--)\n"
                   "        *--sp = 0;                                   /* r11 .. r4 */\n"
                   "    *--sp = (u32)(uintptr_t)thread_start;            "
                   "/* lr, popped into pc */\n",
           catches=["test_09_scheduler.py::test_both_tasks_progress"],
           why="a new thread's first stack built in the wrong order: pop {r4-r11, pc} "
               "takes thread_start into r4 and a zero into pc"),
    Mutant("first-stack-one-short", "09-scheduler", "sched.c",
           find="    for (int r = 11; r >= 4; r--)\n",
           replace="    for (int r = 11; r > 4; r--)\n",
           catches=["test_09_scheduler.py::test_both_tasks_progress"],
           why="off by one: seven zero registers pushed instead of eight, so the pop of "
               "nine words takes pc from past the top of the stack"),
    Mutant("switches-not-counted", "09-scheduler", "sched.c",
           find="    next->switches++;\n",
           replace="",
           catches=["test_09_scheduler.py::test_switches_follow_the_tick"],
           why="schedule() switches threads but never counts the switch"),

    # ---- 10-processes -----------------------------------------------------------------
    Mutant("elf-magic-unchecked", "10-processes", "proc.c",
           find="    if (*(const u32 *)eh->ident != ELF_MAGIC)\n"
                "        return \"not an ELF file (magic)\";\n",
           replace="",
           catches=["test_10_processes.py::test_elf_loader_checks_every_header_field"],
           why="the ELF loader never checks the magic number: a file that is not ELF "
               "passes as long as the other fields look right"),
    Mutant("wx-segment-accepted", "10-processes", "proc.c",
           find="        if ((ph->flags & PF_W) && (ph->flags & PF_X))\n"
                "            return \"segment both writable and executable\";\n",
           replace="",
           catches=["test_10_processes.py::test_elf_loader_checks_every_header_field"],
           why="a segment both writable and executable is loaded: a program could "
               "write code and run it"),
    Mutant("segment-anywhere", "10-processes", "proc.c",
           find="            return \"segment outside user space\";\n",
           replace="            (void)0;\n",
           catches=["test_10_processes.py::test_elf_loader_checks_every_header_field"],
           why="the segment's address is not checked: a program could ask to be loaded "
               "over the kernel"),
    Mutant("write-checks-first-byte-only", "10-processes", "syscall.c",
           find="    if (!vmm_user_ok(&p->as, buf, len, 0))\n",
           replace="    if (!vmm_user_ok(&p->as, buf, 1, 0))\n",
           catches=["test_10_processes.py::test_bad_pointers_get_efault"],
           why="write() checks only the first byte of the user buffer: a buffer that "
               "runs into an unmapped page makes the kernel itself fault"),
    Mutant("sbrk-last-page-unmapped", "10-processes", "syscall.c",
           find="    for (u32 va = (old + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); va < new; "
                "va += PAGE_SIZE) {\n",
           replace="    for (u32 va = (old + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); "
                   "va + PAGE_SIZE < new; va += PAGE_SIZE) {\n",
           catches=["test_10_processes.py::test_sbrk_grows_and_shrinks_the_heap"],
           why="off by one when growing the heap: the last page below the new break is "
               "never mapped, so the program faults using memory sbrk gave it"),
    Mutant("user-pages-global", "10-processes", "vmm.c",
           find="        pte |= PTE_NG | ((flags",
           replace="        pte |= ((flags",
           catches=["test_10_processes.py::"
                    "test_user_pages_are_not_global_and_each_process_has_its_asid"],
           why="user pages are mapped global: on a Pi one process's TLB entries then "
               "translate another's addresses (QEMU flushes its TLB, so nothing else sees it)"),
    Mutant("asid-never-written", "10-processes", "proc.c",
           find="    write_contextidr(p ? ((u32)p->pid << 8) | p->as.asid : 0);",
           replace="    write_contextidr(p ? ((u32)p->pid << 8) : 0);",
           catches=["test_10_processes.py::"
                    "test_user_pages_are_not_global_and_each_process_has_its_asid"],
           why="the switch never writes the process's ASID: every process runs under the "
               "kernel's ASID 0"),
    Mutant("asid-shared", "10-processes", "proc.c",
           find="            asid_used[a] = 1;\n",
           replace="            asid_used[a] = 0;\n",
           catches=["test_10_processes.py::"
                    "test_user_pages_are_not_global_and_each_process_has_its_asid"],
           why="asid_alloc() never marks its ASID used: live processes share one"),
]

# ---- the campaign: at least one mutant per solution region of lessons 02-10 -----------
# (harness/tools/pios-mutants --map lists each region and the mutants that hit it)
MUTANTS += [
    # 02-uart
    Mutant("gpfsel-register-not-scaled", "02-uart", "gpio.c",
           find="    u32 reg = GPFSEL0 + 4 * (pin / GPIO_PINS_PER_FSEL);\n",
           replace="    u32 reg = GPFSEL0 + pin / GPIO_PINS_PER_FSEL;\n",
           catches=["grading/hidden/test_02_hidden.py::"
                    "test_uart_pins_are_alt0_and_no_other_pin_changes"],
           why="the GPFSELn register found by adding the register number, not 4 bytes "
               "per register: pins 14/15 are never put in ALT0"),
    Mutant("gppudclk-pin-number-not-bit", "02-uart", "gpio.c",
           find="    mmio_write(clk, 1u << (pin % 32));\n",
           replace="    mmio_write(clk, pin % 32);\n",
           catches=["grading/hidden/test_02_hidden.py::"
                    "test_uart_pins_pulls_are_switched_off_by_the_clocked_sequence"],
           why="GPPUDCLK given the pin's number instead of its bit: the pull is clocked "
               "into the wrong pins"),
    Mutant("ibrd-fbrd-swapped", "02-uart", "uart.c",
           find="    mmio_write(UART0_IBRD, config.ibrd);\n    mmio_write(UART0_FBRD, config.fbrd);\n",
           replace="    mmio_write(UART0_IBRD, config.fbrd);\n    mmio_write(UART0_FBRD, config.ibrd);\n",
           catches=["grading/hidden/test_02_hidden.py::"
                    "test_uart_registers_hold_the_reported_divisor"],
           why="the integer and fractional divisors written to each other's register: "
               "the wrong baud rate on a real UART (QEMU ignores the rate)"),
    Mutant("getc-waits-on-rx-full", "02-uart", "uart.c",
           find="    while (mmio_read(UART0_FR) & UART_FR_RXFE)\n        ;\n    /* The upper",
           replace="    while (mmio_read(UART0_FR) & UART_FR_RXFF)\n        ;\n    /* The upper",
           catches=["test_02_uart.py::test_echo_random_text"],
           why="uart_getc() waits on RXFF (receive FIFO full) instead of RXFE (empty): "
               "it reads DR when nothing has come and returns a stale byte"),

    # 03-exceptions
    Mutant("external-abort-called-imprecise", "03-exceptions", "exceptions.c",
           find='    case 0x08: return "precise external abort";\n',
           replace='    case 0x08: return "imprecise external abort";\n',
           catches=["grading/hidden/test_03_hidden.py::test_data_abort_where_nothing_answers"],
           why="status 0x08 named from the wrong row of the table: a precise external "
               "abort reported as imprecise"),
    Mutant("mode-mask-four-bits", "03-exceptions", "exceptions.c",
           find="        if (modes[i].mode == (cpsr & CPSR_MODE_MASK))\n",
           replace="        if (modes[i].mode == (cpsr & 0xF))\n",
           catches=["test_03_exceptions.py::test_undefined_instruction"],
           why="the mode taken from cpsr's low four bits, not five: no mode matches "
               "and every report says ???"),
    Mutant("undef-insn-read-below-pc", "03-exceptions", "exceptions.c",
           find='    kprintf("  instruction 0x%08x\\n", *(volatile u32 *)(uintptr_t)regs->pc);\n',
           replace='    kprintf("  instruction 0x%08x\\n", *(volatile u32 *)(uintptr_t)(regs->pc - 4));\n',
           catches=["test_03_exceptions.py::test_undefined_instruction"],
           why="4 subtracted from the frame's pc a second time (the entry did it): the "
               "word printed is the instruction before the undefined one"),
    Mutant("read-write-swapped", "03-exceptions", "exceptions.c",
           find='(fsr & FSR_WRITE) ? "write" : "read"',
           replace='(fsr & FSR_WRITE) ? "read" : "write"',
           catches=["test_03_exceptions.py::"
                    "test_data_abort_reports_address_status_and_registers"],
           why="the FSR's WnR bit read the wrong way round: a write reported as a read"),
    Mutant("pabt-reads-dfsr", "03-exceptions", "exceptions.c",
           find='    report_abort("prefetch abort", regs, read_ifsr(), read_ifar(), 0);\n',
           replace='    report_abort("prefetch abort", regs, read_dfsr(), read_dfar(), 0);\n',
           catches=["test_03_exceptions.py::test_prefetch_abort_from_breakpoint"],
           why="a prefetch abort reported from the data fault registers: wrong status "
               "and address"),
    Mutant("frame-pointer-misses-padding", "03-exceptions", "vectors.S",
           find="    add     r0, sp, #4              @ r0 = struct regs * (the frame)\n",
           replace="    mov     r0, sp                  @ r0 = struct regs * (the frame)\n",
           catches=["test_03_exceptions.py::test_svc_returns_its_number"],
           why="the handler given sp, not sp + 4: the frame is read one word off (the "
               "padding as r0, r12 as sp...)"),
    Mutant("return-skips-one-word", "03-exceptions", "vectors.S",
           find="    add     sp, sp, #8              @ skip the saved sp and lr\n",
           replace="    add     sp, sp, #4              @ skip the saved sp and lr\n",
           catches=["test_03_exceptions.py::test_svc_returns_its_number"],
           why="the exit skips one word of the saved sp and lr, not two: rfeia takes the "
               "saved lr as pc and the pc as CPSR"),

    # 04-irq
    Mutant("enable-banks-swapped", "04-irq", "irq.c",
           find="        mmio_write(bank_reg(n, IRQ_ENABLE_1, IRQ_ENABLE_2, IRQ_ENABLE_BASIC), "
                "bank_bit(n));\n",
           replace="        mmio_write(bank_reg(n, IRQ_ENABLE_2, IRQ_ENABLE_1, IRQ_ENABLE_BASIC), "
                   "bank_bit(n));\n",
           catches=["test_04_irq.py::test_uart_interrupt_count_grows"],
           why="banks 1 and 2 swapped in irq_enable(): the UART's source (57, bank 2) "
               "enables source 25 instead"),
    Mutant("disable-writes-enable", "04-irq", "irq.c",
           find="        mmio_write(bank_reg(n, IRQ_DISABLE_1, IRQ_DISABLE_2, IRQ_DISABLE_BASIC), "
                "bank_bit(n));\n",
           replace="        mmio_write(bank_reg(n, IRQ_ENABLE_1, IRQ_ENABLE_2, IRQ_ENABLE_BASIC), "
                   "bank_bit(n));\n",
           catches=["test_04_irq.py::test_unhandled_source_is_counted_and_disabled"],
           why="irq_disable() copied from irq_enable() without changing the registers: "
               "it enables the source again"),
    Mutant("is-enabled-reads-pending", "04-irq", "irq.c",
           find="    return (mmio_read(bank_reg(n, IRQ_ENABLE_1, IRQ_ENABLE_2, IRQ_ENABLE_BASIC))\n",
           replace="    return (mmio_read(bank_reg(n, IRQ_PENDING_1, IRQ_PENDING_2, IRQ_BASIC_PENDING))\n",
           catches=["test_04_irq.py::test_uart_interrupt_count_grows"],
           why="irq_is_enabled() reads the pending register, not the enable register: "
               "it answers whether the source is raised"),
    Mutant("basic-bank-never-dispatched", "04-irq", "irq.c",
           find="    for (unsigned bank = 0; bank < 3; bank++) {\n",
           replace="    for (unsigned bank = 0; bank < 2; bank++) {\n",
           catches=["test_04_irq.py::test_unhandled_source_is_counted_and_disabled"],
           why="off by one: irq_handle() dispatches banks 1 and 2 only, never the basic "
               "bank's sources"),
    Mutant("drain-one-byte", "04-irq", "uart.c",
           find="    while (!(mmio_read(UART0_FR) & UART_FR_RXFE)) {\n"
                "        u8 byte = (u8)(mmio_read(UART0_DR) & UART_DR_DATA_MASK);\n",
           replace="    if (!(mmio_read(UART0_FR) & UART_FR_RXFE)) {\n"
                   "        u8 byte = (u8)(mmio_read(UART0_DR) & UART_DR_DATA_MASK);\n",
           catches=["test_04_irq.py::test_input_while_busy_is_all_received_in_order"],
           why="`if` for `while`: one byte taken per interrupt, the rest left in the "
               "FIFO until another byte comes"),
    Mutant("imsc-and-not-or", "04-irq", "uart.c",
           find="    mmio_write(UART0_IMSC, UART_INT_RX | UART_INT_RT);\n",
           replace="    mmio_write(UART0_IMSC, UART_INT_RX & UART_INT_RT);\n",
           catches=["test_04_irq.py::test_uart_interrupt_count_grows"],
           why="the two mask bits combined with & instead of |: nothing is unmasked and "
               "the UART never interrupts"),
    Mutant("getc-returns-irqs-masked", "04-irq", "uart.c",
           find="        int c = ringbuf_get(&rx);\n        if (c < 0)\n            wfi();\n"
                "        irq_restore(s);\n        if (c >= 0)\n            return (char)c;\n",
           replace="        int c = ringbuf_get(&rx);\n        if (c >= 0)\n"
                   "            return (char)c;\n        wfi();\n        irq_restore(s);\n",
           catches=["test_04_irq.py::test_input_while_busy_is_all_received_in_order"],
           why="uart_getc() returns from inside the masked section: IRQs stay off, so "
               "the next byte's interrupt never runs and the shell waits forever"),

    # 05-timer
    Mutant("counter-halves-swapped", "05-timer", "timer.c",
           find="    return ((u64)hi << 32) | lo;\n",
           replace="    return ((u64)lo << 32) | hi;\n",
           catches=["test_05_timer.py::test_uptime_is_monotonic_and_counts_ticks"],
           why="the 64-bit time built with CLO as the high half and CHI as the low one"),
    Mutant("in-future-unsigned", "05-timer", "timer.c",
           find="    return (s32)(deadline - mmio_read(SYSTIMER_CLO)) > 0;\n",
           replace="    return deadline > mmio_read(SYSTIMER_CLO);\n",
           catches=["test_05_timer.py::test_uptime_and_sleep_go_past_the_32_bit_wrap"],
           why="an unsigned comparison instead of the signed difference: a deadline just "
               "past the 32-bit wrap looks passed"),
    Mutant("tick-period-in-ms", "05-timer", "timer.c",
           find="    tick_period_us = US_PER_S / hz;\n    tick_deadline",
           replace="    tick_period_us = 1000 / hz;\n    tick_deadline",
           catches=["test_05_timer.py::test_tick_rate_matches"],
           why="the period computed in milliseconds and used as microseconds: the tick "
               "runs a thousand times too fast"),
    Mutant("sleep-delay-and-period-swapped", "05-timer", "timer.c",
           find="    timer_start(&t, us, 0, set_flag, (void *)&done);\n",
           replace="    timer_start(&t, 0, us, set_flag, (void *)&done);\n",
           catches=["test_05_timer.py::test_random_sleeps_last_that_long"],
           why="timer_start()'s delay and period swapped: the sleep ends at once and "
               "leaves a periodic timer on a dead stack"),
    Mutant("timer-deadline-absolute", "05-timer", "timer.c",
           find="    t->deadline = timer_now_us() + delay_us;\n",
           replace="    t->deadline = delay_us;\n",
           catches=["test_05_timer.py::test_random_sleeps_last_that_long"],
           why="the delay taken as an absolute time, not added to now: every timer is "
               "already due"),

    # 06-pmm
    Mutant("frames-counted-to-last-index", "06-pmm", "pmm.c",
           find="    nframes = ram_size / PAGE_SIZE;\n    nfree = nframes;\n",
           replace="    nframes = (ram_size - 1) / PAGE_SIZE;\n    nfree = nframes;\n",
           catches=["test_06_pmm.py::test_ram_size_comes_from_the_firmware"],
           why="the number of frames computed as the last frame's index: one frame "
               "short, the last frame of RAM is never managed"),
    Mutant("reserve-end-not-rounded-up", "06-pmm", "pmm.c",
           find="    last = (end - base) / PAGE_SIZE + ((end - base) % PAGE_SIZE != 0);\n",
           replace="    last = (end - base) / PAGE_SIZE;\n",
           catches=["test_06_pmm.py::test_random_alloc_free_sequences"],
           why="the end of a reserved range rounded down, not up: the frame holding the "
               "end of the kernel image is handed out"),

    # 07-mmu
    Mutant("ttbcr-n-zero", "07-mmu", "start.S",
           find="    mov     r0, #TTBCR_N_2GB\n    mcr ",
           replace="    mov     r0, #0\n    mcr ",
           catches=["test_07_mmu.py::test_kernel_runs_in_the_high_half"],
           why="TTBCR.N left 0: TTBR0's table translates every address, kernel_l1 is "
               "never used and the jump to the high half faults"),

    # 08-vmm
    Mutant("scratch-maps-va", "08-vmm", "vmm.c",
           find="    pte_write(&fixed_l2[L2_INDEX(va)], (pa & PTE_BASE_MASK) | PTE_TYPE_SMALL |\n",
           replace="    pte_write(&fixed_l2[L2_INDEX(va)], (va & PTE_BASE_MASK) | PTE_TYPE_SMALL |\n",
           catches=["test_08_vmm.py::test_map_write_read_unmap_then_fault"],
           why="the scratch page's entry built from the virtual address, not the frame: "
               "every physical write lands in the wrong frame"),

    Mutant("scratch-unmap-l1-index", "08-vmm", "vmm.c",
           find="    pte_write(&fixed_l2[L2_INDEX(va)], 0);  /* the cleared entry is in memory... */\n",
           replace="    pte_write(&fixed_l2[L1_INDEX(va)], 0);  /* the cleared entry is in memory... */\n",
           catches=["test_08_vmm.py::test_map_write_read_unmap_then_fault"],
           why="the scratch entry found with L1_INDEX for L2_INDEX: unmapping clears "
               "another page of the kernel's megabyte and leaves the scratch page mapped"),

    # 09-scheduler
    Mutant("pick-from-the-first-thread", "09-scheduler", "sched.c",
           find="        struct thread *t = &threads[(me + i) % THREADS_MAX];\n",
           replace="        struct thread *t = &threads[i % THREADS_MAX];\n",
           catches=["grading/hidden/test_09_hidden.py::"
                    "test_three_spinning_threads_share_the_cpu"],
           why="the search starts at the table's first thread, not after the current "
               "one: not round robin, and later threads starve"),
    Mutant("sleep-marked-after-timer", "09-scheduler", "sched.c",
           find="    current->state = T_SLEEPING;\n"
                "    timer_start(&current->timer, us, 0, wake_sleeper, current);\n",
           replace="    timer_start(&current->timer, us, 0, wake_sleeper, current);\n"
                   "    current->state = T_SLEEPING;\n",
           catches=["test_09_scheduler.py::test_a_zero_sleep_returns_at_once"],
           why="the timer started before the thread is marked sleeping: a zero (or very "
               "short) sleep's wake-up comes first and the thread sleeps for ever"),
    Mutant("wait-marks-sleeping", "09-scheduler", "sched.c",
           find="    current->state = T_BLOCKED;\n    current->wait_next = wq->first;\n",
           replace="    current->state = T_SLEEPING;\n    current->wait_next = wq->first;\n",
           catches=["test_09_scheduler.py::test_spinning_tasks_do_not_starve_the_shell"],
           why="wait_on() marks the thread SLEEPING, not BLOCKED: wake_all() wakes only "
               "blocked threads, so the shell never wakes for its next key"),
    Mutant("wake-leaves-queue-head", "09-scheduler", "sched.c",
           find="    wq->first = NULL;\n",
           replace="",
           catches=["test_09_scheduler.py::test_spinning_tasks_do_not_starve_the_shell"],
           why="wake_all() wakes every thread but never empties the queue: the woken "
               "shell is still its head, and its next wait_on() panics"),
    Mutant("slice-one-tick-long", "09-scheduler", "sched.c",
           find="    if (--slice_left <= 0)\n",
           replace="    if (slice_left-- <= 0)\n",
           catches=["grading/hidden/test_09_hidden.py::"
                    "test_yielding_tasks_take_one_step_each_per_slice"],
           why="post-decrement for pre-decrement: every slice lasts one tick too long"),
    Mutant("switch-saves-new-sp", "09-scheduler", "switch.S",
           find="    str     sp, [r0]                @ old->sp = where they are\n"
                "    mov     sp, r1                  @ the new thread's stack...\n",
           replace="    mov     sp, r1                  @ the new thread's stack...\n"
                   "    str     sp, [r0]                @ old->sp = where they are\n",
           catches=["test_09_scheduler.py::test_both_tasks_progress"],
           why="the two middle steps of cpu_switch() swapped: the old thread's saved sp "
               "is the new thread's, so it never comes back to its own stack"),
    Mutant("getc-waits-in-wfi", "09-scheduler", "uart.c",
           find="            if (sched_running())\n",
           replace="            if (!sched_running())\n",
           catches=["test_09_scheduler.py::test_sleep_blocks_and_idle_runs"],
           why="the test of sched_running() inverted: once the scheduler runs, the "
               "shell waits for a key in WFI instead of blocking, so it keeps the CPU "
               "and the idle thread never runs"),

    # 10-processes
    Mutant("segment-flags-swapped", "10-processes", "proc.c",
           find="        u32 flags = (ph->flags & PF_W ? VM_WRITE : 0) | "
                "(ph->flags & PF_X ? VM_EXEC : 0);\n",
           replace="        u32 flags = (ph->flags & PF_X ? VM_WRITE : 0) | "
                   "(ph->flags & PF_W ? VM_EXEC : 0);\n",
           catches=["test_10_processes.py::test_hello_gets_its_arguments"],
           why="PF_W and PF_X mapped to each other's permission: code writable, data "
               "read-only, and the program faults at its first store"),
    Mutant("heap-starts-in-bss", "10-processes", "proc.c",
           find="        if (ph->vaddr + ph->memsz > end)\n            end = ph->vaddr + ph->memsz;\n",
           replace="        if (ph->vaddr + ph->filesz > end)\n            end = ph->vaddr + ph->filesz;\n",
           catches=["test_10_processes.py::test_sbrk_grows_and_shrinks_the_heap"],
           why="the end of the image taken from filesz, not memsz: the heap starts over "
               ".bss"),
    Mutant("arg-strings-without-nul", "10-processes", "proc.c",
           find="        u32 len = strlen(argv[i]) + 1;\n",
           replace="        u32 len = strlen(argv[i]);\n",
           catches=["test_10_processes.py::test_hello_gets_its_arguments"],
           why="off by one: the argument strings copied without their NUL, so each runs "
               "into the next"),
    Mutant("switch-mm-to-prev", "10-processes", "sched.c",
           find="        switch_mm(next);                /* its address space (lesson 10) */\n",
           replace="        switch_mm(prev);                /* its address space (lesson 10) */\n",
           catches=["test_10_processes.py::test_two_processes_interleave"],
           why="the address space of the thread being left loaded, not the next one's: "
               "a process runs in another's memory"),
    Mutant("write-ignores-kill", "10-processes", "syscall.c",
           find="        if (p->killed)                  /* a kill cuts a long write short */\n"
                "            return done ? (int)done : -EINTR;\n",
           replace="",
           catches=["test_10_processes.py::test_kill_cuts_a_long_write_short"],
           why="sys_write() never looks at `killed` between chunks: a killed process "
               "prints the rest of its megabyte first"),
    Mutant("wake-only-the-head", "10-processes", "sched.c",
           find="    wq->first = NULL;\n"
                "    for (; t; t = next) {           /* unlink each one: it may wait again "
                "at once */\n        next = t->wait_next;\n",
           replace="    wq->first = t ? t->wait_next : NULL;\n"
                   "    for (; t; t = next) {           /* unlink each one: it may wait "
                   "again at once */\n        next = NULL;\n",
           catches=["test_10_processes.py::test_every_waiting_parent_is_woken"],
           why="wake_all() wakes only the latest waiter: with three parents waiting for "
               "exits, a child's exit wakes the shell and leaves its own parent blocked "
               "until other exits happen to reach it"),
]

# Mistakes QEMU cannot show (its raspi0 has no caches, flushes its TLB on its own and
# keeps no real-hardware timing): no test can fail on them, so they are not in
# MUTANTS. harness/tools/pios-mutants grades them with every test of their lesson to
# see that they do survive; docs/qemu.md lists them, with why.
UNSHOWABLE = [
    Mutant("first-tick-from-stale-deadline", "05-timer", "timer.c",
           find="    tick_deadline = mmio_read(SYSTIMER_CLO) + tick_period_us;\n",
           replace="    tick_deadline += tick_period_us;\n",
           catches=[],
           why="the first tick armed from the old deadline (0 at boot), not from now: on "
               "a Pi the firmware has run for seconds, the deadline is long past and the "
               "tick waits 71 minutes for the counter to wrap. QEMU's counter starts at 0 "
               "with the machine, so the kernel sets its rate within the first period; "
               "and a later `tick` is hidden by -icount sleep=off, which jumps an idle "
               "guest to the next deadline before the next command comes"),
    Mutant("breakpoint-reports-far", "03-exceptions", "exceptions.c",
           find="    if (status == FSR_DEBUG_EVENT)\n",
           replace="    if (status == FSR_DEBUG_EVENT && far == 0)\n",
           catches=[],
           why="a debug event told by a zero IFAR as well: a breakpoint does not write "
               "IFAR, which on a Pi holds whatever it held (UNKNOWN at reset), so a stale "
               "address is printed. QEMU resets IFAR to 0, and in lesson 03 only a "
               "breakpoint raises a prefetch abort (the next stops the machine)"),
    Mutant("rx-cleared-after-drain", "04-irq", "uart.c",
           find="    mmio_write(UART0_ICR, UART_INT_RX | UART_INT_RT);\n    drain_rx_fifo();\n",
           replace="    drain_rx_fifo();\n    mmio_write(UART0_ICR, UART_INT_RX | UART_INT_RT);\n",
           catches=[],
           why="a race: a byte that arrives between the drain and the clear has its "
               "interrupt cleared and waits in the FIFO for the next byte. The window is a "
               "few instructions; QEMU delivers input between translated blocks, so a test "
               "hits it only by chance (test_input_while_busy_is_all_received_in_order "
               "failed on it in one run of ten, when the last byte of a burst fell in it)"),
    Mutant("rx-timeout-left-masked", "04-irq", "uart.c",
           find="    mmio_write(UART0_IMSC, UART_INT_RX | UART_INT_RT);\n",
           replace="    mmio_write(UART0_IMSC, UART_INT_RX);\n",
           catches=[],
           why="the receive timeout interrupt left masked: on a Pi the RX interrupt comes "
               "only when the FIFO reaches its trigger level, so a key typed alone waits "
               "there. QEMU's PL011 raises RX for every byte and has no receive timeout"),
    Mutant("counter-read-once", "05-timer", "timer.c",
           find="    } while (hi != mmio_read(SYSTIMER_CHI));\n",
           replace="    } while (0);\n",
           catches=[],
           why="CHI and CLO read once, without checking that CHI did not change: when "
               "CLO wraps between the two reads the time jumps back 71 minutes. The window "
               "is two loads once every 71 minutes: no test run meets it"),
    Mutant("mbox-without-bus-alias", "07-mmu", "mbox.c",
           find="    u32 msg = (KERNEL_VIRT_TO_PHYS(buf) | BUS_RAM_ALIAS) | MBOX_CH_PROPERTY;\n",
           replace="    u32 msg = KERNEL_VIRT_TO_PHYS(buf) | MBOX_CH_PROPERTY;\n",
           catches=[],
           why="the firmware given the buffer's physical address, not its bus address "
               "(BUS_RAM_ALIAS): on a Pi it reads through the VideoCore's cached alias and "
               "may see stale data. QEMU maps RAM at all four bus aliases alike"),
    Mutant("mbox-invalidated-not-cleaned", "07-mmu", "mbox.c",
           find="    dcache_clean_range(buf, buf[0]);\n",
           replace="    dcache_invalidate_range(buf, buf[0]);\n",
           catches=[],
           why="the request invalidated from the data cache instead of cleaned to "
               "memory: on a Pi the firmware reads stale memory, not the request. QEMU has "
               "no data cache"),
    Mutant("mbox-reply-not-invalidated", "07-mmu", "mbox.c",
           find="            dcache_invalidate_range(buf, buf[0]);\n",
           replace="",
           catches=[],
           why="the reply read through the cache without invalidating it: on a Pi the "
               "kernel reads its own request back, not the firmware's answer. QEMU has no "
               "data cache"),
]
