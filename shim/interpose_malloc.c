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
#include "interpose.h"
#include "resolve.h"


static inline int resolved(void)
{
    if (OS_LIKELY(os_resolved)) return 1;
    resolve_all();
    return os_resolved && REAL(malloc) != NULL;
}

/* glibc 2.36 musable(): chunksize - CHUNK_HDR_SZ for an mmapped chunk (IS_MMAPPED,
 * bit 1), chunksize - SIZE_SZ for an in-use heap chunk. */
static inline size_t glibc_usable(const void *p)
{
    const size_t *q = p;
    __asm__("" : "+r"(q)); /* the header lies before the block: hide that from the bounds checker */
    size_t h = q[-1];
    return (h & ~(size_t)7) - ((h & 2) ? 2 * sizeof(size_t) : sizeof(size_t));
}

/* Relaxed single-writer counters: plain adds, readable (racily) by the reporter. */
static inline void add_in(struct os_tls *t, size_t n)
{
    __atomic_store_n(&t->malloc_in, t->malloc_in + (int64_t)n, __ATOMIC_RELAXED);
}

static inline void add_out(struct os_tls *t, size_t n)
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

static inline void count(void *p, int sign)
{
    if (!p) return;
    if (OS_UNLIKELY(os_policy) && os_glibc_chunks) sim_track(p, sign);
    size_t n;
    if (OS_LIKELY(os_glibc_chunks)) n = glibc_usable(p);
    else if (os_usable_size_ok) n = REAL(malloc_usable_size)(p);
    else return;
    if (sign > 0) add_in(&os_t, n);
    else add_out(&os_t, n);
}

/* REAL(malloc) once the constructor has decided that no policy (simulation,
 * injection) applies; until then, and under a policy, malloc takes the slow path. */
void *(*os_malloc_entry)(size_t);
void malloc_fast_enable(void);
void malloc_fast_enable(void) { __atomic_store_n(&os_malloc_entry, REAL(malloc), __ATOMIC_RELEASE); }

static void *failed(enum call_id id, size_t a0, size_t a1, size_t a2)
{
    int e = errno;
    os_enter();
    os_refused(id, ENOMEM, a0, a1, a2, 0, 0, 0);
    os_leave();
    errno = e;
    return NULL;
}

/* Simulation and injection, before the real call. Only requests large enough for
 * glibc to map them itself (its default mmap threshold, 128 KiB) are modelled;
 * every request is checked against the injection rules. */
static int gate(enum call_id id, size_t a0, size_t a1, size_t size)
{
    if (OS_LIKELY(!os_policy) || !READY()) return 0;
    int model = size >= (128u << 10);
    if (!model && !inject_active()) return 0;
    return os_gate(id, model, a0, a1, 0, 0, 0, 0);
}
#define GATE(id, a0, a1, size)                                                                      \
    do {                                                                                            \
        int e_ = gate(id, a0, a1, size);                                                            \
        if (e_) {                                                                                   \
            errno = e_;                                                                             \
            return NULL;                                                                            \
        }                                                                                           \
    } while (0)

/* Everything but the fast path lives in noinline functions, so that malloc and
 * free themselves need almost no stack frame (measured: 4 saved registers cost
 * ~0.8 ns per malloc+free pair). */
static __attribute__((noinline)) void *malloc_after(void *p, size_t n)
{
    if (!READY()) return p;
    if (p) {
        count(p, 1);
        return p;
    }
    return failed(CALL_MALLOC, n, 0, 0);
}

static __attribute__((noinline)) void *malloc_slow(size_t n)
{
    if (!resolved()) return bootstrap_alloc(n, 16);
    GATE(CALL_MALLOC, n, 0, n);
    return malloc_after(REAL(malloc)(n), n);
}

OS_EXPORT void *malloc(size_t n)
{
    void *(*real)(size_t) = os_malloc_entry;
    if (OS_UNLIKELY(!real)) return malloc_slow(n);
    void *p = real(n);
    struct os_tls *t = &os_t;
    if (OS_LIKELY(os_fast && !t->guard && p)) { /* glibc, a block, not the shim's own call */
        add_in(t, glibc_usable(p));
        return p;
    }
    return malloc_after(p, n);
}

static __attribute__((noinline)) void free_slow(void *p)
{
    if (bootstrap_owns(p)) return;
    if (READY()) count(p, -1);
    REAL(free)(p);
}

OS_EXPORT void free(void *p)
{
    struct os_tls *t = &os_t;
    if (OS_LIKELY(p && os_fast && !t->guard && (uintptr_t)p - (uintptr_t)os_boot_buf >= sizeof os_boot_buf)) {
        add_out(t, glibc_usable(p));
        REAL(free)(p);
        return;
    }
    if (p) free_slow(p);
}

OS_EXPORT void *calloc(size_t n, size_t size)
{
    if (OS_UNLIKELY(!resolved())) {
        if (size && n > SIZE_MAX / size) return NULL;
        return bootstrap_alloc(n * size, 16); /* the bootstrap buffer is never reused: already zero */
    }
    if (!(size && n > SIZE_MAX / size)) GATE(CALL_CALLOC, n, size, n * size);
    void *p = REAL(calloc)(n, size);
    if (OS_UNLIKELY(!READY())) return p;
    if (OS_LIKELY(p != NULL)) count(p, 1);
    else if (!(size && n > SIZE_MAX / size)) return failed(CALL_CALLOC, n, size, 0);
    return p;
}

OS_EXPORT void *realloc(void *old, size_t n)
{
    if (OS_UNLIKELY(!resolved())) {
        void *p = bootstrap_alloc(n, 16);
        if (p && old) memcpy(p, old, bootstrap_size(old) < n ? bootstrap_size(old) : n);
        return p;
    }
    if (OS_UNLIKELY(old && bootstrap_owns(old))) {
        void *p = REAL(malloc)(n);
        if (p) memcpy(p, old, bootstrap_size(old) < n ? bootstrap_size(old) : n);
        if (p && READY()) count(p, 1);
        return p;
    }
    if (OS_UNLIKELY(!READY())) return REAL(realloc)(old, n);
    if (n) GATE(CALL_REALLOC, (size_t)old, n, n);
    if (old) count(old, -1);
    void *p = REAL(realloc)(old, n);
    if (OS_LIKELY(p != NULL)) count(p, 1);
    else if (old && n == 0) return NULL; /* realloc(p, 0) freed p */
    else {
        if (old) count(old, 1); /* the old block is still there */
        return failed(CALL_REALLOC, (size_t)old, n, 0);
    }
    return p;
}

OS_EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(old, n * size);
}

static void *aligned_common(enum call_id id, size_t align, size_t n, void *p)
{
    if (OS_UNLIKELY(!READY())) return p;
    if (OS_LIKELY(p != NULL)) count(p, 1);
    else if (errno == ENOMEM) return failed(id, align, n, 0);
    return p;
}

OS_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (OS_UNLIKELY(!resolved())) {
        *out = bootstrap_alloc(n, align);
        return *out ? 0 : ENOMEM;
    }
    int g = gate(CALL_POSIX_MEMALIGN, align, n, n);
    if (g) return g;
    int rc = REAL(posix_memalign)(out, align, n);
    if (OS_UNLIKELY(!READY())) return rc;
    if (rc == 0) count(*out, 1);
    else if (rc == ENOMEM) {
        int e = errno;
        errno = ENOMEM;
        failed(CALL_POSIX_MEMALIGN, align, n, 0);
        errno = e;
    }
    return rc;
}

OS_EXPORT void *aligned_alloc(size_t align, size_t n)
{
    if (OS_UNLIKELY(!resolved())) return bootstrap_alloc(n, align);
    GATE(CALL_ALIGNED_ALLOC, align, n, n);
    return aligned_common(CALL_ALIGNED_ALLOC, align, n, REAL(aligned_alloc)(align, n));
}

OS_EXPORT void *memalign(size_t align, size_t n)
{
    if (OS_UNLIKELY(!resolved())) return bootstrap_alloc(n, align);
    GATE(CALL_MEMALIGN, align, n, n);
    return aligned_common(CALL_MEMALIGN, align, n, REAL(memalign)(align, n));
}

OS_EXPORT void *valloc(size_t n)
{
    if (OS_UNLIKELY(!resolved())) return bootstrap_alloc(n, 4096);
    GATE(CALL_VALLOC, n, 0, n);
    return aligned_common(CALL_VALLOC, 4096, n, REAL(valloc)(n));
}

OS_EXPORT void *pvalloc(size_t n)
{
    if (OS_UNLIKELY(!resolved())) return bootstrap_alloc((n + 4095) & ~(size_t)4095, 4096);
    if (!REAL(pvalloc)) return memalign(4096, (n + 4095) & ~(size_t)4095);
    GATE(CALL_PVALLOC, n, 0, n);
    return aligned_common(CALL_PVALLOC, 4096, n, REAL(pvalloc)(n));
}

OS_EXPORT size_t malloc_usable_size(void *p)
{
    if (!p) return 0;
    if (bootstrap_owns(p)) return bootstrap_size(p);
    if (OS_UNLIKELY(!resolved()) || !REAL(malloc_usable_size)) return 0;
    return REAL(malloc_usable_size)(p);
}
