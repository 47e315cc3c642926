/* Statically linked: a preloaded library cannot reach it. */
#include <stdio.h>
int main(void)
{
    printf("static hello\n");
    return 3;
}
