/*
 * arm.h - ARMv6 (ARM1176JZF-S) instructions that C cannot express, as inline
 * functions. ARMv6 has no DMB/DSB/ISB instructions (ARMv7 added them); the same
 * operations are CP15 c7 writes [ARM ARM (DDI 0100I) B6.6.5; ARM1176 TRM 3.2.22].
 */
#ifndef ARM_H
#define ARM_H

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

/* Mask IRQ and FIQ (CPSR I and F bits). */
static inline void irq_fiq_disable(void)
{
    __asm__ volatile("cpsid if" : : : "memory");
}

/* CPSR mode field and the modes the course uses [ARM ARM A2.2]. */
#define CPSR_MODE_MASK  0x1Fu
#define CPSR_MODE_USR   0x10u
#define CPSR_MODE_FIQ   0x11u
#define CPSR_MODE_IRQ   0x12u
#define CPSR_MODE_SVC   0x13u
#define CPSR_MODE_ABT   0x17u
#define CPSR_MODE_UND   0x1Bu
#define CPSR_MODE_SYS   0x1Fu
#define CPSR_T          (1u << 5)   /* Thumb state */
#define CPSR_F          (1u << 6)   /* FIQ masked */
#define CPSR_I          (1u << 7)   /* IRQ masked */
#define CPSR_A          (1u << 8)   /* imprecise aborts masked */

#endif
