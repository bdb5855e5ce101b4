/* gpio.h - BCM2835 GPIO pin function and pull-up/down control. */
#ifndef GPIO_H
#define GPIO_H

#include "types.h"

void gpio_set_function(unsigned pin, u32 function);   /* GPIO_FUNC_* from board.h */
void gpio_set_pull(unsigned pin, u32 pud);            /* GPIO_PUD_* */

#endif
