# pios.gdb - GDB settings and commands for piOS kernels (make debug / make gdb load it).
#
#   pios-cpsr          decode CPSR: mode, interrupt masks, condition flags
#   pios-where         the CPU mode and the source line we are stopped at
#   pios-walk VA       the page-table walk for VA, read from physical memory
#                      (lesson 07 on; pios_walk.py)
#
# After an ELF boot QEMU's CPU is in the secure world, so CP15 registers appear with
# an _S suffix: p $SCTLR_S, p $DACR_S, p $TTBR0_EL1_S, p $DFSR_S, p $DFAR_S.

set pagination off
set confirm off
set architecture armv6
set print pretty on
set disassemble-next-line auto

define pios-cpsr
  set $pios_m = $cpsr & 0x1f
  printf "cpsr 0x%08x  N%d Z%d C%d V%d  I%d F%d  ", $cpsr, ($cpsr>>31)&1, ($cpsr>>30)&1, ($cpsr>>29)&1, ($cpsr>>28)&1, ($cpsr>>7)&1, ($cpsr>>6)&1
  if $pios_m == 0x10
    printf "mode USR\n"
  end
  if $pios_m == 0x11
    printf "mode FIQ\n"
  end
  if $pios_m == 0x12
    printf "mode IRQ\n"
  end
  if $pios_m == 0x13
    printf "mode SVC\n"
  end
  if $pios_m == 0x17
    printf "mode ABT\n"
  end
  if $pios_m == 0x1b
    printf "mode UND\n"
  end
  if $pios_m == 0x1f
    printf "mode SYS\n"
  end
end
document pios-cpsr
Decode the CPSR: condition flags, IRQ/FIQ masks (1 = masked) and the CPU mode.
end

define pios-where
  pios-cpsr
  info line *$pc
end
document pios-where
Show the CPU mode and the source line of the current PC.
end

# pios-walk is in pios_walk.py (GDB Python); pios-qemu loads both files.
