/*
 * arm.h - ARMv6 (ARM1176JZF-S) instructions that C cannot express, as inline
 * functions. ARMv6 has no DMB/DSB/ISB instructions (ARMv7 added them); the same
 * operations are CP15 c7 writes [ARM ARM (DDI 0100I) B6.6.5; ARM1176 TRM 3.2.22].
 */
#ifndef ARM_H
#define ARM_H

/* Constants first: start.S and vectors.S include this file too. */

/* (No 'u' suffixes here: the assembler does not accept them.) */

/* CPSR mode field and the modes the course uses [ARM ARM A2.2]. */
#define CPSR_MODE_MASK  0x1F
#define CPSR_MODE_USR   0x10
#define CPSR_MODE_FIQ   0x11
#define CPSR_MODE_IRQ   0x12
#define CPSR_MODE_SVC   0x13
#define CPSR_MODE_ABT   0x17
#define CPSR_MODE_UND   0x1B
#define CPSR_MODE_SYS   0x1F
#define CPSR_T          (1 << 5)   /* Thumb state */
#define CPSR_F          (1 << 6)   /* FIQ masked */
#define CPSR_I          (1 << 7)   /* IRQ masked */
#define CPSR_A          (1 << 8)   /* imprecise aborts masked */

/* SCTLR bits [ARM1176 TRM 3.2.7] */
#define SCTLR_M         (1 << 0)       /* MMU on */
#define SCTLR_A         (1 << 1)       /* strict alignment checking */
#define SCTLR_C         (1 << 2)       /* data cache */
#define SCTLR_Z         (1 << 11)      /* branch prediction */
#define SCTLR_I         (1 << 12)      /* instruction cache */
#define SCTLR_V         (1 << 13)      /* high vectors at 0xFFFF0000 */
#define SCTLR_U         (1 << 22)      /* ARMv6 unaligned access model */
#define SCTLR_XP        (1 << 23)      /* ARMv6 page table format (no subpages) */

/* Fault status registers (DFSR/IFSR), VMSAv6 [ARM ARM B4.6] */
#define FSR_STATUS(fsr) ((((fsr) >> 6) & 0x10) | ((fsr) & 0xF))  /* FS[4] is bit 10 */
#define FSR_WRITE       (1 << 11)      /* DFSR: the access was a write */
#define FSR_DOMAIN(fsr) (((fsr) >> 4) & 0xF)

#ifndef __ASSEMBLER__

#include "types.h"

/* Data memory barrier: memory accesses before it are seen before any after it. */
static inline void dmb(void)
{
    __asm__ volatile("mcr p15, 0, %0, c7, c10, 5" : : "r"(0) : "memory");
}

/* Data synchronisation barrier: wait until every earlier memory access completed. */
static inline void dsb(void)
{
    __asm__ volatile("mcr p15, 0, %0, c7, c10, 4" : : "r"(0) : "memory");
}

/* Prefetch flush (ISB): refetch the instructions after it, so that a CP15 change
 * made before it is seen by them. */
static inline void isb(void)
{
    __asm__ volatile("mcr p15, 0, %0, c7, c5, 4" : : "r"(0) : "memory");
}

/* Wait for interrupt: stop the core until an interrupt is pending. On ARMv6 this is
 * the CP15 form; the WFI mnemonic is ARMv6K/ARMv7 and means the same here. */
static inline void wfi(void)
{
    __asm__ volatile("mcr p15, 0, %0, c7, c0, 4" : : "r"(0) : "memory");
}

static inline u32 read_cpsr(void)
{
    u32 v;
    __asm__ volatile("mrs %0, cpsr" : "=r"(v));
    return v;
}

/* ---- TLB and cache maintenance [ARM1176 TRM 3.2.22, 3.2.26] ---------------------- */

#define CACHE_LINE      32u         /* ARM1176 L1 cache line, bytes */

/* Forget every cached translation. */
static inline void tlb_invalidate_all(void)
{
    __asm__ volatile("mcr p15, 0, %0, c8, c7, 0" : : "r"(0) : "memory");
}

/* Forget the cached translation of one page (any ASID: the MVA form with ASID 0
 * matches global entries; lesson 10 adds the ASID). */
static inline void tlb_invalidate_mva(u32 va)
{
    __asm__ volatile("mcr p15, 0, %0, c8, c7, 1" : : "r"(va & ~0xFFFu) : "memory");
}

/* The same for a page of one address space: entries of non-global (nG) pages are
 * tagged with their ASID, and only the matching one is dropped (lesson 10). */
static inline void tlb_invalidate_mva_asid(u32 va, u32 asid)
{
    __asm__ volatile("mcr p15, 0, %0, c8, c7, 1" : : "r"((va & ~0xFFFu) | (asid & 0xFFu))
                     : "memory");
}

/* Forget every non-global translation tagged with asid. */
static inline void tlb_invalidate_asid(u32 asid)
{
    __asm__ volatile("mcr p15, 0, %0, c8, c7, 2" : : "r"(asid & 0xFFu) : "memory");
}

/* Invalidate the whole instruction cache. ARM1176 erratum 411920: the operation can
 * miss a line that is being filled at the same moment. The workaround ARM gives (and
 * Linux's v6_flush_icache_all uses): four invalidates in a row with interrupts
 * masked, then eleven instructions before anything relies on it. */
static inline void icache_invalidate_all(void)
{
    u32 cpsr;

    __asm__ volatile("mrs     %0, cpsr\n\t"                /* the masks as they are */
                     "cpsid   if\n\t"                      /* nothing runs in between */
                     "mcr     p15, 0, %1, c7, c5, 0\n\t"   /* invalidate the I-cache... */
                     "mcr     p15, 0, %1, c7, c5, 0\n\t"   /* ...four times over */
                     "mcr     p15, 0, %1, c7, c5, 0\n\t"
                     "mcr     p15, 0, %1, c7, c5, 0\n\t"
                     "msr     cpsr_c, %0\n\t"              /* the masks as they were */
                     ".rept 11\n\tnop\n\t.endr"          /* the erratum's 11 instructions */
                     : "=&r"(cpsr) : "r"(0) : "memory");
}

static inline void branch_predictor_invalidate(void)
{
    __asm__ volatile("mcr p15, 0, %0, c7, c5, 6" : : "r"(0) : "memory");
}

/* Write dirty data cache lines of [start, start + size) to memory (for a reader
 * that does not look in the ARM's cache: the GPU, DMA). */
static inline void dcache_clean_range(const volatile void *start, u32 size)
{
    u32 a = (u32)(uintptr_t)start & ~(CACHE_LINE - 1);
    for (; a < (u32)(uintptr_t)start + size; a += CACHE_LINE)
        __asm__ volatile("mcr p15, 0, %0, c7, c10, 1" : : "r"(a) : "memory");
    dsb();
}

/* Drop the data cache's copy of [start, start + size), so the next read sees what
 * another bus master wrote to memory. */
static inline void dcache_invalidate_range(const volatile void *start, u32 size)
{
    u32 a = (u32)(uintptr_t)start & ~(CACHE_LINE - 1);
    for (; a < (u32)(uintptr_t)start + size; a += CACHE_LINE)
        __asm__ volatile("mcr p15, 0, %0, c7, c6, 1" : : "r"(a) : "memory");
    dsb();
}

/* CPU-level IRQ masking (CPSR.I). irq_save() masks and returns the old CPSR for
 * irq_restore(), so that code which may run with IRQs on or off can nest safely. */
static inline void irq_cpu_enable(void) { __asm__ volatile("cpsie i" : : : "memory"); }
static inline void irq_cpu_disable(void) { __asm__ volatile("cpsid i" : : : "memory"); }
static inline u32 irq_save(void)
{
    u32 cpsr;
    __asm__ volatile("mrs %0, cpsr\n\tcpsid i" : "=r"(cpsr) : : "memory");
    return cpsr;
}
static inline void irq_restore(u32 cpsr)
{
    __asm__ volatile("msr cpsr_c, %0" : : "r"(cpsr) : "memory");
}

/* Mask IRQ and FIQ (CPSR I and F bits). */
static inline void irq_fiq_disable(void)
{
    __asm__ volatile("cpsid if" : : : "memory");
}

/* ---- CP15 system control and fault registers [ARM1176 TRM 3.2] -------------------- */

#define CP15_READ(name, op1, crn, crm, op2)                                        \
    static inline u32 name(void)                                                    \
    {                                                                               \
        u32 v;                                                                      \
        __asm__ volatile("mrc p15, " #op1 ", %0, " #crn ", " #crm ", " #op2 : "=r"(v)); \
        return v;                                                                   \
    }
#define CP15_WRITE(name, op1, crn, crm, op2)                                       \
    static inline void name(u32 v)                                                  \
    {                                                                               \
        __asm__ volatile("mcr p15, " #op1 ", %0, " #crn ", " #crm ", " #op2         \
                         : : "r"(v) : "memory");                                    \
    }

CP15_READ(read_sctlr, 0, c1, c0, 0)     /* system control */
CP15_READ(read_ttbr0, 0, c2, c0, 0)     /* translation table base 0 (user half) */
CP15_WRITE(write_ttbr0, 0, c2, c0, 0)
CP15_READ(read_ttbr1, 0, c2, c0, 1)     /* translation table base 1 (kernel half) */
CP15_WRITE(write_ttbr1, 0, c2, c0, 1)
CP15_READ(read_ttbcr, 0, c2, c0, 2)     /* which VAs use TTBR0 and which TTBR1 */
CP15_WRITE(write_ttbcr, 0, c2, c0, 2)
CP15_READ(read_dacr, 0, c3, c0, 0)      /* domain access control */
CP15_WRITE(write_dacr, 0, c3, c0, 0)
CP15_READ(read_contextidr, 0, c13, c0, 1)   /* PROCID (bits 31:8) and ASID (7:0) */
CP15_WRITE(write_contextidr, 0, c13, c0, 1)
CP15_READ(read_tpidrurw, 0, c13, c0, 2)    /* thread ID: user mode reads and writes it */
CP15_WRITE(write_tpidrurw, 0, c13, c0, 2)
CP15_WRITE(write_sctlr, 0, c1, c0, 0)
CP15_WRITE(write_cpacr, 0, c1, c0, 2)   /* coprocessor access: who may use the VFP */
CP15_READ(read_dfsr, 0, c5, c0, 0)      /* data fault status */
CP15_READ(read_ifsr, 0, c5, c0, 1)      /* instruction fault status */
CP15_READ(read_dfar, 0, c6, c0, 0)      /* data fault address */
CP15_READ(read_ifar, 0, c6, c0, 2)      /* instruction fault address */

#endif /* __ASSEMBLER__ */

#endif
