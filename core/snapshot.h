/* The snapshot file (docs/contracts.md): a production box described in plain text, as an
 * operator can assemble it with `uname -r`, `sysctl vm`, /proc/meminfo and
 * /proc/zoneinfo, or with `overshim snapshot`. Parsing is pure and never
 * allocates; a malformed file gives one error naming the line. */
#ifndef OVERSHIM_SNAPSHOT_H
#define OVERSHIM_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "kmodel.h"

struct snapshot {
    char release[128];
    struct kmodel_kernel k;
    int64_t page_size;
    int cap_sys_admin;
    int ncpus;
    /* sysctl; -1 = absent (the kernel's default applies) */
    int64_t overcommit_memory, overcommit_ratio, overcommit_kbytes, admin_reserve_kbytes, user_reserve_kbytes;
    int64_t max_map_count, min_free_kbytes, threads_max, pid_max;
    struct kmodel_meminfo mi;
    int64_t totalreserve;    /* from [zoneinfo]; -1 without it */
    int has_zoneinfo;
};

/* Parse text; 0, or -1 with "line N: ..." in err. */
int snapshot_parse(const char *text, struct snapshot *s, char *err, size_t errcap);
/* The kernel's defaults for absent keys, then the model's input (pages). */
void snapshot_input(const struct snapshot *s, struct kmodel_input *in);

#endif
