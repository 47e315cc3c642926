/* The kernel model (see kmodel.h). Each era is written as the kernel writes it,
 * term by term, in the order the kernel applies the terms. */
#include "kmodel.h"

#include <string.h>
#include <sys/mman.h>

#include "fmt.h"

static int num(const char **pp)
{
    int v = 0;
    const char *p = *pp;
    while (*p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
    *pp = p;
    return v;
}

static int before(const struct kmodel_kernel *k, int maj, int min)
{
    return k->major < maj || (k->major == maj && k->minor < min);
}

int kmodel_parse_release(const char *rel, struct kmodel_kernel *k)
{
    memset(k, 0, sizeof *k);
    if (!rel) return -1;
    if (!strncmp(rel, "rhel6", 5)) rel = "2.6.32-754.el6";
    else if (!strncmp(rel, "rhel7", 5)) rel = "3.10.0-1160.el7";
    else if (!strncmp(rel, "rhel8", 5)) rel = "4.18.0-147.el8";
    const char *p = rel;
    if (*p < '0' || *p > '9') return -1;
    k->major = num(&p);
    if (*p != '.') return -1;
    p++;
    if (*p < '0' || *p > '9') return -1;
    k->minor = num(&p);
    if (*p == '.') {
        p++;
        k->patch = num(&p);
    }
    if (*p == '-') {
        const char *q = p + 1;
        k->build = num(&q);
    }
    if (k->major < 2 || k->major > 99) return -1;
    if (strstr(rel, ".el6")) k->rhel = 6;
    else if (strstr(rel, ".el7")) k->rhel = 7;
    else if (strstr(rel, ".el8")) k->rhel = 8;
    else if (strstr(rel, ".el9")) k->rhel = 9;

    if (k->rhel == 6) k->era = KERA_RHEL6;
    else if (before(k, 3, 1)) k->era = KERA_2_6_32;
    else if (before(k, 3, 10)) k->era = KERA_3_1;
    else if (before(k, 5, 2)) k->era = KERA_3_10;
    else k->era = KERA_5_2;

    k->has_kbytes = k->era == KERA_RHEL6 || !before(k, 3, 14) || (k->rhel == 7 && k->build >= 108);
    if (k->rhel == 8) k->reclaimable_term = 2;
    else if (k->era == KERA_3_10 && !before(k, 4, 20)) k->reclaimable_term = 2;
    else if (k->era == KERA_3_10 && (!before(k, 4, 17) || (k->major == 4 && k->minor == 15 && k->patch >= 18)))
        k->reclaimable_term = 1;
    k->mprotect_uncharge = !before(k, 6, 7);
    k->fixed_net = !before(k, 6, 12);
    k->rlimit_data_mmap = !before(k, 4, 7) || k->rhel == 8;
    k->pid_enomem = before(k, 4, 1);
    k->logs_refusal = !before(k, 6, 1);

    const char *label = "5.2";
    switch (k->era) {
    case KERA_2_6_32: label = "2.6.32"; break;
    case KERA_RHEL6: label = "2.6.32-rhel6"; break;
    case KERA_3_1: label = "3.1"; break;
    case KERA_3_10:
        if (k->rhel == 7) label = "3.10-rhel7";
        else if (k->rhel == 8) label = "4.18-rhel8";
        else if (k->reclaimable_term == 2) label = "4.20";
        else if (k->reclaimable_term == 1) label = "4.17";
        else if (k->has_kbytes) label = "3.14";
        else label = "3.10";
        break;
    case KERA_5_2: label = "5.2"; break;
    }
    osh_snprintf(k->label, sizeof k->label, "%s", label);
    return 0;
}

int kmodel_mmap_accountable(int prot, int flags, int mode)
{
    if (flags & MAP_HUGETLB) return 0;
    if ((flags & MAP_TYPE) != MAP_PRIVATE) return 0;
    if (!(prot & PROT_WRITE)) return 0;
    if ((flags & MAP_NORESERVE) && mode != 2) return 0;
    return 1;
}

static int64_t kb_to_pages(const struct kmodel_input *in, int64_t kb) { return kb / (in->page_kb ? in->page_kb : 4); }

int64_t kmodel_commit_limit(const struct kmodel_kernel *k, const struct kmodel_input *in)
{
    int64_t base;
    if (k->has_kbytes && in->overcommit_kbytes) base = kb_to_pages(in, in->overcommit_kbytes);
    else base = (in->totalram - in->hugetlb_total) * in->overcommit_ratio / 100;
    return base + in->total_swap;
}

int64_t kmodel_committed_batch(const struct kmodel_kernel *k, int mode, int ncpus, int64_t totalram)
{
    if (ncpus < 1) ncpus = 1;
    int64_t b = 32;
    if (2 * ncpus > b) b = 2 * ncpus;
    if (before(k, 3, 11) && k->rhel != 8) return b; /* global percpu_counter_batch (RHEL 7 included) */
    int64_t mem = before(k, 5, 9) || mode == 2 ? totalram / ncpus / 256 : totalram / ncpus / 4;
    return mem > b ? mem : b;
}

int64_t kmodel_band_pages(const struct kmodel_kernel *k, const struct kmodel_input *in)
{
    if (before(k, 5, 9) || k->rhel == 8) return 0;
    int n = in->ncpus > 0 ? in->ncpus : 1;
    return kmodel_committed_batch(k, 2, n, in->totalram) * n;
}

static void term(struct kverdict *v, const char *key, const char *name, char op, int64_t pages)
{
    if (v->nterms < KM_MAX_TERMS) v->terms[v->nterms++] = (struct kterm){key, name, op, pages};
}

/* NR_FILE_PAGES as the three /proc/meminfo fields it is shown as, so that each term's
 * key is a field a test rig can read back. */
static void file_terms(struct kverdict *v, const struct kmodel_input *in)
{
    if (in->cached + in->buffers + in->swap_cached == in->file_pages && in->file_pages > 0) {
        term(v, "Cached", "Cached (page cache: NR_FILE_PAGES - Buffers - SwapCached)", '+', in->cached);
        term(v, "Buffers", "Buffers (NR_FILE_PAGES)", '+', in->buffers);
        term(v, "SwapCached", "SwapCached (NR_FILE_PAGES)", '+', in->swap_cached);
    } else {
        term(v, "NR_FILE_PAGES", "file pages (NR_FILE_PAGES: Cached + Buffers + SwapCached)", '+', in->file_pages);
    }
}

/* Mode 0 before 5.2. */
static void guess_heuristic(const struct kmodel_kernel *k, const struct kmodel_input *in, int64_t pages,
                            struct kverdict *v)
{
    int admin = in->cap_sys_admin;
    int64_t tr = in->totalreserve;
    if (k->era == KERA_2_6_32 || k->era == KERA_RHEL6) {
        /* stage 1: page cache + free swap + reclaimable slab, then nr_free only if that fails */
        v->formula = k->era == KERA_RHEL6 ? "2.6.32-el6 mm/mmap.c __vm_enough_memory (two stages, admin_reserve_kbytes)"
                                          : "2.6.32 mm/mmap.c __vm_enough_memory (two stages, 3% root reserve)";
        int64_t f1 = in->file_pages + in->free_swap + in->slab_reclaimable;
        file_terms(v, in);
        term(v, "SwapFree", "SwapFree", '+', in->free_swap);
        term(v, "SReclaimable", "SReclaimable (NR_SLAB_RECLAIMABLE)", '+', in->slab_reclaimable);
        if (!admin) {
            int64_t r = k->era == KERA_RHEL6 ? kb_to_pages(in, in->admin_reserve_kbytes) : f1 / 32;
            term(v, k->era == KERA_RHEL6 ? "vm.admin_reserve_kbytes" : "root_reserve",
                 k->era == KERA_RHEL6 ? "admin_reserve_kbytes (caller not CAP_SYS_ADMIN)"
                                         : "3% root reserve of the above (caller not CAP_SYS_ADMIN)",
                 '-', r);
            f1 -= r;
        }
        int64_t n = in->nr_free;
        int64_t total = f1;
        if (pages < f1) { /* passes at stage 1; nr_free is not even read */
            v->limit_pages = f1;
        } else {
            term(v, "MemFree", "MemFree (NR_FREE_PAGES, stage 2)", '+', n);
            term(v, "totalreserve_pages", "totalreserve_pages (from free pages only)", '-', tr);
            if (n <= tr) {
                n = 0;
            } else {
                n -= tr;
                if (!admin) {
                    term(v, "root_reserve", "3% root reserve of free pages", '-', n / 32);
                    n -= n / 32;
                }
            }
            total = f1 + n;
            v->limit_pages = total;
        }
        int64_t best = f1 + (in->nr_free > tr ? (in->nr_free - tr) - (admin ? 0 : (in->nr_free - tr) / 32) : 0);
        v->largest_pages = (best > f1 ? best : f1) - 1;
        v->refused = !(total > pages || f1 > pages);
        return;
    }
    /* 3.1 - 5.1: one sum */
    v->formula = k->era == KERA_3_1 ? "3.1 mm/mmap.c __vm_enough_memory (single sum, 3% root reserve)"
                 : before(k, 4, 6) && k->rhel != 8 ? "3.10 mm/mmap.c __vm_enough_memory (admin_reserve_kbytes)"
                                                   : "4.x mm/util.c __vm_enough_memory (admin_reserve_kbytes)";
    int64_t f = in->nr_free + in->file_pages - in->shmem + in->free_swap + in->slab_reclaimable;
    term(v, "MemFree", "MemFree (NR_FREE_PAGES)", '+', in->nr_free);
    file_terms(v, in);
    term(v, "Shmem", "Shmem (NR_SHMEM)", '-', in->shmem);
    term(v, "SwapFree", "SwapFree", '+', in->free_swap);
    term(v, "SReclaimable", "SReclaimable (NR_SLAB_RECLAIMABLE)", '+', in->slab_reclaimable);
    if (k->reclaimable_term == 1) {
        term(v, "NR_INDIRECTLY_RECLAIMABLE_BYTES", "NR_INDIRECTLY_RECLAIMABLE_BYTES >> PAGE_SHIFT", '+',
             in->indirectly_reclaimable);
        f += in->indirectly_reclaimable;
    } else if (k->reclaimable_term == 2) {
        term(v, "NR_KERNEL_MISC_RECLAIMABLE", "NR_KERNEL_MISC_RECLAIMABLE (KReclaimable - SReclaimable)", '+',
             in->misc_reclaimable);
        f += in->misc_reclaimable;
    }
    term(v, "totalreserve_pages", "totalreserve_pages (zone high watermarks + lowmem_reserve)", '-', tr);
    if (f <= tr) {
        v->limit_pages = 0;
        v->largest_pages = 0;
        v->refused = 1;
        return;
    }
    f -= tr;
    if (!admin) {
        int64_t r = k->era == KERA_3_1 ? f / 32 : kb_to_pages(in, in->admin_reserve_kbytes);
        term(v, k->era == KERA_3_1 ? "root_reserve" : "vm.admin_reserve_kbytes",
             k->era == KERA_3_1 ? "3% root reserve (caller not CAP_SYS_ADMIN)"
                                   : "admin_reserve_kbytes (caller not CAP_SYS_ADMIN)",
             '-', r);
        f -= r;
    }
    v->limit_pages = f;
    v->largest_pages = f - 1 > 0 ? f - 1 : 0;
    v->refused = !(f > pages);
}

/* Mode 2 (OVERCOMMIT_NEVER). */
static void never(const struct kmodel_kernel *k, const struct kmodel_input *in, int64_t pages, int64_t total_vm,
                  struct kverdict *v)
{
    int admin = in->cap_sys_admin;
    int64_t allowed;
    int kbytes = k->has_kbytes && in->overcommit_kbytes;
    if (kbytes) {
        allowed = kb_to_pages(in, in->overcommit_kbytes);
        term(v, "vm.overcommit_kbytes", "overcommit_kbytes", '+', allowed);
    } else {
        term(v, "MemTotal", "MemTotal (totalram_pages)", '+', in->totalram);
        term(v, "Hugetlb", "hugetlb pool (hugetlb_total_pages)", '-', in->hugetlb_total);
        int64_t ram = in->totalram - in->hugetlb_total;
        allowed = ram * in->overcommit_ratio / 100;
        term(v, "vm.overcommit_ratio", "the part above overcommit_ratio", '-', ram - allowed);
    }
    if (k->era == KERA_2_6_32 || k->era == KERA_3_1) {
        v->formula = "mm/mmap.c __vm_enough_memory, OVERCOMMIT_NEVER (3% root reserve, total_vm/32)";
        if (!admin) {
            term(v, "root_reserve", "3% root reserve of the RAM part (caller not CAP_SYS_ADMIN)", '-', allowed / 32);
            allowed -= allowed / 32;
        }
        term(v, "SwapTotal", "SwapTotal", '+', in->total_swap);
        allowed += in->total_swap;
        term(v, "total_vm/32", "3% of the caller's VmSize (total_vm/32)", '-', total_vm / 32);
        allowed -= total_vm / 32;
    } else {
        v->formula = k->era == KERA_RHEL6 ? "2.6.32-el6 __vm_enough_memory, OVERCOMMIT_NEVER (vm_commit_limit, total_vm/32)"
                                          : "__vm_enough_memory, OVERCOMMIT_NEVER (vm_commit_limit - reserves)";
        term(v, "SwapTotal", "SwapTotal", '+', in->total_swap);
        allowed += in->total_swap;
        if (!admin) {
            int64_t r = kb_to_pages(in, in->admin_reserve_kbytes);
            term(v, "vm.admin_reserve_kbytes", "admin_reserve_kbytes (caller not CAP_SYS_ADMIN)", '-', r);
            allowed -= r;
        }
        int64_t u = total_vm / 32;
        if (k->era == KERA_RHEL6) {
            term(v, "total_vm/32", "3% of the caller's VmSize (total_vm/32)", '-', u);
        } else {
            int64_t ur = kb_to_pages(in, in->user_reserve_kbytes);
            if (ur < u) u = ur;
            term(v, "user_reserve", "user reserve: min(VmSize/32, user_reserve_kbytes)", '-', u);
        }
        allowed -= u;
    }
    v->limit_pages = allowed;
    v->committed_pages = in->committed;
    /* OK iff committed + pages < allowed (the request is charged first, then compared) */
    v->refused = !(in->committed + pages < allowed);
    v->largest_pages = allowed - in->committed - 1 > 0 ? allowed - in->committed - 1 : 0;
    v->batch_error_pages = kmodel_committed_batch(k, 2, in->ncpus, in->totalram) * (in->ncpus > 0 ? in->ncpus : 1);
}

void kmodel_vm_enough_memory(const struct kmodel_kernel *k, const struct kmodel_input *in, int64_t pages,
                             int64_t total_vm, struct kverdict *v)
{
    memset(v, 0, sizeof *v);
    v->mode = in->overcommit_memory;
    v->admin = in->cap_sys_admin;
    v->request_pages = pages;
    v->committed_pages = -1;
    v->cause = CAUSE_NONE;
    switch (in->overcommit_memory) {
    case 1:
        v->formula = "OVERCOMMIT_ALWAYS: every request is charged and accepted";
        v->largest_pages = INT64_MAX / 2;
        v->limit_pages = -1;
        break;
    case 2:
        v->cause = CAUSE_OVERCOMMIT_NEVER;
        never(k, in, pages, total_vm, v);
        break;
    default:
        v->cause = CAUSE_OVERCOMMIT_GUESS;
        if (k->era == KERA_5_2) {
            v->formula = "5.2+ mm/util.c __vm_enough_memory: one request against RAM + swap";
            term(v, "MemTotal", "MemTotal (totalram_pages)", '+', in->totalram);
            term(v, "SwapTotal", "SwapTotal (total_swap_pages)", '+', in->total_swap);
            v->limit_pages = in->totalram + in->total_swap;
            v->largest_pages = v->limit_pages;
            v->refused = pages > v->limit_pages;
        } else {
            guess_heuristic(k, in, pages, v);
        }
    }
    v->shortfall_pages = v->refused ? pages - v->largest_pages : 0;
}

void kmodel_input_from_meminfo(struct kmodel_input *in, const struct kmodel_meminfo *m)
{
    int64_t pk = in->page_kb ? in->page_kb : 4;
#define PG(x) ((x) > 0 ? (x) / pk : 0)
    in->totalram = PG(m->MemTotal);
    in->nr_free = PG(m->MemFree);
    in->cached = PG(m->Cached);
    in->buffers = PG(m->Buffers);
    in->swap_cached = PG(m->SwapCached);
    in->file_pages = in->cached + in->buffers + in->swap_cached;
    in->shmem = PG(m->Shmem);
    in->total_swap = PG(m->SwapTotal);
    in->free_swap = PG(m->SwapFree);
    in->slab_reclaimable = PG(m->SReclaimable);
    in->misc_reclaimable = m->KReclaimable > m->SReclaimable ? PG(m->KReclaimable - m->SReclaimable) : 0;
    if (m->Hugetlb >= 0) in->hugetlb_total = PG(m->Hugetlb);
    else if (m->HugePages_Total > 0 && m->Hugepagesize > 0) in->hugetlb_total = m->HugePages_Total * m->Hugepagesize / pk;
    else in->hugetlb_total = 0;
    in->committed = PG(m->Committed_AS);
#undef PG
}
