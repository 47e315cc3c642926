/* The shim's own share of the process (issue 11: it must not move the program's
 * failure points unseen): the address space, mappings and commit of its image (which
 * holds its private libunwind: it loads no library of its own), of its report stack,
 * its fork page and its heap, counted from /proc/self/maps at report time. */
#ifndef OVERSHIM_FOOTPRINT_H
#define OVERSHIM_FOOTPRINT_H

#include <stdint.h>

struct footprint {
    uint64_t vm_bytes;        /* address space (counts against RLIMIT_AS) */
    int64_t mappings;         /* VMAs (count against vm.max_map_count) */
    uint64_t committed_bytes; /* private writable: charged to Committed_AS (the report stack in mode 2 only) */
};

/* mode: vm.overcommit_memory the kernel charges by. 0, or -1 (nothing known). */
int footprint_read(struct footprint *f, int mode);

#endif
