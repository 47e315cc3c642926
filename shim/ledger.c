/* The commit ledger (see ledger.h). Ranges live in one sorted array; all changes
 * happen under one mutex, taken only by threads already inside os_guard, so a
 * signal handler that interrupts the holder goes straight to the real call. */
#include "ledger.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "fmt.h"
#include "heap.h"
#include "kmodel.h"
#include "rawsys.h"
#include "state.h"
#include "tid.h"
#include "touched.h"


/* The first ranges and thread records live in static storage, so that a process
 * that maps little never starts the private heap (jemalloc's start: ~40 page
 * faults, 0.6 ms on this machine kind); past them, the heap takes over. */
#define RV_STATIC 128
#define RECS_STATIC 16
static struct range rv_static[RV_STATIC];
static struct thread_rec recs_static[RECS_STATIC];
static size_t nrecs_static;
static struct range *rv = rv_static;
static size_t rn, rcap = RV_STATIC;
static struct thread_rec *threads;
static int mode;        /* vm.overcommit_memory at start */
static int uncharge_unfaulted; /* 6.7+: mprotect dropping write on an unfaulted anon VMA uncharges */
static int64_t proc_committed, proc_peak;
static uint32_t next_origin;
static struct thread_rec *free_recs;  /* recycled records, ready for new threads */
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
static pthread_key_t exit_key;
static int exit_key_ok;

static void on_thread_exit(void *p)
{
    os_enter();
    ledger_thread_exit(p);
    os_leave();
}

void ledger_watch_exit(struct thread_rec *t)
{
    if (t && exit_key_ok) pthread_setspecific(exit_key, t);
}

void ledger_init(int overcommit_mode, int kernel_ge_6_7)
{
    mode = overcommit_mode;
    uncharge_unfaulted = kernel_ge_6_7;
    exit_key_ok = pthread_key_create && pthread_setspecific && pthread_key_create(&exit_key, on_thread_exit) == 0;
}

void ledger_lock(void)
{
    os_process_check();
    pthread_mutex_lock(&os_fs->ledger_mu);
}
void ledger_unlock(void) { pthread_mutex_unlock(&os_fs->ledger_mu); }


/* --- threads -------------------------------------------------------------- */
static void read_own_name(char name[16])
{
    char buf[17] = {0};
    if (prctl(PR_GET_NAME, buf, 0, 0, 0) == 0) memcpy(name, buf, 16);
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
    if (nrecs_static < RECS_STATIC) return &recs_static[nrecs_static++]; /* zeroed bss */
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
    return t;
}

struct thread_rec *ledger_self(void)
{
    if (OS_LIKELY(os_self != NULL)) return os_self;
    if (os_t.exiting) return NULL; /* its record is gone (maybe reused): charges go to the process only */
    ledger_lock();
    pid_t tid = os_gettid();
    /* the main thread's parent is the process's parent */
    os_self = new_rec(tid, tid == raw_getpid() ? raw_getppid() : 0);
    ledger_unlock();
    ledger_watch_exit(os_self);
    return os_self;
}

static void charge(struct thread_rec *t, int64_t bytes)
{
    proc_committed += bytes;
    if (proc_committed > proc_peak) proc_peak = proc_committed;
    if (!t) return;
    t->committed += bytes;
    if (t->committed > t->peak_committed) t->peak_committed = t->committed;
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
        clip(stack_lo, stack_hi);
        insert(&r);
    }
    ledger_unlock();
    os_self = t;
}

void ledger_thread_exit(struct thread_rec *t)
{
    if (!t) return;
    ledger_lock();
    t->alive = 0; /* its name: the creator's, or the last pthread_setname_np (ledger_thread_named) */
    t->malloc_in = os_t.malloc_in; /* the TLS block goes away with the thread */
    t->malloc_out = os_t.malloc_out;
    t->tls = NULL;
    if (t->stack_hi > t->stack_lo) clip(t->stack_lo, t->stack_hi); /* glibc caches or unmaps it: not ours */
    if (t->stack_model || t->stack_payer) release_payer(t);
    n_exited++;
    os_self = NULL;
    os_t.exiting = 1;
    maybe_recycle(t);
    ledger_unlock();
}

/* --- ranges ---------------------------------------------------------------- */
static size_t first_ending_after(uintptr_t addr)
{
    size_t lo = 0, hi = rn;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (rv[mid].hi <= addr) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Charged bytes of a piece of a range: stacks are charged through the model. */
static int64_t charged_bytes(const struct range *r, uintptr_t lo, uintptr_t hi)
{
    return (r->acct && r->kind != RK_STACK) ? (int64_t)(hi - lo) : 0;
}

static int reserve(size_t extra)
{
    if (rn + extra <= rcap) return 0;
    size_t ncap = rcap * 2;
    while (ncap < rn + extra) ncap *= 2;
    struct range *n;
    if (rv == rv_static) { /* leaving the static array for the heap */
        n = os_heap_alloc(ncap * sizeof *rv);
        if (n) memcpy(n, rv_static, rn * sizeof *rv);
    } else {
        n = os_heap_realloc(rv, ncap * sizeof *rv);
    }
    if (!n) return -1;
    rv = n;
    rcap = ncap;
    return 0;
}

/* Remove [lo, hi) from the ledger, splitting ranges at the edges. */
static void clip(uintptr_t lo, uintptr_t hi)
{
    size_t i = first_ending_after(lo);
    while (i < rn && rv[i].lo < hi) {
        struct range *r = &rv[i];
        uintptr_t cut_lo = r->lo > lo ? r->lo : lo, cut_hi = r->hi < hi ? r->hi : hi;
        charge(r->owner, -charged_bytes(r, cut_lo, cut_hi));
        if (r->lo < lo && r->hi > hi) { /* hole in the middle: split */
            if (reserve(1) < 0) { /* cannot split: keep the left part only */
                r->hi = lo;
                return;
            }
            r = &rv[i];
            memmove(&rv[i + 2], &rv[i + 1], (rn - i - 1) * sizeof *rv);
            rv[i + 1] = *r;
            rv[i + 1].lo = hi;
            r->hi = lo;
            rn++;
            own(r->owner, 1);
            return;
        }
        if (r->lo < lo) {
            r->hi = lo;
            i++;
        } else if (r->hi > hi) {
            r->lo = hi;
            i++;
        } else {
            struct thread_rec *owner = r->owner;
            memmove(&rv[i], &rv[i + 1], (rn - i - 1) * sizeof *rv);
            rn--;
            own(owner, -1);
            maybe_recycle(owner);
        }
    }
}

static void insert(const struct range *nr)
{
    if (nr->hi <= nr->lo || reserve(1) < 0) return;
    size_t i = first_ending_after(nr->lo);
    memmove(&rv[i + 1], &rv[i], (rn - i) * sizeof *rv);
    rv[i] = *nr;
    rn++;
    own(nr->owner, 1);
    charge(nr->owner, charged_bytes(nr, nr->lo, nr->hi));
}

static uintptr_t page_up(uintptr_t x) { return (x + 4095) & ~(uintptr_t)4095; }

void ledger_record_map(uintptr_t addr, size_t len, int prot, int flags, int anon)
{
    struct thread_rec *self = ledger_self();
    ledger_lock();
    uintptr_t hi = addr + page_up(len);
    clip(addr, hi); /* MAP_FIXED over existing ranges: the old ones are gone (net charge) */
    struct range r = {.lo = addr, .hi = hi, .prot = prot, .flags = flags,
                      .acct = (uint8_t)kmodel_mmap_accountable(prot, flags, mode),
                      .noreserve = (uint8_t)((flags & MAP_NORESERVE) && mode != 2),
                      .kind = RK_MAP, .anon = (uint8_t)anon, .origin = ++next_origin, .owner = self};
    insert(&r);
    if (self) self->nmaps++;
    ledger_unlock();
}

/* The interim guess until smaps settles it: the range has no anon_vma if no page of
 * any range from the same mmap is resident (wrong for a piece split off before
 * another piece was faulted, or for a mapping merged into a faulted neighbour). */
static int unfaulted(uint32_t origin)
{
    for (size_t i = 0; i < rn; i++)
        if (rv[i].origin == origin && touched_bytes(rv[i].lo, rv[i].hi) != 0) return 0;
    return 1;
}

/* Dropping write from a charged anonymous piece on 6.7+: the kernel gives the charge
 * back only if the piece's VMA has no anon_vma (never faulted, nor split from or
 * merged with a VMA that was). A resident page settles it: still charged. Otherwise
 * the ledger guesses from the mapping's lineage and marks the piece uncertain; the
 * next report or summary, which reads smaps anyway, settles it (ledger_settle).
 * Reading smaps here would cost ~1 ms per mprotect. */
static void drop_write(struct range *r)
{
    if (touched_bytes(r->lo, r->hi) != 0) return;
    r->uncertain = 1;
    if (unfaulted(r->origin)) {
        charge(r->owner, -charged_bytes(r, r->lo, r->hi));
        r->acct = 0;
    }
}

void ledger_record_protect(uintptr_t addr, size_t len, int prot)
{
    uintptr_t lo = addr, hi = addr + page_up(len);
    ledger_lock();
    size_t i = first_ending_after(lo);
    while (i < rn && rv[i].lo < hi) {
        /* split so that [lo, hi) covers whole ranges */
        if (rv[i].lo < lo || rv[i].hi > hi) {
            if (reserve(2) < 0) break;
            struct range r = rv[i];
            if (r.lo < lo) {
                memmove(&rv[i + 1], &rv[i], (rn - i) * sizeof *rv);
                rn++;
                own(rv[i].owner, 1);
                rv[i].hi = lo;
                rv[i + 1].lo = lo;
                i++;
                continue;
            }
            memmove(&rv[i + 1], &rv[i], (rn - i) * sizeof *rv);
            rn++;
            own(rv[i].owner, 1);
            rv[i].hi = hi;
            rv[i + 1].lo = hi;
        }
        struct range *r = &rv[i];
        int shared = (r->flags & MAP_TYPE) != MAP_PRIVATE;
        if ((prot & PROT_WRITE) && !r->acct && !(r->prot & PROT_WRITE) && !shared && !r->noreserve &&
            !(r->flags & MAP_HUGETLB)) {
            r->acct = 1; /* mprotect_fixup charges and sets VM_ACCOUNT */
            charge(r->owner, charged_bytes(r, r->lo, r->hi));
        } else if (!(prot & PROT_WRITE) && r->acct && r->anon && uncharge_unfaulted &&
                   r->kind == RK_MAP) {
            drop_write(r);
        }
        r->prot = prot;
        i++;
    }
    ledger_unlock();
}

size_t ledger_detach(uintptr_t addr, size_t len, struct range *out, size_t max)
{
    uintptr_t lo = addr, hi = addr + page_up(len);
    ledger_lock();
    size_t n = 0;
    for (size_t i = first_ending_after(lo); i < rn && rv[i].lo < hi; i++) {
        if (n < max) {
            out[n] = rv[i];
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
    struct range r = {.lo = new_addr, .hi = new_addr + page_up(new_len), .prot = PROT_READ | PROT_WRITE,
                      .flags = MAP_PRIVATE | MAP_ANONYMOUS, .anon = 1, .origin = ++next_origin, .owner = self};
    if (like) {
        r.origin = like->origin;
        r.prot = like->prot;
        r.flags = like->flags;
        r.acct = like->acct;
        r.uncertain = like->uncertain;
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

/* --- read side ---------------------------------------------------------------- */
const struct range *ledger_ranges(size_t *n)
{
    *n = rn;
    return rv;
}

struct thread_rec *ledger_threads(void) { return threads; }

const struct range *ledger_find(uintptr_t addr)
{
    size_t i = first_ending_after(addr);
    return (i < rn && rv[i].lo <= addr) ? &rv[i] : NULL;
}

void ledger_settle(uintptr_t lo, uintptr_t hi, int ac)
{
    for (size_t i = first_ending_after(lo); i < rn && rv[i].lo < hi; i++) {
        struct range *r = &rv[i];
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

uint64_t ledger_charged_in(uintptr_t lo, uintptr_t hi)
{
    uint64_t sum = 0;
    for (size_t i = first_ending_after(lo); i < rn && rv[i].lo < hi; i++) {
        if (!rv[i].acct) continue;
        uintptr_t a = rv[i].lo > lo ? rv[i].lo : lo, b = rv[i].hi < hi ? rv[i].hi : hi;
        sum += b - a;
    }
    return sum;
}

uint64_t ledger_compute_touched(void)
{
    for (struct thread_rec *t = threads; t; t = t->next) t->touched = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < rn; i++) {
        if (!rv[i].acct) continue;
        uint64_t b = touched_bytes(rv[i].lo, rv[i].hi);
        total += b;
        if (rv[i].owner) rv[i].owner->touched += b;
    }
    return total;
}

void ledger_totals(struct ledger_totals *out)
{
    memset(out, 0, sizeof *out);
    out->committed = proc_committed;
    out->peak_committed = proc_peak;
    out->nranges = rn;
    for (struct thread_rec *t = threads; t; t = t->next) {
        out->nthreads++;
        out->malloc_live += ledger_malloc_live(t);
        out->touched += t->touched;
    }
    out->nthreads += n_recycled;
    out->malloc_live += recycled.malloc_in - recycled.malloc_out;
}

int64_t ledger_committed_bytes(void) { return __atomic_load_n(&proc_committed, __ATOMIC_RELAXED); }

int64_t ledger_malloc_live(const struct thread_rec *t)
{
    if (t->tls)
        return __atomic_load_n(&t->tls->malloc_in, __ATOMIC_RELAXED) - __atomic_load_n(&t->tls->malloc_out, __ATOMIC_RELAXED);
    return t->malloc_in - t->malloc_out;
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
        t->malloc_in = t->tls->malloc_in; /* a copy of that thread's TLS, frozen */
        t->malloc_out = t->tls->malloc_out;
        t->tls = NULL;
    }
    if (os_self) {
        os_self->parent_tid = os_self->tid;
        os_self->tid = os_gettid();
    }
    ledger_unlock();
}
