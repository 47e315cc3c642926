/* A program that brings its own allocator: linked with Debian's libjemalloc.
 * It allocates 100 blocks of 1 MiB and prints what jemalloc's own statistics
 * count, so the test can check the shim forwarded to jemalloc, not to glibc. */
#include <jemalloc/jemalloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t allocated(void)
{
    uint64_t epoch = 1;
    size_t sz = sizeof epoch, v = 0, vs = sizeof v;
    mallctl("epoch", &epoch, &sz, &epoch, sz);
    mallctl("stats.allocated", &v, &vs, NULL, 0);
    return v;
}

int main(void)
{
    size_t before = allocated();
    void *b[100];
    for (int i = 0; i < 100; i++) {
        b[i] = malloc(1 << 20);
        memset(b[i], i, 1 << 20);
    }
    size_t after = allocated();
    printf("jemalloc counted at least 100 MiB: %s\n", after - before >= (100u << 20) ? "yes" : "no");
    for (int i = 0; i < 100; i++) free(b[i]);
    printf("usable size of a 1000-byte block: %zu\n", malloc_usable_size(b[0] = malloc(1000)));
    free(b[0]);
    return 0;
}
