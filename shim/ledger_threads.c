/* The ledger's thread records (see ledger.h): one per thread the shim has seen, what it
 * committed and what its mallocs hold, kept after it exits (up to LEDGER_MAX_EXITED that
 * nothing refers to) so that a report shows who committed what. */
#include "ledger_int.h"
#include "tcache.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fmt.h"
#include "heap.h"
#include "latefn.h"
#include "rawsys.h"
#include "state.h"
#include "tid.h"
#include "timeline.h"
#include "overshim_flight.h"

#define RECS_STATIC 16
/* The first record (the main thread's, made at start) is in .data with what start
 * writes (OSH_HOT); the next ones come from the bss. */
static struct thread_rec rec_first OSH_HOT;
static struct thread_rec recs_static[RECS_STATIC];
OSH_HOT static size_t nrecs_static;
OSH_HOT static struct thread_rec *threads;
OSH_HOT static struct thread_rec *free_recs; /* recycled records, ready for new threads */
static size_t n_exited;               /* exited records still listed */
static struct thread_rec recycled;    /* what the recycled ones had: malloc counters, peak */
static uint64_t n_recycled;

void ledger_own(struct thread_rec *t, int d)
{
    if (t) t->nowned += (uint32_t)d;
}

/* An exited record nothing refers to (no range, no live child, not its own stack
 * charge) leaves the list once more than LEDGER_MAX_EXITED are kept. */
void ledger_maybe_recycle(struct thread_rec *t)
{
    if (!t || t->alive || t->nowned || t->nchildren || t->stack_model || n_exited <= LEDGER_MAX_EXITED) return;
    struct thread_rec **pp = &threads;
    while (*pp && *pp != t) pp = &(*pp)->next;
    if (!*pp) return;
    *pp = t->next;
    n_exited--;
    n_recycled++;
    recycled.malloc_in += t->malloc_in;
    recycled.malloc_out += t->malloc_out;
    if (t->peak_committed > recycled.peak_committed) recycled.peak_committed = t->peak_committed;
    t->next = free_recs;
    free_recs = t;
}

const struct thread_rec *ledger_recycled(uint64_t *count)
{
    *count = n_recycled;
    return &recycled;
}

/* Every record, created at pthread_create or lazily for a thread the shim did not
 * start (glibc's own helper threads), is told when its thread exits: its counters live
 * in the thread's TLS, which goes away with it (found by the TSan driver, tests/tsan). */
static pthread_key_t exit_key OSH_HOT;
static int exit_key_ok OSH_HOT;

static void on_thread_exit(void *p)
{
    osh_enter();
    ledger_thread_exit(p);
    osh_leave();
}

/* The thread-exit key, made for the first thread watched (the first pthread_create's
 * thread: the main thread's end is the process's). exit_key_ok: 0 not yet, 1 made,
 * -1 none (no pthread_key_create: glibc < 2.34 without libpthread, or no key left). */
LATE_SLOT(pthread_key_create);
LATE_SLOT(pthread_setspecific);

void ledger_watch_exit(struct thread_rec *t)
{
    if (!t) return;
    int ok = __atomic_load_n(&exit_key_ok, __ATOMIC_ACQUIRE);
    if (OSH_UNLIKELY(ok == 0)) {
        ledger_lock();
        if (exit_key_ok == 0) {
            __typeof__(&pthread_key_create) create = LATE(pthread_key_create);
            int made = create && LATE(pthread_setspecific) && create(&exit_key, on_thread_exit) == 0;
            __atomic_store_n(&exit_key_ok, made ? 1 : -1, __ATOMIC_RELEASE);
        }
        ledger_unlock();
        ok = exit_key_ok;
    }
    if (ok == 1) LATE(pthread_setspecific)(exit_key, t);
}

static void read_own_name(char name[16])
{
    char buf[17] = {0};
    if (raw_sc(SYS_prctl, PR_GET_NAME, (long)buf, 0, 0, 0, 0) == 0) memcpy(name, buf, 16); /* no libc page touched for it */
    name[15] = 0;
}

/* A zeroed record: a recycled one if there is one (lock held), else a new one. */
static struct thread_rec *alloc_rec(void)
{
    struct thread_rec *t = free_recs;
    if (t) {
        free_recs = t->next;
        memset(t, 0, sizeof *t);
        return t;
    }
    if (nrecs_static == 0) return nrecs_static++, &rec_first;
    if (nrecs_static <= RECS_STATIC) return &recs_static[nrecs_static++ - 1]; /* zeroed bss */
    return osh_heap_alloc(sizeof *t);
}

static struct thread_rec *new_rec(pid_t tid, pid_t parent)
{
    struct thread_rec *t = alloc_rec();
    if (!t) return NULL;
    t->tid = tid;
    t->parent_tid = parent;
    t->alive = 1;
    read_own_name(t->name);
    t->pt = osh_pthread_self();
    t->tls = &osh_t;
    t->next = threads;
    threads = t;
    if (OSH_UNLIKELY(osh_timeline)) timeline_thread(t, 1);
    return t;
}

OSH_START_TEXT static struct thread_rec *self_as(pid_t known_tid)
{
    if (OSH_LIKELY(osh_self != NULL)) return osh_self;
    if (osh_t.exiting) return NULL; /* its record is gone (maybe reused): charges go to the process only */
    /* The constructor's call (known_tid) comes before the shim goes live: every wrapper
     * passes through until then (READY), so no other thread is in the ledger and the
     * lock (two lazy bindings at start) is not needed. */
    int lock = !known_tid || __atomic_load_n(&osh_active, __ATOMIC_ACQUIRE);
    if (lock) ledger_lock();
    pid_t tid = known_tid ? known_tid : osh_gettid();
    /* the main thread's parent is the process's parent (osh_st.pid is this process's:
     * ledger_lock checked it) */
    osh_self = new_rec(tid, tid == osh_st.pid ? raw_getppid() : 0);
    if (lock) ledger_unlock();
    if (!known_tid) ledger_watch_exit(osh_self); /* not the main thread's at start: its end is the process's */
    return osh_self;
}

struct thread_rec *ledger_self(void) { return self_as(0); }
struct thread_rec *ledger_self_main(pid_t pid) { return self_as(pid); }

struct thread_rec *ledger_thread_prepare(struct thread_rec *creator, int64_t stack_model)
{
    ledger_lock();
    struct thread_rec *t = alloc_rec();
    if (t) {
        t->parent_tid = creator ? creator->tid : osh_gettid();
        if (creator) memcpy(t->name, creator->name, sizeof t->name); /* a new thread starts with its creator's name */
        t->stack_payer = creator;
        t->stack_model = stack_model;
        LEDGER_OP(OVERSHIM_OP_STACK, 0, stack_model);
        ledger_proc_mapped += stack_model;
        ledger_charge(creator, stack_model);
        if (creator) creator->nchildren++;
    }
    ledger_unlock();
    return t;
}

/* The child no longer holds its creator's charge. Lock held. */
static void release_payer(struct thread_rec *t)
{
    struct thread_rec *payer = t->stack_payer;
    LEDGER_OP(OVERSHIM_OP_THREAD_EXIT, t->stack_lo, t->stack_model);
    ledger_proc_mapped -= t->stack_model;
    ledger_charge(payer, -t->stack_model);
    t->stack_model = 0;
    t->stack_payer = NULL;
    if (payer) {
        payer->nchildren--;
        ledger_maybe_recycle(payer);
    }
}

void ledger_thread_discard(struct thread_rec *t)
{
    ledger_lock();
    release_payer(t);
    t->next = free_recs;
    free_recs = t;
    ledger_unlock();
}

void ledger_thread_attach(struct thread_rec *t, uintptr_t stack_lo, uintptr_t stack_hi)
{
    t->tid = osh_gettid();
    t->alive = 1;
    if (!t->name[0]) read_own_name(t->name);
    t->pt = osh_pthread_self();
    t->tls = &osh_t;
    ledger_lock();
    t->next = threads;
    threads = t;
    if (t->stack_model && stack_hi > stack_lo) {
        /* the real stack, for touched pages and reconciliation; charged through the model */
        t->stack_lo = stack_lo;
        t->stack_hi = stack_hi;
        struct range r = {.lo = stack_lo, .hi = stack_hi, .prot = PROT_READ | PROT_WRITE,
                          .flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, .acct = 1, .kind = RK_STACK,
                          .anon = 1, .owner = t->stack_payer};
        LEDGER_OP(OVERSHIM_OP_STACK, stack_lo, stack_hi - stack_lo);
        ledger_clip(stack_lo, stack_hi);
        ledger_insert(&r);
    }
    if (OSH_UNLIKELY(osh_timeline)) timeline_thread(t, 1);
    ledger_unlock();
    osh_self = t;
}

void ledger_thread_exit(struct thread_rec *t)
{
    if (!t) return;
    ledger_lock();
    t->alive = 0; /* its name: the creator's, or the last pthread_setname_np (ledger_thread_named) */
    ledger_tls_malloc(&osh_t, &t->malloc_in, &t->malloc_out); /* the TLS block goes away with the thread */
    t->tls = NULL;
    LEDGER_OP(OVERSHIM_OP_THREAD_EXIT, t->stack_lo, t->stack_hi - t->stack_lo);
    if (t->stack_hi > t->stack_lo) ledger_clip(t->stack_lo, t->stack_hi); /* glibc caches or unmaps it: not ours */
    if (t->stack_model || t->stack_payer) release_payer(t);
    if (OSH_UNLIKELY(osh_timeline)) timeline_thread(t, 0);
    n_exited++;
    osh_self = NULL;
    osh_t.exiting = 1;
    ledger_maybe_recycle(t);
    ledger_unlock();
}

struct thread_rec *ledger_threads(void) { return threads; }

void ledger_thread_totals(struct ledger_totals *out)
{
    for (struct thread_rec *t = threads; t; t = t->next) {
        out->nthreads++;
        out->malloc_live += ledger_malloc_live(t);
        out->touched += t->touched;
    }
    out->nthreads += n_recycled;
    out->malloc_live += recycled.malloc_in - recycled.malloc_out;
}

void ledger_tls_malloc(const struct osh_tls *tls, int64_t *in, int64_t *out)
{
    *in = __atomic_load_n(&tls->malloc_in, __ATOMIC_RELAXED) + tc_bytes(tls->tc_in, 0);
    *out = __atomic_load_n(&tls->malloc_out, __ATOMIC_RELAXED) + tc_bytes(tls->tc_out, 8);
}

int64_t ledger_malloc_live(const struct thread_rec *t)
{
    int64_t in = t->malloc_in, out = t->malloc_out;
    if (t->tls) ledger_tls_malloc(t->tls, &in, &out);
    return in - out;
}

void ledger_thread_named(pthread_t th, const char *name)
{
    ledger_lock();
    for (struct thread_rec *t = threads; t; t = t->next)
        if (t->alive && t->tls && pthread_equal(t->pt, th)) {
            size_t n = strnlen(name, 15);
            memcpy(t->name, name, n);
            t->name[n] = 0;
            break;
        }
    ledger_unlock();
}

void ledger_refresh_names(void)
{
    char path[64], buf[32];
    for (struct thread_rec *t = threads; t; t = t->next) {
        if (!t->alive) continue;
        osh_snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)t->tid);
        ssize_t n = raw_read_file(path, buf, sizeof buf);
        if (n <= 0) continue;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == 0)) n--;
        if (n > 15) n = 15;
        memcpy(t->name, buf, (size_t)n);
        t->name[n] = 0;
    }
}

void ledger_postfork_child(void)
{
    ledger_lock();
    /* Only the forking thread exists in the child; the others stay listed (their
     * mappings were copied) but are no longer alive here. */
    for (struct thread_rec *t = threads; t; t = t->next) {
        if (t == osh_self || !t->tls) continue;
        t->alive = 0;
        ledger_tls_malloc(t->tls, &t->malloc_in, &t->malloc_out); /* a copy of that thread's TLS, frozen */
        t->tls = NULL;
    }
    if (osh_self) {
        osh_self->parent_tid = osh_self->tid;
        osh_self->tid = osh_gettid();
    }
    ledger_unlock();
}
