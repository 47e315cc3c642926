/* Shared definitions for every shim source file: branch hints, the re-entrancy
 * guard, visibility. Everything here is internal (hidden) unless marked OS_EXPORT. */
#ifndef OVERSHIM_COMMON_H
#define OVERSHIM_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define OS_LIKELY(x) __builtin_expect(!!(x), 1)
#define OS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define OS_EXPORT __attribute__((visibility("default")))
#define OS_TLS __thread __attribute__((tls_model("initial-exec")))
#define OS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Depth of shim work on this thread. Non-zero: every wrapper goes straight to the
 * real function (calls made by the shim itself, by jemalloc, by libunwind, and by
 * a signal handler that interrupted the shim on this thread). */
extern OS_TLS int os_guard;

/* Set once the constructor has parsed valid options; 0 means pure pass-through. */
extern int os_active;

static inline void os_enter(void) { os_guard++; }
static inline void os_leave(void) { os_guard--; }

#endif
