/* A refused call, as the wrappers describe it to diagnose/report. */
#ifndef OVERSHIM_FAILURE_H
#define OVERSHIM_FAILURE_H

#include <stdint.h>

/* mremap's flag of Linux 5.7, which glibc's <sys/mman.h> declares only from 2.32 on
 * (bullseye has 2.31); the value is the kernel's ABI (include/uapi/linux/mman.h). */
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

enum call_id {
    CALL_MMAP, CALL_MMAP64, CALL_MUNMAP, CALL_MREMAP, CALL_MPROTECT, CALL_BRK, CALL_SBRK,
    CALL_MALLOC, CALL_CALLOC, CALL_REALLOC, CALL_REALLOCARRAY, CALL_POSIX_MEMALIGN, CALL_ALIGNED_ALLOC,
    CALL_MEMALIGN, CALL_VALLOC, CALL_PVALLOC, CALL_CLONE, CALL_PTHREAD_CREATE, CALL_FORK,
    CALL_POSIX_SPAWN, CALL_POSIX_SPAWNP, CALL_FALLOCATE, CALL__COUNT
};

struct failed_call {
    enum call_id id;
    uint64_t a[6];     /* arguments as the caller passed them (see report_call.c for each call) */
    int err;           /* ENOMEM or EAGAIN */
    int simulated;     /* refused by the shim's policy, not by the kernel */
    uint64_t when_ns;
};

const char *call_name(enum call_id id);

/* Diagnose and report a refusal the kernel made. Up to max_reports, a full report
 * on the report stack (rstack.h); then up to max_brief one-line events that read
 * nothing from /proc; then only a count. */
void failure_report(struct failed_call *fc);
/* Policy's refusals, on the report stack already (rstack_run), with the state and
 * verdict it decided by: decided claims a full report or falls back to a brief
 * event; claimed has claimed one with failure_claim_full(). */
struct live_state;
struct diagnosis;
struct smaps_facts;
/* decided: the report fills in what the program is (runtime.h) and diagnoses again with
 * the same state and facts, for remedies in the program's own terms. */
void failure_report_decided(struct failed_call *fc, const struct live_state *st, const struct smaps_facts *f,
                            const struct diagnosis *d);
void failure_report_claimed(struct failed_call *fc, const struct live_state *st, const struct diagnosis *d);
/* Count a refusal; non-zero when it may have a full report (fewer than max_reports). */
int failure_claim_full(void);
/* An injected refusal past max_reports: a brief event, from the caller's stack. */
void failure_brief_injected(struct failed_call *fc);

#endif
