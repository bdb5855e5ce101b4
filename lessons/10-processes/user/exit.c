/* exit STATUS: end with the status given (which reaches the parent through wait). */
#include "ulib.h"

int main(int argc, char **argv)
{
    return argc > 1 ? atoi(argv[1]) : 0;
}
