/* What the ledger's two files share (ledger.c: the ranges, the charge; ledger_threads.c:
 * the thread records). Internal to them; every call with the ledger lock held. */
#ifndef OVERSHIM_LEDGER_INT_H
#define OVERSHIM_LEDGER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

/* What is changing the ledger, for the timeline's records of each charge. */
extern int ledger_cur_op;
extern uintptr_t ledger_cur_lo;
extern size_t ledger_cur_len;
#define LEDGER_OP(op, lo, len) (ledger_cur_op = (op), ledger_cur_lo = (uintptr_t)(lo), ledger_cur_len = (size_t)(len))
/* Bytes of the ledger's ranges and modelled stacks (the trace's VmSize between samples). */
extern int64_t ledger_proc_mapped;

/* Charge bytes (negative: uncharge) to t and the process. */
void ledger_charge(struct thread_rec *t, int64_t bytes);
/* Forget what is recorded in [lo, hi); record nr (not overlapping anything). */
void ledger_clip(uintptr_t lo, uintptr_t hi);
void ledger_insert(const struct range *nr);
/* t owns d more ranges; an exited record that nothing refers to any more is recycled. */
void ledger_own(struct thread_rec *t, int d);
void ledger_maybe_recycle(struct thread_rec *t);
/* The threads' part of ledger_totals. */
void ledger_thread_totals(struct ledger_totals *out);

#endif
