/* The commit ledger (see ledger.h). Ranges live in an address-ordered tree
 * (rangetree.c); all changes happen under one mutex, taken only by threads already
 * inside os_guard, so a signal handler that interrupts the holder goes straight
 * to the real call. */
#include "ledger.h"
#include "tcache.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "anonvma.h"
#include "fmt.h"
#include "heap.h"
#include "kmodel.h"
#include "lazyfacts.h"
#include "latefn.h"
#include "rangetree.h"
#include "rawsys.h"
#include "state.h"
#include "tid.h"
#include "timeline.h"
#include "overshim_flight.h"
#include "touched.h"


/* The first range nodes and thread records live in static storage, so that a
 * process that maps little never starts the private heap (jemalloc's start: ~40
 * page faults); past them, the heap gives nodes a page's worth at a time. Nodes
 * are never given back to it: freed ones wait on free_nodes. */
#define RV_STATIC 128
#define RECS_STATIC 16
#define NODES_PER_BLOCK (OS_HEAP_SMALL_MAX / sizeof(struct rt_node)) /* one heap block of a chunk, not a mapping */
static struct rt_node nodes_static[RV_STATIC];
static size_t nnodes_static;
static struct rt_node *free_nodes; /* linked through kid[0] */
static struct rangetree rt;
/* The first record (the main thread's, made at start) is in .data with what start
 * writes (OS_HOT); the next ones come from the bss. */
static struct thread_rec rec_first OS_HOT;
static struct thread_rec recs_static[RECS_STATIC];
OS_HOT static size_t nrecs_static;
OS_HOT static struct thread_rec *threads;
/* The overcommit mode, and whether mprotect dropping write on an unfaulted anonymous VMA
 * uncharges it (6.7+): read on the first call that needs them (lazyfacts.h). */
#define mode facts_ledger_mode()
#define uncharge_unfaulted facts_mprotect_uncharges()
static int64_t proc_committed, proc_peak;
static int64_t proc_mapped; /* bytes of the ledger's ranges (the trace's VmSize between samples) */
static uint32_t next_origin;
OS_HOT static struct thread_rec *free_recs; /* recycled records, ready for new threads */
static size_t n_exited;               /* exited records still listed */
static struct thread_rec recycled;    /* what the recycled ones had: malloc counters, peak */
static uint64_t n_recycled;

static void own(struct thread_rec *t, int d)
{
    if (t) t->nowned += (uint32_t)d;
}

/* An exited record nothing refers to (no range, no live child, not its own stack
 * charge) leaves the list once more than LEDGER_MAX_EXITED are kept. */
static void maybe_recycle(struct thread_rec *t)
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
static pthread_key_t exit_key OS_HOT;
static int exit_key_ok OS_HOT;

static void on_thread_exit(void *p)
{
    os_enter();
    ledger_thread_exit(p);
    os_leave();
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
    if (OS_UNLIKELY(ok == 0)) {
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

void ledger_init(void) {}

/* Callers are inside os_enter, which has done a fork child's fix-up. */
void ledger_lock(void) { pthread_mutex_lock(&os_fs->ledger_mu); }
void ledger_unlock(void) { pthread_mutex_unlock(&os_fs->ledger_mu); }


/* --- threads -------------------------------------------------------------- */
static void read_own_name(char name[16])
{
    char buf[17] = {0};
    if (syscall(SYS_prctl, PR_GET_NAME, buf, 0, 0, 0) == 0) memcpy(name, buf, 16); /* no libc page touched for it */
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
    return os_heap_alloc(sizeof *t);
}

static struct thread_rec *new_rec(pid_t tid, pid_t parent)
{
    struct thread_rec *t = alloc_rec();
    if (!t) return NULL;
    t->tid = tid;
    t->parent_tid = parent;
    t->alive = 1;
    read_own_name(t->name);
    t->pt = pthread_self();
    t->tls = &os_t;
    t->next = threads;
    threads = t;
    if (OS_UNLIKELY(os_timeline)) timeline_thread(t, 1);
    return t;
}

OS_START_TEXT static struct thread_rec *self_as(pid_t known_tid)
{
    if (OS_LIKELY(os_self != NULL)) return os_self;
    if (os_t.exiting) return NULL; /* its record is gone (maybe reused): charges go to the process only */
    ledger_lock();
    pid_t tid = known_tid ? known_tid : os_gettid();
    /* the main thread's parent is the process's parent (os_st.pid is this process's:
     * ledger_lock checked it) */
    os_self = new_rec(tid, tid == os_st.pid ? raw_getppid() : 0);
    ledger_unlock();
    if (!known_tid) ledger_watch_exit(os_self); /* not the main thread's at start: its end is the process's */
    return os_self;
}

struct thread_rec *ledger_self(void) { return self_as(0); }
struct thread_rec *ledger_self_main(pid_t pid) { return self_as(pid); }

/* What is changing the ledger (lock held), for the timeline's records of each charge. */
static int cur_op;
static uintptr_t cur_lo;
static size_t cur_len;
#define LEDGER_OP(op, lo, len) (cur_op = (op), cur_lo = (uintptr_t)(lo), cur_len = (size_t)(len))

static void charge(struct thread_rec *t, int64_t bytes)
{
    proc_committed += bytes;
    if (proc_committed > proc_peak) proc_peak = proc_committed;
    if (t) {
        t->committed += bytes;
        if (t->committed > t->peak_committed) t->peak_committed = t->committed;
    }
    if (OS_UNLIKELY(os_timeline) && bytes) timeline_charge(t, bytes, cur_op, cur_lo, cur_len, proc_committed, proc_peak);
}

struct thread_rec *ledger_thread_prepare(struct thread_rec *creator, int64_t stack_model)
{
    ledger_lock();
    struct thread_rec *t = alloc_rec();
    if (t) {
        t->parent_tid = creator ? creator->tid : os_gettid();
        if (creator) memcpy(t->name, creator->name, sizeof t->name); /* a new thread starts with its creator's name */
        t->stack_payer = creator;
        t->stack_model = stack_model;
        LEDGER_OP(OS_OP_STACK, 0, stack_model);
        proc_mapped += stack_model;
        charge(creator, stack_model);
        if (creator) creator->nchildren++;
    }
    ledger_unlock();
    return t;
}

/* The child no longer holds its creator's charge. Lock held. */
static void release_payer(struct thread_rec *t)
{
    struct thread_rec *payer = t->stack_payer;
    LEDGER_OP(OS_OP_THREAD_EXIT, t->stack_lo, t->stack_model);
    proc_mapped -= t->stack_model;
    charge(payer, -t->stack_model);
    t->stack_model = 0;
    t->stack_payer = NULL;
    if (payer) {
        payer->nchildren--;
        maybe_recycle(payer);
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

static void insert(const struct range *nr);
static void clip(uintptr_t lo, uintptr_t hi);

void ledger_thread_attach(struct thread_rec *t, uintptr_t stack_lo, uintptr_t stack_hi)
{
    t->tid = os_gettid();
    t->alive = 1;
    if (!t->name[0]) read_own_name(t->name);
    t->pt = pthread_self();
    t->tls = &os_t;
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
        LEDGER_OP(OS_OP_STACK, stack_lo, stack_hi - stack_lo);
        clip(stack_lo, stack_hi);
        insert(&r);
    }
    if (OS_UNLIKELY(os_timeline)) timeline_thread(t, 1);
    ledger_unlock();
    os_self = t;
}

void ledger_thread_exit(struct thread_rec *t)
{
    if (!t) return;
    ledger_lock();
    t->alive = 0; /* its name: the creator's, or the last pthread_setname_np (ledger_thread_named) */
    ledger_tls_malloc(&os_t, &t->malloc_in, &t->malloc_out); /* the TLS block goes away with the thread */
    t->tls = NULL;
    LEDGER_OP(OS_OP_THREAD_EXIT, t->stack_lo, t->stack_hi - t->stack_lo);
    if (t->stack_hi > t->stack_lo) clip(t->stack_lo, t->stack_hi); /* glibc caches or unmaps it: not ours */
    if (t->stack_model || t->stack_payer) release_payer(t);
    if (OS_UNLIKELY(os_timeline)) timeline_thread(t, 0);
    n_exited++;
    os_self = NULL;
    os_t.exiting = 1;
    maybe_recycle(t);
    ledger_unlock();
}

/* --- ranges ---------------------------------------------------------------- */
static struct rt_node *node_get(void)
{
    struct rt_node *x = free_nodes;
    if (x) {
        free_nodes = x->kid[0];
        return x;
    }
    if (nnodes_static < RV_STATIC) return &nodes_static[nnodes_static++];
    struct rt_node *b = os_heap_alloc(NODES_PER_BLOCK * sizeof *b);
    if (!b) return NULL;
    for (size_t i = NODES_PER_BLOCK - 1; i > 0; i--) {
        b[i].kid[0] = free_nodes;
        free_nodes = &b[i];
    }
    return &b[0];
}

static void node_put(struct rt_node *x)
{
    x->kid[0] = free_nodes;
    free_nodes = x;
}


/* Charged bytes of a piece of a range: stacks are charged through the model. */
static int64_t charged_bytes(const struct range *r, uintptr_t lo, uintptr_t hi)
{
    return (r->acct && r->kind != RK_STACK) ? (int64_t)(hi - lo) : 0;
}

/* x becomes [lo, at) and a new node [at, hi) follows it; NULL when no node is left. */
static struct rt_node *split_at(struct rt_node *x, uintptr_t at)
{
    struct rt_node *fresh = node_get();
    if (!fresh) return NULL;
    rt_split(&rt, x, at, fresh);
    own(x->r.owner, 1);
    return fresh;
}

/* Remove [lo, hi) from the ledger, splitting ranges at the edges. */
static void clip(uintptr_t lo, uintptr_t hi)
{
    struct rt_node *x;
    while ((x = rt_ending_after(&rt, lo)) != NULL && x->r.lo < hi) {
        struct range *r = &x->r;
        uintptr_t cut_lo = r->lo > lo ? r->lo : lo, cut_hi = r->hi < hi ? r->hi : hi;
        charge(r->owner, -charged_bytes(r, cut_lo, cut_hi));
        if (r->kind != RK_STACK) proc_mapped -= (int64_t)(cut_hi - cut_lo);
        if (r->lo < lo && r->hi > hi) { /* hole in the middle: split */
            if (!split_at(x, hi)) { /* cannot split: keep the left part only */
                charge(r->owner, -charged_bytes(r, hi, r->hi));
                if (r->kind != RK_STACK) proc_mapped -= (int64_t)(r->hi - hi);
                r->hi = lo;
                return;
            }
            r->hi = lo;
            return;
        }
        if (r->lo < lo) {
            r->hi = lo;
        } else if (r->hi > hi) {
            r->lo = hi;
            return;
        } else {
            struct thread_rec *owner = r->owner;
            rt_remove(&rt, x);
            node_put(x);
            own(owner, -1);
            maybe_recycle(owner);
        }
    }
}

static void insert(const struct range *nr)
{
    if (nr->hi <= nr->lo) return;
    struct rt_node *x = node_get();
    if (!x) return;
    x->r = *nr;
    rt_insert(&rt, x);
    if (nr->kind != RK_STACK) proc_mapped += (int64_t)(nr->hi - nr->lo); /* stacks: from the model, mapped by glibc at creation */
    own(nr->owner, 1);
    charge(nr->owner, charged_bytes(nr, nr->lo, nr->hi));
}

static uintptr_t page_up(uintptr_t x) { return (x + 4095) & ~(uintptr_t)4095; }

void ledger_record_map(uintptr_t addr, size_t len, int prot, int flags, int anon)
{
    struct thread_rec *self = ledger_self();
    ledger_lock();
    LEDGER_OP(OS_OP_MAP, addr, len);
    uintptr_t hi = addr + page_up(len);
    clip(addr, hi); /* MAP_FIXED over existing ranges: the old ones are gone (net charge) */
    struct range r = {.lo = addr, .hi = hi, .prot = (uint8_t)prot, .flags = flags,
                      .acct = (uint8_t)kmodel_mmap_accountable(prot, flags, mode),
                      .noreserve = (uint8_t)((flags & MAP_NORESERVE) && mode != 2),
                      .kind = RK_MAP, .anon = (uint8_t)anon, .origin = ++next_origin, .owner = self};
    insert(&r);
    if (self) self->nmaps++;
    ledger_unlock();
}

void ledger_record_protect(uintptr_t addr, size_t len, int prot)
{
    uintptr_t lo = addr, hi = addr + page_up(len);
    ledger_lock();
    LEDGER_OP(OS_OP_PROTECT, addr, len);
    /* 6.7+: taking write from a charged anonymous VMA without an anon_vma uncharges it */
    int dropping = !(prot & PROT_WRITE) && uncharge_unfaulted;
    struct anonvma_look look = {0};
    struct rt_node *x = rt_ending_after(&rt, lo);
    if (dropping) anonvma_look(&rt, x, lo, hi, &look); /* it changes no range's place */
    if (x && x->r.lo < lo && x->r.lo < hi) x = split_at(x, lo); /* split so that [lo, hi) covers whole ranges */
    for (; x && x->r.lo < hi; x = rt_next_below(&rt, x, hi)) {
        if (x->r.hi > hi && !split_at(x, hi)) break;
        struct range *r = &x->r;
        int shared = (r->flags & MAP_TYPE) != MAP_PRIVATE;
        if ((prot & PROT_WRITE) && !r->acct && !(r->prot & PROT_WRITE) && !shared && !r->noreserve &&
            !(r->flags & MAP_HUGETLB)) {
            r->acct = 1; /* mprotect_fixup charges and sets VM_ACCOUNT */
            charge(r->owner, charged_bytes(r, r->lo, r->hi));
        } else if (dropping && anonvma_rule_applies(r)) {
            r->uncertain = 1; /* settled by the next report or summary (ledger_settle) */
            if (!anonvma_keeps_charge(r, &look)) {
                charge(r->owner, -charged_bytes(r, r->lo, r->hi));
                r->acct = 0;
            }
        }
        r->prot = (uint8_t)prot;
    }
    ledger_unlock();
}

size_t ledger_detach(uintptr_t addr, size_t len, struct range *out, size_t max)
{
    uintptr_t lo = addr, hi = addr + page_up(len);
    ledger_lock();
    LEDGER_OP(OS_OP_UNMAP, addr, len);
    size_t n = 0;
    for (struct rt_node *x = rt_ending_after(&rt, lo); x && x->r.lo < hi; x = rt_next_below(&rt, x, hi)) {
        if (n < max) {
            out[n] = x->r;
            if (out[n].lo < lo) out[n].lo = lo;
            if (out[n].hi > hi) out[n].hi = hi;
        }
        n++;
    }
    clip(lo, hi);
    ledger_unlock();
    return n <= max ? n : max + 1;
}

void ledger_reattach(const struct range *pieces, size_t n)
{
    ledger_lock();
    LEDGER_OP(OS_OP_MAP, n ? pieces[0].lo : 0, n ? pieces[n - 1].hi - pieces[0].lo : 0);
    for (size_t i = 0; i < n; i++) {
        clip(pieces[i].lo, pieces[i].hi);
        insert(&pieces[i]);
    }
    ledger_unlock();
}

void ledger_record_remap(const struct range *like, uintptr_t new_addr, size_t new_len)
{
    struct thread_rec *self = ledger_self();
    ledger_lock();
    LEDGER_OP(OS_OP_REMAP, new_addr, new_len);
    struct range r = {.lo = new_addr, .hi = new_addr + page_up(new_len), .prot = PROT_READ | PROT_WRITE,
                      .flags = MAP_PRIVATE | MAP_ANONYMOUS, .anon = 1, .origin = ++next_origin, .owner = self};
    if (like) {
        r.origin = like->origin;
        r.prot = like->prot;
        r.flags = like->flags;
        r.acct = like->acct;
        r.uncertain = like->uncertain;
        r.faulted = like->faulted;
        r.noreserve = like->noreserve;
        r.anon = like->anon;
        r.kind = like->kind == RK_STACK ? RK_MAP : like->kind;
        r.owner = like->owner;
    } else {
        r.acct = (uint8_t)kmodel_mmap_accountable(r.prot, r.flags, mode);
    }
    clip(r.lo, r.hi);
    insert(&r);
    ledger_unlock();
}

void ledger_record_brk(uintptr_t old_brk, uintptr_t new_brk)
{
    struct thread_rec *self = ledger_self();
    ledger_lock();
    LEDGER_OP(OS_OP_BRK, old_brk, new_brk - old_brk);
    uintptr_t a = page_up(old_brk), b = page_up(new_brk);
    if (b > a) {
        struct range r = {.lo = a, .hi = b, .prot = PROT_READ | PROT_WRITE,
                          .flags = MAP_PRIVATE | MAP_ANONYMOUS, .acct = 1, .kind = RK_BRK, .anon = 1,
                          .owner = self};
        clip(a, b);
        insert(&r);
    } else if (b < a) {
        clip(b, a);
    }
    ledger_unlock();
}

/* --- read side (and ledger_read.c) ------------------------------------------- */
struct rangetree *ledger_tree(void) { return &rt; }

struct thread_rec *ledger_threads(void) { return threads; }

void ledger_settle(uintptr_t lo, uintptr_t hi, int ac)
{
    LEDGER_OP(OS_OP_SETTLE, lo, hi - lo);
    for (struct rt_node *x = rt_ending_after(&rt, lo); x && x->r.lo < hi; x = rt_next_below(&rt, x, hi)) {
        struct range *r = &x->r;
        if (!r->uncertain || r->lo < lo || r->hi > hi) continue;
        r->uncertain = 0;
        if (r->acct == (uint8_t)ac) continue;
        if (ac) {
            r->acct = 1;
            charge(r->owner, charged_bytes(r, r->lo, r->hi));
        } else {
            charge(r->owner, -charged_bytes(r, r->lo, r->hi));
            r->acct = 0;
        }
    }
}

void ledger_totals(struct ledger_totals *out)
{
    memset(out, 0, sizeof *out);
    out->committed = proc_committed;
    out->mapped = proc_mapped;
    out->peak_committed = proc_peak;
    out->nranges = rt.n;
    for (struct thread_rec *t = threads; t; t = t->next) {
        out->nthreads++;
        out->malloc_live += ledger_malloc_live(t);
        out->touched += t->touched;
    }
    out->nthreads += n_recycled;
    out->malloc_live += recycled.malloc_in - recycled.malloc_out;
}

int64_t ledger_committed_bytes(void) { return __atomic_load_n(&proc_committed, __ATOMIC_RELAXED); }
int64_t ledger_mapped_bytes(void) { return __atomic_load_n(&proc_mapped, __ATOMIC_RELAXED); }

void ledger_tls_malloc(const struct os_tls *tls, int64_t *in, int64_t *out)
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
        os_snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)t->tid);
        ssize_t n = raw_read_file(path, buf, sizeof buf);
        if (n <= 0) continue;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == 0)) n--;
        if (n > 15) n = 15;
        memcpy(t->name, buf, (size_t)n);
        t->name[n] = 0;
    }
}

/* --- fork ---------------------------------------------------------------------- */
void ledger_prefork(void) { pthread_mutex_lock(&os_fs->ledger_mu); }
void ledger_postfork_parent(void) { pthread_mutex_unlock(&os_fs->ledger_mu); }

void ledger_postfork_child(void)
{
    ledger_lock();
    /* Only the forking thread exists in the child; the others stay listed (their
     * mappings were copied) but are no longer alive here. */
    for (struct thread_rec *t = threads; t; t = t->next) {
        if (t == os_self || !t->tls) continue;
        t->alive = 0;
        ledger_tls_malloc(t->tls, &t->malloc_in, &t->malloc_out); /* a copy of that thread's TLS, frozen */
        t->tls = NULL;
    }
    if (os_self) {
        os_self->parent_tid = os_self->tid;
        os_self->tid = os_gettid();
    }
    ledger_unlock();
}
