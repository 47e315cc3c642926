/* The shim's own heap (sys/heap.c): for the ledger's nodes and records only.
 * Call under osh_guard and only through osh_heap_*: they serialise on one lock that
 * is held across fork, so the child never inherits it held. Its memory comes from
 * the shim's raw mmap, so none of it ever reaches the wrappers. */
#ifndef OVERSHIM_HEAP_H
#define OVERSHIM_HEAP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

void *osh_heap_alloc(size_t size); /* zeroed, 16-byte aligned */
/* The most a block can hold and still come from a chunk (4 KiB with its header): a
 * larger one is a mapping of its own. */
#define OSH_HEAP_SMALL_MAX (4096 - 16)
void *osh_heap_realloc(void *p, size_t size);
void osh_heap_free(void *p);
/* Serialise on mu from now on (the runtime's fork-safe lock; before this call, a
 * lock of the heap's own). Call before a second thread can use the heap. */
void heap_use_lock(pthread_mutex_t *mu);
void heap_prefork(void);
void heap_postfork_parent(void);

/* Where its mappings lie: up to max [lo, hi) pairs into out (2 words each). */
int heap_extents(uintptr_t *out, int max);
/* Writable bytes the heap has mapped (the shim's own memory). */
extern int64_t osh_heap_mapped;

/* Nothing is mapped until the first osh_heap_* call: a process whose ledger fits
 * the static storage in ledger.c never maps a chunk. */

#endif
