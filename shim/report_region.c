/* Region kinds in reports and summaries (see report_region.h). */
#include "report_region.h"

#include <string.h>
#include <sys/mman.h>

#include "demangle.h"
#include "lazyfacts.h"
#include "ledger.h"
#include "policy.h"
#include "reconcile.h"
#include "state.h"
#include "region.h"
#include "shmem.h"
#include "touched.h"

static int is_malloc_call(enum call_id id)
{
    return id >= CALL_MALLOC && id <= CALL_PVALLOC;
}

void region_of_call(const struct failed_call *fc, const struct frame *fr, int nf, struct call_region *out)
{
    memset(out, 0, sizeof *out);
    region_resolve();
    int map = fc->id == CALL_MMAP || fc->id == CALL_MMAP64;
    int in_res = (map && (fc->a[3] & MAP_FIXED)) || fc->id == CALL_MPROTECT;
    if (in_res && region_find((uintptr_t)fc->a[0], &out->info)) {
        out->inherited = 1;
        return;
    }
    const char *names[64];
    int n = nf < 64 ? nf : 64;
    for (int i = 0; i < n; i++) names[i] = fr[i].symbol;
    struct region_class c;
    region_classify(names, n, map ? (int)fc->a[3] : 0, map ? (int)fc->a[4] : -1, is_malloc_call(fc->id), &c);
    if (fc->id == CALL_PTHREAD_CREATE || fc->id == CALL_CLONE) c.kind = REGION_THREAD_STACK;
    if (fc->id == CALL_FALLOCATE && c.kind == REGION_OTHER) c.kind = REGION_SHARED_MEMORY;
    out->info.kind = c.kind;
    out->info.gc = c.gc;
    if (c.frame >= 0 && names[c.frame]) {
        char dm[512];
        const char *s = osh_demangle(names[c.frame], dm, sizeof dm) ? dm : names[c.frame];
        size_t k = 0;
        while (s[k] && s[k] != '(' && k + 1 < sizeof out->info.frame) k++;
        memcpy(out->info.frame, s, k);
        out->info.frame[k] = 0;
    }
}

static void detail(struct fmtbuf *f, const struct call_region *cr)
{
    const struct region_info *r = &cr->info;
    fb_puts(f, region_words(r->kind));
    if (r->gc && r->kind == REGION_JAVA_HEAP) fb_printf(f, " (%s)", r->gc);
}

void region_json(struct fmtbuf *j, const struct call_region *cr)
{
    char b[160];
    struct fmtbuf d;
    fb_init_str(&d, b, sizeof b);
    detail(&d, cr);
    fb_printf(j, ",\"region\":{\"kind\":%pJ,\"detail\":%pJ,\"nmt\":%pJ,\"frame\":%pJ,\"gc\":%pJ,\"from\":%pJ",
              region_json_name(cr->info.kind), fb_cstr(&d), region_nmt(cr->info.kind), cr->info.frame,
              cr->info.gc ? cr->info.gc : "", cr->inherited ? "reservation" : "stack");
    if (cr->inherited)
        fb_printf(j, ",\"reservation\":{\"addr\":%llu,\"length\":%llu}", (unsigned long long)cr->info.lo,
                  (unsigned long long)(cr->info.hi - cr->info.lo));
    fb_puts(j, "}");
}

void region_sentence(struct fmtbuf *t, const struct call_region *cr, uint64_t bytes, int jvm, uint64_t now_ns)
{
    fb_puts(t, jvm ? "the JVM's " : "the program's ");
    detail(t, cr);
    fb_puts(t, cr->inherited ? " commit of " : " request of ");
    fb_size(t, bytes);
    if (cr->inherited) {
        fb_puts(t, ", inside its reservation of ");
        fb_size(t, cr->info.hi - cr->info.lo);
        if (now_ns >= cr->info.made_ns)
            fb_printf(t, " made %llu ms earlier", (unsigned long long)((now_ns - cr->info.made_ns) / 1000000));
    }
    if (cr->info.frame[0]) fb_printf(t, " (%s)", cr->info.frame);
}

struct tot {
    uint64_t reserved, committed, touched;
    int nres;
};

/* The kind of a ledger range: its reservation's, or its own. */
static int range_kind(const struct range *r)
{
    struct region_info ri;
    if (region_find(r->lo, &ri)) /* CDS maps its archive's file into the class space's reservation */
        return ri.kind == REGION_CLASS_SPACE && !r->anon ? REGION_CDS_ARCHIVE : ri.kind;
    if (r->kind == RK_STACK || (r->flags & MAP_STACK)) return REGION_THREAD_STACK;
    if (r->kind == RK_BRK) return REGION_MALLOC_ARENA;
    if (!r->anon) return REGION_MAPPED_FILE;
    if (r->flags & MAP_SHARED) return REGION_SHARED_MEMORY;
    return REGION_OTHER;
}

void region_totals(struct fmtbuf *j, struct fmtbuf *t, const struct reconcile *rc)
{
    uint64_t untracked_anon = rc->untracked_anon, kernel_accountable = rc->kernel_accountable;
    static struct tot tt[REGION_NKINDS];
    memset(tt, 0, sizeof tt);
    region_resolve();
    struct region_info ri;
    for (int i = 0; i < region_count(); i++)
        if (region_get(i, &ri)) {
            tt[ri.kind].reserved += ri.hi - ri.lo;
            tt[ri.kind].nres++;
        }
    int threads = 0;
    ledger_lock();
    for (const struct range *r = ledger_first(); r; r = ledger_next(r)) {
        int k = range_kind(r);
        if (r->acct) tt[k].committed += r->hi - r->lo;
        if (r->prot && r->kind != RK_STACK) tt[k].touched += touched_bytes(r->lo, r->hi);
    }
    for (const struct thread_rec *th = ledger_threads(); th; th = th->next) threads += th->alive;
    ledger_unlock();
    /* the files' pages are charged to the file, not to its MAP_SHARED mappings */
    tt[REGION_SHARED_MEMORY].committed += (uint64_t)shmem_charged_bytes();
    /* glibc's arenas, from smaps at this summary (the wrappers never see them) */
    if (facts_ledger_mode() == 2) tt[REGION_MALLOC_ARENA].committed += rc->arena_bytes; /* NORESERVE */
    tt[REGION_MALLOC_ARENA].touched += rc->arena_rss;
    tt[REGION_MALLOC_ARENA].reserved += rc->arena_heaps * (64ull << 20);
    tt[REGION_MALLOC_ARENA].nres += (int)rc->arena_heaps;
    /* "dominate": more than the Java heap or the rest of the ledger holds resident */
    uint64_t others = 0;
    for (int k = 0; k < REGION_NKINDS; k++)
        if (k != REGION_MALLOC_ARENA && tt[k].touched > others) others = tt[k].touched;
    int arenas_dominate = rc->arena_rss >= (64ull << 20) && rc->arena_rss > others;
    (void)kernel_accountable;
    if (j) {
        fb_printf(j, ",\"regions\":{\"live_threads\":%d,\"untracked_anonymous_bytes\":%llu,\"glibc_arenas\":{"
                     "\"heaps\":%llu,\"writable_bytes\":%llu,\"resident_bytes\":%llu},\"kinds\":[",
                  threads, (unsigned long long)untracked_anon, (unsigned long long)rc->arena_heaps,
                  (unsigned long long)rc->arena_bytes, (unsigned long long)rc->arena_rss);
        int first = 1;
        for (int k = 0; k < REGION_NKINDS; k++) {
            if (!tt[k].reserved && !tt[k].committed && !tt[k].touched) continue;
            fb_printf(j, "%s{\"kind\":%pJ,\"nmt\":%pJ,\"reservations\":%d,\"reserved_bytes\":%llu,\"committed_bytes\":%llu,"
                         "\"touched_bytes\":%llu}",
                      first ? "" : ",", region_json_name(k), region_nmt(k), tt[k].nres,
                      (unsigned long long)tt[k].reserved, (unsigned long long)tt[k].committed,
                      (unsigned long long)tt[k].touched);
            first = 0;
        }
        fb_puts(j, "],\"reservations\":[");
        first = 1;
        for (int i = 0; i < region_count(); i++)
            if (region_get(i, &ri)) {
                fb_printf(j, "%s{\"addr\":%llu,\"length\":%llu,\"kind\":%pJ,\"frame\":%pJ}", first ? "" : ",",
                          (unsigned long long)ri.lo, (unsigned long long)(ri.hi - ri.lo), region_json_name(ri.kind),
                          ri.frame);
                first = 0;
            }
        fb_printf(j, "],\"arenas_dominate\":%s}", arenas_dominate ? "true" : "false");
    }
    if (t) {
        fb_puts(t, "REGIONS  what the memory is for (kind of the reservation each range lies in; NMT's category)\n");
        fb_puts(t, "         reserved     committed    touched      kind\n");
        for (int k = 0; k < REGION_NKINDS; k++) {
            if (!tt[k].reserved && !tt[k].committed && !tt[k].touched) continue;
            char c[3][24];
            for (int i = 0; i < 3; i++) {
                struct fmtbuf f;
                fb_init_str(&f, c[i], sizeof c[i]);
                fb_size(&f, i == 0 ? tt[k].reserved : i == 1 ? tt[k].committed : tt[k].touched);
                fb_cstr(&f);
            }
            fb_printf(t, "         %-12s %-12s %-12s %s", c[0], c[1], c[2], region_json_name(k));
            if (region_nmt(k)[0]) fb_printf(t, " (NMT: %s)", region_nmt(k));
            fb_putc(t, '\n');
        }
        fb_printf(t, "         %d live threads; glibc malloc arenas: %llu heaps of 64 MiB, ", threads,
                  (unsigned long long)rc->arena_heaps);
        fb_size(t, rc->arena_bytes);
        fb_puts(t, " writable, ");
        fb_size(t, rc->arena_rss);
        fb_puts(t, " resident (from smaps; untracked anonymous memory the kernel charges ");
        fb_size(t, untracked_anon);
        fb_puts(t, ")\n");
        if (arenas_dominate)
            fb_puts(t, "         glibc's malloc arenas hold more resident memory than any other region: "
                       "MALLOC_ARENA_MAX=2 (or 4) in the environment caps their number (8 x cores by default, "
                       "64 MiB each)\n");
    }
}
