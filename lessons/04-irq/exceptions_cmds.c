/*
 * exceptions_cmds.c - shell commands for exceptions.c's SVC and faults: svc, crash.
 *
 * They let you (and the tests) drive exceptions.c from the shell; none of them is
 * part of the subsystem itself.
 */
#include "exceptions.h"
#include "kprintf.h"
#include "kstring.h"
#include "shell.h"

/* 256 tiny functions, svc_stub_N: `svc #N`, then return. The number is part of the
 * instruction, so to let the shell issue any of 256 numbers we need 256 of them.
 * An SVC taken in SVC mode overwrites lr, so each stub saves it around the svc;
 * r4 goes along only to keep sp 8-byte aligned (AAPCS) for the handler's C code. */
#define SVC_STUBS       256
#define SVC_STUB_BYTES  12
extern char svc_stubs[];
__asm__(".pushsection .text\n"
        ".balign 4\n"
        ".global svc_stubs\n"
        "svc_stubs:\n"
        ".set svc_n, 0\n"
        ".rept 256\n"
        "    push {r4, lr}\n"           /* the SVC will overwrite lr */
        "    svc #svc_n\n"
        "    pop {r4, pc}\n"            /* return to the caller */
        ".set svc_n, svc_n + 1\n"
        ".endr\n"
        ".popsection\n");

static int cmd_svc(int argc, char **argv, const char *args)
{
    struct svc_seen seen;
    u32 n, result;
    u32 (*stub)(void);
    (void)args;

    if (argc != 2 || parse_u32(argv[1], &n) != 0 || n >= SVC_STUBS) {
        kprintf("usage: svc N   (N from 0 to %d)\n", SVC_STUBS - 1);
        return -1;
    }
    stub = (u32 (*)(void))(uintptr_t)(svc_stubs + n * SVC_STUB_BYTES);
    result = stub();
    seen = exc_last_svc();
    kprintf("svc %u: handler saw number %u at pc 0x%08x, returned %u\n",
            n, seen.number, seen.pc, result);
    return 0;
}
SHELL_COMMAND(svc, "N", "issue `svc #N` (0-255); the handler returns N", cmd_svc);

/* The faulting instructions carry global labels, so a test can compare the pc in
 * the report with the symbol's address in the ELF. */
static void crash_undefined(void)
{
    __asm__ volatile(".global crash_undef_insn\n"
                     "crash_undef_insn: .word 0xe7f000f0\n");  /* UDF: always undefined */
}

static void crash_load(u32 addr)
{
    register u32 a __asm__("r1") = addr;    /* fixed registers: visible in the dump */
    register u32 v __asm__("r2");
    __asm__ volatile(".global crash_load_insn\n"
                     "crash_load_insn: ldr %0, [%1]\n" : "=r"(v) : "r"(a) : "memory");
    kprintf("read 0x%08x from 0x%08x: no fault\n", v, addr);
}

static void crash_store(u32 addr, u32 value)
{
    register u32 a __asm__("r1") = addr;
    register u32 v __asm__("r2") = value;
    __asm__ volatile(".global crash_store_insn\n"
                     "crash_store_insn: str %0, [%1]\n" : : "r"(v), "r"(a) : "memory");
    kprintf("wrote 0x%08x to 0x%08x: no fault\n", value, addr);
}

static void crash_breakpoint(void)
{
    __asm__ volatile(".global crash_bkpt_insn\n"
                     "crash_bkpt_insn: bkpt #0\n");   /* a prefetch abort on ARMv6 */
}

/* volatile: the compiler must not "know" the call is through NULL and drop it. */
static void (*volatile null_function)(void);

static int cmd_crash(int argc, char **argv, const char *args)
{
    u32 addr = 0, value = 0;
    (void)args;

    if (argc == 2 && strcmp(argv[1], "undef") == 0)
        crash_undefined();
    else if (argc == 2 && strcmp(argv[1], "prefetch") == 0)
        crash_breakpoint();
    else if (argc == 2 && strcmp(argv[1], "null") == 0)
        null_function();
    else if (argc == 3 && strcmp(argv[1], "abort") == 0 && parse_u32(argv[2], &addr) == 0)
        crash_load(addr);
    else if (argc == 4 && strcmp(argv[1], "abort") == 0 && parse_u32(argv[2], &addr) == 0
             && parse_u32(argv[3], &value) == 0)
        crash_store(addr, value);
    else {
        kprintf("usage: crash undef | crash prefetch | crash null | "
                "crash abort ADDR [VALUE]\n");
        return -1;
    }
    return 0;
}
SHELL_COMMAND(crash, "KIND [ADDR [VAL]]",
              "fault on purpose: undef, prefetch, null, abort ADDR (read) or ADDR VALUE (write)",
              cmd_crash);
