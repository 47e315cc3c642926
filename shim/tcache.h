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
 *     malloc of 8 bytes or less (bin 0, counted in slot 1), realloc(NULL, n) and
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
#define TC_MAX_REQ 1024u  /* below tidx2usize(63) = 1032: every such request has a bin */

/* The shadow is indexed by slot = tcache bin + 1 (slot 0: requests of 8 bytes or
 * less, which share bin 0 with 9..24 but are never counted there, so they always
 * take the checked path; slot TC_SLOTS - 1: chunks without a bin). This makes the
 * request's slot one add and one shift. */
#define TC_SLOTS (TC_BINS + 2)

/* csize2tidx(request2size(n)) + 1 for 9 <= n <= TC_MAX_REQ; 0 for n <= 8. */
static inline size_t tc_slot_of_request(size_t n) { return (n + 7) >> 4; }

/* The slot whose block glibc takes for a request of n <= TC_MAX_REQ: requests of 8
 * bytes or less are bin 0 too (slot 1), not the uncounted slot 0. */
static inline size_t tc_slot_taken(size_t n) { return n <= 8 ? 1 : tc_slot_of_request(n); }

/* The slot of a heap chunk of chunksize cs (32, 48, ...): TC_SLOTS - 1 when it has no
 * bin (and for a size no glibc chunk has, so that slot 0 is never counted). */
static inline size_t tc_slot_of_chunk(size_t cs)
{
    size_t s = (cs >> 4) - 1;
    return s - 1 < TC_SLOTS - 2 ? s : TC_SLOTS - 1;
}

/* Usable bytes of a heap chunk in slot s (chunksize - SIZE_SZ, as malloc_usable_size). */
static inline size_t tc_usable(size_t s) { return s * 16 + 8; }

/* 1 when the shadow rules hold for this process (see above). Call after resolution. */
int tcache_predictable(void);

#endif
