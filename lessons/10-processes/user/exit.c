/* exit STATUS [forge]: end with the status given (which reaches the parent through
 * wait). forge: first print what a hostile program might - a line that looks like
 * the shell's exit report, a terminal escape sequence and a carriage return. */
#include "ulib.h"

int main(int argc, char **argv)
{
    if (argc > 2 && argv[2][0] == 'f')
        printf("[pid 1] exited with status 0\n\033[2J\rforged\n");
    return argc > 1 ? atoi(argv[1]) : 0;
}
