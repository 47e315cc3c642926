/* The commit ledger (see ledger.h). Ranges live in an address-ordered tree
 * (rangetree.c); all changes happen under one mutex, taken only by threads already
 * inside osh_guard, so a signal handler that interrupts the holder goes straight
 * to the real call. */
#include "ledger_int.h"
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
#define NODES_PER_BLOCK (OSH_HEAP_SMALL_MAX / sizeof(struct rt_node)) /* one heap block of a chunk, not a mapping */
static struct rt_node nodes_static[RV_STATIC];
static size_t nnodes_static;
static struct rt_node *free_nodes; /* linked through kid[0] */
static struct rangetree rt;
/* The overcommit mode, and whether mprotect dropping write on an unfaulted anonymous VMA
 * uncharges it (6.7+): read on the first call that needs them (lazyfacts.h). */
#define mode facts_ledger_mode()
#define uncharge_unfaulted facts_mprotect_uncharges()
static int64_t proc_committed, proc_peak;
int64_t ledger_proc_mapped; /* bytes of the ledger's ranges (the trace's VmSize between samples) */
static uint32_t next_origin;

void ledger_init(void) {}

/* Callers are inside osh_enter, which has done a fork child's fix-up. */
void ledger_lock(void) { pthread_mutex_lock(&osh_fs->ledger_mu); }
void ledger_unlock(void) { pthread_mutex_unlock(&osh_fs->ledger_mu); }

/* What is changing the ledger (lock held), for the timeline's records of each charge. */
int ledger_cur_op;
uintptr_t ledger_cur_lo;
size_t ledger_cur_len;

void ledger_charge(struct thread_rec *t, int64_t bytes)
{
    proc_committed += bytes;
    if (proc_committed > proc_peak) proc_peak = proc_committed;
    if (t) {
        t->committed += bytes;
        if (t->committed > t->peak_committed) t->peak_committed = t->committed;
    }
    if (OSH_UNLIKELY(osh_timeline) && bytes) timeline_charge(t, bytes, ledger_cur_op, ledger_cur_lo, ledger_cur_len, proc_committed, proc_peak);
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
    struct rt_node *b = osh_heap_alloc(NODES_PER_BLOCK * sizeof *b);
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
    ledger_own(x->r.owner, 1);
    return fresh;
}

/* Remove [lo, hi) from the ledger, splitting ranges at the edges. */
void ledger_clip(uintptr_t lo, uintptr_t hi)
{
    struct rt_node *x;
    while ((x = rt_ending_after(&rt, lo)) != NULL && x->r.lo < hi) {
        struct range *r = &x->r;
        uintptr_t cut_lo = r->lo > lo ? r->lo : lo, cut_hi = r->hi < hi ? r->hi : hi;
        ledger_charge(r->owner, -charged_bytes(r, cut_lo, cut_hi));
        if (r->kind != RK_STACK) ledger_proc_mapped -= (int64_t)(cut_hi - cut_lo);
        if (r->lo < lo && r->hi > hi) { /* hole in the middle: split */
            if (!split_at(x, hi)) { /* cannot split: keep the left part only */
                ledger_charge(r->owner, -charged_bytes(r, hi, r->hi));
                if (r->kind != RK_STACK) ledger_proc_mapped -= (int64_t)(r->hi - hi);
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
            ledger_own(owner, -1);
            ledger_maybe_recycle(owner);
        }
    }
}

void ledger_insert(const struct range *nr)
{
    if (nr->hi <= nr->lo) return;
    struct rt_node *x = node_get();
    if (!x) return;
    x->r = *nr;
    rt_insert(&rt, x);
    if (nr->kind != RK_STACK) ledger_proc_mapped += (int64_t)(nr->hi - nr->lo); /* stacks: from the model, mapped by glibc at creation */
    ledger_own(nr->owner, 1);
    ledger_charge(nr->owner, charged_bytes(nr, nr->lo, nr->hi));
}

static uintptr_t page_up(uintptr_t x) { return (x + 4095) & ~(uintptr_t)4095; }

void ledger_record_map(uintptr_t addr, size_t len, int prot, int flags, int anon)
{
    struct thread_rec *self = ledger_self();
    ledger_lock();
    LEDGER_OP(OVERSHIM_OP_MAP, addr, len);
    uintptr_t hi = addr + page_up(len);
    ledger_clip(addr, hi); /* MAP_FIXED over existing ranges: the old ones are gone (net charge) */
    struct range r = {.lo = addr, .hi = hi, .prot = (uint8_t)prot, .flags = flags,
                      .acct = (uint8_t)kmodel_mmap_accountable(prot, flags, mode),
                      .noreserve = (uint8_t)((flags & MAP_NORESERVE) && mode != 2),
                      .kind = RK_MAP, .anon = (uint8_t)anon, .origin = ++next_origin, .owner = self};
    ledger_insert(&r);
    if (self) self->nmaps++;
    ledger_unlock();
}

void ledger_record_protect(uintptr_t addr, size_t len, int prot)
{
    uintptr_t lo = addr, hi = addr + page_up(len);
    ledger_lock();
    LEDGER_OP(OVERSHIM_OP_PROTECT, addr, len);
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
            ledger_charge(r->owner, charged_bytes(r, r->lo, r->hi));
        } else if (dropping && anonvma_rule_applies(r)) {
            r->uncertain = 1; /* settled by the next report or summary (ledger_settle) */
            if (!anonvma_keeps_charge(r, &look)) {
                ledger_charge(r->owner, -charged_bytes(r, r->lo, r->hi));
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
    LEDGER_OP(OVERSHIM_OP_UNMAP, addr, len);
    size_t n = 0;
    for (struct rt_node *x = rt_ending_after(&rt, lo); x && x->r.lo < hi; x = rt_next_below(&rt, x, hi)) {
        if (n < max) {
            out[n] = x->r;
            if (out[n].lo < lo) out[n].lo = lo;
            if (out[n].hi > hi) out[n].hi = hi;
        }
        n++;
    }
    ledger_clip(lo, hi);
    ledger_unlock();
    return n <= max ? n : max + 1;
}

void ledger_reattach(const struct range *pieces, size_t n)
{
    ledger_lock();
    LEDGER_OP(OVERSHIM_OP_MAP, n ? pieces[0].lo : 0, n ? pieces[n - 1].hi - pieces[0].lo : 0);
    for (size_t i = 0; i < n; i++) {
        ledger_clip(pieces[i].lo, pieces[i].hi);
        ledger_insert(&pieces[i]);
    }
    ledger_unlock();
}

void ledger_record_remap(const struct range *like, uintptr_t new_addr, size_t new_len)
{
    struct thread_rec *self = ledger_self();
    ledger_lock();
    LEDGER_OP(OVERSHIM_OP_REMAP, new_addr, new_len);
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
    ledger_clip(r.lo, r.hi);
    ledger_insert(&r);
    ledger_unlock();
}

void ledger_record_brk(uintptr_t old_brk, uintptr_t new_brk)
{
    struct thread_rec *self = ledger_self();
    ledger_lock();
    LEDGER_OP(OVERSHIM_OP_BRK, old_brk, new_brk - old_brk);
    uintptr_t a = page_up(old_brk), b = page_up(new_brk);
    if (b > a) {
        struct range r = {.lo = a, .hi = b, .prot = PROT_READ | PROT_WRITE,
                          .flags = MAP_PRIVATE | MAP_ANONYMOUS, .acct = 1, .kind = RK_BRK, .anon = 1,
                          .owner = self};
        ledger_clip(a, b);
        ledger_insert(&r);
    } else if (b < a) {
        ledger_clip(b, a);
    }
    ledger_unlock();
}

/* --- read side (and ledger_read.c) ------------------------------------------- */
struct rangetree *ledger_tree(void) { return &rt; }

void ledger_settle(uintptr_t lo, uintptr_t hi, int ac)
{
    LEDGER_OP(OVERSHIM_OP_SETTLE, lo, hi - lo);
    for (struct rt_node *x = rt_ending_after(&rt, lo); x && x->r.lo < hi; x = rt_next_below(&rt, x, hi)) {
        struct range *r = &x->r;
        if (!r->uncertain || r->lo < lo || r->hi > hi) continue;
        r->uncertain = 0;
        if (r->acct == (uint8_t)ac) continue;
        if (ac) {
            r->acct = 1;
            ledger_charge(r->owner, charged_bytes(r, r->lo, r->hi));
        } else {
            ledger_charge(r->owner, -charged_bytes(r, r->lo, r->hi));
            r->acct = 0;
        }
    }
}

void ledger_totals(struct ledger_totals *out)
{
    memset(out, 0, sizeof *out);
    out->committed = proc_committed;
    out->mapped = ledger_proc_mapped;
    out->peak_committed = proc_peak;
    out->nranges = rt.n;
    ledger_thread_totals(out);
}

int64_t ledger_committed_bytes(void) { return __atomic_load_n(&proc_committed, __ATOMIC_RELAXED); }
int64_t ledger_mapped_bytes(void) { return __atomic_load_n(&ledger_proc_mapped, __ATOMIC_RELAXED); }

/* --- fork ---------------------------------------------------------------------- */
void ledger_prefork(void) { pthread_mutex_lock(&osh_fs->ledger_mu); }
void ledger_postfork_parent(void) { pthread_mutex_unlock(&osh_fs->ledger_mu); }

