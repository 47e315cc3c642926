/* Rendering of a report's verdict, call and system (render.h). */
#include "render.h"

#include <errno.h>
#include <string.h>

#include "demangle.h"
#include "kmodel.h"

const char *render_errno_name(int e)
{
    return e == EAGAIN ? "EAGAIN" : e == ENOMEM ? "ENOMEM" : e == ENOSPC ? "ENOSPC" : "E?";
}

const char *render_mode_name(int m)
{
    return m == 0 ? "heuristic" : m == 1 ? "always" : m == 2 ? "never (strict)" : "?";
}

const char *render_runtime_name(int rt)
{
    return rt == RT_JVM ? "jvm" : rt == RT_PYTHON ? "python" : rt == RT_NODE ? "node" : "native";
}

static void mib(struct fmtbuf *fb, const struct live_state *ls, int64_t pages) { fb_ssize(fb, pages * ls->in.page_kb * 1024); }

void render_verdict_json(struct fmtbuf *j, const struct diagnosis *d, const struct live_state *ls)
{
    fb_printf(j, "{\"cause\":%pJ,\"kernel_model\":%pJ,\"overcommit_memory\":%d,\"units\":%pJ,", cause_name(d->cause),
              ls->k.label, ls->in.overcommit_memory, d->units);
    fb_printf(j, "\"request_pages\":%lld,\"limit_pages\":%lld,\"committed_pages\":", (long long)d->request_pages,
              (long long)d->limit_pages);
    if (d->committed_pages >= 0) fb_printf(j, "%lld", (long long)d->committed_pages);
    else fb_puts(j, "null");
    fb_printf(j, ",\"shortfall_pages\":%lld,\"charge_pages\":%lld,\"estimated\":%s,\"cap_sys_admin\":%s,",
              (long long)d->shortfall_pages, (long long)d->charge_pages, d->estimated ? "true" : "false",
              ls->in.cap_sys_admin ? "true" : "false");
    fb_printf(j, "\"band_pages\":%lld,\"batch_pages\":%lld,\"within_band\":%s,\"runtime\":%pJ,",
              (long long)d->band_pages, (long long)d->batch_pages, d->within_band ? "true" : "false",
              render_runtime_name(ls->prog.runtime));
    if (d->fork_bound_pages) fb_printf(j, "\"fork_parent_bound_pages\":%lld,", (long long)d->fork_bound_pages);
    if (d->kv.formula) fb_printf(j, "\"formula\":%pJ,", d->kv.formula);
    fb_puts(j, "\"terms\":[");
    for (int i = 0; i < d->kv.nterms; i++)
        fb_printf(j, "%s{\"key\":%pJ,\"name\":%pJ,\"op\":\"%c\",\"pages\":%lld}", i ? "," : "",
                  d->kv.terms[i].key ? d->kv.terms[i].key : "", d->kv.terms[i].name, d->kv.terms[i].op,
                  (long long)d->kv.terms[i].pages);
    fb_printf(j, "],\"explanation\":%pJ,\"remedies\":[", d->explanation);
    for (int i = 0; i < d->nremedies; i++) fb_printf(j, "%s%pJ", i ? "," : "", d->remedies[i]);
    fb_puts(j, "]}");
}

void render_system_json(struct fmtbuf *j, const struct live_state *ls, const char *simulated_from)
{
    const struct kmodel_meminfo *m = &ls->mi;
    fb_puts(j, "\"system\":{\"simulated_from\":");
    if (simulated_from && simulated_from[0]) fb_json_str(j, simulated_from);
    else fb_puts(j, "null");
    fb_printf(j, ",\"kernel_release\":%pJ,\"page_size\":%lld,\"meminfo\":{", ls->release,
              (long long)ls->in.page_kb * 1024);
    const struct {
        const char *k;
        int64_t v;
    } mi[] = {{"MemTotal", m->MemTotal},         {"MemFree", m->MemFree},         {"MemAvailable", m->MemAvailable},
              {"Buffers", m->Buffers},           {"Cached", m->Cached},           {"SwapCached", m->SwapCached},
              {"Shmem", m->Shmem},               {"SwapTotal", m->SwapTotal},     {"SwapFree", m->SwapFree},
              {"SReclaimable", m->SReclaimable}, {"KReclaimable", m->KReclaimable}, {"Hugetlb", m->Hugetlb},
              {"CommitLimit", m->CommitLimit},   {"Committed_AS", m->Committed_AS}};
    int first = 1;
    for (size_t i = 0; i < sizeof mi / sizeof mi[0]; i++) {
        if (mi[i].v < 0) continue;
        fb_printf(j, "%s\"%s_kb\":%lld", first ? "" : ",", mi[i].k, (long long)mi[i].v);
        first = 0;
    }
    fb_printf(j,
              "},\"vm\":{\"overcommit_memory\":%d,\"overcommit_ratio\":%lld,\"overcommit_kbytes\":%lld,"
              "\"admin_reserve_kbytes\":%lld,\"user_reserve_kbytes\":%lld,\"max_map_count\":%lld,"
              "\"min_free_kbytes\":%lld},\"totalreserve_pages\":%lld,\"totalreserve_source\":%pJ,"
              "\"rlimits\":{\"as\":",
              ls->in.overcommit_memory, (long long)ls->in.overcommit_ratio, (long long)ls->in.overcommit_kbytes,
              (long long)ls->in.admin_reserve_kbytes, (long long)ls->in.user_reserve_kbytes, (long long)ls->max_map_count,
              (long long)ls->min_free_kbytes, (long long)ls->in.totalreserve,
              ls->in.totalreserve_known ? "zoneinfo" : "unknown (assumed 0)");
    const int64_t r[4] = {ls->rlim_as, ls->rlim_data, ls->rlim_nproc, ls->rlim_stack};
    const char *rn[4] = {"as", "data", "nproc", "stack"};
    for (int i = 0; i < 4; i++) {
        if (i) fb_printf(j, ",\"%s\":", rn[i]);
        if (r[i] == LS_UNLIMITED) fb_puts(j, "null");
        else fb_printf(j, "%lld", (long long)r[i]);
    }
    fb_printf(j, "},\"ncpus\":%d}", ls->in.ncpus);
}

void render_stack_json(struct fmtbuf *j, const struct frame *fr, int n)
{
    fb_puts(j, "\"stack\":[");
    for (int i = 0; i < n; i++) {
        const struct frame *f = &fr[i];
        fb_printf(j, "%s{\"ip\":%llu,\"module\":%pJ,\"offset\":%llu,\"build_id\":\"", i ? "," : "",
                  (unsigned long long)f->ip, f->module ? f->module : "", (unsigned long long)f->offset);
        for (int k = 0; k < f->build_id_len; k++) fb_printf(j, "%02x", f->build_id[k]);
        fb_puts(j, "\"");
        if (f->symbol) {
            fb_printf(j, ",\"symbol\":%pJ,\"symbol_offset\":%llu,\"symbol_from\":\"%s\"", f->symbol,
                      (unsigned long long)f->symbol_offset, frame_sym_name(f->symbol_from));
            char dm[1024];
            if (osh_demangle(f->symbol, dm, sizeof dm)) fb_printf(j, ",\"demangled\":%pJ", dm);
        }
        fb_puts(j, "}");
    }
    fb_puts(j, "]");
}

void render_arithmetic_text(struct fmtbuf *t, const struct diagnosis *d, const struct live_state *ls)
{
    if (d->unit_kb > 0)
        fb_printf(t, "\nARITHMETIC (%s of %lld KiB", d->units, (long long)d->unit_kb);
    else
        fb_printf(t, "\nARITHMETIC (%s", d->units);
    if (d->kv.formula) fb_printf(t, "; %s", d->kv.formula);
    else if (d->check) fb_printf(t, "; %s", d->check);
    fb_puts(t, ")\n");
    int pages = !strcmp(d->units, "pages");
    for (int i = 0; i < d->kv.nterms; i++) {
        const struct kterm *k = &d->kv.terms[i];
        fb_printf(t, pages ? "     %c %10lld  %-62s" : "     %c %10lld  %s", k->op, (long long)k->pages, k->name);
        if (pages) mib(t, ls, k->pages);
        fb_putc(t, '\n');
    }
    /* "1 mapping", "2 mappings" */
    char unit[24];
    osh_snprintf(unit, sizeof unit, "%s", d->units);
    if (d->shortfall_pages == 1 && unit[0] && unit[strlen(unit) - 1] == 's') unit[strlen(unit) - 1] = 0;
    if (d->cause == CAUSE_OVERCOMMIT_NEVER) {
        int64_t sum = d->committed_pages + d->charge_pages;
        fb_printf(t, "     = %10lld  allowed (CommitLimit after reserves)                              ",
                  (long long)d->limit_pages);
        mib(t, ls, d->limit_pages);
        if (d->within_band) {
            fb_printf(t, "\n       %10lld  Committed_AS (the exact sum) + %lld requested = %lld: below %lld by %lld pages\n",
                      (long long)d->committed_pages, (long long)d->charge_pages, (long long)sum,
                      (long long)d->limit_pages, (long long)(d->limit_pages - sum));
            fb_printf(t, "       %10lld  the per-cpu counter's error band (batch %lld x %d CPUs): the kernel's read was at "
                         "least %lld pages higher  ->  ENOMEM\n",
                      (long long)d->band_pages, (long long)d->batch_pages, ls->in.ncpus > 0 ? ls->in.ncpus : 1,
                      (long long)(d->limit_pages - sum));
            fb_printf(t, "       short by %lld pages to pass whatever the counter's error: %lld + %lld + %lld band + 1 - %lld\n",
                      (long long)d->shortfall_pages, (long long)d->committed_pages, (long long)d->charge_pages,
                      (long long)d->band_pages, (long long)d->limit_pages);
        } else {
            fb_printf(t, "\n       %10lld  Committed_AS before the request + %lld requested = %lld, not below %lld  ->  ENOMEM\n",
                      (long long)d->committed_pages, (long long)d->charge_pages, (long long)sum,
                      (long long)d->limit_pages);
            if (d->band_pages)
                fb_printf(t, "       (the kernel's read of Committed_AS may differ from the exact sum by up to %lld pages, "
                             "batch %lld x %d CPUs; the remedies below clear that band)\n",
                          (long long)d->band_pages, (long long)d->batch_pages, ls->in.ncpus > 0 ? ls->in.ncpus : 1);
        }
    } else if (d->cause == CAUSE_OVERCOMMIT_GUESS) {
        fb_printf(t, "     = %10lld  %-62s", (long long)d->limit_pages,
                  ls->k.era == KERA_5_2 ? "RAM + swap: the largest single request" : "available by the estimate");
        mib(t, ls, d->limit_pages);
        fb_printf(t, "\n       %10lld  requested  ->  ENOMEM\n", (long long)d->charge_pages);
        if (ls->k.era != KERA_5_2)
            fb_printf(t, "       (Committed_AS and CommitLimit play no part in mode 0 on this kernel.)\n");
        if (!ls->in.totalreserve_known && ls->k.era != KERA_5_2)
            fb_printf(t, "       (totalreserve_pages unknown: assumed 0)\n");
    } else if (d->kv.nterms) {
        int64_t sum = 0;
        for (int i = 0; i < d->kv.nterms; i++) sum += d->kv.terms[i].op == '-' ? -d->kv.terms[i].pages : d->kv.terms[i].pages;
        const char *lim = d->cause == CAUSE_MAX_MAP_COUNT ? "vm.max_map_count"
                          : d->cause == CAUSE_RLIMIT_AS   ? "RLIMIT_AS"
                          : d->cause == CAUSE_RLIMIT_DATA ? "RLIMIT_DATA"
                          : d->cause == CAUSE_HUGETLB     ? "needed; free"
                                                             : "the limit";
        if (d->cause == CAUSE_HUGETLB)
            fb_printf(t, "       %10lld  needed, more than the %lld free  ->  ENOMEM; short by %lld %s\n",
                      (long long)d->request_pages, (long long)d->limit_pages, (long long)d->shortfall_pages, unit);
        else if (d->cause == CAUSE_THREAD_LIMIT)
            fb_printf(t, "     = %10lld  %s, at the limit of %lld  ->  EAGAIN; short by %lld\n", (long long)sum, d->units,
                      (long long)d->limit_pages, (long long)d->shortfall_pages);
        else
            fb_printf(t, "     = %10lld  more than %s %lld  ->  ENOMEM; short by %lld %s\n", (long long)sum, lim,
                      (long long)d->limit_pages, (long long)d->shortfall_pages, unit);
    }
}

/* What the refused call returned, as the caller sees it. */
const char *render_call_result(const struct failed_call *fc, char *b, size_t cap)
{
    const char *e = render_errno_name(fc->err);
    switch (fc->id) {
    case CALL_MALLOC: case CALL_CALLOC: case CALL_REALLOC: case CALL_REALLOCARRAY: case CALL_ALIGNED_ALLOC:
    case CALL_MEMALIGN: case CALL_VALLOC: case CALL_PVALLOC:
        osh_snprintf(b, cap, "NULL (errno %s)", e);
        break;
    case CALL_POSIX_MEMALIGN: case CALL_PTHREAD_CREATE: case CALL_POSIX_SPAWN: case CALL_POSIX_SPAWNP:
        osh_snprintf(b, cap, "%s (returned, errno untouched)", e);
        break;
    case CALL_MMAP: case CALL_MMAP64: case CALL_MREMAP:
        osh_snprintf(b, cap, "MAP_FAILED (errno %s)", e);
        break;
    case CALL_SBRK:
        osh_snprintf(b, cap, "(void *) -1 (errno %s)", e);
        break;
    default:
        osh_snprintf(b, cap, "-1 (errno %s)", e);
    }
    return b;
}
