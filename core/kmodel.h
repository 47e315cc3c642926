/* The kernel model: how each Linux era decides __vm_enough_memory and which
 * mappings it charges (docs/kernel.md §1, §2, §6, §7, §9). Pure functions, no
 * I/O: unit-tested with hand-computed pages. Units are pages unless a name says
 * kB or bytes. */
#ifndef OVERSHIM_KMODEL_H
#define OVERSHIM_KMODEL_H

#include <stdint.h>

#include "cause.h"

enum kera {
    KERA_2_6_32 = 0, /* <= 3.0: two-stage heuristic, 3% root reserve */
    KERA_RHEL6,      /* 2.6.32-*.el6 hybrid: admin_reserve + overcommit_kbytes backported */
    KERA_3_1,        /* 3.1 - 3.9: single sum, 3% root reserve */
    KERA_3_10,       /* 3.10 - 5.1: admin/user reserves */
    KERA_5_2,        /* 5.2+: mode 0 compares one request with RAM + swap */
};

struct kmodel_kernel {
    enum kera era;
    int major, minor, patch, build; /* build: the distribution's "-957" */
    int rhel;                /* 0, 6, 7, 8, 9 */
    int has_kbytes;          /* vm_commit_limit() with overcommit_kbytes (3.14+, RHEL 6 hybrid, RHEL 7 >= -108) */
    int reclaimable_term;    /* 0 none, 1 NR_INDIRECTLY_RECLAIMABLE_BYTES (4.17-4.19), 2 NR_KERNEL_MISC_RECLAIMABLE (4.20-5.1, RHEL 8) */
    int mprotect_uncharge;   /* 6.7+: dropping write on a never-faulted anon VMA uncharges it */
    int fixed_net;           /* 6.12+: MAP_FIXED over accounted pages charges (and checks) the net only */
    int rlimit_data_mmap;    /* 4.7+: RLIMIT_DATA covers private writable mmaps (4.5/4.6: warn only) */
    int pid_enomem;          /* <= 4.0: pid exhaustion reported as ENOMEM */
    int logs_refusal;        /* 6.1+: "__vm_enough_memory: ... not enough memory" in dmesg */
    char label[24];          /* kernel_model as reports name it, e.g. "3.10-rhel7", "5.2" */
};

/* Parse a release string (`uname -r`, e.g. "3.10.0-957.el7.x86_64") or a model
 * name ("2.6.32", "3.10", "4.20", "5.2", "rhel6", "rhel7", "rhel8"). 0 or -1. */
int kmodel_parse_release(const char *rel, struct kmodel_kernel *k);

struct kmodel_input {
    int64_t page_kb;                 /* page size in kB (4) */
    int overcommit_memory;           /* 0, 1, 2 */
    int64_t overcommit_ratio;        /* percent */
    int64_t overcommit_kbytes;
    int64_t admin_reserve_kbytes, user_reserve_kbytes;
    /* pages */
    int64_t totalram, total_swap, free_swap, nr_free, file_pages, shmem, slab_reclaimable;
    /* file_pages as /proc/meminfo shows it (Cached + Buffers + SwapCached = NR_FILE_PAGES); when
     * they do not add up to file_pages (inputs made by hand) the model shows NR_FILE_PAGES whole */
    int64_t cached, buffers, swap_cached;
    int64_t misc_reclaimable, indirectly_reclaimable, hugetlb_total, totalreserve;
    int64_t committed;               /* vm_committed_as (Committed_AS) before the request */
    int cap_sys_admin;
    int ncpus;
    int totalreserve_known;          /* 0: totalreserve was not in the input (assumed 0) */
};

#define KM_MAX_TERMS 16
struct kterm {
    const char *key;  /* stable: the /proc/meminfo field or sysctl it comes from, or the kernel's name
                         for a derived term (README, "JSON events"); tests assert on it */
    const char *name; /* for people */
    char op;          /* '+' or '-' */
    int64_t pages;
};

struct kverdict {
    int refused;
    enum cause cause;       /* CAUSE_OVERCOMMIT_GUESS, _NEVER, or CAUSE_NONE (mode 1: no check) */
    const char *formula;    /* where the arithmetic comes from */
    int mode;
    int admin;
    int64_t request_pages;
    int64_t limit_pages;    /* the bound compared against (see docs/contracts.md) */
    int64_t committed_pages;/* mode 2: charged before the request; -1 where the check ignores it */
    int64_t largest_pages;  /* the largest request that would pass */
    int64_t shortfall_pages;/* refused: how many pages less would have passed; else 0 */
    int64_t batch_error_pages; /* mode 2: Committed_AS as read may differ from the exact sum by this much */
    struct kterm terms[KM_MAX_TERMS];
    int nterms;
};

/* __vm_enough_memory(mm, pages, cap_sys_admin) of the given kernel, for a
 * process whose VmSize is total_vm pages. */
void kmodel_vm_enough_memory(const struct kmodel_kernel *k, const struct kmodel_input *in, int64_t pages,
                             int64_t total_vm, struct kverdict *v);
/* vm_commit_limit(): CommitLimit in pages. */
int64_t kmodel_commit_limit(const struct kmodel_kernel *k, const struct kmodel_input *in);
/* vm_committed_as batch (per cpu) for that era and mode (docs/kernel.md §7). */
int64_t kmodel_committed_batch(const struct kmodel_kernel *k, int mode, int ncpus, int64_t totalram);
/* Mode 2: the pages by which the check's read of Committed_AS may differ from the exact sum
 * /proc/meminfo shows: batch x CPUs on 5.9+ (meminfo sums the per-cpu counter, the check reads
 * only its global part); 0 before 5.9, where both read the same global part. */
int64_t kmodel_band_pages(const struct kmodel_kernel *k, const struct kmodel_input *in);
/* Is a mapping with these prot/flags charged (VM_ACCOUNT)? mode = overcommit_memory. */
int kmodel_mmap_accountable(int prot, int flags, int mode);

/* Fill the input from meminfo-style values (kB). Fields left -1 are absent. */
struct kmodel_meminfo {
    int64_t MemTotal, MemFree, Buffers, Cached, SwapCached, Shmem, SwapTotal, SwapFree, SReclaimable,
        KReclaimable, Hugetlb, HugePages_Total, Hugepagesize, Committed_AS, CommitLimit, MemAvailable;
};
void kmodel_input_from_meminfo(struct kmodel_input *in, const struct kmodel_meminfo *m);

#endif
