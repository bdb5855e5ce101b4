/*
 * memlayout.h - the virtual memory map, from lesson 07 on (lesson 07's README draws it).
 *
 *  virtual                                     physical
 *  0x00000000 +-----------------------------+
 *             | user space (TTBR0)          |  lesson 10; unmapped until then,
 *             | page 0 never mapped         |  so a NULL access faults
 *  0x80000000 +-----------------------------+  KERNEL_BASE
 *             | kernel image, 4 KB pages:   |  0x00000000 + offset
 *             |   text (read-only, exec)    |
 *             |   rodata (read-only, XN)    |
 *             |   data, bss, tables, stacks |
 *             +-----------------------------+
 *  0xA0000000 | kernel heap, VMM mappings   |  lesson 08
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
#define VMM_BASE            0xA0000000     /* mappings made by the VMM... */
#define VMM_END             0xF0000000     /* ...end here */
#define HEAP_BASE           0xA0000000     /* the kernel heap: the first 16 MB */
#define HEAP_MAX            0x01000000
#define FIXED_L2_BASE       0xFFF00000     /* the top megabyte */
#define SCRATCH_VA(n)       (0xFFFE0000 + (n) * 0x1000)  /* scratch pages 0 and 1 */
#define SCRATCH_PAGES       2
#define HIGH_VECTORS        0xFFFF0000     /* SCTLR.V = 1 */

/* The kernel image is mapped at KERNEL_BASE + its physical address. */
#define KERNEL_VIRT_TO_PHYS(va) ((u32)(va) - KERNEL_BASE)
#define KERNEL_PHYS_TO_VIRT(pa) ((u32)(pa) + KERNEL_BASE)

#endif
