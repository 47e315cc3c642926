/* Touched pages: resident or swapped, from /proc/self/pagemap (bulk reads), with
 * mincore(2) as the fallback (resident only). touched_bytes is called only when a
 * report or summary is written, and only over committed ranges; touched_find by
 * the ledger on mprotect. */
#ifndef OVERSHIM_TOUCHED_H
#define OVERSHIM_TOUCHED_H

#include <stdint.h>

uint64_t touched_bytes(uintptr_t lo, uintptr_t hi);
/* Whether [lo, hi) has a touched page, in one system call that does not grow with
 * the number of mappings: with PAGEMAP_SCAN (Linux 6.7+) the kernel walks [lo, hi)
 * and stops at the first page present (not the zero page) or swapped; without it
 * one read looks at 128 pages around near (in [lo, hi)), zero pages counted. 1 and
 * the page's address in *at, or 0: none in what was looked at. */
int touched_find(uintptr_t lo, uintptr_t hi, uintptr_t near, uintptr_t *at);
/* Forget the cached pagemap fd (after fork the child must open its own). */
void touched_reset(void);

#endif
