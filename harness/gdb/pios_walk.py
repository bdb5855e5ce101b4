"""pios-walk VA: walk the ARMv6 page tables for VA the way the MMU does, reading
the tables from physical memory through QEMU's monitor (`monitor xp`), so that the
answer does not depend on what the kernel has mapped.

Loaded by pios.gdb. VMSAv6 short descriptors, SCTLR.XP = 1 [ARM ARM B4.7]."""

import re

import gdb


def reg(name):
    """A CP15 register. After an ELF boot QEMU's CPU is in the secure world, so the
    live copies are the _S ones (docs/qemu.md); fall back to the plain name."""
    for n in (name + "_S", name):
        try:
            return int(gdb.parse_and_eval("$" + n)) & 0xFFFFFFFF
        except gdb.error:
            continue
    raise gdb.GdbError(f"cannot read {name}: is this QEMU's GDB stub?")


def phys_word(addr):
    out = gdb.execute(f"monitor xp /1wx {addr:#x}", to_string=True)
    m = re.search(r"^[0-9a-f]+: 0x([0-9a-f]+)", out, re.M)
    if not m:
        raise gdb.GdbError(f"monitor xp answered: {out.strip()}")
    return int(m.group(1), 16)


ACCESS = [["no access", "kernel rw", "kernel rw, user ro", "kernel rw, user rw"],
          ["reserved", "kernel ro", "kernel ro, user ro", "kernel ro, user ro"]]


def memtype(tex, c, b):
    if tex == 0 and not c:
        return "device" if b else "strongly-ordered"
    return "normal"


class PiosWalk(gdb.Command):
    """pios-walk VA: the page-table walk for VA (L1 entry, L2 entry, physical address,
    permissions), read from physical memory."""

    def __init__(self):
        super().__init__("pios-walk", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        value = gdb.parse_and_eval(arg)
        if value.type.code == gdb.TYPE_CODE_FUNC:   # `pios-walk kernel_main`
            value = value.address
        va = int(value) & 0xFFFFFFFF
        if not reg("SCTLR") & 1:
            print(f"MMU off: 0x{va:08x} -> 0x{va:08x}")
            return
        n = reg("TTBCR") & 7
        if n and va >> (32 - n) == 0:
            base = reg("TTBR0_EL1") & ~((1 << (14 - n)) - 1)
            which = "TTBR0"
        else:
            base = reg("TTBR1_EL1") & ~0x3FFF
            which = "TTBR1"
        index = va >> 20
        l1_addr = base + 4 * index
        pmd = phys_word(l1_addr)
        line = f"L1[0x{index:03x}] @ 0x{l1_addr:08x} ({which}) = 0x{pmd:08x}: "
        kind = pmd & 3
        if kind == 2:
            pa = (pmd & 0xFFF00000) | (va & 0xFFFFF)
            print(line + f"section 0x{pmd & 0xFFF00000:08x}, "
                  f"{memtype(pmd >> 12 & 7, pmd >> 3 & 1, pmd >> 2 & 1)}, "
                  f"{ACCESS[pmd >> 15 & 1][pmd >> 10 & 3]}{', xn' if pmd & 0x10 else ''}")
        elif kind == 1:
            table = pmd & 0xFFFFFC00
            print(line + f"L2 table at 0x{table:08x}")
            l2_index = (va >> 12) & 0xFF
            l2_addr = table + 4 * l2_index
            pte = phys_word(l2_addr)
            line = f"L2[0x{l2_index:02x}] @ 0x{l2_addr:08x} = 0x{pte:08x}: "
            if not pte & 2:
                print(line + "fault")
                print(f"0x{va:08x} is not mapped")
                return
            pa = (pte & 0xFFFFF000) | (va & 0xFFF)
            print(line + f"small page 0x{pte & 0xFFFFF000:08x}, "
                  f"{memtype(pte >> 6 & 7, pte >> 3 & 1, pte >> 2 & 1)}, "
                  f"{ACCESS[pte >> 9 & 1][pte >> 4 & 3]}{', xn' if pte & 1 else ''}"
                  f"{', ng' if pte & 0x800 else ''}")
        else:
            print(line + "fault")
            print(f"0x{va:08x} is not mapped")
            return
        print(f"0x{va:08x} -> 0x{pa:08x}")


PiosWalk()
