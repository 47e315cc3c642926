/* Replaying a commit trace against another box's kernel model: the simulator's own steps
 * (shim/policy.c policy_state and sim_body) with the program's side taken from the trace
 * instead of the live process. Pure: no I/O. */
#ifndef OVERSHIM_REPLAYMODEL_H
#define OVERSHIM_REPLAYMODEL_H

#include <stddef.h>

#include "diagnose.h"
#include "livestate.h"
#include "overshim_flight.h"
#include "snapshot.h"

/* The box as the simulator starts from it (policy_init with simulate=). */
void replay_base(const struct snapshot *sn, struct live_state *base);

/* The first REQUEST record BOX refuses: its index in recs (d filled), or -1 when every one
 * passes. *nreq counts the REQUEST records looked at. */
long replay_first_refusal(const struct live_state *base, const struct overshim_trace_header *h,
                          const struct overshim_trace_rec *recs, size_t n, struct diagnosis *d, size_t *nreq);

/* --sweep: which input, and setting it on a base (value in its unit: percent or kB). */
enum sweep_key { SW_NONE = 0, SW_RATIO, SW_FREE, SW_SWAP };
int replay_sweep_key(const char *name);
void replay_set(struct live_state *base, int key, long long value);

#endif
