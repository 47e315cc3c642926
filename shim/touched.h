/* Touched pages: resident or swapped, from /proc/self/pagemap (bulk reads), with
 * mincore(2) as the fallback (resident only). Called only when a report or
 * summary is written, and only over committed ranges. */
#ifndef OVERSHIM_TOUCHED_H
#define OVERSHIM_TOUCHED_H

#include <stdint.h>

uint64_t touched_bytes(uintptr_t lo, uintptr_t hi);
/* Forget the cached pagemap fd (after fork the child must open its own). */
void touched_reset(void);

#endif
