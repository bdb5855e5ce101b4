/* crt0.S - where a user program starts: the kernel enters here in USR mode with
 * r0 = argc, r1 = argv (on the user stack) and sp at the top of the stack. */
.section .text.start, "ax"
.global _start
_start:
    bl      main                    @ main(argc, argv)
    bl      exit                    @ its result is the exit status; never returns
