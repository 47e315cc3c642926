/* Everything diagnose needs to know about the running system and process at the
 * moment of a refusal, read from /proc and getrlimit into one struct (no
 * allocation). The simulator fills the same struct from a snapshot. */
#ifndef OVERSHIM_LIVESTATE_H
#define OVERSHIM_LIVESTATE_H

#include <stdint.h>
#include <sys/resource.h>

#include "kmodel.h"

#define LS_UNLIMITED INT64_MAX

struct live_state {
    char release[128];
    struct kmodel_kernel k;
    struct kmodel_input in;
    struct kmodel_meminfo mi;
    int64_t max_map_count, min_free_kbytes;
    int64_t map_count, vm_size_pages, vm_data_pages; /* the process now */
    int64_t rlim_as, rlim_data, rlim_nproc, rlim_stack; /* soft limits in bytes (LS_UNLIMITED) */
    int64_t rlim_data_max;
    int64_t threads_max, pid_max, nr_tasks;  /* nr_tasks: all tasks of the system */
    int64_t user_tasks;                       /* tasks of this real uid (-1 unknown) */
    int64_t pids_max, pids_current;           /* pids cgroup (-1 none) */
    int64_t hugepages_free, hugepagesize_kb;
    int64_t ruid;
    int cap_sys_resource;
    int totalreserve_from_zoneinfo;
    /* The shim's own share of the process (footprint.h), when it reports a real
     * refusal; 0 elsewhere (the command, the simulator). */
    int64_t own_vm_pages, own_maps, own_commit_pages;
};

/* Read the live system. `full`: also the costly parts (task counts). */
void livestate_read(struct live_state *s, int full);
/* Fill the meminfo-derived part of s from meminfo text (also used by snapshots). */
void livestate_meminfo(struct live_state *s, const char *meminfo_text);

#endif
