/* Simulation and fault injection: decides, before the real call, whether to
 * refuse it. Simulation emulates the kernel of a snapshot (or of this machine
 * with overrides) as docs/contracts.md describes: the snapshot is the box without the
 * program; the program's own accountable pages (smaps `ac` at start plus what it
 * commits through the wrappers, charged as the modelled kernel charges them) are
 * added to its Committed_AS; its own VmSize is total_vm; for the free-memory
 * heuristics of pre-5.2 kernels the pages it has touched since start come off
 * MemFree. The shim's own bookkeeping is never refused. */
#ifndef OVERSHIM_POLICY_H
#define OVERSHIM_POLICY_H

#include <stddef.h>

#include "failure.h"
#include "inject.h"
#include "livestate.h"

/* The injection rules (inject=), parsed at start. */
extern struct inject_set osh_inject;
/* Non-zero when simulation or injection is on: the wrappers then ask policy_gate. */
extern int osh_policy;
/* The overcommit mode the ledger should charge by (the modelled one when simulating). */
int policy_mode(int live_mode);
/* The modelled kernel, or NULL when not simulating. */
const struct kmodel_kernel *policy_kernel(void);

/* Set up from the options (snapshot file, kernel, overrides, rules). 0, or -1 with
 * one line naming the bad text in err. */
int policy_init(char *err, size_t errcap);
/* Before a call: 0 to let it through, or the errno to fail it with (the report is
 * written). model=0: the injection rules only (small mallocs are not modelled). */
int policy_gate_model(struct failed_call *fc, int model);
/* Large malloc blocks glibc maps itself: their charge, for the simulated
 * Committed_AS (bytes, + on allocation, - on free). */
void policy_malloc_mapped(long long bytes);
/* The simulated system state (for reports of simulated refusals). */
void policy_state(struct live_state *out);

#endif
