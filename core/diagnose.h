/* Failed call + state -> verdict: which kernel check refused it (in the order
 * the kernel checks, docs/kernel.md §11), every term of that check, the shortfall,
 * and the remedies computed from the numbers. Pure: no I/O. */
#ifndef OVERSHIM_DIAGNOSE_H
#define OVERSHIM_DIAGNOSE_H

#include "cause.h"
#include "failure.h"
#include "kmodel.h"
#include "livestate.h"
#include "smaps.h"

#define DIAG_MAX_REMEDIES 8
#define DIAG_REMEDY_LEN 720

struct diagnosis {
    enum call_id call;      /* the call diagnosed (remedies depend on it) */
    enum cause cause;       /* docs/contracts.md verdict.cause (cause_name renders it) */
    const char *headline;   /* "the kernel's overcommit heuristic" ... */
    const char *units;      /* "pages", "huge pages", "mappings" or "tasks": what the numbers count */
    int64_t unit_kb;        /* the size of one unit in KiB (pages, huge pages); 0 for counts */
    const char *check;      /* the kernel's comparison, for the arithmetic's heading (counts only) */
    int estimated;          /* malloc: the request glibc would have made, estimated */
    int64_t request_pages, limit_pages, committed_pages, shortfall_pages;
    int64_t charge_pages;   /* what __vm_enough_memory was (or would be) asked for */
    /* Mode 2 on a real kernel: the check reads the global part of a per-cpu counter, which may
     * be off the exact Committed_AS (what /proc/meminfo shows on 5.9+) by up to batch x CPUs
     * pages. shortfall_pages and every remedy clear that band. */
    int64_t band_pages, batch_pages;
    int within_band;        /* by the exact sum the request fits: it was refused within the band */
    int64_t fork_bound_pages; /* mode 2 fork: the largest parent that could fork (-1: none; 0 n/a) */
    struct kverdict kv;     /* terms (also used for non-overcommit causes) */
    /* Not a failure the program suffers from (HotSpot's large-page probe, which it survives):
     * the report is one line, this text, instead of a full report. */
    int note;               /* a refusal programs go on from: a one-line note, not a report */
    const char *note_kind;  /* jvm_large_page_probe, hugetlb_fallback */
    char explanation[1536];
    char remedies[DIAG_MAX_REMEDIES][DIAG_REMEDY_LEN];
    int nremedies;
};

/* facts: smaps facts for the call's range (mmap MAP_FIXED target, mprotect and
 * mremap old range) and the process's accountable VMAs. */
void diagnose(const struct failed_call *fc, const struct live_state *s, const struct smaps_facts *facts,
              struct diagnosis *d);

/* Mode 2, a fork refused: the largest parent (its accountable pages) that could fork, from the
 * model: a smaller parent lowers the child's charge and its own share of Committed_AS (and its
 * VmSize, so its user reserve) alike. band: pages the check's read may be above the exact sum. */
int64_t diagnose_fork_bound(const struct live_state *s, int64_t parent_pages, int64_t band);

/* Pages of the range a call names (0 for calls without one), for smaps_facts. */
void diagnose_call_range(const struct failed_call *fc, uintptr_t *lo, uintptr_t *hi);

#endif
