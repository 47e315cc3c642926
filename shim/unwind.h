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
/* The shim's own image, [lo, hi) over its PT_LOAD segments (frames inside it are
 * skipped). */
void unwind_self_range(uintptr_t *lo, uintptr_t *hi);

#endif
