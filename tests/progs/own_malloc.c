/* A program that defines malloc itself (as one linked with its own allocator does):
 * its definition comes first, so the shim must say that it cannot see those calls. */
#include <stdio.h>
#include <stdlib.h>

void *__libc_malloc(size_t n);

void *malloc(size_t n) { return __libc_malloc(n); }

int main(void)
{
    char *volatile p = malloc(100);
    printf("own malloc %s\n", p ? "works" : "failed");
    free(p);
    return 0;
}
