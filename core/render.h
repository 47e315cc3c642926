/* The parts of a report that are the verdict, the call and the system, as text and as
 * JSON, from a diagnosis and the state it was made with (the shim's report and the
 * command's replay render with them). Pure. */
#ifndef OVERSHIM_RENDER_H
#define OVERSHIM_RENDER_H

#include <stddef.h>

#include "diagnose.h"
#include "fmt.h"
#include "frame.h"

const char *render_errno_name(int e);
/* vm.overcommit_memory's meaning: "heuristic", "always", "never (strict)" */
const char *render_mode_name(int m);
/* enum prog_runtime: "jvm", "python", "node", "native" */
const char *render_runtime_name(int rt);
/* The verdict object ({...}, the value of "verdict"): the cause, every term, the explanation, the remedies */
void render_verdict_json(struct fmtbuf *j, const struct diagnosis *d, const struct live_state *ls);
/* "system":{...}: meminfo, the vm sysctls, rlimits; simulated_from: the snapshot's path, or NULL */
void render_system_json(struct fmtbuf *j, const struct live_state *ls, const char *simulated_from);
/* "stack":[...] */
void render_stack_json(struct fmtbuf *j, const struct frame *fr, int n);
/* The ARITHMETIC block of the text report */
void render_arithmetic_text(struct fmtbuf *t, const struct diagnosis *d, const struct live_state *ls);
/* What the refused call returned, as the caller sees it, into b */
const char *render_call_result(const struct failed_call *fc, char *b, size_t cap);

#endif
