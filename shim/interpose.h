/* What every wrapper file shares: the real symbol resolved on first use, the test
 * for "the shim may work here", asking policy (simulation, injection) before the
 * real call, and reporting a refusal the kernel made. */
#ifndef OVERSHIM_INTERPOSE_H
#define OVERSHIM_INTERPOSE_H

#include <errno.h>
#include <sys/syscall.h>

#include "common.h"
#include "failure.h"
#include "policy.h"
#include "rawsys.h"
#include "resolve.h"
#include "timeline.h"

#define ENSURE(name)                                                                                \
    do {                                                                                            \
        if (OSH_UNLIKELY(!REAL(name))) resolve_all();                                                \
    } while (0)

/* The same, for a wrapper that must not call through an empty slot: while resolve_all
 * runs on this thread (a signal handler that interrupted it, in the first microseconds
 * of the process's first wrapped call), it returns at once and the slot is still
 * NULL; the wrapper then does FALLBACK instead (a system call of its own, or a failure
 * with errno), as it does when libc lacks the function. */
#define ENSURE_OR(name, ...)                                                                        \
    do {                                                                                            \
        if (OSH_UNLIKELY(!REAL(name))) {                                                            \
            resolve_all();                                                                          \
            if (OSH_UNLIKELY(!REAL(name))) {                                                        \
                __VA_ARGS__;                                                                        \
            }                                                                                       \
        }                                                                                           \
    } while (0)

#define READY() (OSH_LIKELY(osh_active) && OSH_LIKELY(!osh_guard))

/* Policy's answer before the real call: 0, or the errno to fail it with (the report
 * is written). model=0: injection rules only. Call only when osh_policy or osh_timeline is set
 * (the trace records the request, and a sample may be taken, before the policy). */
static inline int osh_gate(enum call_id id, int model, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                          uint64_t a4, uint64_t a5)
{
    struct failed_call fc = {.id = id, .a = {a0, a1, a2, a3, a4, a5}};
    osh_enter();
    if (OSH_UNLIKELY(osh_timeline)) {
        timeline_tick();
        timeline_request(&fc, model);
    }
    int e = osh_policy ? policy_gate_model(&fc, model) : 0;
    if (OSH_UNLIKELY(e) && osh_timeline) timeline_refusal(&fc);
    osh_leave();
    return e;
}

/* The kernel refused the call: diagnose and report it. Caller is inside osh_enter. */
static inline void osh_refused(enum call_id id, int err, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                              uint64_t a4, uint64_t a5)
{
    struct failed_call fc = {.id = id, .a = {a0, a1, a2, a3, a4, a5}, .err = err};
    if (OSH_UNLIKELY(osh_timeline)) timeline_refusal(&fc);
    failure_report(&fc);
}

#endif
