/* The public API of include/overshim.h. */
#include "../include/overshim.h"

#include <string.h>

#include "common.h"
#include "ledger.h"
#include "report.h"
#include "state.h"

OS_EXPORT int overshim_active(void) { return os_active; }

OS_EXPORT int overshim_stats(struct overshim_stats *st)
{
    if (!os_active || !st) return -1;
    struct ledger_totals t;
    os_enter();
    ledger_lock();
    ledger_totals(&t);
    ledger_unlock();
    os_leave();
    memset(st, 0, sizeof *st);
    st->committed_bytes = t.committed;
    st->peak_committed_bytes = t.peak_committed;
    st->malloc_bytes = t.malloc_live;
    st->ranges = t.nranges;
    st->threads = t.nthreads;
    st->failures = (uint64_t)os_st.nfailures;
    return 0;
}

OS_EXPORT int overshim_write_summary(void)
{
    if (!os_active) return -1;
    os_enter();
    int r = report_summary_now();
    os_leave();
    return r;
}
