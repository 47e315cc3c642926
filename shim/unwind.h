/* Stack capture on failure only (libunwind), recorded as module + offset +
 * build-id; a symbol name only where it can be trusted (an exported symbol
 * whose size covers the address). The shim's own frames are left out. Runs
 * on the report stack under the report lock (rstack.h): libunwind and the module
 * lookup then take the loader lock, which is why rstack_run waits for the report
 * lock only so long. Everything points into loaded objects: no copy, no allocation. */
#ifndef OVERSHIM_UNWIND_H
#define OVERSHIM_UNWIND_H

#include <stdint.h>

#include "frame.h"


/* Capture up to max frames above a libunwind context (rstack_context()). Returns
 * the count. */
int unwind_capture_from(void *context, struct frame *out, int max);
/* Module, offset and build-id of one address (no name): 1 found, 0 not in any object. */
int unwind_describe(uintptr_t ip, int signal_frame, struct frame *f);
/* Up to max return addresses above a context, without any lookup (cheap: for the
 * reservations, region_rec.c); the shim's own frames left out. */
int unwind_ips_from(void *context, uintptr_t *out, int max);
/* The shim's own image, [lo, hi) over its PT_LOAD segments (frames inside it are
 * skipped). */
void unwind_self_range(uintptr_t *lo, uintptr_t *hi);

#endif
