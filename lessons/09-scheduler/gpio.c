/*
 * gpio.c - choosing what a GPIO pin does, and its pull resistor.
 * [BCM ch. 6: GPFSELn p.91-94, GPPUD p.100, GPPUDCLKn p.101]
 */
#include "gpio.h"
#include "board.h"
#include "mmio.h"

/* A delay the compiler cannot remove: the pull-up/down sequence needs the control
 * signal held for 150 cycles. That is a fraction of a microsecond, finer than the
 * 1 MHz system timer (lesson 05) counts, so it is counted in instructions. */
static void delay_cycles(u32 n)
{
    while (n--)
        __asm__ volatile("nop");
}

/* Each GPFSEL register holds 10 pins, 3 bits each: pin 14 is GPFSEL1 bits 12-14. */
void gpio_set_function(unsigned pin, u32 function)
{
/* BEGIN SOLUTION gpio_set_function */
    u32 reg = GPFSEL0 + 4 * (pin / GPIO_PINS_PER_FSEL);
    u32 shift = GPIO_FSEL_BITS * (pin % GPIO_PINS_PER_FSEL);
    u32 v = mmio_read(reg);

    v &= ~(GPIO_FSEL_MASK << shift);
    v |= (function & GPIO_FSEL_MASK) << shift;
    mmio_write(reg, v);
/* END SOLUTION */
}

/* The BCM2835 sets pulls with a clocked sequence, not a register per pin: say what
 * you want in GPPUD, clock it into the chosen pins with GPPUDCLK, then remove both. */
void gpio_set_pull(unsigned pin, u32 pud)
{
/* BEGIN SOLUTION gpio_set_pull */
    u32 clk = GPPUDCLK0 + 4 * (pin / 32);

    mmio_write(GPPUD, pud);
    delay_cycles(GPIO_PUD_SETUP_CYCLES);
    mmio_write(clk, 1u << (pin % 32));
    delay_cycles(GPIO_PUD_SETUP_CYCLES);
    mmio_write(GPPUD, GPIO_PUD_OFF);
    mmio_write(clk, 0);
/* END SOLUTION */
}
