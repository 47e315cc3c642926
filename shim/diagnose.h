/* Failed call + state -> verdict: which kernel check refused it (in the order
 * the kernel checks, KERNEL.md §11), every term of that check, the shortfall,
 * and the remedies computed from the numbers. Pure: no I/O. */
#ifndef OVERSHIM_DIAGNOSE_H
#define OVERSHIM_DIAGNOSE_H

#include "failure.h"
#include "kmodel.h"
#include "livestate.h"
#include "reconcile.h"

#define DIAG_MAX_REMEDIES 6

struct diagnosis {
    enum call_id call;      /* the call diagnosed (remedies depend on it) */
    const char *cause;      /* DESIGN.md verdict.cause */
    const char *headline;   /* "the kernel's overcommit heuristic" ... */
    const char *units;      /* "pages", "mappings" or "tasks": what the numbers count */
    int estimated;          /* malloc: the request glibc would have made, estimated */
    int64_t request_pages, limit_pages, committed_pages, shortfall_pages;
    int64_t charge_pages;   /* what __vm_enough_memory was (or would be) asked for */
    struct kverdict kv;     /* terms (also used for non-overcommit causes) */
    char explanation[1024];
    char remedies[DIAG_MAX_REMEDIES][320];
    int nremedies;
};

/* facts: smaps facts for the call's range (mmap MAP_FIXED target, mprotect and
 * mremap old range) and the process's accountable VMAs. */
void diagnose(const struct failed_call *fc, const struct live_state *s, const struct smaps_facts *facts,
              struct diagnosis *d);

/* Pages of the range a call names (0 for calls without one), for smaps_facts. */
void diagnose_call_range(const struct failed_call *fc, uintptr_t *lo, uintptr_t *hi);

#endif
