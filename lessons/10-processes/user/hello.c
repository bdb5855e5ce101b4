/* hello: the smallest process. */
#include "ulib.h"

int main(int argc, char **argv)
{
    printf("hello from pid %d, %d argument(s)", getpid(), argc - 1);
    for (int i = 1; i < argc; i++)
        printf(" [%s]", argv[i]);
    printf("\n");
    return 0;
}
