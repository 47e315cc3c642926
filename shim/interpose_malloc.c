/* Wrappers for the malloc family. They forward to the program's own allocator
 * (resolved with RTLD_NEXT: glibc, or the jemalloc/tcmalloc the program links),
 * count live bytes per thread without a lock or a syscall, and report a NULL
 * return as an estimated refusal. Before resolution (inside ld.so, inside dlsym)
 * they serve from the static bootstrap buffer. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "failure.h"
#include "inject.h"
#include "ledger.h"
#include "policy.h"
#include "report.h"
#include "interpose.h"
#include "resolve.h"
#include "tcache.h"


static inline int resolved(void)
{
    if (OSH_LIKELY(osh_resolved)) return 1;
    resolve_all();
    return osh_resolved && REAL(malloc) != NULL;
}

/* glibc's musable(): chunksize - SIZE_SZ for an in-use heap chunk; for an mmapped chunk
 * (IS_MMAPPED, bit 1) chunksize - CHUNK_HDR_SZ up to 2.41 but chunksize - SIZE_SZ on
 * 2.43, so for those glibc's own malloc_usable_size says (they are large blocks that
 * glibc maps and unmaps with system calls: one call more is nothing). */
static inline size_t glibc_usable(const void *p)
{
    const size_t *q = p;
    __asm__("" : "+r"(q)); /* the header lies before the block: hide that from the bounds checker */
    size_t h = q[-1];
    if (OSH_UNLIKELY(h & 2) && REAL(malloc_usable_size)) return REAL(malloc_usable_size)((void *)p);
    return (h & ~(size_t)7) - ((h & 2) ? 2 * sizeof(size_t) : sizeof(size_t));
}

/* Relaxed single-writer counters: plain adds, readable (racily) by the reporter. */
static inline void add_in(struct osh_tls *t, size_t n)
{
    __atomic_store_n(&t->malloc_in, t->malloc_in + (int64_t)n, __ATOMIC_RELAXED);
}

static inline void add_out(struct osh_tls *t, size_t n)
{
    __atomic_store_n(&t->malloc_out, t->malloc_out + (int64_t)n, __ATOMIC_RELAXED);
}

/* Simulation: the large blocks glibc maps itself are charged to the modelled
 * Committed_AS while they live (the ledger cannot see those mmaps). */
static inline void sim_track(const void *p, int sign)
{
    const size_t *q = p;
    __asm__("" : "+r"(q));
    size_t h = q[-1];
    if (h & 2) policy_malloc_mapped(sign * (long long)(h & ~(size_t)7));
}

/* The fast paths address this thread's counts in one of two ways:
 *   at the fixed offset: where glibc placed the block at -OSH_TLS_K (common.h), checked
 *     once at start, as %fs:constant(, entry, 8); malloc finds the entry of a request
 *     n <= TC_TABLE_REQ as the byte %fs:constant(n) (the table tc_req), free every entry
 *     from the chunk's header;
 *   through the GOT: %fs:offset(tls, entry, 8), with one load of the TLS block's offset
 *     from the GOT (initial-exec), the entry of a request computed (lea, shr): every
 *     malloc elsewhere, and the larger requests (up to TC_MAX_REQ) at the fixed offset.
 * Neither reads the thread pointer. */
static inline uintptr_t tls_offset(void)
{
    uintptr_t o;
    __asm__("movq osh_t@gottpoff(%%rip), %0" : "=r"(o));
    return o;
}
#define TLS_WORD(field) "%%fs:%c[" #field "](%[tls],%[e],8)"
#define TLS_K_WORD(field) "%%fs:%c[" #field "](,%[e],8)"
/* The displacement of a field from the thread pointer, at the fixed offset (negative). */
#define K_DISP(field) ((long)offsetof(struct osh_tls, field) - (long)OSH_TLS_K)
_Static_assert(sizeof(((struct osh_tls *)0)->tc_req) == TC_TABLE_REQ + 1, "one entry per request the table serves");

/* Live bytes are counted for every block once the shim is active, its own calls
 * included (they come and go in pairs), so that no path can count a block in and
 * another leave it uncounted on the way out. A glibc heap chunk of a tcache bin is
 * counted in its entry (tcache.h), as the fast paths count it; every other block in
 * bytes. A free counted here leaves the shadow as it is (never above glibc's count). */
static inline void count(void *p, int sign)
{
    if (!p || OSH_UNLIKELY(!osh_active)) return;
    if (OSH_UNLIKELY(osh_policy) && osh_glibc_chunks) sim_track(p, sign);
    size_t n;
    if (OSH_LIKELY(osh_glibc_chunks)) {
        uint64_t e = tc_entry_of_header(tc_header_of(p));
        if (e < TC_ENTRIES) {
            if (sign > 0) __atomic_store_n(&osh_t.tc_in[e], osh_t.tc_in[e] + 1, __ATOMIC_RELAXED);
            else __atomic_store_n(&osh_t.tc_out[e], osh_t.tc_out[e] + TC_OUT_ONE, __ATOMIC_RELAXED);
            return;
        }
        n = glibc_usable(p);
    } else if (osh_usable_size_ok) n = REAL(malloc_usable_size)(p);
    else return;
    if (sign > 0) add_in(&osh_t, n);
    else add_out(&osh_t, n);
}

_Static_assert(sizeof(((struct osh_tls *)0)->tc_in) == TC_ENTRIES * sizeof(int64_t), "one count per entry");
_Static_assert(sizeof(((struct osh_tls *)0)->tc_out) == TC_ENTRIES * sizeof(int64_t), "one count per entry");

/* A call glibc may serve from this thread's tcache is about to run: one block fewer
 * is certain to be there. Every entry point that can take from the tcache lowers the
 * shadow before its call, however rarely glibc takes there (tcache.h lists them). */
static inline void tc_taken(size_t n)
{
    if (n <= TC_MAX_REQ) {
        uint8_t *c = (uint8_t *)&osh_t.tc_out[tc_entry_taken(n)]; /* the low byte (x86-64) */
        if (*c) --*c;
    }
}

/* The fast paths' real functions, published by the constructor once no policy
 * (simulation, injection) applies; NULL before that, and under a policy:
 *   osh_malloc_entry  malloc, called and its result checked;
 *   osh_tc_limit_k    TC_TABLE_REQ + 1 at the fixed offset: requests below it may be
 *                    tail-called on a tcache hit (tcache.h), their entry read from the
 *                    table at the fixed offset;
 *   osh_tc_limit      TC_MAX_REQ + 1: the same for the requests below it (that the first
 *                    did not take), through the GOT; both 0 when the shadow rules do not
 *                    hold, and after the first failed malloc;
 *   osh_free_floor_k, 0: free may read glibc's chunk header and keep the shadow for
 *   osh_free_floor    any block above it (one compare also rules out NULL), at the
 *                    fixed offset or through the GOT (one of the two); until then, and
 *                    under a policy, UINTPTR_MAX;
 *   osh_fast_free     free, for the fast path's final jump (osh_malloc_entry serves malloc's). */
void *(*osh_malloc_entry)(size_t);
size_t osh_tc_limit_k, osh_tc_limit;
uintptr_t osh_free_floor_k = UINTPTR_MAX, osh_free_floor = UINTPTR_MAX;
static void (*osh_fast_free)(void *);
static const char *fast_path = "checked"; /* what malloc_fast_enable chose (malloc_fast_path) */

/* A block whose chunk header the counts may read: above either floor. */
static inline uintptr_t chunk_floor(void)
{
    uintptr_t k = osh_free_floor_k, g = osh_free_floor;
    return k < g ? k : g;
}

void malloc_fast_enable(int live);
void malloc_fast_enable(int live)
{
    if (!osh_resolved) return; /* resolve_all publishes them when it is done (malloc_resolved) */
    /* the TLS block at the fixed offset: the program has no TLS of its own and the shim
     * is the first object with TLS (the same for every thread: static TLS) */
    int fixed = tls_offset() == (uintptr_t)-(intptr_t)OSH_TLS_K;
    osh_fast_free = REAL(free);
    /* the functions before the limits: a thread that sees a limit finds the function */
    __atomic_store_n(&osh_malloc_entry, REAL(malloc), __ATOMIC_RELEASE);
    /* the limits before the floors: until free keeps the shadow nothing raises it, so
     * it is 0, below glibc's count, whenever a limit goes on (after the floor, a free
     * would raise it while a checked malloc of more than 8 bytes did not lower it) */
    if (live && tcache_predictable()) {
        if (fixed) __atomic_store_n(&osh_tc_limit_k, TC_TABLE_REQ + 1, __ATOMIC_RELEASE);
        __atomic_store_n(&osh_tc_limit, TC_MAX_REQ + 1, __ATOMIC_RELEASE);
        fast_path = fixed ? "tcache_fixed_tls" : "tcache";
    }
    if (live && osh_glibc_chunks) __atomic_store_n(fixed ? &osh_free_floor_k : &osh_free_floor, 0, __ATOMIC_RELEASE);
}

/* The malloc path malloc_fast_enable chose: "tcache_fixed_tls", "tcache" (tail calls on a
 * tcache hit, the TLS block at the fixed offset or not), "checked" (every result checked,
 * or no allocation yet). A refused malloc turns the tail calls off, and leaves this. */
const char *malloc_fast_path(void) { return fast_path; }

/* resolve_all is done (on a wrapper's first call, or before the constructor when an
 * allocator preloaded ahead maps memory): the fast paths go on once the constructor has
 * decided (osh_started), as it would have; before that the constructor does it. */
void malloc_resolved(void)
{
    if (__atomic_load_n(&osh_started, __ATOMIC_ACQUIRE) && !osh_policy) malloc_fast_enable(osh_active);
}

static void *failed(enum call_id id, size_t a0, size_t a1, size_t a2)
{
    int e = errno;
    /* Memory is short: from now on every malloc's result is checked, whatever the
     * shadow says (a tcache that failed to set up would not match it). */
    __atomic_store_n(&osh_tc_limit_k, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&osh_tc_limit, 0, __ATOMIC_RELAXED);
    osh_enter();
    osh_refused(id, ENOMEM, a0, a1, a2, 0, 0, 0);
    osh_leave();
    errno = e;
    return NULL;
}

/* Simulation and injection, before the real call. Only requests large enough for
 * glibc to map them itself (its default mmap threshold, 128 KiB) are modelled;
 * every request is checked against the injection rules. */
static int gate(enum call_id id, size_t a0, size_t a1, size_t size)
{
    if (OSH_LIKELY(!osh_policy) || !READY()) return 0;
    int model = size >= (128u << 10);
    if (!model && !inject_active(&osh_inject)) return 0;
    return osh_gate(id, model, a0, a1, 0, 0, 0, 0);
}
#define GATE(id, a0, a1, size)                                                                      \
    do {                                                                                            \
        int e_ = gate(id, a0, a1, size);                                                            \
        if (e_) {                                                                                   \
            errno = e_;                                                                             \
            return NULL;                                                                            \
        }                                                                                           \
    } while (0)

/* Everything but the tcache hit lives in noinline functions, so that malloc and
 * free themselves need no stack frame and end in a jump to the real function. */
static __attribute__((noinline)) void *malloc_after(void *p, size_t n)
{
    if (OSH_LIKELY(p != NULL)) {
        count(p, 1);
        return p;
    }
    if (!READY()) return NULL;
    return failed(CALL_MALLOC, n, 0, 0);
}

static __attribute__((noinline)) void *malloc_slow(size_t n)
{
    if (!resolved()) return bootstrap_alloc(n, 16);
    GATE(CALL_MALLOC, n, 0, n);
    return malloc_after(REAL(malloc)(n), n);
}

/* Not a tcache hit: call, check, count. glibc may serve a request of 8 bytes or less
 * from bin 0, whose blocks the shadow counts in entry 2 (tc_entry_taken): that count
 * goes down here (the path through the GOT never tail-calls those requests). */
static __attribute__((noinline)) void *malloc_checked(size_t n)
{
    if (OSH_UNLIKELY(n <= 8)) tc_taken(n);
    void *(*real)(size_t) = osh_malloc_entry;
    if (OSH_UNLIKELY(!real)) return malloc_slow(n);
    void *p = real(n);
    if (OSH_LIKELY((uintptr_t)p > chunk_floor())) { /* active, glibc chunks, no policy */
        uint64_t e = tc_entry_of_header(tc_header_of(p));
        if (OSH_LIKELY(e < TC_ENTRIES)) __atomic_store_n(&osh_t.tc_in[e], osh_t.tc_in[e] + 1, __ATOMIC_RELAXED);
        else add_in(&osh_t, glibc_usable(p));
        return p;
    }
    return malloc_after(p, n);
}

/* The fast path found the shadow of entry e empty: its decrement borrowed (the byte is
 * 255). Back to 0, not + 1: a signal handler's malloc or free between the two saw a
 * byte above TC_FILL, took one from it or left it, and 0 is below glibc's count anyway. */
static __attribute__((noinline)) void *malloc_shadow_empty(size_t n, size_t e)
{
    *(uint8_t *)&osh_t.tc_out[e] = 0;
    return malloc_checked(n);
}

/* The tcache hit, in instructions, at the fixed offset: compare with osh_tc_limit_k, the
 * entry (one byte load from the table), a byte decrement of the shadow that borrows when
 * it is empty, an increment of the bin's allocated count, the jump (7). Through the GOT:
 * the first compare, one with osh_tc_limit, the entry (lea, shr; requests of 8 bytes or
 * less get the uncounted entry 1, so they take the checked path), the TLS offset, then
 * the same with that offset in every address (11). */
OSH_EXPORT void *malloc(size_t n)
{
    if (OSH_LIKELY(n < osh_tc_limit_k)) { /* a size the tcache holds, the shadow rules hold, the fixed offset */
        size_t e;
        __asm__("movzbl %%fs:%c[req](%[n]), %k[e]" : [e] "=r"(e) : [n] "r"(n), [req] "i"(K_DISP(tc_req)) : "memory");
        __asm__ goto("subb $1, " TLS_K_WORD(out) "\n\tjb %l[empty_k]"
                     :
                     : [e] "r"(e), [out] "i"(K_DISP(tc_out))
                     : "cc", "memory"
                     : empty_k);
        /* glibc's tcache holds a block of this size: cannot fail */
        __asm__("addq $1, " TLS_K_WORD(in) : : [e] "r"(e), [in] "i"(K_DISP(tc_in)) : "cc", "memory");
        return osh_malloc_entry(n);
    empty_k:
        return malloc_shadow_empty(n, e);
    }
    if (OSH_LIKELY(n < osh_tc_limit)) { /* the same, the TLS block's offset from the GOT */
        size_t e = tc_entry_of_request(n) - 1; /* the + 1 is in the displacements */
        uintptr_t tls = tls_offset();
        __asm__ goto("subb $1, " TLS_WORD(out) "\n\tjb %l[empty]"
                     :
                     : [tls] "r"(tls), [e] "r"(e), [out] "i"(offsetof(struct osh_tls, tc_out) + 8)
                     : "cc", "memory"
                     : empty);
        __asm__("addq $1, " TLS_WORD(in)
                :
                : [tls] "r"(tls), [e] "r"(e), [in] "i"(offsetof(struct osh_tls, tc_in) + 8)
                : "cc", "memory");
        return osh_malloc_entry(n);
    empty:
        return malloc_shadow_empty(n, e + 1);
    }
    return malloc_checked(n);
}

/* Bootstrap blocks, glibc's mmapped chunks, and every free before the fast path is
 * published or under a policy. Bootstrap blocks carry the header of a mapped chunk
 * (whole pages), so the fast path's range test sends them here. */
static __attribute__((noinline)) void free_slow(void *p)
{
    if (!p || bootstrap_owns(p)) return;
    ENSURE_OR(free, return); /* while this thread resolves: the block stays (a leak, not a crash) */
    count(p, -1);
    REAL(free)(p);
}

/* free's bookkeeping for a heap chunk glibc may keep in its tcache, once the fast path
 * is on and p is not NULL: 1 when done (the caller then jumps to the real function), 0
 * for everything free_slow handles. In instructions: the header, its entry (shr: an
 * mmapped chunk, whole pages, is above the last entry as a larger one is), a compare,
 * then one add to the entry's word: a freed block (256) and the carry of "shadow below
 * TC_FILL" (glibc's free puts the chunk in its tcache when its count is below 7; at 7
 * the shadow, <= 7, cannot pass it). At the fixed offset (osh_free_floor_k) the TLS
 * block's offset is in the displacement; elsewhere (osh_free_floor) it is loaded from
 * the GOT. */
static inline __attribute__((always_inline)) int free_counts_k(void *p)
{
    uint64_t e = tc_entry_of_header(tc_header_of(p));
    __asm__("" : "+r"(e)); /* compare the entry, not the header: no copy before the shift */
    if (OSH_UNLIKELY(e >= TC_ENTRIES)) return 0; /* not a heap chunk of a tcache bin */
    __asm__("cmpb %[fill], " TLS_K_WORD(out) "\n\tadcq %[one], " TLS_K_WORD(out)
            :
            : [e] "r"(e), [out] "i"(K_DISP(tc_out)), [fill] "i"(TC_FILL), [one] "i"(TC_OUT_ONE)
            : "cc", "memory");
    return 1;
}

static inline __attribute__((always_inline)) int free_counts_got(void *p)
{
    uint64_t e = tc_entry_of_header(tc_header_of(p));
    __asm__("" : "+r"(e));
    if (OSH_UNLIKELY(e >= TC_ENTRIES)) return 0;
    __asm__("cmpb %[fill], " TLS_WORD(out) "\n\tadcq %[one], " TLS_WORD(out)
            :
            : [tls] "r"(tls_offset()), [e] "r"(e), [out] "i"(offsetof(struct osh_tls, tc_out)),
              [fill] "i"(TC_FILL), [one] "i"(TC_OUT_ONE)
            : "cc", "memory");
    return 1;
}

/* The compare with a floor rules out NULL and a fast path that is off in one. */
static inline __attribute__((always_inline)) int free_fast_counts(void *p)
{
    if (OSH_LIKELY((uintptr_t)p > osh_free_floor_k)) return free_counts_k(p);
    if (OSH_LIKELY((uintptr_t)p > osh_free_floor)) return free_counts_got(p);
    return 0;
}

/* At the fixed offset, 9 instructions: the compare, the bookkeeping, the jump. Elsewhere
 * 12: two compares, the bookkeeping with the GOT load, its own jump (each path calls the
 * real free itself: through free_fast_counts' one return, gcc merged the two jumps and
 * the second path took one jump more). */
OSH_EXPORT void free(void *p)
{
    /* One compare, then a jump through memory: measured faster here than loading the
     * pointer first and jumping through a register (7.0 against 7.3 ns a pair). */
    if (OSH_LIKELY((uintptr_t)p > osh_free_floor_k)) {
        if (OSH_LIKELY(free_counts_k(p))) {
            osh_fast_free(p);
            return;
        }
    } else if (OSH_LIKELY((uintptr_t)p > osh_free_floor)) {
        if (OSH_LIKELY(free_counts_got(p))) {
            osh_fast_free(p);
            return;
        }
    }
    free_slow(p);
}

/* C23's sized frees (glibc 2.43: they ignore the sizes and free as free does). They
 * keep the malloc-live counts and the tcache shadow exactly as free; where libc lacks
 * them (before 2.43) the block goes to the real free, which is what they mean. */
static void sized_free_counts(void *p)
{
    if (free_fast_counts(p)) return;
    count(p, -1);
    ENSURE(free);
}

/* The block goes to the real free (the sizes are hints; free is always right), never to
 * a real free_sized: glibc 2.43's sized frees are a jump to free@plt, which comes back
 * into the shim's free and would count the block twice (so would any allocator whose
 * sized free calls free through the PLT). */
OSH_EXPORT void free_sized(void *p, size_t size)
{
    if (bootstrap_owns(p)) return;
    sized_free_counts(p);
    if (REAL(free)) REAL(free)(p);
}

OSH_EXPORT void free_aligned_sized(void *p, size_t align, size_t size)
{
    if (bootstrap_owns(p)) return;
    sized_free_counts(p);
    if (REAL(free)) REAL(free)(p);
}

/* A NULL from the allocator: reported unless the shim itself made the call. */
static void *null_result(enum call_id id, size_t a0, size_t a1)
{
    return READY() ? failed(id, a0, a1, 0) : NULL;
}

OSH_EXPORT void *calloc(size_t n, size_t size)
{
    int overflow = size && n > SIZE_MAX / size;
    if (OSH_UNLIKELY(!resolved())) {
        if (overflow) return NULL;
        return bootstrap_alloc(n * size, 16); /* the bootstrap buffer is never reused: already zero */
    }
    if (!overflow) {
        GATE(CALL_CALLOC, n, size, n * size);
        tc_taken(n * size);
    }
    void *p = REAL(calloc)(n, size);
    if (OSH_LIKELY(p != NULL)) count(p, 1);
    else if (!overflow) return null_result(CALL_CALLOC, n, size);
    return p;
}

/* realloc(NULL, n) is glibc's malloc(n), and takes from the tcache like it; a
 * realloc of a block glibc owns never does (_int_realloc and the mmapped-chunk path
 * only put blocks into it). realloc and reallocarray share this body, so neither
 * depends on how the other binds. */
static void *realloc_common(void *old, size_t n, enum call_id id, size_t a0, size_t a1)
{
    if (OSH_UNLIKELY(!resolved())) {
        void *p = bootstrap_alloc(n, 16);
        if (p && old) memcpy(p, old, bootstrap_size(old) < n ? bootstrap_size(old) : n);
        return p;
    }
    if (OSH_UNLIKELY(old && bootstrap_owns(old))) {
        tc_taken(n);
        void *p = REAL(malloc)(n);
        if (p) memcpy(p, old, bootstrap_size(old) < n ? bootstrap_size(old) : n);
        count(p, 1);
        return p;
    }
    if (n) GATE(id, a0, a1, n);
    if (old) count(old, -1);
    else tc_taken(n);
    void *p = REAL(realloc)(old, n);
    if (OSH_LIKELY(p != NULL)) count(p, 1);
    else if (old && n == 0) return NULL; /* realloc(p, 0) freed p */
    else {
        if (old) count(old, 1); /* the old block is still there */
        return null_result(id, a0, a1);
    }
    return p;
}

OSH_EXPORT void *realloc(void *old, size_t n) { return realloc_common(old, n, CALL_REALLOC, (size_t)old, n); }

OSH_EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc_common(old, n * size, CALL_REALLOCARRAY, n, size);
}

static void *aligned_common(enum call_id id, size_t align, size_t n, void *p)
{
    if (OSH_LIKELY(p != NULL)) count(p, 1);
    else if (errno == ENOMEM) return null_result(id, align, n);
    return p;
}

OSH_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (OSH_UNLIKELY(!resolved())) {
        *out = bootstrap_alloc(n, align);
        return *out ? 0 : ENOMEM;
    }
    int g = gate(CALL_POSIX_MEMALIGN, align, n, n);
    if (g) return g;
    tc_taken(n);
    int rc = REAL(posix_memalign)(out, align, n);
    if (rc == 0) count(*out, 1);
    else if (rc == ENOMEM) {
        int e = errno;
        errno = ENOMEM;
        null_result(CALL_POSIX_MEMALIGN, align, n);
        errno = e;
    }
    return rc;
}

OSH_EXPORT void *aligned_alloc(size_t align, size_t n)
{
    if (OSH_UNLIKELY(!resolved())) return bootstrap_alloc(n, align);
    GATE(CALL_ALIGNED_ALLOC, align, n, n);
    tc_taken(n);
    return aligned_common(CALL_ALIGNED_ALLOC, align, n, REAL(aligned_alloc)(align, n));
}

OSH_EXPORT void *memalign(size_t align, size_t n)
{
    if (OSH_UNLIKELY(!resolved())) return bootstrap_alloc(n, align);
    GATE(CALL_MEMALIGN, align, n, n);
    tc_taken(n);
    return aligned_common(CALL_MEMALIGN, align, n, REAL(memalign)(align, n));
}

OSH_EXPORT void *valloc(size_t n)
{
    if (OSH_UNLIKELY(!resolved())) return bootstrap_alloc(n, 4096);
    GATE(CALL_VALLOC, n, 0, n);
    tc_taken(n);
    return aligned_common(CALL_VALLOC, 4096, n, REAL(valloc)(n));
}

OSH_EXPORT void *pvalloc(size_t n)
{
    if (OSH_UNLIKELY(!resolved())) return bootstrap_alloc((n + 4095) & ~(size_t)4095, 4096);
    if (!REAL(pvalloc)) return memalign(4096, (n + 4095) & ~(size_t)4095);
    GATE(CALL_PVALLOC, n, 0, n);
    /* glibc 2.38+ rounds with `& -(pagesize - 1)`, which turns pvalloc(0) into a
     * 1-byte request that may take a page-aligned block from bin 0; every other size
     * is a page or more, past the tcache. */
    if (n == 0) tc_taken(0);
    return aligned_common(CALL_PVALLOC, 4096, n, REAL(pvalloc)(n));
}

OSH_EXPORT size_t malloc_usable_size(void *p)
{
    if (!p) return 0;
    if (bootstrap_owns(p)) return bootstrap_size(p);
    if (OSH_UNLIKELY(!resolved()) || !REAL(malloc_usable_size)) return 0;
    return REAL(malloc_usable_size)(p);
}
