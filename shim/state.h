/* Process-wide state of the shim, filled once by the constructor (init.c). */
#ifndef OVERSHIM_STATE_H
#define OVERSHIM_STATE_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "options.h"
#include "output.h"

/* Everything a fork makes the parent and the child write (the shim's three locks
 * and the per-process fields) lives in this one page-aligned block: after fork each
 * side pays one copy-on-write fault for the shim, not one per lock (measured:
 * ~170 us per fork with them spread over several pages). */
struct os_state {
    pthread_mutex_t heap_mu, ledger_mu, report_mu;
    int secure;              /* AT_SECURE: options ignored, reports to stderr only */
    uint64_t start_ns;
    pid_t pid;               /* this process (updated in a fork child) */
    char kernel_release[128];
    int overcommit_mode;     /* vm.overcommit_memory read at start */
    struct out_stream log, json;
    uint64_t last_enomem_ns; /* 0 = none */
    int nreports;            /* full reports written */
    int nfailures;
    int exit_done;
    int wrote_events;        /* something went to the files: an exit event follows */
    int forked;              /* a fork child that has not yet done its fix-up (os_fork_fixup) */
    uint64_t first_report_us; /* failure to first report written, microseconds (0: none) */
    struct os_options opt;   /* read-only after start */
};

extern struct os_state os_st;

/* In a fork child, the work the atfork handler leaves for the first time the shim
 * runs: the child's pid and tid, the other threads marked gone, the pagemap fd.
 * (Executing shim code in the child faults in its text pages, ~15-30 us each on
 * this machine kind, so the handler itself only resets a few words.) */
void os_fork_fixup(void);
static inline void os_process_check(void)
{
    if (__builtin_expect(os_st.forked, 0)) os_fork_fixup();
}

#endif
