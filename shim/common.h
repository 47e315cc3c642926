/* Shared definitions for every shim source file: branch hints, the re-entrancy
 * guard, visibility. Everything here is internal (hidden) unless marked OSH_EXPORT. */
#ifndef OVERSHIM_COMMON_H
#define OVERSHIM_COMMON_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "tcache.h"

#define OSH_EXPORT __attribute__((visibility("default")))
#define OSH_TLS __thread __attribute__((tls_model("initial-exec")))
#define OSH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct thread_rec;

/* The shim's whole per-thread state: one initial-exec TLS block of 1.2 KiB (large
 * static TLS shrinks every thread's stack in a JVM, and must fit glibc's static TLS
 * surplus when an audit module is loaded: tcache.h), the library's only TLS variable
 * (glibc/library_tls_is_one_block checks): where glibc puts it at a fixed offset
 * from the thread pointer, -OSH_TLS_K, the malloc fast paths address it as
 * %fs:constant (interpose_malloc.c). */
struct __attribute__((aligned(16))) osh_tls {
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
    int resolving; /* resolve_all is running on this thread (resolve.c) */
    /* tc_entry_taken(n) for each request n <= TC_TABLE_REQ (tcache.h), the same in every
     * thread: the TLS image's initial data, copied by glibc into each new thread. */
    uint8_t tc_req[TC_TABLE_REQ + 1];
};
/* Where glibc places the block when the program has no TLS of its own and the shim
 * is the first object with TLS: roundup(size, alignment) below the thread pointer. */
#define OSH_TLS_K sizeof(struct osh_tls)
extern OSH_TLS struct osh_tls osh_t;
#define osh_guard (osh_t.guard)

/* Set once the constructor has parsed valid options; 0 means pure pass-through. */
extern int osh_active;
/* Set once the program made a task that shares its memory and a thread's TLS
 * (clone(CLONE_VM) without CLONE_SETTLS or CLONE_VFORK): from then on the memory
 * wrappers first ask osh_foreign_task() (one system call). */
extern int osh_shared_tls;
int osh_foreign_task(void);

/* The code a fork runs (the atfork handlers and the fork wrapper): kept together
 * in one page-aligned section, so a fork child faults in one page of shim text. */
#define OSH_FORK_TEXT __attribute__((section(".text.overshim_fork")))

/* The shim's three locks, which its atfork handlers take before a fork and give
 * back after, and whether this process has done its fork fix-up. They live in a page
 * of their own mapped with MADV_WIPEONFORK (Linux 4.14+): the parent's unlocks after
 * a fork touch a page the child does not share (no copy-on-write fault: README,
 * Overhead, fork+wait), and the child's copy arrives zeroed, which is
 * exactly unlocked mutexes and live = 0, without the child writing anything. Where
 * the kernel refuses the advice, a static copy is used and the child's handler
 * resets it. */
struct osh_forkstate {
    pthread_mutex_t heap_mu, ledger_mu, report_mu;
    int live; /* 0: a fork child that has not yet done its fix-up (osh_fork_fixup) */
};
extern struct osh_forkstate *osh_fs; /* never NULL */
extern struct osh_forkstate osh_fs_static; /* the locks before the constructor moves them */

/* In a fork child, the work the atfork handler leaves for the first time the shim
 * runs: the child's pid and tid, the other threads marked gone, the pagemap fd.
 * (Executing shim code in the child faults in its text pages, one fault per page:
 * README, Overhead; so the handler itself only resets a few words.) */
void osh_fork_fixup(void);
static inline void osh_process_check(void)
{
    if (__builtin_expect(!osh_fs->live, 0)) osh_fork_fixup();
}

/* Entering the shim's work from a wrapper (or any entry point): the guard, and in a
 * fork child the fix-up, before anything reads the ledger. */
static inline void osh_enter(void)
{
    osh_guard++;
    osh_process_check();
}
static inline void osh_leave(void) { osh_guard--; }

#endif
