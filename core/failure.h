/* A refused call, as the wrappers describe it to diagnose/report. */
#ifndef OVERSHIM_FAILURE_H
#define OVERSHIM_FAILURE_H

#include <errno.h>
#include <stdint.h>

/* mremap's flag of Linux 5.7, which glibc's <sys/mman.h> declares only from 2.32 on
 * (bullseye has 2.31); the value is the kernel's ABI (include/uapi/linux/mman.h). */
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

#define OSH_UNPAREN(...) __VA_ARGS__

enum call_id {
#define CALL(id, name, args, req, task, err) CALL_##id,
#include "calls.def"
#undef CALL
    CALL__COUNT
};

/* Each call's arguments by name (calls.def), over the same six words. */
#define CALL(id, name, args, req, task, err) struct call_args_##name { uint64_t OSH_UNPAREN args; };
#include "calls.def"
#undef CALL

struct failed_call {
    enum call_id id;
    union {
        uint64_t a[6]; /* as the wrapper recorded them: read them by name */
#define CALL(id, name, args, req, task, err) struct call_args_##name name;
#include "calls.def"
#undef CALL
    };
    int err;           /* ENOMEM or EAGAIN */
    int simulated;     /* refused by the shim's policy, not by the kernel */
    uint64_t when_ns;
};
#define CALL(id, name, args, req, task, err) \
    _Static_assert(sizeof(struct call_args_##name) <= sizeof(uint64_t[6]), #name ": at most six arguments");
#include "calls.def"
#undef CALL

/* Calls that share a record shape (read through one of them). */
_Static_assert(sizeof(struct call_args_mmap) == sizeof(struct call_args_mmap64), "mmap64 records as mmap");
_Static_assert(sizeof(struct call_args_memalign) == sizeof(struct call_args_posix_memalign) &&
                   sizeof(struct call_args_memalign) == sizeof(struct call_args_aligned_alloc),
               "the aligned allocations record alike");
_Static_assert(sizeof(struct call_args_malloc) == sizeof(struct call_args_valloc) &&
                   sizeof(struct call_args_malloc) == sizeof(struct call_args_pvalloc),
               "the sized allocations record alike");

const char *call_name(enum call_id id);
/* The bytes it asked for (calls.def's request). */
uint64_t call_request_bytes(const struct failed_call *fc);
/* 1 for the calls that make a task (thread or process). */
int call_is_task(enum call_id id);
/* The errno an injected refusal of it sets by default. */
int call_default_errno(enum call_id id);

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
