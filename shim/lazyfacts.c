/* See lazyfacts.h. Each fact is a few system calls (no allocation, no lock), made by
 * the first caller; two threads that race both compute the same value. They keep
 * working where a start-time read could not have helped either: without a free
 * descriptor the mode reads as 0, as an unreadable file did at start. */
#include "lazyfacts.h"

#include "kmodel.h"
#include "policy.h"
#include "sysstate.h"

static int mode = -1, uncharges = -1;

int facts_ledger_mode(void)
{
    int m = __atomic_load_n(&mode, __ATOMIC_RELAXED);
    if (__builtin_expect(m >= 0, 1)) return m;
    int64_t live = sys_read_long("/proc/sys/vm/overcommit_memory");
    m = policy_mode(live >= 0 && live <= 2 ? (int)live : 0);
    __atomic_store_n(&mode, m, __ATOMIC_RELAXED);
    return m;
}

int facts_mprotect_uncharges(void)
{
    int u = __atomic_load_n(&uncharges, __ATOMIC_RELAXED);
    if (__builtin_expect(u >= 0, 1)) return u;
    struct kmodel_kernel live;
    char release[128];
    const struct kmodel_kernel *mk = policy_kernel();
    if (!mk) {
        sys_kernel_release(release, sizeof release);
        if (kmodel_parse_release(release, &live) == 0) mk = &live;
    }
    u = mk ? mk->mprotect_uncharge : 1;
    __atomic_store_n(&uncharges, u, __ATOMIC_RELAXED);
    return u;
}
