/* A refused call, as the wrappers describe it to diagnose/report. */
#ifndef OVERSHIM_FAILURE_H
#define OVERSHIM_FAILURE_H

#include <stdint.h>

enum call_id {
    CALL_MMAP, CALL_MMAP64, CALL_MUNMAP, CALL_MREMAP, CALL_MPROTECT, CALL_BRK, CALL_SBRK,
    CALL_MALLOC, CALL_CALLOC, CALL_REALLOC, CALL_REALLOCARRAY, CALL_POSIX_MEMALIGN, CALL_ALIGNED_ALLOC,
    CALL_MEMALIGN, CALL_VALLOC, CALL_PVALLOC, CALL_CLONE, CALL_PTHREAD_CREATE, CALL_FORK,
    CALL_POSIX_SPAWN, CALL_POSIX_SPAWNP, CALL__COUNT
};

struct failed_call {
    enum call_id id;
    uint64_t a[6];     /* arguments as the caller passed them (see report_call.c for each call) */
    int err;           /* ENOMEM or EAGAIN */
    int simulated;     /* refused by the shim's policy, not by the kernel */
    uint64_t when_ns;
};

const char *call_name(enum call_id id);

/* Diagnose and report a refusal (under os_guard). */
void failure_report(struct failed_call *fc);
/* Report a refusal that policy decided, with its state and verdict. */
struct live_state;
struct diagnosis;
void failure_report_decided(struct failed_call *fc, const struct live_state *st, const struct diagnosis *d);

#endif
