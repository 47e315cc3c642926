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
/* Data that process start writes (the constructor's path, the exit check): together
 * in .data, whose page the loader's relocations have copied already, so that a start
 * faults in no other page of the shim's data (its bss is touched by calls only). */
#define OS_HOT __attribute__((section(".data.overshim_hot")))
/* Code only process start runs (the constructor's path): next to the constructor in
 * .text.startup, so that start faults in one window of the shim's text. */
#define OS_START_TEXT __attribute__((section(".text.startup")))
#define OS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct thread_rec;

/* The shim's whole per-thread state: one initial-exec TLS block of 1.1 KiB (large
 * static TLS shrinks every thread's stack in a JVM). */
struct os_tls {
    /* Depth of shim work on this thread. Non-zero: every wrapper goes straight to
     * the real function (calls made by the shim itself, by jemalloc, by libunwind,
     * and by a signal handler that interrupted the shim on this thread). */
    int guard;
    int exiting; /* past its ledger exit: no record any more */
    struct thread_rec *self; /* this thread's ledger record, NULL until first needed */
    /* malloc bytes this thread allocated and freed outside the counts below (blocks of
     * no tcache bin, mmapped chunks, another allocator's blocks). */
    int64_t malloc_in, malloc_out;
    /* Per tcache bin (tcache.h: indexed by entry = chunksize / 16): the blocks this
     * thread allocated, and (blocks it freed << 8) | the shadow count of glibc's tcache. */
    int64_t tc_in[66], tc_out[66];
};
extern OS_TLS struct os_tls os_t;
#define os_guard (os_t.guard)

/* Set once the constructor has parsed valid options; 0 means pure pass-through. */
extern int os_active;
/* Set once the program made a task that shares its memory and a thread's TLS
 * (clone(CLONE_VM) without CLONE_SETTLS or CLONE_VFORK): from then on the memory
 * wrappers first ask os_foreign_task() (one system call). */
extern int os_shared_tls;
int os_foreign_task(void);

/* The code a fork runs (the atfork handlers and the fork wrapper): kept together
 * in one page-aligned section, so a fork child faults in one page of shim text. */
#define OS_FORK_TEXT __attribute__((section(".text.overshim_fork")))

static inline void os_enter(void) { os_guard++; }
static inline void os_leave(void) { os_guard--; }

#endif
