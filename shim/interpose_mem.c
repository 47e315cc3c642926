/* Wrappers for the calls that map, unmap and change memory: mmap, mmap64, munmap,
 * mremap, mprotect, brk, sbrk. Every wrapper has one shape: pass through when the
 * shim is inactive or the call is the shim's own (osh_guard); otherwise call the
 * real function, save errno, record the result or report the refusal, restore
 * errno. */
#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"
#include "failure.h"
#include "ledger.h"
#include "policy.h"
#include "touched.h"
#include "interpose.h"
#include "resolve.h"
#include "region_rec.h"
#include "state.h"


/* A task that shares this memory and another thread's TLS (clone(CLONE_VM) without
 * CLONE_SETTLS, seen by the clone wrapper): the TLS it would use, the ledger record
 * and the guard, are that thread's, so it records nothing; a refusal is still
 * reported, under its own pid (report_enomem.c). */
#define FOREIGN(fail, call, id, ...)                                                                 \
    do {                                                                                            \
        if (OSH_UNLIKELY(osh_shared_tls) && osh_active && osh_foreign_task()) {                         \
            __typeof__(call) r_ = call;                                                             \
            if (r_ == (fail) && errno == ENOMEM) osh_refused(id, ENOMEM, __VA_ARGS__);                \
            return r_;                                                                              \
        }                                                                                           \
    } while (0)

#define GATE(fail, ...)                                                                             \
    do {                                                                                            \
        if (OSH_UNLIKELY(osh_policy | osh_timeline)) {                                                 \
            int e_ = osh_gate(__VA_ARGS__);                                                             \
            if (e_) {                                                                               \
                errno = e_;                                                                         \
                return fail;                                                                        \
            }                                                                                       \
        }                                                                                           \
    } while (0)

static void *mmap_common(enum call_id id, void *r, void *addr, size_t len, int prot, int flags, int fd,
                         off_t off)
{
    int e = errno;
    osh_enter();
    if (r != MAP_FAILED) {
        ledger_record_map((uintptr_t)r, len, prot, flags, (flags & MAP_ANONYMOUS) || fd < 0);
        if (osh_st.opt.regions) region_note_map((uintptr_t)r, len, prot, flags, fd);
    }
    else if (e == ENOMEM)
        osh_refused(id, e, (uint64_t)addr, len, (uint64_t)prot, (uint64_t)flags, (uint64_t)fd, (uint64_t)off);
    osh_leave();
    errno = e;
    return r;
}

/* mmap and mmap64 are one wrapper (their off_t and off64_t are both 64 bits here). */
#define MMAP_WRAPPER(name, ID, off_type)                                                               \
    OSH_EXPORT void *name(void *addr, size_t len, int prot, int flags, int fd, off_type off)            \
    {                                                                                                  \
        ENSURE_OR(name, return (void *)raw_call(SYS_mmap, (long)addr, (long)len, prot, flags, fd, (long)off)); \
        FOREIGN(MAP_FAILED, REAL(name)(addr, len, prot, flags, fd, off), ID, (uint64_t)addr, len,      \
                (uint64_t)prot, (uint64_t)flags, (uint64_t)fd, (uint64_t)off);                         \
        if (!READY()) return REAL(name)(addr, len, prot, flags, fd, off);                              \
        GATE(MAP_FAILED, ID, 1, (uint64_t)addr, len, (uint64_t)prot, (uint64_t)flags, (uint64_t)fd,    \
             (uint64_t)off);                                                                           \
        void *r = REAL(name)(addr, len, prot, flags, fd, off);                                         \
        return mmap_common(ID, r, addr, len, prot, flags, fd, off);                                    \
    }
_Static_assert(sizeof(off_t) == sizeof(off64_t), "mmap64 is mmap");
MMAP_WRAPPER(mmap, CALL_MMAP, off_t)
MMAP_WRAPPER(mmap64, CALL_MMAP64, off64_t)

OSH_EXPORT int munmap(void *addr, size_t len)
{
    ENSURE_OR(munmap, return (int)raw_call(SYS_munmap, (long)addr, (long)len, 0, 0, 0, 0));
    FOREIGN(-1, REAL(munmap)(addr, len), CALL_MUNMAP, (uint64_t)addr, len, 0, 0, 0, 0);
    if (!READY()) return REAL(munmap)(addr, len);
    GATE(-1, CALL_MUNMAP, 1, (uint64_t)addr, len, 0, 0, 0, 0);
    if (((uintptr_t)addr & 4095) || len == 0) return REAL(munmap)(addr, len); /* EINVAL: nothing changes */
    struct range saved[16];
    osh_enter();
    size_t n = ledger_detach((uintptr_t)addr, len, saved, 16); /* before another thread can be given it */
    osh_leave();
    int r = REAL(munmap)(addr, len);
    int e = errno;
    if (r == 0) region_note_unmap((uintptr_t)addr, len);
    if (r != 0) {
        osh_enter();
        if (n <= 16) ledger_reattach(saved, n);
        if (e == ENOMEM) osh_refused(CALL_MUNMAP, e, (uint64_t)addr, len, 0, 0, 0, 0);
        osh_leave();
    }
    errno = e;
    return r;
}

OSH_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    void *want = NULL;
    if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) {
        va_list ap;
        va_start(ap, flags);
        want = va_arg(ap, void *);
        va_end(ap);
    }
    ENSURE_OR(mremap, return (void *)raw_call(SYS_mremap, (long)old, (long)old_len, (long)new_len, flags, (long)want, 0));
    FOREIGN(MAP_FAILED, REAL(mremap)(old, old_len, new_len, flags, want), CALL_MREMAP, (uint64_t)old, old_len, new_len,
            (uint64_t)flags, (uint64_t)want, 0);
    if (!READY()) return REAL(mremap)(old, old_len, new_len, flags, want);
    GATE(MAP_FAILED, CALL_MREMAP, 1, (uint64_t)old, old_len, new_len, (uint64_t)flags, (uint64_t)want, 0);
    /* the old range leaves the ledger first: a move frees it for other threads */
    struct range saved[16];
    osh_enter();
    size_t n = ((uintptr_t)old & 4095) ? 0 : ledger_detach((uintptr_t)old, old_len, saved, 16);
    osh_leave();
    void *r = REAL(mremap)(old, old_len, new_len, flags, want);
    int e = errno;
    osh_enter();
    if (r != MAP_FAILED) {
        if (flags & MREMAP_DONTUNMAP) ledger_reattach(saved, n <= 16 ? n : 0); /* the old range stays, emptied */
        ledger_record_remap(n ? &saved[0] : NULL, (uintptr_t)r, new_len);
    } else {
        if (n <= 16) ledger_reattach(saved, n);
        if (e == ENOMEM) osh_refused(CALL_MREMAP, e, (uint64_t)old, old_len, new_len, (uint64_t)flags, (uint64_t)want, 0);
    }
    osh_leave();
    errno = e;
    return r;
}

OSH_EXPORT int mprotect(void *addr, size_t len, int prot)
{
    ENSURE_OR(mprotect, return (int)raw_call(SYS_mprotect, (long)addr, (long)len, prot, 0, 0, 0));
    FOREIGN(-1, REAL(mprotect)(addr, len, prot), CALL_MPROTECT, (uint64_t)addr, len, (uint64_t)prot, 0, 0, 0);
    if (!READY()) return REAL(mprotect)(addr, len, prot);
    GATE(-1, CALL_MPROTECT, 1, (uint64_t)addr, len, (uint64_t)prot, 0, 0, 0);
    int r = REAL(mprotect)(addr, len, prot);
    int e = errno;
    osh_enter();
    if (r == 0) ledger_record_protect((uintptr_t)addr, len, prot);
    else if (e == ENOMEM) osh_refused(CALL_MPROTECT, e, (uint64_t)addr, len, (uint64_t)prot, 0, 0, 0);
    osh_leave();
    errno = e;
    return r;
}

OSH_EXPORT int brk(void *addr)
{
    ENSURE_OR(brk, errno = ENOMEM; return -1); /* glibc keeps the break itself: no system call of ours */
    FOREIGN(-1, REAL(brk)(addr), CALL_BRK, (uint64_t)addr, (uint64_t)REAL(sbrk)(0), 0, 0, 0, 0);
    if (!READY()) return REAL(brk)(addr);
    void *old = REAL(sbrk)(0);
    GATE(-1, CALL_BRK, 1, (uint64_t)addr, (uint64_t)old, 0, 0, 0, 0);
    int r = REAL(brk)(addr);
    int e = errno;
    osh_enter();
    if (r == 0) ledger_record_brk((uintptr_t)old, (uintptr_t)addr);
    else if (e == ENOMEM) osh_refused(CALL_BRK, e, (uint64_t)addr, (uint64_t)old, 0, 0, 0, 0);
    osh_leave();
    errno = e;
    return r;
}

OSH_EXPORT void *sbrk(intptr_t inc)
{
    ENSURE_OR(sbrk, errno = ENOMEM; return (void *)-1);
    FOREIGN((void *)-1, REAL(sbrk)(inc), CALL_SBRK, (uint64_t)inc, (uint64_t)REAL(sbrk)(0), 0, 0, 0, 0);
    if (!READY() || inc == 0) return REAL(sbrk)(inc);
    GATE((void *)-1, CALL_SBRK, 1, (uint64_t)inc, (uint64_t)REAL(sbrk)(0), 0, 0, 0, 0);
    void *old = REAL(sbrk)(inc);
    int e = errno;
    osh_enter();
    if (old != (void *)-1) ledger_record_brk((uintptr_t)old, (uintptr_t)old + (uintptr_t)inc);
    else if (e == ENOMEM) osh_refused(CALL_SBRK, e, (uint64_t)inc, (uint64_t)REAL(sbrk)(0), 0, 0, 0, 0);
    osh_leave();
    errno = e;
    return old;
}
