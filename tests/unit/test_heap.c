/* The shim's own heap (sys/heap.c): zeroed, aligned, disjoint blocks of every size
 * class and beyond, reuse after free, realloc keeping the contents, the large blocks
 * given back, and extents that cover every block (the footprint counts them). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"

static int covered(const void *p, size_t n)
{
    uintptr_t e[64];
    int k = heap_extents(e, 32);
    for (int i = 0; i < k; i++)
        if ((uintptr_t)p >= e[2 * i] && (uintptr_t)p + n <= e[2 * i + 1]) return 1;
    return 0;
}

Test(heap, blocks_are_zeroed_aligned_disjoint_and_covered)
{
    enum { N = 3000 };
    static unsigned char *b[N];
    static size_t sz[N];
    srand(7);
    for (int i = 0; i < N; i++) {
        sz[i] = (size_t)(rand() % 5000) + 1;
        b[i] = osh_heap_alloc(sz[i]);
        cr_assert(b[i], "block %d of %zu bytes", i, sz[i]);
        cr_assert_eq((uintptr_t)b[i] % 16, 0);
        for (size_t k = 0; k < sz[i]; k++) cr_assert_eq(b[i][k], 0, "block %d byte %zu not zeroed", i, k);
        memset(b[i], i & 0xff, sz[i]);
        cr_expect(covered(b[i], sz[i]) || sz[i] > 4000, "block %d outside the heap's extents", i);
    }
    for (int i = 0; i < N; i++)
        for (size_t k = 0; k < sz[i]; k++) cr_assert_eq(b[i][k], (unsigned char)(i & 0xff), "block %d overwritten", i);
    /* free every other one; new blocks reuse them, zeroed again */
    for (int i = 0; i < N; i += 2) osh_heap_free(b[i]);
    for (int i = 0; i < N; i += 2) {
        b[i] = osh_heap_alloc(sz[i]);
        for (size_t k = 0; k < sz[i]; k++) cr_assert_eq(b[i][k], 0, "reused block %d not zeroed", i);
        memset(b[i], i & 0xff, sz[i]);
    }
    for (int i = 0; i < N; i++)
        for (size_t k = 0; k < sz[i]; k++) cr_assert_eq(b[i][k], (unsigned char)(i & 0xff), "block %d overwritten", i);
    for (int i = 0; i < N; i++) osh_heap_free(b[i]);
}

Test(heap, realloc_keeps_contents_and_large_blocks_are_given_back)
{
    int64_t before = osh_heap_mapped;
    char *p = osh_heap_alloc(100);
    memset(p, 'x', 100);
    p = osh_heap_realloc(p, 90); /* fits: same block */
    cr_expect_eq(p[89], 'x');
    char *q = osh_heap_realloc(p, 20000);
    cr_assert(q);
    for (int i = 0; i < 100; i++) cr_assert_eq(q[i], 'x');
    int64_t with_large = osh_heap_mapped;
    cr_expect_geq(with_large - before, 20000);
    osh_heap_free(q);
    cr_expect_lt(osh_heap_mapped, with_large, "a large block stays mapped after free");
    cr_expect_null(osh_heap_alloc((size_t)1 << 41));
    osh_heap_free(NULL);
}

/* The largest small block comes from a chunk: no mapping of its own for it. */
Test(heap, largest_small_block_takes_no_mapping)
{
    void *a = osh_heap_alloc(OSH_HEAP_SMALL_MAX); /* may start a chunk */
    int64_t before = osh_heap_mapped;
    void *b = osh_heap_alloc(OSH_HEAP_SMALL_MAX);
    cr_expect_eq(osh_heap_mapped, before, "a %d-byte block mapped %lld bytes", OSH_HEAP_SMALL_MAX,
                 (long long)(osh_heap_mapped - before));
    osh_heap_free(a);
    osh_heap_free(b);
}
