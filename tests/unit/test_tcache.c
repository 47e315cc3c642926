/* tcache.h's size arithmetic against the glibc this runs on: the slot the shim
 * computes for a request is the one glibc's chunk for it falls in, and the usable
 * size it counts for a tcache hit is what malloc_usable_size says. */
#include <criterion/criterion.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "tcache.h"

/* Each request once, freed at once, on a thread of its own: the thread's new arena has
 * no free chunk but the ones this loop puts in the tcache, so every chunk comes from the
 * tcache or is split from the top, at exactly the request's size. (On the test runner's
 * main arena a chunk from a free bin may be handed out whole, up to 31 bytes larger,
 * when the rest would be below the minimum chunk: trixie's Criterion did.) The thread
 * only records the first mismatch; the test asserts on it. */
struct slot_check {
    char what[160];
};

static void *each_request(void *arg)
{
    struct slot_check *c = arg;
    for (size_t n = 0; n <= TC_MAX_REQ && !c->what[0]; n++) {
        void *p = malloc(n);
        if (!p) {
            snprintf(c->what, sizeof c->what, "malloc(%zu) failed", n);
            break;
        }
        size_t usable = malloc_usable_size(p), chunk = usable + sizeof(size_t);
        size_t slot = tc_slot_of_chunk(chunk);
        if (slot >= TC_SLOTS - 1)
            snprintf(c->what, sizeof c->what, "a %zu-byte request has no tcache bin (chunk %zu)", n, chunk);
        else if (tc_usable(slot) != usable)
            snprintf(c->what, sizeof c->what, "n=%zu: usable %zu, slot %zu says %zu", n, usable, slot, tc_usable(slot));
        else if (n > 8 && tc_slot_of_request(n) != slot)
            snprintf(c->what, sizeof c->what, "n=%zu: slot %zu, glibc's chunk %zu", n, tc_slot_of_request(n), chunk);
        else if (n <= 8 && tc_slot_of_request(n) != 0)
            snprintf(c->what, sizeof c->what, "n=%zu: tiny requests take the checked path", n);
        free(p);
    }
    return NULL;
}

Test(tcache, request_slot_matches_glibc_chunk)
{
#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("AddressSanitizer replaces glibc's malloc");
#endif
    struct slot_check c = {""};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, each_request, &c), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
    cr_expect_eq(c.what[0], 0, "%s", c.what);
}

Test(tcache, chunks_without_a_bin_share_the_spare_slot)
{
    cr_assert_eq(tc_slot_of_chunk(1040), TC_SLOTS - 2); /* the last bin: 1032-byte requests */
    cr_assert_eq(tc_slot_of_chunk(1056), TC_SLOTS - 1);
    cr_assert_eq(tc_slot_of_chunk((size_t)1 << 40), TC_SLOTS - 1);
    cr_assert_eq(tc_slot_of_chunk(0), TC_SLOTS - 1, "a corrupt header must not index outside the array");
    cr_assert_eq(tc_slot_of_chunk(16), TC_SLOTS - 1);
}
