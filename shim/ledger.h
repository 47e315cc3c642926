/* The ledger: every range mapped through the wrappers (address -> length, prot,
 * flags, whether the running kernel charges it, owner thread), and per-thread
 * counters. Its memory comes from static storage, then from the private jemalloc
 * heap; one mutex, taken only under osh_guard and handed over across fork by atfork
 * handlers. */
#ifndef OVERSHIM_LEDGER_H
#define OVERSHIM_LEDGER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"
#include "range.h"


struct thread_rec {
    pid_t tid, parent_tid;
    char name[16];
    int alive;             /* 0 after exit, or in a fork child for the other threads */
    int64_t committed;     /* bytes: its accountable mappings + modelled stacks of live threads it created */
    int64_t peak_committed;
    struct osh_tls *tls;    /* the live thread's TLS block (malloc counters); NULL once it exited */
    int64_t malloc_in, malloc_out; /* the counters as they stood at exit */
    int64_t stack_model;   /* this thread's own stack as modelled at pthread_create */
    struct thread_rec *stack_payer;
    uint64_t touched;      /* filled by ledger_compute_touched() */
    uint64_t nmaps;
    uintptr_t stack_lo, stack_hi; /* its own stack, as glibc reports it */
    uint32_t nowned;              /* ranges it owns */
    uint32_t nchildren;           /* live threads whose modelled stack it pays for */
    uint32_t fslot;               /* its flight-recorder slot + 1 (timeline.h); 0: none yet */
    pthread_t pt;                 /* the live thread's pthread_t, for pthread_setname_np */
    void *(*start)(void *);       /* pthread_create's start routine and argument */
    void *start_arg;
    struct thread_rec *next;
};

/* This thread's record (NULL until the thread first did something the shim tracks). */
#define osh_self (osh_t.self)

/* Exited threads are kept (a report shows who committed what) up to this many; past
 * it, exited records that nothing refers to are folded into one aggregate row and
 * reused, so a server that starts a thread per request does not grow the shim. */
#define LEDGER_MAX_EXITED 1024

struct ledger_totals {
    int64_t committed, peak_committed, malloc_live;
    int64_t mapped; /* bytes of its ranges */
    uint64_t touched;
    size_t nranges, nthreads;
};

/* The thread-exit key. The overcommit mode and the kernel's rules are read on the first
 * call that needs them (lazyfacts.h). */
void ledger_init(void);
/* Record for the calling thread, created on first use. Call under osh_guard. */
struct thread_rec *ledger_self(void);
/* The same for the main thread, whose tid is the pid (the constructor: no tid lookup). */
struct thread_rec *ledger_self_main(pid_t pid);
/* pthread_create: the creator allocates the new thread's record (so the new thread
 * never touches the private heap), charges the modelled stack to itself, and the
 * thread attaches the record when it starts. discard: the creation failed. */
struct thread_rec *ledger_thread_prepare(struct thread_rec *creator, int64_t stack_model);
void ledger_thread_discard(struct thread_rec *t);
void ledger_thread_attach(struct thread_rec *t, uintptr_t stack_lo, uintptr_t stack_hi);
void ledger_thread_exit(struct thread_rec *t);
/* Have ledger_thread_exit run when the calling thread exits (a pthread key). */
void ledger_watch_exit(struct thread_rec *t);

/* Mapping changes, all under osh_guard; `mode` is vm.overcommit_memory. */
void ledger_record_map(uintptr_t addr, size_t len, int prot, int flags, int anon);
/* Unmapping and moving must leave the ledger before the kernel frees the range:
 * once freed, another thread may be given it and record it. detach takes the
 * pieces of [addr, addr+len) out (copies in out, at most max; returns the count,
 * or max + 1 when there were more); reattach puts them back (the call failed). */
size_t ledger_detach(uintptr_t addr, size_t len, struct range *out, size_t max);
void ledger_reattach(const struct range *pieces, size_t n);
void ledger_record_protect(uintptr_t addr, size_t len, int prot);
/* The kernel's answer for one VMA [lo, hi) (`ac` in smaps): ranges inside it whose
 * charge was a guess take it. Called by reconciliation, lock held. */
void ledger_settle(uintptr_t lo, uintptr_t hi, int ac);

/* The mapping moved or grew: like is a detached piece of the old range (or NULL). */
void ledger_record_remap(const struct range *like, uintptr_t new_addr, size_t new_len);
void ledger_record_brk(uintptr_t old_brk, uintptr_t new_brk);

/* The folded exited threads (count in nmaps, malloc counters, peak): lock held. */
const struct thread_rec *ledger_recycled(uint64_t *count);

/* Read-side, with the lock held: the ranges in address order (ledger_next(r) is
 * the one after r, NULL after the last) and the threads. */
void ledger_lock(void);
void ledger_unlock(void);
const struct range *ledger_first(void);
const struct range *ledger_next(const struct range *r);
struct thread_rec *ledger_threads(void);
/* Find the range containing addr (lock held), or NULL. */
const struct range *ledger_find(uintptr_t addr);
/* Bytes the ledger has charged in [lo, hi), and bytes of its ranges there (lock held). */
uint64_t ledger_charged_in(uintptr_t lo, uintptr_t hi);
uint64_t ledger_mapped_in(uintptr_t lo, uintptr_t hi);
/* Touched (resident or swapped) bytes of the committed ranges, per owner thread;
 * fills thread_rec.touched and returns the process total. Lock held. */
uint64_t ledger_compute_touched(void);
void ledger_totals(struct ledger_totals *out);     /* lock held */
/* Thread names: refresh live threads' names from /proc (lock held). */
/* pthread_setname_np(th, name) succeeded: th's record takes the name (an exited
 * thread keeps the last name given this way, or its creator's). */
void ledger_thread_named(pthread_t th, const char *name);
void ledger_refresh_names(void);
/* The process's committed bytes as the ledger charged them (no lock: one word). */
int64_t ledger_committed_bytes(void);
int64_t ledger_mapped_bytes(void); /* bytes of its ranges (no lock: one word) */
/* Live malloc bytes of a thread (lock held). */
/* A live thread's malloc counters (its TLS block): bytes allocated and freed. */
void ledger_tls_malloc(const struct osh_tls *tls, int64_t *in, int64_t *out);
int64_t ledger_malloc_live(const struct thread_rec *t);

/* atfork */
void ledger_prefork(void);
void ledger_postfork_parent(void);
void ledger_postfork_child(void);


#endif
