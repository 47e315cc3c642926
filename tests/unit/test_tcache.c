/* tcache.h's size arithmetic against the glibc this runs on: the slot the shim
 * computes for a request is the one glibc's chunk for it falls in, and the usable
 * size it counts for a tcache hit is what malloc_usable_size says. */
#include <criterion/criterion.h>
#include <malloc.h>
#include <stdlib.h>

#include "tcache.h"

Test(tcache, request_slot_matches_glibc_chunk)
{
#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("AddressSanitizer replaces glibc's malloc");
#endif
    for (size_t n = 0; n <= TC_MAX_REQ; n++) {
        void *p = malloc(n);
        cr_assert(p);
        size_t usable = malloc_usable_size(p), chunk = usable + sizeof(size_t);
        size_t slot = tc_slot_of_chunk(chunk);
        cr_assert_lt(slot, TC_SLOTS - 1, "a %zu-byte request has a tcache bin", n);
        cr_assert_eq(tc_usable(slot), usable, "n=%zu", n);
        if (n > 8) cr_assert_eq(tc_slot_of_request(n), slot, "n=%zu: slot %zu, glibc's chunk %zu", n, tc_slot_of_request(n), chunk);
        else cr_assert_eq(tc_slot_of_request(n), 0, "n=%zu: tiny requests take the checked path", n);
        free(p);
    }
}

Test(tcache, chunks_without_a_bin_share_the_spare_slot)
{
    cr_assert_eq(tc_slot_of_chunk(1040), TC_SLOTS - 2); /* the last bin: 1032-byte requests */
    cr_assert_eq(tc_slot_of_chunk(1056), TC_SLOTS - 1);
    cr_assert_eq(tc_slot_of_chunk((size_t)1 << 40), TC_SLOTS - 1);
    cr_assert_eq(tc_slot_of_chunk(0), TC_SLOTS - 1, "a corrupt header must not index outside the array");
    cr_assert_eq(tc_slot_of_chunk(16), TC_SLOTS - 1);
}
