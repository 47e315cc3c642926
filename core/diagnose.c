/* Diagnosis of a refused call (see diagnose.h). The cause comes from the checks in the
 * kernel's order; the remedies are computed from the same numbers and said in the terms
 * of the program that was refused (live_state.prog): a JVM flag only for a JVM, Python's
 * and node's own knobs for them, generic words (and systemd's Limit*= for a service)
 * for everything else. */
#include "diagnose_int.h"

#include <errno.h>

/* Sizes in remedies are rounded so that following them is enough: an "at most" down, an
 * amount to free or add up. */

void dg_remedy(struct diagnosis *d, const char *fmt, ...)
{
    if (d->nremedies >= DIAG_MAX_REMEDIES) return;
    struct fmtbuf fb;
    fb_init_str(&fb, d->remedies[d->nremedies++], sizeof d->remedies[0]);
    va_list ap;
    va_start(ap, fmt);
    fb_vprintf(&fb, fmt, ap);
    va_end(ap);
    fb_cstr(&fb);
}

void dg_explain(struct diagnosis *d, const char *fmt, ...)
{
    struct fmtbuf fb;
    fb_init_str(&fb, d->explanation, sizeof d->explanation);
    va_list ap;
    va_start(ap, fmt);
    fb_vprintf(&fb, fmt, ap);
    va_end(ap);
    fb_cstr(&fb);
}

void dg_explain_more(struct diagnosis *d, const char *fmt, ...)
{
    size_t n = strlen(d->explanation);
    struct fmtbuf fb;
    fb_init_str(&fb, d->explanation + n, sizeof d->explanation - n);
    va_list ap;
    va_start(ap, fmt);
    fb_vprintf(&fb, fmt, ap);
    va_end(ap);
    fb_cstr(&fb);
}

void dg_term(struct diagnosis *d, const char *key, const char *name, char op, int64_t v)
{
    if (d->kv.nterms < KM_MAX_TERMS) d->kv.terms[d->kv.nterms++] = (struct kterm){key, name, op, v};
}

void dg_set(struct diagnosis *d, enum cause cause, const char *headline, int64_t req, int64_t limit,
                int64_t committed, int64_t shortfall)
{
    d->cause = cause;
    d->headline = headline;
    d->request_pages = req;
    d->limit_pages = limit;
    d->committed_pages = committed;
    d->shortfall_pages = shortfall > 0 ? shortfall : 0;
}

/* A process limit, as the shell sets it and as systemd does for a service. kib: the
 * value in KiB (RLIMIT_AS, RLIMIT_DATA), or a count (kib_unit 0). */
void dg_limit_remedy(struct diagnosis *d, const struct live_state *s, const char *ulimit_opt, const char *rlim,
                         const char *unit_key, int64_t value, int kib_unit, const char *tail)
{
    if (s->prog.service[0])
        dg_remedy(d, "%s=%lld%s in the [Service] section of %s (systemctl edit %s), or ulimit %s %lld in the shell "
                  "that starts it%s",
               unit_key, (long long)value, kib_unit ? "K" : "", s->prog.service, s->prog.service, ulimit_opt,
               (long long)value, tail);
    else
        dg_remedy(d, "ulimit %s %lld or more (%s%s), or unlimited%s", ulimit_opt, (long long)value, rlim,
               kib_unit ? ", in KiB" : "", tail);
}

/* --- per call -------------------------------------------------------------- */

void diagnose_call_range(const struct failed_call *fc, uintptr_t *lo, uintptr_t *hi)
{
    *lo = *hi = 0;
    switch (fc->id) {
    case CALL_MMAP:
    case CALL_MMAP64:
        if (fc->mmap.flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))
            *lo = fc->mmap.addr, *hi = fc->mmap.addr + page_up(fc->mmap.length);
        break;
    case CALL_MPROTECT:
        *lo = fc->mprotect.addr;
        *hi = fc->mprotect.addr + page_up(fc->mprotect.length);
        break;
    case CALL_MUNMAP:
        *lo = fc->munmap.addr;
        *hi = fc->munmap.addr + page_up(fc->munmap.length);
        break;
    case CALL_MREMAP:
        *lo = fc->mremap.old_address;
        *hi = fc->mremap.old_address + page_up(fc->mremap.old_size);
        break;
    default:
        break;
    }
}

static void address_space(struct diagnosis *d, const struct live_state *s, const char *headline, int64_t pages,
                          int64_t limit, int64_t in_use)
{
    memset(&d->kv, 0, sizeof d->kv);
    if (in_use >= 0) dg_term(d, "total_vm", "VmSize (total_vm)", '+', in_use);
    dg_term(d, "request", "this request", '+', pages);
    dg_set(d, CAUSE_ADDRESS_SPACE, headline, pages, limit, in_use, in_use >= 0 ? in_use + pages - limit : pages - limit);
    d->unit_kb = pk_of(s);
}

/* A mapping request: the shared path of mmap, the malloc estimate and thread stacks. */
static void diagnose_map(struct diagnosis *d, const struct live_state *s, const struct smaps_facts *f, uint64_t addr,
                         uint64_t len, int prot, int flags)
{
    int fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0;
    int64_t pages = pages_of(s, len);
    const int64_t task_pages = (int64_t)(TASK_SIZE_BYTES / 4096);
    if (len > TASK_SIZE_BYTES || (fixed && addr + len > TASK_SIZE_BYTES)) {
        address_space(d, s, "the size of the address space", pages, task_pages, -1);
        dg_explain(d, "%lld pages do not fit below TASK_SIZE (128 TiB on x86-64 with 4-level paging)", (long long)pages);
        dg_remedy(d, "request less: this size can never be mapped");
        return;
    }
    if (dg_check_map_count(d, s, 1, 0)) return;
    if (!fixed && s->vm_size_pages + pages > task_pages) {
        address_space(d, s, "free address space", pages, task_pages, s->vm_size_pages);
        dg_explain(d, "no free gap of %lld pages is left in the address space", (long long)pages);
        return;
    }
    int64_t mapped = fixed && f ? (int64_t)f->mapped_pages : 0;
    int64_t net = pages - mapped; /* may_expand_vm is given the growth net of the replaced pages */
    if (dg_check_rlimit_as(d, s, net, pages)) return;
    int data = (flags & MAP_TYPE) == MAP_PRIVATE && (prot & PROT_WRITE) && !(flags & MAP_GROWSDOWN);
    if (data && s->k.rlimit_data_mmap && dg_check_rlimit_data(d, s, net, pages)) return;
    if (flags & MAP_HUGETLB) {
        dg_check_hugetlb(d, s, len);
        return;
    }
    int mode = s->in.overcommit_memory;
    int64_t charge = 0;
    if (kmodel_mmap_accountable(prot, flags, mode))
        charge = s->k.fixed_net && fixed && f ? pages - (int64_t)f->accounted_pages : pages;
    else if ((flags & MAP_TYPE) != MAP_PRIVATE && (flags & MAP_ANONYMOUS) && !((flags & MAP_NORESERVE) && mode != 2))
        charge = pages; /* shared anonymous: shmem_acct_size charges the whole object */
    if (dg_check_overcommit(d, s, charge, pages, prot & PROT_WRITE, flags)) {
        if ((flags & MAP_TYPE) != MAP_PRIVATE)
            dg_explain_more(d, "; a shared anonymous mapping is charged as one shmem object of its full size "
                            "(shmem_acct_size, at mmap time), not as a VMA: it never shows `ac` in smaps");
        return;
    }
}

static void diagnose_protect(struct diagnosis *d, const struct live_state *s, const struct smaps_facts *f,
                             uint64_t len, int prot)
{
    int64_t pages = pages_of(s, len);
    if (f && (int64_t)f->mapped_pages < pages) {
        address_space(d, s, "an unmapped range", pages, (int64_t)f->mapped_pages, -1);
        d->shortfall_pages = 0;
        dg_explain(d, "%lld of the %lld pages named are not mapped: mprotect returns ENOMEM for a hole",
                (long long)(pages - (int64_t)f->mapped_pages), (long long)pages);
        dg_remedy(d, "a bug in the caller: the range was never mapped or was unmapped before");
        return;
    }
    if (dg_check_map_count(d, s, 1, 1)) return;
    if (prot & PROT_WRITE) {
        /* mprotect_fixup checks the whole range when it becomes data */
        int64_t becoming = f ? pages - (int64_t)f->data_pages : pages;
        if (becoming > 0 && s->k.rlimit_data_mmap && dg_check_rlimit_data(d, s, pages, pages)) return;
        int64_t charge = f ? pages - (int64_t)f->accounted_pages : pages;
        if (dg_check_overcommit(d, s, charge, pages, 1, MAP_FIXED)) return;
    }
}

static void diagnose_remap(struct diagnosis *d, const struct live_state *s, const struct smaps_facts *f,
                           uint64_t old_len, uint64_t new_len, int flags)
{
    int64_t grow = pages_of(s, new_len) - pages_of(s, old_len);
    if (dg_check_map_count(d, s, 1, 4)) return;
    if (grow > 0 && dg_check_rlimit_as(d, s, grow, grow)) return;
    if (grow > 0 && f && f->data_pages && s->k.rlimit_data_mmap && dg_check_rlimit_data(d, s, grow, grow)) return;
    int64_t charge = (flags & MREMAP_DONTUNMAP) ? pages_of(s, new_len) : grow;
    if (f && f->accounted_pages && dg_check_overcommit(d, s, charge, charge, 1, MAP_FIXED)) return;
    if (grow > 0 && !(flags & MREMAP_MAYMOVE)) {
        dg_set(d, CAUSE_ADDRESS_SPACE, "no room to grow in place", grow, 0, -1, 0);
        dg_explain(d, "the mapping cannot grow in place and MREMAP_MAYMOVE was not given");
        dg_remedy(d, "pass MREMAP_MAYMOVE");
    }
}

static void diagnose_fork(struct diagnosis *d, const struct live_state *s, const struct smaps_facts *f)
{
    if (f) {
        /* dup_mmap charges each `ac` VMA of the parent, against the parent's mm */
        int64_t charge = s->in.overcommit_memory == 2 ? (int64_t)f->ac_total_pages : (int64_t)f->ac_largest_pages;
        if (dg_check_overcommit(d, s, charge, charge, 1, 0)) {
            dg_explain_more(d, "; fork copies the parent's %llu accountable mappings (%llu pages), each charged again "
                            "for the child",
                         (unsigned long long)f->ac_vmas, (unsigned long long)f->ac_total_pages);
            return;
        }
    }
}

static int fork_passes(const struct live_state *s, int64_t rest, int64_t parent, int64_t x, int64_t band)
{
    struct kmodel_input in = s->in;
    in.committed = rest + x + band; /* the parent's own share is part of Committed_AS */
    int64_t vm = s->vm_size_pages - (parent - x);
    struct kverdict v;
    kmodel_vm_enough_memory(&s->k, &in, x, vm > 0 ? vm : 0, &v);
    return !v.refused;
}

int64_t diagnose_fork_bound(const struct live_state *s, int64_t parent, int64_t band)
{
    int64_t rest = s->in.committed - parent;
    if (rest < 0) rest = 0;
    if (!fork_passes(s, rest, parent, 0, band)) return -1;
    int64_t lo = 0, hi = parent; /* passes at lo; the largest x that passes */
    if (fork_passes(s, rest, parent, hi, band)) return hi;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (fork_passes(s, rest, parent, mid, band)) lo = mid;
        else hi = mid;
    }
    return lo;
}

/* The shim's own share of what the check counted (live_state.own_*, filled by the
 * shim at a real refusal): said in the explanation, and when the call would have
 * passed without it, said first among the remedies, so the program is not blamed for
 * the shim's mappings, address space or commit. */
static void remedy_first(struct diagnosis *d, const char *text)
{
    int n = d->nremedies < DIAG_MAX_REMEDIES ? d->nremedies : DIAG_MAX_REMEDIES - 1;
    memmove(d->remedies[1], d->remedies[0], (size_t)n * sizeof d->remedies[0]);
    osh_snprintf(d->remedies[0], sizeof d->remedies[0], "%s", text);
    d->nremedies = n + 1;
}

static void own_share(struct diagnosis *d, const struct live_state *s)
{
    int64_t own = 0, over = d->shortfall_pages;
    const char *what = NULL, *unit = "pages";
    if (d->cause == CAUSE_MAX_MAP_COUNT) own = s->own_maps, what = "mappings", unit = "mappings";
    else if (d->cause == CAUSE_RLIMIT_AS) own = s->own_vm_pages, what = "pages of VmSize";
    else if (d->cause == CAUSE_OVERCOMMIT_NEVER) own = s->own_commit_pages, what = "pages of Committed_AS";
    if (!what || own <= 0) return;
    dg_explain_more(d, "; overshim itself accounts for %lld of those %s", (long long)own, what);
    if (over > 0 && own >= over) {
        char t[DIAG_REMEDY_LEN];
        osh_snprintf(t, sizeof t,
                    "without overshim this call would have passed: the shim's own %lld %s are more than the %lld "
                    "%s it was short by (run without LD_PRELOAD, or raise the limit by that much)",
                    (long long)own, unit, (long long)over, unit);
        remedy_first(d, t);
    }
}

void diagnose(const struct failed_call *fc, const struct live_state *s, const struct smaps_facts *f,
              struct diagnosis *d)
{
    memset(d, 0, sizeof *d);
    d->call = fc->id;
    d->units = "pages";
    d->unit_kb = pk_of(s);
    d->committed_pages = -1;
    d->cause = CAUSE_UNKNOWN;
    d->headline = "a cause overshim cannot identify";
    switch (fc->id) {
    case CALL_MMAP:
    case CALL_MMAP64:
        diagnose_map(d, s, f, fc->mmap.addr, fc->mmap.length, (int)fc->mmap.prot, (int)fc->mmap.flags);
        break;
    case CALL_MPROTECT:
        diagnose_protect(d, s, f, fc->mprotect.length, (int)fc->mprotect.prot);
        break;
    case CALL_MREMAP:
        diagnose_remap(d, s, f, fc->mremap.old_size, fc->mremap.new_size, (int)fc->mremap.flags);
        break;
    case CALL_MUNMAP:
        dg_check_map_count(d, s, 1, 1);
        break;
    case CALL_BRK:
    case CALL_SBRK: {
        /* brk(): check_data_rlimit first, then do_brk_flags: may_expand_vm (RLIMIT_AS, then
         * VmData), the map count, the commit charge (6.18 mm/mmap.c, mm/vma.c) */
        if (fc->id == CALL_SBRK && (int64_t)fc->sbrk.increment < 0) break;
        uint64_t old_brk = fc->id == CALL_SBRK ? fc->sbrk.old_break : fc->brk.old_break;
        uint64_t new_brk = fc->id == CALL_SBRK ? fc->sbrk.old_break + fc->sbrk.increment : fc->brk.addr;
        int64_t grow = new_brk > old_brk ? pages_of(s, new_brk - old_brk) : 0;
        if (dg_check_brk_data(d, s, new_brk)) break;
        if (dg_check_rlimit_as(d, s, grow, grow)) break;
        if (dg_check_rlimit_data(d, s, grow, grow)) break;
        if (dg_check_map_count(d, s, 1, 0)) break;
        dg_check_overcommit(d, s, grow, grow, 1, 0);
        break;
    }
    case CALL_MALLOC:
    case CALL_CALLOC:
    case CALL_REALLOC:
    case CALL_REALLOCARRAY:
    case CALL_POSIX_MEMALIGN:
    case CALL_ALIGNED_ALLOC:
    case CALL_MEMALIGN:
    case CALL_VALLOC:
    case CALL_PVALLOC: {
        uint64_t size = call_request_bytes(fc);
        if (fc->id == CALL_POSIX_MEMALIGN || fc->id == CALL_ALIGNED_ALLOC || fc->id == CALL_MEMALIGN)
            size += fc->memalign.alignment;
        d->estimated = 1;
        if (size > (uint64_t)PTRDIFF_MAX) {
            address_space(d, s, "malloc's size limit", pages_of(s, size), pages_of(s, (uint64_t)PTRDIFF_MAX), -1);
            dg_explain(d, "malloc refuses sizes above PTRDIFF_MAX without asking the kernel");
            break;
        }
        /* glibc serves a large request with its own private writable mmap of the size plus a header */
        diagnose_map(d, s, NULL, 0, page_up(size + 16), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        break;
    }
    case CALL_PTHREAD_CREATE: {
        uint64_t stack = fc->pthread_create.stack_size;
        if (stack) {
            /* glibc: mmap(stack + guard, PROT_NONE) then mprotect(stack, RW), the charge at the mprotect;
             * the PROT_NONE mapping is in total_vm by then, so the user reserve counts it (measured on
             * 5.10-7.2 with glibc 2.36: the largest stack is about size/32 below the largest mmap).
             * Without a guard (guard_size 0: HotSpot's Java threads) glibc maps it writable at once. */
            int64_t sp = pages_of(s, stack), gp = pages_of(s, fc->pthread_create.guard_size);
            if (dg_check_map_count(d, s, 2, 2)) break;
            if (dg_check_rlimit_as(d, s, sp + 1, sp + 1)) break;
            if (s->k.rlimit_data_mmap && dg_check_rlimit_data(d, s, sp, sp)) break;
            if (dg_check_overcommit_vm(d, s, sp, sp, 1, 0, s->vm_size_pages + (gp ? sp + gp : 0))) {
                dg_explain_more(d, "; the new thread's %lld KiB stack is charged when glibc makes it writable",
                             (long long)(stack / 1024));
                break;
            }
        }
        dg_check_tasks(d, s);
        break;
    }
    case CALL_FORK:
        if (fc->err == EAGAIN) dg_check_tasks(d, s);
        else diagnose_fork(d, s, f);
        break;
    case CALL_CLONE:
    case CALL_POSIX_SPAWN:
    case CALL_POSIX_SPAWNP:
        dg_check_tasks(d, s);
        break;
    case CALL_FALLOCATE: {
        /* shmem pages (memfd, tmpfs) are charged one at a time as they are allocated
         * (mm/shmem.c shmem_acct_blocks -> __vm_enough_memory), in every mode: in mode 2
         * the allocation as a whole must fit below the limit; in mode 0 each page is a
         * request of one page; a failure is ENOSPC */
        int64_t pages = pages_of(s, fc->fallocate.charge);
        if (dg_check_overcommit(d, s, s->in.overcommit_memory == 2 ? pages : (pages > 0), pages, 1, 0))
            dg_explain_more(d, "; the %lld pages are shared memory (a memfd or tmpfs file) that fallocate allocates "
                               "and the kernel charges page by page, failing the call with ENOSPC",
                            (long long)pages);
        break;
    }
    default:
        break;
    }
    if (d->cause == CAUSE_UNKNOWN) {
        dg_explain(d, "none of the checks overshim models explains this refusal from the state read after it "
                   "(kernel memory, a memcg charge, a transient condition, or a limit overshim does not model)");
        memset(&d->kv, 0, sizeof d->kv);
    }
    own_share(d, s);
}
