# lesson.mk - build rules every lesson shares.
#
# A lesson's Makefile names what the lesson adds and changes, then includes this:
#
#     LESSON_ADDS    := gpio.c shell.c      # files new in this lesson
#     LESSON_CHANGES := kernel.c            # files inherited from the previous lesson
#                                           # and changed on purpose
#     include ../../common/lesson.mk
#
# (harness/test_chain.py checks that those two lists tell the truth.)
#
# Targets: all (default) -> build/kernel.elf, kernel.img, kernel.map, kernel.list
#          run, debug, qemu-gdb, gdb, clean.   V=1 shows the full commands.

COMMON_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
ROOT_DIR   := $(COMMON_DIR)/..
LESSON     := $(notdir $(CURDIR))
BUILD      := build

CROSS   ?= arm-none-eabi-
CC      := $(CROSS)gcc
OBJCOPY := $(CROSS)objcopy
OBJDUMP := $(CROSS)objdump
SIZE    := $(CROSS)size

# The flags:
#  -fno-delete-null-pointer-checks  gcc would otherwise assume address 0 is never
#                                   accessed and delete code that writes the vectors there
#  -mno-unaligned-access            never emit unaligned loads: ARM1176 with SCTLR.U = 0
#                                   rotates them, QEMU does not (docs/qemu.md)
#  -ffunction-sections -fdata-sections with --gc-sections: every function and variable
#                                   in its own section, so the linker drops what no
#                                   lesson code uses (kernel.map then lists only
#                                   what is really in the kernel)
ARCHFLAGS := -mcpu=arm1176jzf-s -marm
CFLAGS    := $(ARCHFLAGS) -ffreestanding -nostdlib -O2 -g -Wall -Wextra -Werror \
             -std=gnu11 -fno-delete-null-pointer-checks -mno-unaligned-access \
             -ffunction-sections -fdata-sections -I. -I$(COMMON_DIR) -DLESSON_NAME='"$(LESSON)"' -MMD -MP
ASFLAGS   := $(ARCHFLAGS) -g -I. -I$(COMMON_DIR) -MMD -MP
# EXTRA_CFLAGS: -D settings for an exercise (the stretch tests build lesson 10 with
# -DASID_MAX=3 -DPROC_MAX=8); empty otherwise.
CFLAGS    += $(EXTRA_CFLAGS)
LDSCRIPT  ?= $(COMMON_DIR)/kernel.ld
LDFLAGS   := $(ARCHFLAGS) -nostdlib -T $(LDSCRIPT) -Wl,-Map=$(BUILD)/kernel.map \
             -Wl,--gc-sections -Wl,--no-warn-rwx-segments
LDLIBS    := -lgcc        # ARMv6 has no divide instruction: libgcc provides it

LESSON_SRCS := $(sort $(wildcard *.c *.S))
COMMON_SRCS := $(sort $(wildcard $(COMMON_DIR)/*.c))
OBJS := $(patsubst %,$(BUILD)/%.o,$(basename $(LESSON_SRCS))) \
        $(patsubst $(COMMON_DIR)/%.c,$(BUILD)/common/%.o,$(COMMON_SRCS)) \
        $(EXTRA_OBJS)       # objects a lesson builds with rules of its own

# Stop early, with the fix, if the cross compiler is missing.
ifeq ($(MAKECMDGOALS),clean)
else ifeq ($(shell command -v $(CC)),)
$(error $(CC) not found. Install it with: apt-get install gcc-arm-none-eabi  (or run harness/tools/setup-host --install))
endif

.PHONY: all clean run debug qemu-gdb gdb
all: $(BUILD)/kernel.img $(BUILD)/kernel.list

# `make V=1` shows the full commands; by default one short line per step.
ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-7s %s\n' $(1) $(2);
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	$(call say,AS,$<)$(CC) $(ASFLAGS) -c $< -o $@

$(BUILD)/common/%.o: $(COMMON_DIR)/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/kernel.elf: $(OBJS) $(LDSCRIPT)
	$(call say,LD,$@)$(CC) $(LDFLAGS) $(OBJS) $(LDLIBS) -o $@
	$(Q)$(SIZE) $@

# The raw image the Pi firmware loads at 0x8000: the ELF's loadable bytes, no headers.
$(BUILD)/kernel.img: $(BUILD)/kernel.elf
	$(call say,OBJCOPY,$@)$(OBJCOPY) -O binary $< $@

# Disassembly interleaved with the C source it came from.
$(BUILD)/kernel.list: $(BUILD)/kernel.elf
	$(call say,OBJDUMP,$@)$(OBJDUMP) -d -S $< > $@

PIOS_QEMU := $(ROOT_DIR)/harness/tools/pios-qemu
run: all
	@$(PIOS_QEMU) run $(BUILD)/kernel.elf
debug: all
	@$(PIOS_QEMU) debug $(BUILD)/kernel.elf
qemu-gdb: all
	@$(PIOS_QEMU) qemu-gdb $(BUILD)/kernel.elf
gdb: all
	@$(PIOS_QEMU) gdb $(BUILD)/kernel.elf

clean:
	rm -rf $(BUILD)

-include $(OBJS:.o=.d)
