/* Replay against a kernel model (replaymodel.h). */
#include "replaymodel.h"

#include <stdio.h>
#include <string.h>

void replay_base(const struct snapshot *s, struct live_state *base)
{
    memset(base, 0, sizeof *base);
    snprintf(base->release, sizeof base->release, "%s", s->release);
    base->k = s->k;
    base->mi = s->mi;
    snapshot_input(s, &base->in);
    base->max_map_count = s->max_map_count >= 0 ? s->max_map_count : 65530;
    base->min_free_kbytes = s->min_free_kbytes;
    base->threads_max = s->threads_max;
    base->pid_max = s->pid_max;
    base->hugepages_free = -1;
    base->hugepagesize_kb = s->mi.Hugepagesize;
}


long replay_first_refusal(const struct live_state *base, const struct overshim_trace_header *h,
                          const struct overshim_trace_rec *recs, size_t n, struct diagnosis *d, size_t *nreq)
{
    int64_t pk = base->in.page_kb ? base->in.page_kb : 4;
    int64_t start_rss_pages = h->start_rss_anon_kb > 0 ? h->start_rss_anon_kb / pk : 0;
    int64_t rss_kb = -1, vm_kb = 0, vm_at_sample = 0; /* pages of the ledger's ranges at that sample */
    static struct live_state s;
    *nreq = 0;
    for (size_t i = 0; i < n; i++) {
        const struct overshim_trace_rec *r = &recs[i];
        if (r->type == OVERSHIM_TR_SAMPLE) {
            rss_kb = r->v[0];
            vm_kb = r->v[1] - (int64_t)(h->own_vm_bytes / 1024); /* without the trace's own mapping */
            vm_at_sample = (int64_t)r->a[4];
            continue;
        }
        if (r->type != OVERSHIM_TR_REQUEST) continue;
        (*nreq)++;
        /* policy_state(): the box, plus what the program holds */
        s = *base;
        int64_t mine = h->start_ac_pages + r->v[0];
        if (mine < 0) mine = 0;
        s.in.committed = base->in.committed + mine;
        s.vm_size_pages = vm_kb / pk + (r->v[3] - vm_at_sample) * 4 / pk;
        if (s.vm_size_pages < 0) s.vm_size_pages = 0;
        s.vm_data_pages = 0;
        if (rss_kb >= 0) {
            int64_t rss = rss_kb / pk - start_rss_pages;
            if (rss > 0) s.in.nr_free = base->in.nr_free > rss ? base->in.nr_free - rss : 0;
        }
        s.map_count = 0; /* not recorded: the trace has no max_map_count refusal to give */
        s.rlim_as = s.rlim_data = s.rlim_nproc = s.rlim_stack = s.rlim_data_max = LS_UNLIMITED;
        s.pids_max = s.pids_current = -1;
        s.user_tasks = -1;
        s.nr_tasks = 0;
        s.model_exact = 1;
        s.proc_ac_pages = mine;
        s.start_brk = s.cur_brk = s.start_data = s.end_data = 0;
        /* sim_body(): the call, and what the process has in its range */
        struct failed_call fc = {.id = (enum call_id)r->call};
        for (int k = 0; k < 6; k++) fc.a[k] = r->a[k];
        struct smaps_facts f;
        memset(&f, 0, sizeof f);
        f.mapped_pages = (uint64_t)r->v[2];
        f.accounted_pages = (uint64_t)r->v[1];
        f.data_pages = (uint64_t)r->v[2];
        f.ac_total_pages = (uint64_t)mine;
        f.vm_size_pages = (uint64_t)s.vm_size_pages;
        f.map_count = (uint64_t)s.map_count;
        f.ok = 1;
        diagnose(&fc, &s, &f, d);
        if (cause_simulated(d->cause)) return (long)i;
    }
    return -1;
}

int replay_sweep_key(const char *name)
{
    if (!strcmp(name, "overcommit_ratio")) return SW_RATIO;
    if (!strcmp(name, "free") || !strcmp(name, "MemFree")) return SW_FREE;
    if (!strcmp(name, "swap") || !strcmp(name, "SwapTotal")) return SW_SWAP;
    return SW_NONE;
}

void replay_set(struct live_state *b, int key, long long v)
{
    int64_t pk = b->in.page_kb ? b->in.page_kb : 4;
    switch (key) {
    case SW_RATIO:
        b->in.overcommit_ratio = v;
        b->in.overcommit_kbytes = 0;
        break;
    case SW_FREE:
        b->in.nr_free = v / pk;
        b->mi.MemFree = v;
        break;
    case SW_SWAP:
        b->in.total_swap = b->in.free_swap = v / pk;
        b->mi.SwapTotal = b->mi.SwapFree = v;
        break;
    }
}
