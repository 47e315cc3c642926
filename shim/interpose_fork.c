/* fork: the wrapper, the atfork handlers that hand the shim's locks over, the
 * fix-up a child does the first time the shim runs in it, and the exit wrappers. All of the code a fork
 * executes sits in one page-aligned section (OSH_FORK_TEXT): a fork child faults in
 * each page of text it runs (the kernel does not copy page tables of file
 * mappings at fork): README, Overhead, has the cost. */
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <unistd.h>

#include "common.h"
#include "elfsym.h"
#include "failure.h"
#include "heap.h"
#include "ledger.h"
#include "region_rec.h"
#include "policy.h"
#include "rawsys.h"
#include "report.h"
#include "interpose.h"
#include "resolve.h"
#include "startvec.h"
#include "state.h"
#include "touched.h"
#include "timeline.h"


OSH_EXPORT OSH_FORK_TEXT __attribute__((aligned(4096))) pid_t fork(void)
{
    ENSURE_OR(fork, errno = EAGAIN; return -1);
    if (!READY()) return REAL(fork)();
    if (OSH_UNLIKELY(osh_policy | osh_timeline)) {
        int e = osh_gate(CALL_FORK, 1, 0, 0, 0, 0, 0, 0);
        if (e) {
            errno = e;
            return -1;
        }
    }
    pid_t r = REAL(fork)();
    if (r < 0 && (errno == ENOMEM || errno == EAGAIN)) {
        int e = errno;
        osh_enter();
        osh_refused(CALL_FORK, e, 0, 0, 0, 0, 0, 0);
        osh_leave();
        errno = e;
    }
    return r;
}

/* The report lock is waited for a second at most: a reporter holds it while the
 * unwinder takes the loader lock, and a fork from a library constructor (dlopen holds
 * the loader lock) would otherwise wait for it forever. Without it the child starts
 * with the lock free all the same (the MADV_WIPEONFORK page, or postfork_child). */
static int report_locked_for_fork;

OSH_FORK_TEXT static void prefork(void)
{
    if (!osh_active) return;
    osh_enter();
    report_locked_for_fork = report_lock_for(1) == 0;
    ledger_prefork();
    heap_prefork();
}

OSH_FORK_TEXT static void postfork_parent(void)
{
    if (!osh_active) return;
    heap_postfork_parent();
    ledger_postfork_parent();
    if (report_locked_for_fork) report_unlock();
    osh_leave();
}

/* The child writes nothing it need not: with the MADV_WIPEONFORK page its locks
 * are already unlocked and it is already marked for its fix-up; the counters are
 * cleared only when the parent had set them (a write would copy osh_st's page). */
OSH_FORK_TEXT static void postfork_child(void)
{
    if (!osh_active) return;
    if (!osh_st.fork_wiped) {
        static const pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
        osh_fs->heap_mu = fresh;
        osh_fs->ledger_mu = fresh;
        osh_fs->report_mu = fresh;
        osh_fs->live = 0;
    }
    if (osh_st.exit_done) osh_st.exit_done = 0;
    if (osh_st.wrote_events) osh_st.wrote_events = 0;
    if (osh_st.nreports) osh_st.nreports = 0;
    if (osh_st.nfailures)
        osh_st.nfailures = osh_st.nclaimed = osh_st.nbrief_claimed = osh_st.nbrief = osh_st.nunreported = osh_st.nnotes = 0;
    osh_leave();
}

void osh_fork_fixup(void)
{
    if (__atomic_exchange_n(&osh_fs->live, 1, __ATOMIC_ACQ_REL)) return;
    osh_enter();
    osh_st.pid = raw_getpid();
    touched_reset();
    timeline_fork_child();
    ledger_postfork_child();
    region_postfork_child();
    osh_leave();
}

/* --- exit: here, beside fork, because a fork child often leaves at once ------------------------------------------------------------------ */
/* The three are one wrapper: the exit event (when one is due; a fork child starts
 * with nothing written), the timeline's clean exit, then the real function. */
#define EXIT_WRAPPER(name)                                                                               \
    OSH_EXPORT OSH_FORK_TEXT void name(int status)                                                         \
    {                                                                                                    \
        ENSURE_OR(name, raw_sc(SYS_exit_group, status, 0, 0, 0, 0, 0); __builtin_unreachable());          \
        if (READY() && (osh_st.opt.report_at_exit || osh_st.wrote_events || osh_st.nfailures)) {            \
            osh_enter();                                                                                  \
            report_exit(#name, status, 1);                                                               \
            osh_leave();                                                                                  \
        }                                                                                                \
        if (READY() && OSH_UNLIKELY(osh_timeline)) {                                                       \
            osh_enter();                                                                                  \
            timeline_exit(#name, status, 1);                                                             \
            osh_leave();                                                                                  \
        }                                                                                                \
        REAL(name)(status);                                                                              \
        __builtin_unreachable();                                                                         \
    }
EXIT_WRAPPER(exit)
EXIT_WRAPPER(_exit)
EXIT_WRAPPER(_Exit)

int fork_init(void);
/* __register_atfork is what pthread_atfork (a stub in libc_nonshared.a) calls: one page
 * of text fewer at start. GLIBC_2.3.2, in every glibc; looked up in the objects after
 * the shim's (the loader's list, startvec.h), not imported: a lazy binding and a glibc
 * symbol version fewer at every start. */
typedef int (*register_atfork_fn)(void (*prepare)(void), void (*parent)(void), void (*child)(void), void *dso);
extern void *__dso_handle __attribute__((visibility("hidden")));
extern const char __ehdr_start __attribute__((visibility("hidden")));
static char s_register_atfork[] OSH_HOT = "__register_atfork";
__attribute__((section(".text.startup"))) int fork_init(void)
{
    uintptr_t self = (uintptr_t)&__ehdr_start;
    register_atfork_fn f = NULL;
    int after = 0;
    for (const struct link_map *m = startvec_objects(); m && !f; m = m->l_next) {
        if (after) f = (register_atfork_fn)elf_dynamic_function(m->l_addr, m->l_ld, s_register_atfork, ELF_GNU_HASH_LIT("__register_atfork"));
        if (m->l_addr == self) after = 1;
    }
    if (!f) f = (register_atfork_fn)elf_next_symbol(s_register_atfork, self, NULL);
    if (!f) return -1;
    f(prefork, postfork_parent, postfork_child, __dso_handle);
    return 0;
}
