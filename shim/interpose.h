/* What every wrapper file shares: the real symbol resolved on first use, the test
 * for "the shim may work here", asking policy (simulation, injection) before the
 * real call, and reporting a refusal the kernel made. */
#ifndef OVERSHIM_INTERPOSE_H
#define OVERSHIM_INTERPOSE_H

#include "common.h"
#include "failure.h"
#include "policy.h"
#include "resolve.h"

#define ENSURE(name)                                                                                \
    do {                                                                                            \
        if (OS_UNLIKELY(!REAL(name))) resolve_all();                                                \
    } while (0)
#define READY() (OS_LIKELY(os_active) && OS_LIKELY(!os_guard))

/* Policy's answer before the real call: 0, or the errno to fail it with (the report
 * is written). model=0: injection rules only. Call only when os_policy is set. */
static inline int os_gate(enum call_id id, int model, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                          uint64_t a4, uint64_t a5)
{
    struct failed_call fc = {.id = id, .a = {a0, a1, a2, a3, a4, a5}};
    os_enter();
    int e = policy_gate_model(&fc, model);
    os_leave();
    return e;
}

/* The kernel refused the call: diagnose and report it. Caller is inside os_enter. */
static inline void os_refused(enum call_id id, int err, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                              uint64_t a4, uint64_t a5)
{
    struct failed_call fc = {.id = id, .a = {a0, a1, a2, a3, a4, a5}, .err = err};
    failure_report(&fc);
}

#endif
