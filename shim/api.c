/* The public API of include/overshim.h. */
#include "../include/overshim.h"

#include <string.h>

#include "common.h"
#include "ledger.h"
#include "report.h"
#include "state.h"

OSH_EXPORT int overshim_active(void) { return osh_active; }

OSH_EXPORT int overshim_stats(struct overshim_stats *st)
{
    if (!osh_active || !st) return -1;
    struct ledger_totals t;
    osh_enter();
    ledger_lock();
    ledger_totals(&t);
    ledger_unlock();
    osh_leave();
    memset(st, 0, sizeof *st);
    st->committed_bytes = t.committed;
    st->peak_committed_bytes = t.peak_committed;
    st->malloc_bytes = t.malloc_live;
    st->ranges = t.nranges;
    st->threads = t.nthreads;
    st->failures = (uint64_t)osh_st.nfailures;
    return 0;
}

OSH_EXPORT int overshim_write_summary(void)
{
    if (!osh_active) return -1;
    osh_enter();
    int r = report_summary_now();
    osh_leave();
    return r;
}
