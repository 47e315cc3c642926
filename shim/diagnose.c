/* Diagnosis of a refused call (see diagnose.h). */
#include "diagnose.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "fmt.h"

#define TASK_SIZE_BYTES 0x7ffffffff000ull /* x86-64, 4-level paging */
#define MiB(pages, s) ((pages) * (s)->in.page_kb / 1024)

static int64_t pages_of(const struct live_state *s, uint64_t bytes)
{
    uint64_t ps = (uint64_t)(s->in.page_kb ? s->in.page_kb : 4) * 1024;
    return (int64_t)((bytes + ps - 1) / ps);
}

static void remedy(struct diagnosis *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void remedy(struct diagnosis *d, const char *fmt, ...)
{
    if (d->nremedies >= DIAG_MAX_REMEDIES) return;
    struct fmtbuf fb;
    fb_init(&fb, d->remedies[d->nremedies++], sizeof d->remedies[0], -1);
    va_list ap;
    va_start(ap, fmt);
    fb_vprintf(&fb, fmt, ap);
    va_end(ap);
    fb_cstr(&fb);
}

static void explain(struct diagnosis *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void explain(struct diagnosis *d, const char *fmt, ...)
{
    struct fmtbuf fb;
    fb_init(&fb, d->explanation, sizeof d->explanation, -1);
    va_list ap;
    va_start(ap, fmt);
    fb_vprintf(&fb, fmt, ap);
    va_end(ap);
    fb_cstr(&fb);
}

static void term(struct diagnosis *d, const char *name, char op, int64_t v)
{
    if (d->kv.nterms < KM_MAX_TERMS) d->kv.terms[d->kv.nterms++] = (struct kterm){name, op, v};
}

static void set(struct diagnosis *d, const char *cause, const char *headline, int64_t req, int64_t limit,
                int64_t committed, int64_t shortfall)
{
    d->cause = cause;
    d->headline = headline;
    d->request_pages = req;
    d->limit_pages = limit;
    d->committed_pages = committed;
    d->shortfall_pages = shortfall > 0 ? shortfall : 0;
}

/* --- the individual checks; each returns 1 when it explains the refusal ------ */

static int check_map_count(struct diagnosis *d, const struct live_state *s, int64_t req, int64_t headroom)
{
    if (s->max_map_count <= 0 || s->map_count < 0 || s->map_count + headroom < s->max_map_count) return 0;
    d->units = "mappings";
    memset(&d->kv, 0, sizeof d->kv);
    term(d, "mappings (VMAs) of the process", '+', s->map_count);
    set(d, "max_map_count", "vm.max_map_count", req, s->max_map_count, s->map_count,
        s->map_count + headroom - s->max_map_count + 1);
    explain(d, "the process already has %lld mappings and vm.max_map_count is %lld; a new mapping (or the split "
               "this call needs) would exceed it",
            (long long)s->map_count, (long long)s->max_map_count);
    remedy(d, "raise vm.max_map_count to at least %lld (sysctl -w vm.max_map_count=%lld; persist it in "
              "/etc/sysctl.d)",
           (long long)(s->map_count * 2 > 262144 ? s->map_count * 2 : 262144),
           (long long)(s->map_count * 2 > 262144 ? s->map_count * 2 : 262144));
    remedy(d, "or make fewer, larger mappings (a Java heap: fewer regions; an allocator: larger arenas)");
    return 1;
}

static int check_rlimit_as(struct diagnosis *d, const struct live_state *s, int64_t net, int64_t req)
{
    if (s->rlim_as == LS_UNLIMITED) return 0;
    int64_t limit = s->rlim_as / 1024 / s->in.page_kb;
    if (s->vm_size_pages + net <= limit) return 0;
    memset(&d->kv, 0, sizeof d->kv);
    term(d, "VmSize (total_vm, every mapping counts)", '+', s->vm_size_pages);
    term(d, "this request (net of what it replaces)", '+', net);
    set(d, "rlimit_as", "RLIMIT_AS (ulimit -v)", req, limit, s->vm_size_pages, s->vm_size_pages + net - limit);
    explain(d, "VmSize %lld MiB + this request %lld MiB exceeds RLIMIT_AS %lld MiB (ulimit -v %lld); RLIMIT_AS "
               "counts every mapping, PROT_NONE reservations included",
            (long long)MiB(s->vm_size_pages, s), (long long)MiB(net, s), (long long)MiB(limit, s),
            (long long)(s->rlim_as / 1024));
    remedy(d, "ulimit -v %lld or more (RLIMIT_AS, in KiB), or unlimited",
           (long long)((s->vm_size_pages + net) * s->in.page_kb));
    remedy(d, "or reserve less address space (java: a smaller -Xmx, -XX:ReservedCodeCacheSize, "
              "-XX:CompressedClassSpaceSize)");
    return 1;
}

/* may_expand_vm's data check: data_vm + npages > RLIMIT_DATA, where npages is the
 * call's net growth in pages (a MAP_FIXED over mapped pages adds 0). So data_vm can
 * overshoot the limit through such a commit, and then the next data mapping fails
 * even with a net of 0 (FACTS.md §2: "a later commit fails"). */
static int check_rlimit_data(struct diagnosis *d, const struct live_state *s, int64_t net, int64_t req)
{
    if (s->rlim_data == LS_UNLIMITED || net < 0) return 0;
    if (s->rlim_data == 0 && s->rlim_data_max != 0) return 0; /* the valgrind exception (4.7+) */
    int64_t limit = s->rlim_data / 1024 / s->in.page_kb;
    if (s->vm_data_pages + net <= limit) return 0;
    memset(&d->kv, 0, sizeof d->kv);
    term(d, "VmData (data_vm: private writable mappings, brk heap)", '+', s->vm_data_pages);
    term(d, "this request's net growth (pages it does not replace)", '+', net);
    set(d, "rlimit_data", "RLIMIT_DATA (ulimit -d)", req, limit, s->vm_data_pages, s->vm_data_pages + net - limit);
    if (net == 0)
        explain(d, "VmData is already %lld MiB, above RLIMIT_DATA %lld MiB (ulimit -d %lld): an earlier MAP_FIXED "
                   "commit over reserved pages grew it without a check, since only the net growth is checked; "
                   "now every new private writable mapping is refused",
                (long long)MiB(s->vm_data_pages, s), (long long)MiB(limit, s), (long long)(s->rlim_data / 1024));
    else
        explain(d, "VmData %lld MiB + %lld MiB of new private writable memory exceeds RLIMIT_DATA %lld MiB "
                   "(ulimit -d %lld); since 4.7 it covers private writable mmaps, not only brk",
                (long long)MiB(s->vm_data_pages, s), (long long)MiB(net, s), (long long)MiB(limit, s),
                (long long)(s->rlim_data / 1024));
    remedy(d, "ulimit -d %lld or more (RLIMIT_DATA, in KiB), or unlimited",
           (long long)((s->vm_data_pages + (net > 0 ? net : req)) * s->in.page_kb));
    return 1;
}

static void overcommit_remedies(struct diagnosis *d, const struct live_state *s)
{
    const struct kverdict *v = &d->kv;
    int64_t pk = s->in.page_kb;
    int64_t largest_mib = v->largest_pages * pk / 1024;
    if (d->call == CALL_FORK) {
        remedy(d, "a parent with at most %lld MiB of accountable memory could fork here: fork charges a copy of "
                  "every private writable mapping",
               (long long)largest_mib);
        remedy(d, "children that only exec: posix_spawn (CLONE_VM|CLONE_VFORK) charges nothing for the copy");
    } else if (d->call == CALL_PTHREAD_CREATE) {
        remedy(d, "smaller thread stacks: at most %lld KiB would pass (pthread_attr_setstacksize, ulimit -s, java -Xss)",
               (long long)(v->largest_pages * pk));
    } else if (d->call == CALL_MMAP || d->call == CALL_MMAP64) {
        remedy(d, "this request at most %lld MiB: for a JVM heap commit, -Xms%lldm or less (-Xmx may stay)",
               (long long)largest_mib, (long long)largest_mib);
    } else {
        remedy(d, "this request at most %lld MiB", (long long)largest_mib);
    }
    if (v->mode == 2) {
        int64_t need = v->committed_pages + v->request_pages + 1 - v->limit_pages;
        remedy(d, "or release %lld MiB of commitments elsewhere on the box (Committed_AS is %lld MiB of an allowed "
                  "%lld MiB)",
               (long long)(need * pk / 1024 + 1), (long long)(v->committed_pages * pk / 1024),
               (long long)(v->limit_pages * pk / 1024));
        int64_t ram = s->in.totalram - s->in.hugetlb_total;
        if (ram > 0 && !s->in.overcommit_kbytes) {
            int64_t ratio = ((s->in.totalram - s->in.hugetlb_total) * s->in.overcommit_ratio / 100 + need) * 100;
            ratio = (ratio + ram - 1) / ram;
            remedy(d, "or raise vm.overcommit_ratio from %lld to at least %lld", (long long)s->in.overcommit_ratio,
                   (long long)ratio);
        } else if (s->in.overcommit_kbytes) {
            remedy(d, "or raise vm.overcommit_kbytes to at least %lld",
                   (long long)(s->in.overcommit_kbytes + need * pk));
        }
        remedy(d, "or vm.overcommit_memory=0 (heuristic) or 1 (always): the risk moves to the OOM killer at touch time");
    } else {
        if (s->k.era != KERA_5_2) {
            remedy(d, "or %lld MiB more free memory or page cache on the box",
                   (long long)((d->kv.shortfall_pages * pk + 1023) / 1024));
            int64_t ramswap = s->in.totalram + s->in.total_swap;
            if (v->request_pages <= ramswap)
                remedy(d, "on a 5.2+ kernel this request passes: the heuristic there refuses only one request larger "
                          "than RAM+swap (%lld MiB)",
                       (long long)(ramswap * pk / 1024));
        } else {
            remedy(d, "or add swap: RAM+swap is %lld MiB and one request may not exceed it",
                   (long long)(v->limit_pages * pk / 1024));
        }
        remedy(d, "or vm.overcommit_memory=1 (always accept; the risk moves to the OOM killer at touch time)");
    }
}

static int check_overcommit(struct diagnosis *d, const struct live_state *s, int64_t charge, int64_t req)
{
    if (charge <= 0) return 0;
    kmodel_vm_enough_memory(&s->k, &s->in, charge, s->vm_size_pages, &d->kv);
    int near = 0;
    if (!d->kv.refused && d->kv.mode == 2 && d->kv.committed_pages + charge >= d->kv.limit_pages - d->kv.batch_error_pages)
        near = 1; /* within the per-cpu counter's error: the kernel's read may have been higher */
    if (!d->kv.refused && !near) return 0;
    d->charge_pages = charge;
    d->units = "pages";
    if (d->kv.mode == 2) {
        set(d, "overcommit_never", "strict overcommit (vm.overcommit_memory=2)", req, d->kv.limit_pages,
            d->kv.committed_pages, d->kv.shortfall_pages > 0 ? d->kv.shortfall_pages : 1);
        explain(d, "Committed_AS %lld pages + this charge %lld pages is not below the allowed %lld pages "
                   "(CommitLimit after reserves)%s",
                (long long)d->kv.committed_pages, (long long)charge, (long long)d->kv.limit_pages,
                near ? "; by the model it fits, but only within the per-cpu counter's error band, which the "
                       "kernel's approximate read can cross"
                     : "");
    } else {
        set(d, "overcommit_guess", "the kernel's overcommit heuristic (vm.overcommit_memory=0)", req,
            d->kv.limit_pages, -1, d->kv.shortfall_pages);
        if (s->k.era == KERA_5_2)
            explain(d, "one request of %lld pages is more than RAM + swap, %lld pages: on 5.2+ the heuristic only "
                       "refuses a single request that large",
                    (long long)charge, (long long)d->kv.limit_pages);
        else
            explain(d, "one request of %lld pages is not less than the %s heuristic's estimate of free memory, %lld "
                       "pages (free + page cache - shmem + free swap + reclaimable slab - reserves)",
                    (long long)charge, s->k.label, (long long)d->kv.limit_pages);
    }
    overcommit_remedies(d, s);
    return 1;
}

static int check_hugetlb(struct diagnosis *d, const struct live_state *s, uint64_t len)
{
    int64_t hp = s->hugepagesize_kb > 0 ? s->hugepagesize_kb : 2048;
    int64_t need = (int64_t)((len / 1024 + (uint64_t)hp - 1) / (uint64_t)hp);
    int64_t freep = s->hugepages_free > 0 ? s->hugepages_free : 0;
    memset(&d->kv, 0, sizeof d->kv);
    term(d, "HugePages_Free", '+', freep);
    set(d, "hugetlb", "the hugetlb pool", need, freep, -1, need - freep);
    d->units = "huge pages";
    explain(d, "MAP_HUGETLB needs %lld huge pages of %lld kB; the pool has %lld free (HugePages_Free) and "
               "surplus pages are not allowed beyond nr_overcommit_hugepages",
            (long long)need, (long long)hp, (long long)freep);
    remedy(d, "raise vm.nr_hugepages by at least %lld, or vm.nr_overcommit_hugepages", (long long)(need - freep));
    remedy(d, "or map with MAP_NORESERVE (a fault with no free huge page then gives SIGBUS)");
    return 1;
}

static int check_tasks(struct diagnosis *d, const struct live_state *s)
{
    memset(&d->kv, 0, sizeof d->kv);
    d->units = "tasks";
    int exempt = s->ruid == 0 || s->cap_sys_resource || s->in.cap_sys_admin;
    if (!exempt && s->rlim_nproc != LS_UNLIMITED && s->user_tasks >= 0 && s->user_tasks >= s->rlim_nproc) {
        term(d, "tasks (processes and threads) of this real uid", '+', s->user_tasks);
        set(d, "thread_limit", "RLIMIT_NPROC (ulimit -u)", 1, s->rlim_nproc, s->user_tasks,
            s->user_tasks + 1 - s->rlim_nproc);
        explain(d, "uid %lld already runs %lld tasks (threads count) and RLIMIT_NPROC is %lld; neither root nor "
                   "CAP_SYS_RESOURCE/CAP_SYS_ADMIN, so no exemption",
                (long long)s->ruid, (long long)s->user_tasks, (long long)s->rlim_nproc);
        remedy(d, "ulimit -u %lld or more (RLIMIT_NPROC counts every thread of the uid)",
               (long long)(s->user_tasks * 2));
        remedy(d, "or fewer threads (java: -XX:ParallelGCThreads, -XX:CICompilerCount, thread pools)");
        return 1;
    }
    if (s->pids_max >= 0 && s->pids_max != LS_UNLIMITED && s->pids_current >= s->pids_max) {
        term(d, "pids.current of the cgroup", '+', s->pids_current);
        set(d, "thread_limit", "the pids cgroup (pids.max)", 1, s->pids_max, s->pids_current,
            s->pids_current + 1 - s->pids_max);
        explain(d, "the cgroup has %lld tasks and pids.max is %lld", (long long)s->pids_current,
                (long long)s->pids_max);
        remedy(d, "raise pids.max of the cgroup (systemd: TasksMax=) to at least %lld",
               (long long)(s->pids_current * 2));
        return 1;
    }
    if (s->threads_max > 0 && s->nr_tasks >= s->threads_max) {
        term(d, "tasks on the system", '+', s->nr_tasks);
        set(d, "thread_limit", "kernel.threads-max", 1, s->threads_max, s->nr_tasks, s->nr_tasks + 1 - s->threads_max);
        explain(d, "the system has %lld tasks and kernel.threads-max is %lld", (long long)s->nr_tasks,
                (long long)s->threads_max);
        remedy(d, "raise kernel.threads-max to at least %lld", (long long)(s->nr_tasks * 2));
        return 1;
    }
    if (s->pid_max > 0 && s->nr_tasks >= s->pid_max - 300) {
        term(d, "tasks on the system", '+', s->nr_tasks);
        set(d, "thread_limit", "kernel.pid_max", 1, s->pid_max, s->nr_tasks, s->nr_tasks + 1 - s->pid_max);
        explain(d, "the system has %lld tasks, close to kernel.pid_max %lld: no free pid", (long long)s->nr_tasks,
                (long long)s->pid_max);
        remedy(d, "raise kernel.pid_max (up to 4194304)");
        return 1;
    }
    return 0;
}

/* --- per call -------------------------------------------------------------- */

static uint64_t page_up(uint64_t x) { return (x + 4095) & ~4095ull; }

void diagnose_call_range(const struct failed_call *fc, uintptr_t *lo, uintptr_t *hi)
{
    *lo = *hi = 0;
    switch (fc->id) {
    case CALL_MMAP:
    case CALL_MMAP64:
        if (fc->a[3] & (MAP_FIXED | MAP_FIXED_NOREPLACE)) *lo = fc->a[0], *hi = fc->a[0] + page_up(fc->a[1]);
        break;
    case CALL_MPROTECT:
    case CALL_MUNMAP:
    case CALL_MREMAP:
        *lo = fc->a[0];
        *hi = fc->a[0] + page_up(fc->a[1]);
        break;
    default:
        break;
    }
}

/* A mapping request: the shared path of mmap, the malloc estimate and thread stacks. */
static void diagnose_map(struct diagnosis *d, const struct live_state *s, const struct smaps_facts *f, uint64_t addr,
                         uint64_t len, int prot, int flags)
{
    int fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0;
    int64_t pages = pages_of(s, len);
    if (len > TASK_SIZE_BYTES || (fixed && addr + len > TASK_SIZE_BYTES)) {
        set(d, "address_space", "the size of the address space", pages, (int64_t)(TASK_SIZE_BYTES / 4096), -1, 0);
        explain(d, "%lld pages do not fit below TASK_SIZE (128 TiB on x86-64 with 4-level paging)", (long long)pages);
        remedy(d, "request less: this size can never be mapped");
        return;
    }
    if (check_map_count(d, s, pages, 0)) return;
    if (!fixed && s->vm_size_pages + pages > (int64_t)(TASK_SIZE_BYTES / 4096)) {
        set(d, "address_space", "free address space", pages, (int64_t)(TASK_SIZE_BYTES / 4096) - s->vm_size_pages,
            s->vm_size_pages, 0);
        explain(d, "no free gap of %lld pages is left in the address space", (long long)pages);
        return;
    }
    int64_t mapped = fixed && f ? (int64_t)f->mapped_pages : 0;
    int64_t net = pages - mapped; /* may_expand_vm is given the growth net of the replaced pages */
    if (check_rlimit_as(d, s, net, pages)) return;
    int data = (flags & MAP_TYPE) == MAP_PRIVATE && (prot & PROT_WRITE) && !(flags & MAP_GROWSDOWN);
    if (data && s->k.rlimit_data_mmap && check_rlimit_data(d, s, net, pages)) return;
    if (flags & MAP_HUGETLB) {
        check_hugetlb(d, s, len);
        return;
    }
    int mode = s->in.overcommit_memory;
    int64_t charge = 0;
    if (kmodel_mmap_accountable(prot, flags, mode))
        charge = s->k.fixed_net && fixed && f ? pages - (int64_t)f->accounted_pages : pages;
    else if ((flags & MAP_TYPE) != MAP_PRIVATE && (flags & MAP_ANONYMOUS) && !((flags & MAP_NORESERVE) && mode != 2))
        charge = pages; /* shared anonymous: shmem_acct_size charges the whole object */
    if (check_overcommit(d, s, charge, pages)) {
        if ((flags & MAP_TYPE) != MAP_PRIVATE) {
            size_t n = strlen(d->explanation);
            os_snprintf(d->explanation + n, sizeof d->explanation - n,
                        "; a shared anonymous mapping is charged as one shmem object of its full size "
                        "(shmem_acct_size, at mmap time), not as a VMA: it never shows `ac` in smaps");
        }
        return;
    }
}

static void diagnose_protect(struct diagnosis *d, const struct live_state *s, const struct smaps_facts *f,
                             uint64_t len, int prot)
{
    int64_t pages = pages_of(s, len);
    if (f && (int64_t)f->mapped_pages < pages) {
        set(d, "address_space", "an unmapped range", pages, (int64_t)f->mapped_pages, -1, 0);
        explain(d, "%lld of the %lld pages named are not mapped: mprotect returns ENOMEM for a hole",
                (long long)(pages - (int64_t)f->mapped_pages), (long long)pages);
        remedy(d, "a bug in the caller: the range was never mapped or was unmapped before");
        return;
    }
    if (check_map_count(d, s, pages, 1)) return;
    if (prot & PROT_WRITE) {
        /* mprotect_fixup checks the whole range when it becomes data */
        int64_t becoming = f ? pages - (int64_t)f->data_pages : pages;
        if (becoming > 0 && s->k.rlimit_data_mmap && check_rlimit_data(d, s, pages, pages)) return;
        int64_t charge = f ? pages - (int64_t)f->accounted_pages : pages;
        if (check_overcommit(d, s, charge, pages)) return;
    }
}

static void diagnose_remap(struct diagnosis *d, const struct live_state *s, const struct smaps_facts *f,
                           uint64_t old_len, uint64_t new_len, int flags)
{
    int64_t grow = pages_of(s, new_len) - pages_of(s, old_len);
    if (check_map_count(d, s, grow, 4)) return;
    if (grow > 0 && check_rlimit_as(d, s, grow, grow)) return;
    if (grow > 0 && f && f->data_pages && s->k.rlimit_data_mmap && check_rlimit_data(d, s, grow, grow)) return;
    int64_t charge = (flags & MREMAP_DONTUNMAP) ? pages_of(s, new_len) : grow;
    if (f && f->accounted_pages && check_overcommit(d, s, charge, charge)) return;
    if (grow > 0 && !(flags & MREMAP_MAYMOVE)) {
        set(d, "address_space", "no room to grow in place", grow, 0, -1, 0);
        explain(d, "the mapping cannot grow in place and MREMAP_MAYMOVE was not given");
        remedy(d, "pass MREMAP_MAYMOVE");
    }
}

static void diagnose_fork(struct diagnosis *d, const struct live_state *s, const struct smaps_facts *f)
{
    if (f) {
        /* dup_mmap charges each `ac` VMA of the parent, against the parent's mm */
        int64_t charge = s->in.overcommit_memory == 2 ? (int64_t)f->ac_total_pages : (int64_t)f->ac_largest_pages;
        if (check_overcommit(d, s, charge, charge)) {
            char more[400];
            os_snprintf(more, sizeof more,
                        "; fork copies the parent's %llu accountable mappings (%llu pages), each charged again "
                        "for the child",
                        (unsigned long long)f->ac_vmas, (unsigned long long)f->ac_total_pages);
            size_t n = strlen(d->explanation);
            os_snprintf(d->explanation + n, sizeof d->explanation - n, "%s", more);
            return;
        }
    }
}

/* The shim's own share of what the check counted (live_state.own_*, filled by the
 * shim at a real refusal): said in the explanation, and when the call would have
 * passed without it, said first among the remedies, so the program is not blamed for
 * the shim's mappings, address space or commit. */
static void remedy_first(struct diagnosis *d, const char *text)
{
    int n = d->nremedies < DIAG_MAX_REMEDIES ? d->nremedies : DIAG_MAX_REMEDIES - 1;
    memmove(d->remedies[1], d->remedies[0], (size_t)n * sizeof d->remedies[0]);
    os_snprintf(d->remedies[0], sizeof d->remedies[0], "%s", text);
    d->nremedies = n + 1;
}

static void own_share(struct diagnosis *d, const struct live_state *s)
{
    int64_t own = 0, over = d->shortfall_pages;
    const char *what = NULL, *unit = "pages";
    if (!strcmp(d->cause, "max_map_count")) own = s->own_maps, what = "mappings", unit = "mappings";
    else if (!strcmp(d->cause, "rlimit_as")) own = s->own_vm_pages, what = "pages of VmSize";
    else if (!strcmp(d->cause, "overcommit_never")) own = s->own_commit_pages, what = "pages of Committed_AS";
    if (!what || own <= 0) return;
    size_t n = strlen(d->explanation);
    os_snprintf(d->explanation + n, sizeof d->explanation - n, "; overshim itself accounts for %lld of those %s",
                (long long)own, what);
    if (over > 0 && own >= over) {
        char t[320];
        os_snprintf(t, sizeof t,
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
    d->committed_pages = -1;
    d->cause = "unknown";
    d->headline = "a cause overshim cannot identify";
    const uint64_t *a = fc->a;
    switch (fc->id) {
    case CALL_MMAP:
    case CALL_MMAP64:
        diagnose_map(d, s, f, a[0], a[1], (int)a[2], (int)a[3]);
        break;
    case CALL_MPROTECT:
        diagnose_protect(d, s, f, a[1], (int)a[2]);
        break;
    case CALL_MREMAP:
        diagnose_remap(d, s, f, a[1], a[2], (int)a[3]);
        break;
    case CALL_MUNMAP:
        check_map_count(d, s, 0, 1);
        break;
    case CALL_BRK:
    case CALL_SBRK: {
        int64_t grow = fc->id == CALL_SBRK ? pages_of(s, a[0]) : (a[0] > a[1] ? pages_of(s, a[0] - a[1]) : 0);
        if (fc->id == CALL_SBRK && (int64_t)a[0] < 0) break;
        if (check_rlimit_data(d, s, grow, grow)) break;
        if (check_rlimit_as(d, s, grow, grow)) break;
        if (check_map_count(d, s, grow, 0)) break;
        check_overcommit(d, s, grow, grow);
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
        uint64_t size = a[0];
        if (fc->id == CALL_CALLOC) size = a[0] * a[1];
        else if (fc->id == CALL_REALLOC) size = a[1];
        else if (fc->id == CALL_POSIX_MEMALIGN || fc->id == CALL_ALIGNED_ALLOC || fc->id == CALL_MEMALIGN)
            size = a[1] + a[0];
        d->estimated = 1;
        if (size > (uint64_t)PTRDIFF_MAX) {
            set(d, "address_space", "malloc's size limit", pages_of(s, size), 0, -1, 0);
            explain(d, "malloc refuses sizes above PTRDIFF_MAX without asking the kernel");
            break;
        }
        /* glibc serves a large request with its own private writable mmap of the size plus a header */
        diagnose_map(d, s, NULL, 0, page_up(size + 16), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        break;
    }
    case CALL_PTHREAD_CREATE: {
        uint64_t stack = a[1];
        if (stack) {
            /* glibc: mmap(stack + guard, PROT_NONE) then mprotect(stack, RW), the charge at the mprotect */
            if (check_map_count(d, s, pages_of(s, stack), 2)) break;
            if (check_rlimit_as(d, s, pages_of(s, stack) + 1, pages_of(s, stack) + 1)) break;
            if (s->k.rlimit_data_mmap && check_rlimit_data(d, s, pages_of(s, stack), pages_of(s, stack))) break;
            if (check_overcommit(d, s, pages_of(s, stack), pages_of(s, stack))) {
                size_t n = strlen(d->explanation);
                os_snprintf(d->explanation + n, sizeof d->explanation - n,
                            "; the new thread's %lld KiB stack is charged when glibc makes it writable",
                            (long long)(stack / 1024));
                break;
            }
        }
        check_tasks(d, s);
        break;
    }
    case CALL_FORK:
        if (fc->err == EAGAIN) check_tasks(d, s);
        else diagnose_fork(d, s, f);
        break;
    case CALL_CLONE:
    case CALL_POSIX_SPAWN:
    case CALL_POSIX_SPAWNP:
        check_tasks(d, s);
        break;
    default:
        break;
    }
    if (!strcmp(d->cause, "unknown")) {
        explain(d, "none of the checks overshim models explains this refusal from the state read after it "
                   "(kernel memory, a memcg charge, a transient condition, or a limit overshim does not model)");
        memset(&d->kv, 0, sizeof d->kv);
    }
    own_share(d, s);
}
