/* fork: the wrapper, the atfork handlers that hand the shim's locks over, the
 * fix-up a child does the first time the shim runs in it, and the exit wrappers. All of the code a fork
 * executes sits in one page-aligned section (OS_FORK_TEXT): a fork child faults in
 * each page of text it runs (the kernel does not copy page tables of file
 * mappings at fork): README, Overhead, has the cost. */
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "common.h"
#include "failure.h"
#include "heap.h"
#include "ledger.h"
#include "region_rec.h"
#include "policy.h"
#include "rawsys.h"
#include "report.h"
#include "interpose.h"
#include "resolve.h"
#include "state.h"
#include "touched.h"
#include "timeline.h"


OS_EXPORT OS_FORK_TEXT __attribute__((aligned(4096))) pid_t fork(void)
{
    if (OS_UNLIKELY(!REAL(fork))) resolve_all();
    if (!READY()) return REAL(fork)();
    if (OS_UNLIKELY(os_policy | os_timeline)) {
        int e = os_gate(CALL_FORK, 1, 0, 0, 0, 0, 0, 0);
        if (e) {
            errno = e;
            return -1;
        }
    }
    pid_t r = REAL(fork)();
    if (r < 0 && (errno == ENOMEM || errno == EAGAIN)) {
        int e = errno;
        os_enter();
        os_refused(CALL_FORK, e, 0, 0, 0, 0, 0, 0);
        os_leave();
        errno = e;
    }
    return r;
}

/* The report lock is waited for a second at most: a reporter holds it while the
 * unwinder takes the loader lock, and a fork from a library constructor (dlopen holds
 * the loader lock) would otherwise wait for it forever. Without it the child starts
 * with the lock free all the same (the MADV_WIPEONFORK page, or postfork_child). */
static int report_locked_for_fork;

OS_FORK_TEXT static void prefork(void)
{
    if (!os_active) return;
    os_enter();
    report_locked_for_fork = report_lock_for(1) == 0;
    ledger_prefork();
    heap_prefork();
}

OS_FORK_TEXT static void postfork_parent(void)
{
    if (!os_active) return;
    heap_postfork_parent();
    ledger_postfork_parent();
    if (report_locked_for_fork) report_unlock();
    os_leave();
}

/* The child writes nothing it need not: with the MADV_WIPEONFORK page its locks
 * are already unlocked and it is already marked for its fix-up; the counters are
 * cleared only when the parent had set them (a write would copy os_st's page). */
OS_FORK_TEXT static void postfork_child(void)
{
    if (!os_active) return;
    if (!os_st.fork_wiped) {
        static const pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
        os_fs->heap_mu = fresh;
        os_fs->ledger_mu = fresh;
        os_fs->report_mu = fresh;
        os_fs->live = 0;
    }
    if (os_st.exit_done) os_st.exit_done = 0;
    if (os_st.wrote_events) os_st.wrote_events = 0;
    if (os_st.nreports) os_st.nreports = 0;
    if (os_st.nfailures)
        os_st.nfailures = os_st.nclaimed = os_st.nbrief_claimed = os_st.nbrief = os_st.nunreported = os_st.nnotes = 0;
    os_leave();
}

void os_fork_fixup(void)
{
    if (__atomic_exchange_n(&os_fs->live, 1, __ATOMIC_ACQ_REL)) return;
    os_enter();
    os_st.pid = raw_getpid();
    touched_reset();
    timeline_fork_child();
    ledger_postfork_child();
    region_postfork_child();
    os_leave();
}

/* --- exit: here, beside fork, because a fork child often leaves at once ------------------------------------------------------------------ */
/* The three are one wrapper: the exit event (when one is due; a fork child starts
 * with nothing written), the timeline's clean exit, then the real function. */
#define EXIT_WRAPPER(name)                                                                               \
    OS_EXPORT OS_FORK_TEXT void name(int status)                                                         \
    {                                                                                                    \
        ENSURE(name);                                                                                    \
        if (READY() && (os_st.opt.report_at_exit || os_st.wrote_events || os_st.nfailures)) {            \
            os_enter();                                                                                  \
            report_exit(#name, status, 1);                                                               \
            os_leave();                                                                                  \
        }                                                                                                \
        if (READY() && OS_UNLIKELY(os_timeline)) {                                                       \
            os_enter();                                                                                  \
            timeline_exit(#name, status, 1);                                                             \
            os_leave();                                                                                  \
        }                                                                                                \
        REAL(name)(status);                                                                              \
        __builtin_unreachable();                                                                         \
    }
EXIT_WRAPPER(exit)
EXIT_WRAPPER(_exit)
EXIT_WRAPPER(_Exit)

void fork_init(void);
/* __register_atfork is what pthread_atfork (a stub in libc_nonshared.a) calls: one page
 * of text fewer at start. GLIBC_2.3.2, in every glibc. */
extern void *__dso_handle __attribute__((visibility("hidden")));
int __register_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void), void *dso);
__attribute__((section(".text.startup"))) void fork_init(void) { __register_atfork(prefork, postfork_parent, postfork_child, __dso_handle); }
