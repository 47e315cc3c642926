/* Reservation records (see region_rec.h). */
#include "region_rec.h"

#include <string.h>
#include <sys/mman.h>

#include "demangle.h"
#include "rawsys.h"
#include "region.h"
#include "rstack.h"
#include "symtab.h"
#include "unwind.h"

struct rec {
    uintptr_t lo, hi; /* lo == hi: a free slot */
    uint64_t ns;
    int flags, fd;
    uint8_t nips, resolved;
    struct region_info info;
    uintptr_t ips[REGION_IPS];
};

static struct rec *recs; /* REGION_MAX of them, mapped at the first reservation */
static int nrecs; /* slots in use, live or freed, 0..REGION_MAX */
#define TABLE_BYTES ((sizeof(struct rec) * REGION_MAX + 4095) & ~(size_t)4095)

int region_table_range(uintptr_t *lo, uintptr_t *hi)
{
    struct rec *r = __atomic_load_n(&recs, __ATOMIC_ACQUIRE);
    if (!r) return -1;
    *lo = (uintptr_t)r;
    *hi = (uintptr_t)r + TABLE_BYTES;
    return 0;
}

/* The table, mapped by the first thread that needs it (raw: no wrapper sees it). */
static int table(void)
{
    if (__atomic_load_n(&recs, __ATOMIC_ACQUIRE)) return 0;
    void *m = raw_mmap(NULL, TABLE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return -1;
    struct rec *none = NULL;
    if (!__atomic_compare_exchange_n(&recs, &none, (struct rec *)m, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        raw_munmap(m, TABLE_BYTES); /* another thread's came first */
    return 0;
}
static int live;
static int spin;
static int unwinds;

/* A few instructions are all it is held for; a holder that forked away is given up on. */
static int lock(void)
{
    for (int i = 0; i < 1000000; i++)
        if (!__atomic_exchange_n(&spin, 1, __ATOMIC_ACQUIRE)) return 0;
    return -1;
}
static void unlock(void) { __atomic_store_n(&spin, 0, __ATOMIC_RELEASE); }

void region_postfork_child(void) { __atomic_store_n(&spin, 0, __ATOMIC_RELEASE); }

static int inside_known(uintptr_t a, uintptr_t b)
{
    for (int i = 0; i < nrecs; i++)
        if (recs[i].lo < recs[i].hi && a >= recs[i].lo && b <= recs[i].hi) return 1;
    return 0;
}

struct cap {
    uintptr_t ips[REGION_IPS];
    int n;
};

static void capture(void *p)
{
    struct cap *c = p;
    c->n = unwind_ips_from(rstack_context(), c->ips, REGION_IPS);
}

void region_note_map(uintptr_t addr, size_t len, int prot, int flags, int fd)
{
    if (!(prot == PROT_NONE || (flags & MAP_NORESERVE) || len >= (1u << 20))) return; /* the common case */
    uintptr_t hi = addr + ((len + 4095) & ~(size_t)4095);
    if (flags & MAP_FIXED) {
        int in = 0;
        if (__atomic_load_n(&recs, __ATOMIC_ACQUIRE)) {
            if (lock()) return;
            in = inside_known(addr, hi);
            unlock();
        }
        if (!region_is_reservation(len, prot, flags, in)) return;
    }
    if (table() != 0) return;
    /* the table full (and nothing to replace): nothing to record, no unwind */
    if (__atomic_load_n(&live, __ATOMIC_RELAXED) >= REGION_MAX) return;
    struct cap c = {.n = 0};
    /* a program that reserves and releases in a loop pays the unwind (tens of us in a
     * JVM) only for its first REGION_UNWINDS reservations; later ones are recorded
     * without a stack (their kind then comes from their arguments) */
    if (__atomic_add_fetch(&unwinds, 1, __ATOMIC_RELAXED) <= REGION_UNWINDS && rstack_run(capture, &c) != 0) return;
    if (lock()) return;
    int slot = -1;
    for (int i = 0; i < nrecs; i++) {
        struct rec *r = &recs[i];
        if (r->lo < r->hi && r->lo < hi && addr < r->hi) r->lo = r->hi = 0, live--; /* replaced (a fixed reserve over it) */
        if (slot < 0 && r->lo == r->hi) slot = i;
    }
    if (slot < 0 && nrecs < REGION_MAX) slot = nrecs++;
    if (slot >= 0) {
        struct rec *r = &recs[slot];
        r->lo = addr;
        r->hi = hi;
        r->ns = raw_now_ns();
        r->flags = flags;
        r->fd = fd;
        r->nips = (uint8_t)c.n;
        r->resolved = 0;
        memcpy(r->ips, c.ips, sizeof c.ips);
        live++;
    }
    unlock();
}

void region_note_unmap(uintptr_t addr, size_t len)
{
    if (!__atomic_load_n(&live, __ATOMIC_RELAXED) || !recs) return;
    uintptr_t hi = addr + len;
    if (lock()) return;
    for (int i = 0; i < nrecs; i++) {
        struct rec *r = &recs[i];
        if (r->lo < r->hi && r->lo >= addr && r->hi <= hi) r->lo = r->hi = 0, live--;
    }
    unlock();
}

/* Names of the records' frames, worked out in batches in a work area mapped for one
 * region_resolve and given back at its end: one pass over each module's symbol table a
 * batch; the copies are taken under the spin lock and resolved without it (the file
 * reads take milliseconds; the wrappers must not wait for them). */
#define BATCH 32
struct resolve_work {
    struct frame fr[BATCH * REGION_IPS];
    struct rec copy[BATCH];
    char names[32 * 1024];
};

static void short_name(const char *sym, char *out, size_t cap)
{
    char dm[512];
    const char *s = osh_demangle(sym, dm, sizeof dm) ? dm : sym;
    size_t n = 0;
    /* up to the parameter list */
    while (s[n] && s[n] != '(' && n + 1 < cap) n++;
    memcpy(out, s, n);
    out[n] = 0;
}

static void resolve_batch(struct resolve_work *rw, const int *idx, int n)
{
    int nf = 0, first[BATCH];
    for (int k = 0; k < n; k++) {
        first[k] = nf;
        for (int i = 0; i < rw->copy[k].nips; i++) unwind_describe(rw->copy[k].ips[i], 0, &rw->fr[nf++]);
    }
    symtab_name_frames(rw->fr, nf, rw->names, sizeof rw->names);
    for (int k = 0; k < n; k++) {
        struct rec *r = &rw->copy[k];
        const char *names[REGION_IPS];
        for (int i = 0; i < r->nips; i++) names[i] = rw->fr[first[k] + i].symbol;
        struct region_class c;
        region_classify(names, r->nips, r->flags, r->fd, 0, &c);
        r->info.kind = c.kind;
        r->info.gc = c.gc;
        r->info.frame[0] = 0;
        if (c.frame >= 0) short_name(names[c.frame], r->info.frame, sizeof r->info.frame);
        r->info.lo = r->lo;
        r->info.hi = r->hi;
        r->info.made_ns = r->ns;
    }
    if (lock()) return;
    for (int k = 0; k < n; k++) {
        struct rec *r = &recs[idx[k]];
        if (r->lo != rw->copy[k].lo || r->ns != rw->copy[k].ns) continue; /* unmapped and reused meanwhile */
        r->info = rw->copy[k].info;
        r->resolved = 1;
    }
    unlock();
}

void region_resolve(void)
{
    if (!__atomic_load_n(&recs, __ATOMIC_ACQUIRE)) return;
    struct resolve_work *rw = NULL;
    for (int from = 0;;) {
        int idx[BATCH], n = 0;
        if (!rw) {
            void *m = raw_mmap(NULL, sizeof *rw, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED) return; /* memory too short: the records stay unnamed ("other") */
            rw = m;
        }
        if (lock()) break;
        for (; from < nrecs && n < BATCH; from++) {
            if (recs[from].lo == recs[from].hi || recs[from].resolved) continue;
            rw->copy[n] = recs[from];
            idx[n++] = from;
        }
        unlock();
        if (!n) break;
        resolve_batch(rw, idx, n);
    }
    if (rw) raw_munmap(rw, sizeof *rw);
}

int region_find(uintptr_t addr, struct region_info *out)
{
    int found = 0;
    if (!__atomic_load_n(&recs, __ATOMIC_ACQUIRE) || lock()) return 0;
    for (int i = 0; i < nrecs && !found; i++) {
        struct rec *r = &recs[i];
        if (r->lo < r->hi && r->resolved && addr >= r->lo && addr < r->hi) {
            *out = r->info;
            found = 1;
        }
    }
    unlock();
    return found;
}

int region_count(void) { return nrecs; }

int region_get(int i, struct region_info *out)
{
    if (i < 0 || i >= nrecs || !recs || lock()) return 0;
    struct rec *r = &recs[i];
    int ok = r->lo < r->hi && r->resolved;
    if (ok) *out = r->info;
    unlock();
    return ok;
}
