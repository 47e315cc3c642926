/* tcache.h's size arithmetic against the glibc this runs on: the slot the shim
 * computes for a request is the one glibc's chunk for it falls in, and the usable
 * size it counts for a tcache hit is what malloc_usable_size says. */
#include <criterion/criterion.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
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

/* The fixed-offset fast path's table (the TLS image's tc_req), built as the shim builds it. */
static const uint8_t req_table[TC_TABLE_REQ + 1] = {TC_REQ_TABLE};

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
        size_t hdr = (size_t)tc_header_of(p);
        uint64_t e = tc_entry_of_header(hdr);
        if (e >= TC_ENTRIES || e < 2)
            snprintf(c->what, sizeof c->what, "a %zu-byte request has no tcache bin (chunk %zu, header %#zx)", n, chunk, hdr);
        else if (e != chunk / 16)
            snprintf(c->what, sizeof c->what, "n=%zu: header %#zx gives entry %llu, chunk %zu", n, hdr,
                     (unsigned long long)e, chunk);
        else if (tc_usable(e) != (int64_t)usable)
            snprintf(c->what, sizeof c->what, "n=%zu: usable %zu, entry %llu says %lld", n, usable,
                     (unsigned long long)e, (long long)tc_usable(e));
        else if (n > 8 && tc_entry_of_request(n) != e)
            snprintf(c->what, sizeof c->what, "n=%zu: entry %zu, glibc's chunk %zu", n, tc_entry_of_request(n), chunk);
        else if (n <= 8 && (tc_entry_of_request(n) != 1 || tc_entry_taken(n) != e))
            snprintf(c->what, sizeof c->what, "n=%zu: tiny requests are taken from bin 0", n);
        else if (n <= TC_TABLE_REQ && req_table[n] != e)
            snprintf(c->what, sizeof c->what, "n=%zu: the fixed-offset path's table says entry %u, glibc's chunk %zu", n,
                     req_table[n], chunk);
        free(p);
    }
    return NULL;
}

/* The table is tc_entry_taken, request by request, wherever glibc's malloc cannot be
 * asked (under ASan too): every entry is set, none is 0 or past the last. */
Test(tcache, request_table_is_entry_taken)
{
    for (size_t n = 0; n <= TC_TABLE_REQ; n++)
        cr_assert_eq(req_table[n], tc_entry_taken(n), "n=%zu: table %u, tc_entry_taken %zu", n, req_table[n],
                     tc_entry_taken(n));
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

Test(tcache, chunks_outside_the_bins_have_no_entry)
{
    cr_assert_eq(tc_entry_of_header(1040), TC_ENTRIES - 1); /* the last bin: 1032-byte requests */
    cr_assert_eq(tc_entry_of_header(1040 | 1 | 4), TC_ENTRIES - 1, "PREV_INUSE and NON_MAIN_ARENA are dropped");
    cr_assert_eq(tc_entry_of_header(32 | 5), 2);
    cr_assert_geq(tc_entry_of_header(1056), TC_ENTRIES);
    cr_assert_geq(tc_entry_of_header((uint64_t)1 << 40), TC_ENTRIES);
    cr_assert_geq(tc_entry_of_header(4096 | 2), TC_ENTRIES, "an mmapped chunk (whole pages) is not the tcache's");
    cr_assert_geq(tc_entry_of_header(2064 | 2 | 1), TC_ENTRIES, "nor one memalign trimmed");
    cr_assert_lt(tc_entry_of_header(72), TC_ENTRIES, "a size that is not a multiple of 16 stays inside the array");
    cr_assert_lt(tc_entry_of_header(0), 2, "a corrupt header must not index outside the array");
    cr_assert_lt(tc_entry_of_header(16 | 1), 2);
}

/* The rule free's one shift relies on: every chunk glibc maps itself is larger than the
 * last bin, for malloc and for the memalign family (which trims a mapped chunk's front). */
Test(tcache, mapped_chunks_are_above_the_bins)
{
#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("AddressSanitizer replaces glibc's malloc");
#endif
    static const size_t aligns[] = {16, 32, 64, 1024, 2048, 4096, 8192, 65536, 1 << 20};
    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
        for (size_t n = 1; n <= 1024; n += 341) {
            /* above the largest mmap threshold glibc sets itself (32 MiB): a mapped chunk, untouched */
            void *p = memalign(aligns[i], (40u << 20) + n);
            cr_assert(p);
            uint64_t h = tc_header_of(p);
            cr_expect(h & 2, "align %zu: a mapped chunk (header %#llx)", aligns[i], (unsigned long long)h);
            cr_expect_geq(tc_entry_of_header(h), TC_ENTRIES, "align %zu: header %#llx", aligns[i], (unsigned long long)h);
            free(p);
        }
    }
    void *q = malloc(40u << 20);
    cr_assert(q);
    cr_expect(tc_header_of(q) & 2);
    cr_expect_geq(tc_entry_of_header(tc_header_of(q)), TC_ENTRIES);
    free(q);
}

/* The counts: bytes per entry, a thread's freed count above its shadow byte. */
Test(tcache, bytes_of_the_counts)
{
    int64_t in[TC_ENTRIES] = {0}, out[TC_ENTRIES] = {0};
    in[5] = 3;                      /* three 72-byte blocks (chunk 80) */
    out[5] = 2 * TC_OUT_ONE + 7;    /* two freed, a full shadow */
    out[65] = 1 * TC_OUT_ONE;       /* one 1032-byte block freed */
    in[1] = 100;                    /* entry 1 is no chunk's: never summed */
    cr_expect_eq(tc_bytes(in, 0), 3 * 72);
    cr_expect_eq(tc_bytes(out, 8), 2 * 72 + 1032);
}
