/* Wrappers for the calls that create tasks or end the process: clone,
 * pthread_create, fork, posix_spawn, posix_spawnp, exit, _exit, _Exit.
 * No vfork wrapper: a C wrapper's frame is reused by the vfork child (docs/facts.md §4). */
#include <errno.h>
#include <sched.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <sys/resource.h>

#include "common.h"
#include "failure.h"
#include "ledger.h"
#include "policy.h"
#include "rawsys.h"
#include "report.h"
#include "interpose.h"
#include "latefn.h"
#include "resolve.h"
#include "elfsym.h"
#include "state.h"
#include "tid.h"



/* A task that shares this memory but is another process: a clone(CLONE_VM) child or a
 * vfork child (osh_st, shared, holds the process's pid). A fork child, even one made
 * with a raw system call, has done its fix-up (osh_process_check) and holds its own; the
 * tid in glibc's descriptor is no test, since glibc rewrites it only in its own fork. */
int osh_foreign_task(void)
{
    osh_process_check();
    return raw_getpid() != osh_st.pid;
}

/* Simulation and injection: 0, or the errno policy refused the call with. */
static int gate(enum call_id id, uint64_t a0, uint64_t a1, uint64_t a2)
{
    return OSH_LIKELY(!(osh_policy | osh_timeline)) ? 0 : osh_gate(id, 1, a0, a1, a2, 0, 0, 0);
}

OSH_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    void *ptid = va_arg(ap, void *), *tls = va_arg(ap, void *), *ctid = va_arg(ap, void *);
    va_end(ap);
    ENSURE_OR(clone, errno = EAGAIN; return -1);
    if (!READY()) return REAL(clone)(fn, stack, flags, arg, ptid, tls, ctid);
    int g = gate(CALL_CLONE, (uint64_t)(uintptr_t)fn, (uint64_t)(uintptr_t)stack, (uint64_t)flags);
    if (g) {
        errno = g;
        return -1;
    }
    if ((flags & CLONE_VM) && !(flags & (CLONE_SETTLS | CLONE_VFORK)))
        __atomic_store_n(&osh_shared_tls, 1, __ATOMIC_RELEASE); /* before the child can run */
    int r = REAL(clone)(fn, stack, flags, arg, ptid, tls, ctid);
    if (r == -1 && (errno == ENOMEM || errno == EAGAIN)) {
        int e = errno;
        osh_enter();
        osh_refused(CALL_CLONE, e, (uint64_t)(uintptr_t)fn, (uint64_t)(uintptr_t)stack, (uint64_t)flags, 0, 0, 0);
        osh_leave();
        errno = e;
    }
    return r;
}

/* --- threads ------------------------------------------------------------- */
LATE_SLOT(pthread_getattr_np);
LATE_SLOT(pthread_attr_getstack);
LATE_SLOT(pthread_attr_getstacksize);
LATE_SLOT(pthread_attr_getguardsize);

/* The new thread's own stack. glibc (x86-64, TLS above the thread pointer) puts the
 * thread descriptor in the last page of the stack block, and the writable part is the
 * attribute's size below the block's end: no pthread_getattr_np, whose affinity query
 * (a syscall and a malloc loop) was most of the shim's cost per thread. Checked: the
 * thread's own stack pointer must lie inside; otherwise ask glibc. */
static void own_stack(int64_t model, uintptr_t *lo, uintptr_t *hi)
{
    uintptr_t top = ((uintptr_t)pthread_self() + 4096) & ~(uintptr_t)4095;
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    if (model > 0 && sp < top && sp >= top - (uintptr_t)model) {
        *lo = top - (uintptr_t)model;
        *hi = top;
        return;
    }
    pthread_attr_t a;
    __typeof__(&pthread_getattr_np) getattr = LATE(pthread_getattr_np);
    __typeof__(&pthread_attr_getstack) getstack = LATE(pthread_attr_getstack);
    if (getattr && getstack && getattr(pthread_self(), &a) == 0) {
        void *addr;
        size_t size;
        if (getstack(&a, &addr, &size) == 0) *lo = (uintptr_t)addr, *hi = *lo + size;
        pthread_attr_destroy(&a);
    }
}

static void *trampoline(void *p)
{
    struct thread_rec *t = p;
    osh_enter();
    uintptr_t lo = 0, hi = 0;
    if (t->stack_model) own_stack(t->stack_model, &lo, &hi);
    ledger_thread_attach(t, lo, hi);
    ledger_watch_exit(t);
    void *(*fn)(void *) = t->start, *arg = t->start_arg;
    osh_leave();
    return fn(arg);
}

/* What glibc will commit for the new thread's stack: the attribute's size (or the
 * default, the RLIMIT_STACK soft limit), charged at glibc's internal mprotect.
 * 0 when the caller supplies its own stack. *guard: the attribute's guard size (the
 * default one page): with a guard glibc maps the stack PROT_NONE first, and that mapping
 * is in total_vm when the kernel checks the mprotect (diagnose.c). */
static int (*getattr_default)(pthread_attr_t *); /* glibc 2.18+: looked up, not linked */
static int getattr_default_looked;

static int64_t model_stack(const pthread_attr_t *attr, int64_t *guard)
{
    *guard = 4096;
    pthread_attr_t def;
    const pthread_attr_t *a = attr;
    __typeof__(&pthread_attr_getstack) getstack = LATE(pthread_attr_getstack);
    __typeof__(&pthread_attr_getstacksize) getstacksize = LATE(pthread_attr_getstacksize);
    if (!getstack || !getstacksize) return 0;
    if (!a) {
        if (!__atomic_load_n(&getattr_default_looked, __ATOMIC_ACQUIRE)) {
            int ifunc;
            __atomic_store_n(&getattr_default, elf_next_symbol("pthread_getattr_default_np", ELFSYM_ANY, &ifunc),
                             __ATOMIC_RELEASE);
            __atomic_store_n(&getattr_default_looked, 1, __ATOMIC_RELEASE);
        }
        int (*gd)(pthread_attr_t *) = __atomic_load_n(&getattr_default, __ATOMIC_ACQUIRE);
        if (!gd || gd(&def) != 0) return 0;
        a = &def;
    }
    void *lo = NULL;
    size_t size = 0, ssz = 0;
    /* glibc keeps the stack's top; without a user stack it is NULL, so lo + size == 0 */
    getstack(a, &lo, &ssz);
    int user = (uintptr_t)lo + ssz != 0;
    getstacksize(a, &size);
    size_t g = 4096;
    __typeof__(&pthread_attr_getguardsize) getguard = LATE(pthread_attr_getguardsize);
    if (getguard && getguard(a, &g) == 0) *guard = (int64_t)g;
    if (a == &def) pthread_attr_destroy(&def);
    return user ? 0 : (int64_t)size;
}

OSH_EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    ENSURE(pthread_create);
    if (OSH_UNLIKELY(!REAL(pthread_create)) && !resolve_late((void **)&REAL(pthread_create), "pthread_create"))
        return ENOSYS;
    if (!READY()) return REAL(pthread_create)(t, attr, fn, arg);
    osh_enter();
    int64_t guard = 0;
    int64_t stack = model_stack(attr, &guard);
    osh_leave();
    int g = gate(CALL_PTHREAD_CREATE, (uint64_t)(uintptr_t)attr, (uint64_t)stack, (uint64_t)guard);
    if (g) return g; /* pthread_create returns the error; errno is left alone */
    osh_enter();
    struct thread_rec *rec = ledger_thread_prepare(ledger_self(), stack);
    if (rec) {
        rec->start = fn;
        rec->start_arg = arg;
    }
    osh_leave();
    if (!rec) return REAL(pthread_create)(t, attr, fn, arg);
    int rc = REAL(pthread_create)(t, attr, trampoline, rec);
    if (rc != 0) {
        int e = errno;
        osh_enter();
        ledger_thread_discard(rec);
        if (rc == EAGAIN || rc == ENOMEM) {
            errno = rc;
            osh_refused(CALL_PTHREAD_CREATE, rc, (uint64_t)(uintptr_t)attr, (uint64_t)stack, (uint64_t)guard, 0, 0, 0);
        }
        osh_leave();
        errno = e;
    }
    if (OSH_UNLIKELY(osh_timeline)) {
        osh_enter();
        timeline_tick();
        osh_leave();
    }
    return rc;
}

/* The name a thread is given, kept for its record after it exits (reading the name
 * at exit would cost a system call per thread). */
OSH_EXPORT int pthread_setname_np(pthread_t th, const char *name)
{
    ENSURE(pthread_setname_np);
    if (!REAL(pthread_setname_np) && !resolve_late((void **)&REAL(pthread_setname_np), "pthread_setname_np"))
        return ENOSYS;
    int rc = REAL(pthread_setname_np)(th, name);
    if (rc == 0 && READY()) {
        osh_enter();
        ledger_thread_named(th, name);
        osh_leave();
    }
    return rc;
}

/* --- processes ------------------------------------------------------------ */
static int spawn_common(enum call_id id, int rc, const char *path)
{
    if (rc == ENOMEM || rc == EAGAIN) {
        int e = errno;
        osh_enter();
        errno = rc;
        osh_refused(id, rc, (uint64_t)(uintptr_t)path, 0, 0, 0, 0, 0);
        osh_leave();
        errno = e;
    }
    return rc;
}

/* posix_spawn and posix_spawnp differ only in how the file is found. */
#define SPAWN_WRAPPER(name, ID)                                                                            \
    OSH_EXPORT int name(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,                 \
                       const posix_spawnattr_t *at, char *const argv[], char *const envp[])                \
    {                                                                                                      \
        ENSURE_OR(name, return EAGAIN);                                                                    \
        int g = READY() ? gate(ID, (uint64_t)(uintptr_t)file, 0, 0) : 0;                                   \
        if (g) return g;                                                                                   \
        int rc = REAL(name)(pid, file, fa, at, argv, envp);                                                \
        return READY() ? spawn_common(ID, rc, file) : rc;                                                  \
    }
SPAWN_WRAPPER(posix_spawn, CALL_POSIX_SPAWN)
SPAWN_WRAPPER(posix_spawnp, CALL_POSIX_SPAWNP)

