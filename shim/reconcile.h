/* Reconciliation of the ledger with the kernel's own view of the process's
 * charge: the sum of /proc/self/smaps VMAs whose VmFlags have `ac`. What the
 * kernel charges and the ledger does not know is "untracked", split by kind. */
#ifndef OVERSHIM_RECONCILE_H
#define OVERSHIM_RECONCILE_H

#include <stdint.h>

#include "smaps_read.h"

struct reconcile {
    uint64_t kernel_accountable; /* Σ Size of `ac` VMAs */
    uint64_t tracked;            /* the part of it inside ranges the ledger charged */
    uint64_t untracked;          /* kernel_accountable - tracked */
    uint64_t untracked_heap;     /* [heap]: glibc main arena grown by brk inside malloc */
    uint64_t untracked_stack;    /* [stack]: the main thread's stack */
    uint64_t untracked_file;     /* private writable file mappings: the loader's data segments */
    uint64_t untracked_anon;     /* anonymous: glibc arenas and large chunks, cached thread stacks */
    uint64_t arena_heaps;        /* glibc's per-thread arena heaps: writable anonymous VMAs the ledger does not
                                    know that start on a 64 MiB boundary (new_heap aligns to HEAP_MAX_SIZE) */
    uint64_t arena_bytes;        /* their writable size (charged in mode 2 only: they are MAP_NORESERVE) */
    uint64_t arena_rss;          /* what of it is resident */
    uint64_t shim_heap;          /* overshim's own bookkeeping heap (not the program's) */
    uint64_t vm_size;            /* Σ Size of all VMAs (VmSize) */
    uint64_t map_count;          /* VMAs */
    int ok;                      /* smaps could be read */
};

/* Scan /proc/self/smaps. Call with the ledger lock held. */
void reconcile_scan(struct reconcile *out);

#endif
