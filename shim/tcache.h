/* What glibc's per-thread cache (tcache, glibc 2.26-2.41) will hand back without
 * asking the kernel for anything, so malloc can skip checking the result.
 *
 * A malloc that glibc serves from the calling thread's tcache cannot fail: it
 * unlinks a block this thread freed earlier. The shim keeps, per thread, a
 * shadow count per tcache bin that never exceeds glibc's own count:
 *   - free of a heap chunk (not mmapped) adds one, capped at glibc's 7: glibc puts
 *     the chunk in the tcache when its count is below 7, and when it is already 7
 *     the shadow (<= 7) cannot pass it;
 *   - malloc of that bin takes one when the shadow is above zero, so glibc's is too;
 *   - everything else glibc does to a tcache without the shim seeing it only adds
 *     (realloc's frees, the refills in _int_malloc), except the calls that may take
 *     one, for which the shim lowers the shadow by one before the call: a checked
 *     malloc of 8 bytes or less (bin 0, counted in entry 2), realloc(NULL, n) and
 *     reallocarray(NULL, ...) (glibc's malloc), the memalign family with an alignment
 *     glibc gives anyway (<= 16: glibc's malloc, every version) or any alignment
 *     (2.38+: a suitably aligned block of the bin, also for valloc and pvalloc(0)),
 *     calloc (2.41). free_sized and free_aligned_sized (2.43) free as free does.
 *     malloc_usable_size takes nothing.
 * A malloc whose bin has a shadow count is a tail call (no frame, no check); every
 * other malloc is called and its result checked. tcache_predictable() says when the
 * rules above hold: glibc's own malloc, a version from 2.26 to 2.41 on x86_64,
 * GLIBC_TUNABLES not touching the tcache. */
#ifndef OVERSHIM_TCACHE_H
#define OVERSHIM_TCACHE_H

#include <stddef.h>
#include <stdint.h>

#define TC_BINS 64        /* TCACHE_MAX_BINS */
#define TC_FILL 7         /* TCACHE_FILL_COUNT: glibc's default mp_.tcache_count */
#define TC_MAX_REQ 1032u  /* tidx2usize(63): the largest request glibc's tcache serves */
/* The requests the fixed-offset fast path finds their entry for in a table (struct
 * osh_tls: tc_req): 0 .. TC_TABLE_REQ. A table for all of them (1 KiB) made the TLS block
 * too large for glibc's static TLS surplus, which is where the block goes when an audit
 * module is loaded (LD_AUDIT: 1,792 bytes with one auditor on glibc 2.36 and 2.43); with
 * this one (1,232 bytes in all) more than glibc's 512-byte reserve for libraries with
 * initial-exec TLS that the program dlopens later is left there. */
#define TC_TABLE_REQ 128u

/* The per-thread counts (struct osh_tls: tc_in, tc_out) are indexed by entry =
 * chunksize / 16: the heap chunks of the 64 bins (32 .. 1040 bytes) are entries 2 .. 65;
 * entries 0 and 1 belong to no chunk glibc makes (a header that says so is corrupt, and
 * glibc's free aborts on it). tc_in[e] counts the blocks this thread allocated; tc_out[e]
 * is (blocks it freed << 8) | the bin's shadow count (0 .. TC_FILL) in the low byte. So a
 * tcache hit in malloc is a byte decrement that borrows when the shadow is empty, and an
 * increment; free is one add of 256 plus the carry of "shadow below TC_FILL". */
#define TC_ENTRIES (TC_BINS + 2)
#define TC_OUT_ONE 256 /* one freed block in tc_out */

/* The entry of a request of 9 <= n <= TC_MAX_REQ bytes: csize2tidx(request2size(n)) + 2
 * (for n <= 8 it gives 1, an entry no free counts: tc_entry_taken says where those go). */
static inline size_t tc_entry_of_request(size_t n) { return ((n + 7) >> 4) + 1; }

/* The entry whose block glibc takes for a request of n <= TC_MAX_REQ: requests of 8
 * bytes or less are bin 0 too (entry 2), not the uncounted entry 1. */
static inline size_t tc_entry_taken(size_t n) { return n <= 8 ? 2 : tc_entry_of_request(n); }

/* tc_entry_taken(n) for every n <= TC_TABLE_REQ, as an initializer of a byte array of
 * TC_TABLE_REQ + 1 (struct osh_tls: tc_req, so that the fixed-offset fast path finds the
 * entry in one load, %fs:table(n)). Entry e >= 3 is the requests 16e - 23 .. 16e - 8
 * (chunk 16e); entry 2 also the requests of 8 bytes or less; the last, entry 9 (121 ..
 * 136), ends at TC_TABLE_REQ. tests/unit/test_tcache.c checks it against tc_entry_taken
 * and glibc. */
#define TC_REQ_E(e) [16 * (e) - 23 ... 16 * (e) - 8] = (e)
#define TC_REQ_TABLE                                                                                 \
    [0 ... 24] = 2, TC_REQ_E(3), TC_REQ_E(4), TC_REQ_E(5), TC_REQ_E(6), TC_REQ_E(7), TC_REQ_E(8),      \
        [16 * 9 - 23 ... TC_TABLE_REQ] = 9
_Static_assert(16 * 9 - 23 <= TC_TABLE_REQ && TC_TABLE_REQ <= 16 * 9 - 8, "the table ends inside entry 9");

/* From a chunk's size word: its entry (<= TC_ENTRIES - 1) for a heap chunk of a tcache
 * bin; above that for a larger chunk or an mmapped one. One shift: the flag bits
 * (PREV_INUSE, IS_MMAPPED, NON_MAIN_ARENA, bit 3) drop out. An mmapped chunk needs no
 * test of its own: glibc maps whole pages (sysmalloc: ALIGN_UP(nb + SIZE_SZ, pagesize)),
 * and what memalign trims off a mapped chunk's front leaves more than half a page, so
 * its size is above the last bin (1040) and its entry above TC_ENTRIES - 1. The shim's
 * bootstrap blocks carry such a header too (resolve.c). A size that is not a multiple
 * of 16, or below 32, is a corrupt header: glibc's free aborts on it ("free(): invalid
 * size") before its tcache; its entry stays inside the array. */
static inline uint64_t tc_entry_of_header(uint64_t h) { return h >> 4; }

/* A glibc chunk's size word: the word before the block (read in asm: the bounds
 * checker must not see it, and the pointer stays in its register for a final jump). */
static inline uint64_t tc_header_of(const void *p)
{
    uint64_t h;
    __asm__("movq -8(%1), %0" : "=r"(h) : "r"(p) : "memory");
    return h;
}

/* Usable bytes of a heap chunk of entry e (chunksize - SIZE_SZ, as malloc_usable_size). */
static inline int64_t tc_usable(size_t e) { return (int64_t)e * 16 - 8; }

/* Bytes allocated (tc_in) or freed (tc_out) in one thread's counts (racy reads of another
 * thread's counts are fine: each is one aligned load). */
static inline int64_t tc_bytes(const int64_t *w, int shift)
{
    int64_t sum = 0;
    for (size_t e = 2; e < TC_ENTRIES; e++) sum += (__atomic_load_n(&w[e], __ATOMIC_RELAXED) >> shift) * tc_usable(e);
    return sum;
}

/* 1 when the shadow rules hold for this process (see above). Call after resolution. */
int tcache_predictable(void);

#endif
