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
#include "ledger.h"
#include "resolve.h"

#define READY() (OS_LIKELY(os_active) && OS_LIKELY(!os_guard))

static inline int resolved(void)
{
    if (OS_LIKELY(os_resolved)) return 1;
    resolve_all();
    return os_resolved && REAL(malloc) != NULL;
}

static inline void count(void *p, int sign)
{
    if (!os_usable_size_ok || !p) return;
    int64_t n = (int64_t)REAL(malloc_usable_size)(p) * sign;
    struct thread_rec *t = os_self;
    if (OS_LIKELY(t != NULL))
        __atomic_store_n(&t->malloc_live, __atomic_load_n(&t->malloc_live, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
    else
        os_malloc_pending += n;
}

static void *failed(enum call_id id, size_t a0, size_t a1, size_t a2)
{
    int e = errno;
    os_enter();
    struct failed_call fc = {.id = id, .a = {a0, a1, a2}, .err = ENOMEM};
    failure_report(&fc);
    os_leave();
    errno = e;
    return NULL;
}

OS_EXPORT void *malloc(size_t n)
{
    if (OS_UNLIKELY(!resolved())) return bootstrap_alloc(n, 16);
    void *p = REAL(malloc)(n);
    if (OS_UNLIKELY(!READY())) return p;
    if (OS_LIKELY(p != NULL)) count(p, 1);
    else return failed(CALL_MALLOC, n, 0, 0);
    return p;
}

OS_EXPORT void free(void *p)
{
    if (OS_UNLIKELY(!p)) return;
    if (OS_UNLIKELY(bootstrap_owns(p))) return;
    if (OS_LIKELY(READY())) count(p, -1);
    REAL(free)(p);
}

OS_EXPORT void *calloc(size_t n, size_t size)
{
    if (OS_UNLIKELY(!resolved())) {
        if (size && n > SIZE_MAX / size) return NULL;
        return bootstrap_alloc(n * size, 16); /* the bootstrap buffer is never reused: already zero */
    }
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
    return aligned_common(CALL_ALIGNED_ALLOC, align, n, REAL(aligned_alloc)(align, n));
}

OS_EXPORT void *memalign(size_t align, size_t n)
{
    if (OS_UNLIKELY(!resolved())) return bootstrap_alloc(n, align);
    return aligned_common(CALL_MEMALIGN, align, n, REAL(memalign)(align, n));
}

OS_EXPORT void *valloc(size_t n)
{
    if (OS_UNLIKELY(!resolved())) return bootstrap_alloc(n, 4096);
    return aligned_common(CALL_VALLOC, 4096, n, REAL(valloc)(n));
}

OS_EXPORT void *pvalloc(size_t n)
{
    if (OS_UNLIKELY(!resolved())) return bootstrap_alloc((n + 4095) & ~(size_t)4095, 4096);
    if (!REAL(pvalloc)) return memalign(4096, (n + 4095) & ~(size_t)4095);
    return aligned_common(CALL_PVALLOC, 4096, n, REAL(pvalloc)(n));
}

OS_EXPORT size_t malloc_usable_size(void *p)
{
    if (!p) return 0;
    if (bootstrap_owns(p)) return bootstrap_size(p);
    if (OS_UNLIKELY(!resolved()) || !REAL(malloc_usable_size)) return 0;
    return REAL(malloc_usable_size)(p);
}
