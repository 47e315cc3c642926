/* Process-wide state of the shim, filled once by the constructor (init.c). */
#ifndef OVERSHIM_STATE_H
#define OVERSHIM_STATE_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"
#include "options.h"
#include "output.h"


/* Process-wide state. After a fork the child writes a field here only when it must
 * change (the counters are zero in a parent that never reported), so a fork child
 * usually pays no copy-on-write fault for it. */
struct osh_state {
    int fork_wiped;          /* osh_fs is the MADV_WIPEONFORK page */
    int secure;              /* AT_SECURE: options ignored, reports to stderr only */
    uint64_t start_ns;
    pid_t pid;               /* this process (updated in a fork child) */
    struct out_stream log, json;
    uint64_t last_enomem_ns; /* 0 = none */
    int nreports;            /* full reports written */
    /* Refusals seen, and how they were told; each claimed with an atomic add before
     * any work, so that past the budgets a refusal costs only the add. */
    int nfailures;           /* every refusal */
    int nclaimed;            /* refusals that claimed a full report (up to max_reports) */
    int nbrief_claimed;      /* refusals that claimed a brief event (up to max_brief) */
    int nbrief;              /* brief events written */
    int nunreported;         /* refusals only counted: past max_brief, or no report stack */
    int nnotes;              /* refusals the program goes on from (HotSpot's large-page probe): one line each */
    int exit_done;
    int wrote_events;        /* something went to the files: an exit event follows */
    uint64_t first_report_us; /* failure to first report written, microseconds (0: none) */
    struct osh_options opt;   /* read-only after start */
};

extern struct osh_state osh_st;

#endif
