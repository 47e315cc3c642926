/* Everything diagnose needs to know about the running system and process at the
 * moment of a refusal, read from /proc and getrlimit into one struct (no
 * allocation). The simulator fills the same struct from a snapshot. */
#ifndef OVERSHIM_LIVESTATE_H
#define OVERSHIM_LIVESTATE_H

#include <stdint.h>
#include <sys/resource.h>

#include "kmodel.h"

#define LS_UNLIMITED INT64_MAX

/* The program that was refused, so that remedies are in its own terms: JVM flags for a
 * JVM only (libjvm is loaded), Python's and node's own knobs for them, generic words for
 * everything else. Filled by the shim at report time (runtime.c); all zero (a native
 * program outside systemd) in the command and in unit tests unless a test sets it. */
enum prog_runtime { RT_NATIVE = 0, RT_JVM, RT_PYTHON, RT_NODE };

struct prog_facts {
    int runtime;            /* enum prog_runtime */
    char service[96];       /* the systemd unit it runs in ("x.service", from /proc/self/cgroup), or "" */
    /* HotSpot's sizes from its command line (/proc/self/cmdline), bytes; 0: not given */
    int64_t xmx, xms, xss, code_cache, class_space, max_direct;
    int tiered_off, share_off; /* -XX:-TieredCompilation (48 MiB code cache), -Xshare:off (no CDS archive) */
    int jvm_starting;       /* the refused call is under JNI_CreateJavaVM: the JVM has not started yet */
    int java_malloc;        /* a malloc libjvm made for Java code (Unsafe.allocateMemory: direct buffers) */
    int64_t arena_max;      /* MALLOC_ARENA_MAX from the environment; 0: glibc's default (8 per CPU) */
    int64_t malloc_live_bytes; /* what the process's mallocs hold (the ledger); -1: unknown */
    int huge_fallback;      /* a program known to go on with normal pages when MAP_HUGETLB fails (PostgreSQL) */
};

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
    struct prog_facts prog;
    int64_t proc_ac_pages;  /* the process's own share of Committed_AS (smaps `ac`, or the simulator's
                               count of it); -1: unknown */
    /* brk's first check, check_data_rlimit: (brk - start_brk) + (end_data - start_data) against
     * RLIMIT_DATA; bytes from /proc/self/stat and brk(0); 0: unknown */
    int64_t start_brk, cur_brk, start_data, end_data;
    int model_exact;        /* Committed_AS is the count the check itself uses (the simulator's), so the
                               per-cpu counter's error band does not apply */
};

/* Read the live system. `full`: also the costly parts (task counts). */
void livestate_read(struct live_state *s, int full);
/* Fill the meminfo-derived part of s from meminfo text (also used by snapshots). */
void livestate_meminfo(struct live_state *s, const char *meminfo_text);

#endif
