/* The shim's own heap: a private, renamed copy of Debian's jemalloc (see
 * Makefile target build/osj.o and shim/heap_glue.c). Call only under os_guard,
 * and only through os_heap_*: they serialise on one lock that is held across
 * fork, so the child never inherits a jemalloc lock. */
#ifndef OVERSHIM_HEAP_H
#define OVERSHIM_HEAP_H

#include <stddef.h>
#include <stdint.h>

void *osj_malloc(size_t size);
void *osj_calloc(size_t n, size_t size);
void *osj_realloc(void *p, size_t size);
void osj_free(void *p);

void *os_heap_alloc(size_t size); /* zeroed */
void *os_heap_realloc(void *p, size_t size);
void os_heap_free(void *p);
void heap_prefork(void);
void heap_postfork_parent(void);

/* Writable bytes the private heap has mapped (the shim's own memory). */
extern int64_t os_heap_mapped;

/* jemalloc starts on the first os_heap_* call (its constructor is dropped in the
 * Makefile): a process whose ledger fits the static storage in ledger.c never
 * starts it. */

#endif
