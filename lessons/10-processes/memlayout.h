/*
 * memlayout.h - the virtual memory map, from lesson 07 on (lesson 07's README draws it).
 *
 *  virtual                                     physical
 *  0x00000000 +-----------------------------+
 *             | user space (TTBR0), per     |  page 0 never mapped: NULL faults
 *             | process: program at 0x10000,|
 *             | heap above it (sbrk),       |
 *  0x7FFF0000 | stack below 0x7FFF0000      |
 *  0x80000000 +-----------------------------+  KERNEL_BASE
 *             | kernel image, 4 KB pages:   |  0x00000000 + offset
 *             |   text (read-only, exec)    |
 *             |   rodata (read-only, XN)    |
 *             |   data, bss, tables, stacks |
 *             +-----------------------------+
 *  0xA0000000 | kernel heap, VMM mappings   |  lesson 08
 *  0xE0000000 |   processes' L1 tables      |  8 KB each, lesson 10
 *  0xF0000000 +-----------------------------+
 *  0xF2000000 | peripherals (16 MB)         |  0x20000000, device memory, XN
 *  0xF3000000 +-----------------------------+
 *  0xFFF00000 | the fixed L2 window:        |  one L2 table in .pagetables
 *  0xFFFE0000 |   scratch pages 0 and 1     |  any frame, for a moment (vmm.c)
 *  0xFFFF0000 |   high exception vectors    |  the kernel's .vectors page
 *             +-----------------------------+
 */
#ifndef MEMLAYOUT_H
#define MEMLAYOUT_H

#define KERNEL_BASE         0x80000000     /* virtual address of physical 0 */
#define PERIPHERAL_BASE     0xF2000000     /* board.h's registers move here */
#define USER_BASE           0x00001000     /* lowest user page: page 0 stays unmapped */
#define USER_STACK_TOP      0x7FFF0000     /* user stacks grow down from here */
#define USER_STACK_PAGES    8
#define USER_HEAP_MAX       0x01000000     /* sbrk limit per process */
#define USER_TOP            0x80000000     /* TTBR0's half ends here */
#define VMM_BASE            0xA0000000     /* mappings made by the VMM... */
#define VMM_END             0xF0000000     /* ...end here */
#define HEAP_BASE           0xA0000000     /* the kernel heap: the first 16 MB */
#define HEAP_MAX            0x01000000
#define USER_L1_WINDOW      0xE0000000     /* processes' L1 tables, 8 KB each */
#define USER_L1_WINDOW_SIZE 0x00100000     /* a megabyte kept for them: the shell's map
                                            * and unmap stay out of it */
#define FIXED_L2_BASE       0xFFF00000     /* the top megabyte */
#define SCRATCH_VA(n)       (0xFFFE0000 + (n) * 0x1000)  /* scratch pages 0 and 1 */
#define SCRATCH_PAGES       2
#define HIGH_VECTORS        0xFFFF0000     /* SCTLR.V = 1 */

/* The kernel image is mapped at KERNEL_BASE + its physical address. */
#define KERNEL_VIRT_TO_PHYS(va) ((u32)(va) - KERNEL_BASE)
#define KERNEL_PHYS_TO_VIRT(pa) ((u32)(pa) + KERNEL_BASE)

#endif
