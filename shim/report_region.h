/* What the refused memory was for, in a report (region.h, region_rec.h), and the
 * per-region totals of the ledger in a summary. Report lock held, on the report stack. */
#ifndef OVERSHIM_REPORT_REGION_H
#define OVERSHIM_REPORT_REGION_H

#include <stdint.h>

#include "failure.h"
#include "fmt.h"
#include "region_rec.h"
#include "unwind.h"

struct call_region {
    struct region_info info; /* kind, gc, frame; lo/hi/made_ns of the reservation when inherited */
    int inherited;           /* the call lies in a recorded reservation and takes its kind */
};

/* Classify the refused call: inside a recorded reservation its kind, else from the
 * call's own (named) frames and arguments. */
void region_of_call(const struct failed_call *fc, const struct frame *fr, int nf, struct call_region *out);
/* ,"region":{"kind":..,"detail":..,"nmt":..,"frame":..,"reservation":{..}} */
void region_json(struct fmtbuf *j, const struct call_region *cr);
/* "the JVM's Java heap (G1) commit of 512.0 MiB" (no newline) */
void region_sentence(struct fmtbuf *t, const struct call_region *cr, uint64_t bytes, int jvm, uint64_t now_ns);
/* The summary's per-region totals: ledger committed and touched bytes of every range
 * by the kind of the reservation it lies in (or of the range itself), in NMT's words;
 * j: ,"regions":[...]; t: a REGIONS block. Lock of the ledger taken here. */
struct reconcile;
void region_totals(struct fmtbuf *j, struct fmtbuf *t, const struct reconcile *rc);

#endif
