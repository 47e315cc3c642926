/* The timeline files as series (timeseries.h). */
#include "timeseries.h"

#include "snapfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jout.h"
#include "kmodel.h"
#include "replaymodel.h"
#include "tlread.h"

#define GRID 2000 /* time points per band at most */

static int push(struct point **a, size_t *n, size_t *cap, double t, double v)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        struct point *na = realloc(*a, nc * sizeof *na);
        if (!na) return -1;
        *a = na;
        *cap = nc;
    }
    (*a)[(*n)++] = (struct point){t, v};
    return 0;
}

static struct refusal *add_refusal(struct series *s)
{
    struct refusal *n = realloc(s->refusals, (s->nrefusals + 1) * sizeof *n);
    if (!n) return NULL;
    s->refusals = n;
    struct refusal *r = &n[s->nrefusals++];
    memset(r, 0, sizeof *r);
    return r;
}

static void add_instant(struct series *s, double t, int tid, const char *name)
{
    struct instant *n = realloc(s->instants, (s->ninstants + 1) * sizeof *n);
    if (!n) return;
    s->instants = n;
    s->instants[s->ninstants++] = (struct instant){t, tid, name};
}

static int load_box(const char *path, struct live_state *base, char *err, size_t errcap)
{
    static struct snapshot sn;
    if (snapshot_file_read(path, &sn, err, errcap) != 0) return -1;
    replay_base(&sn, base);
    return 0;
}

/* What BOX lets this program commit: mode 2, the allowed commit less the rest of the box;
 * mode 0, the largest one request; mode 1, nothing to draw. */
static void box_limit(struct series *s, const struct live_state *b, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash) path = slash + 1;
    struct kverdict v;
    kmodel_vm_enough_memory(&b->k, &b->in, 1, 0, &v);
    double pb = (double)(b->in.page_kb ? b->in.page_kb : 4) * 1024;
    if (b->in.overcommit_memory == 2) {
        s->limit = (double)(v.limit_pages - b->in.committed) * pb;
        snprintf(s->limit_label, sizeof s->limit_label,
                 "%s (model %s, mode 2): the allowed commit after reserves less the rest of its Committed_AS", path,
                 b->k.label);
    } else if (b->in.overcommit_memory == 0) {
        s->limit = (double)v.limit_pages * pb;
        snprintf(s->limit_label, sizeof s->limit_label, "%s (model %s, mode 0): the largest one request it passes",
                 path, b->k.label);
    }
}

static void verdict_text(char *out, size_t cap, const struct diagnosis *d)
{
    size_t n = (size_t)snprintf(out, cap, "\n%s: %s\n", cause_name(d->cause), d->explanation);
    for (int i = 0; i < d->kv.nterms && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "  %c %10lld  %s\n", d->kv.terms[i].op, (long long)d->kv.terms[i].pages,
                              d->kv.terms[i].name);
    if (n < cap)
        snprintf(out + n, cap - n, "  request %lld pages, limit %lld, %lld short", (long long)d->request_pages,
                 (long long)d->limit_pages, (long long)d->shortfall_pages);
}

static int from_trace(const char *path, const struct live_state *box, const char *boxpath, struct series *s, char *err,
                      size_t errcap)
{
    static struct trace_file t;
    if (trace_load(path, &t, err, errcap) != 0) return -1;
    s->pid = t.h.pid;
    snprintf(s->comm, sizeof s->comm, "%s", t.h.comm);
    size_t cc = 0, tc = 0;
    /* thread names, peaks: the 7 largest threads get bands, the rest one "other" band */
    int tids[4096];
    double peaks[4096];
    char names[4096][17];
    size_t nt = 0;
    for (size_t i = 0; i < t.n; i++) {
        const struct overshim_trace_rec *r = &t.recs[i];
        if (r->t_ns / 1e6 > s->t_max) s->t_max = r->t_ns / 1e6;
        if (r->type != OVERSHIM_TR_COMMIT && r->type != OVERSHIM_TR_THREAD) continue;
        size_t k = 0;
        while (k < nt && tids[k] != r->tid) k++;
        if (k == nt && nt < 4096) {
            tids[nt] = r->tid;
            peaks[nt] = 0;
            names[nt][0] = 0;
            nt++;
        }
        if (k >= nt) continue;
        if (r->type == OVERSHIM_TR_THREAD) memcpy(names[k], &r->a[2], 16), names[k][16] = 0;
        else if ((double)r->v[1] > peaks[k]) peaks[k] = (double)r->v[1];
    }
    int band_of[4096];
    for (size_t k = 0; k < nt; k++) band_of[k] = -1;
    for (size_t b = 0; b < 7 && b < nt; b++) {
        size_t best = nt;
        for (size_t k = 0; k < nt; k++)
            if (band_of[k] < 0 && peaks[k] > 0 && (best == nt || peaks[k] > peaks[best])) best = k;
        if (best == nt) break;
        band_of[best] = (int)b;
        s->bands[b].tid = tids[best];
        snprintf(s->bands[b].name, sizeof s->bands[b].name, "%s", names[best]);
        s->nbands = b + 1;
    }
    int other = 0;
    for (size_t k = 0; k < nt; k++)
        if (band_of[k] < 0 && peaks[k] > 0) band_of[k] = (int)s->nbands, other = 1;
    if (other) {
        s->bands[s->nbands].tid = 0;
        snprintf(s->bands[s->nbands].name, sizeof s->bands[s->nbands].name, "other threads");
        s->nbands++;
    }
    for (size_t b = 0; b < s->nbands; b++) {
        s->bands[b].p = calloc(GRID + 2, sizeof(struct point));
        s->bands[b].top = calloc(GRID + 2, sizeof(double));
    }
    double cur[8] = {0}, *tcur = calloc(nt + 1, sizeof *tcur), last_emit = -1;
    for (size_t i = 0; i < t.n; i++) {
        const struct overshim_trace_rec *r = &t.recs[i];
        double tm = r->t_ns / 1e6;
        if (r->type == OVERSHIM_TR_COMMIT) {
            push(&s->committed, &s->ncommitted, &cc, tm, (double)r->v[2]);
            if ((double)r->v[2] > s->v_max) s->v_max = (double)r->v[2];
            size_t k = 0;
            while (k < nt && tids[k] != r->tid) k++;
            if (k < nt && band_of[k] >= 0) {
                int b = band_of[k];
                cur[b] += (double)r->v[1] - tcur[k];
                tcur[k] = (double)r->v[1];
            }
            int last = i + 1 == t.n;
            if (s->nbands && (tm - last_emit >= s->t_max / GRID || last) && s->bands[0].n < GRID + 1) {
                double top = 0;
                for (size_t b = 0; b < s->nbands; b++) {
                    top += cur[b];
                    struct band *bd = &s->bands[b];
                    bd->p[bd->n] = (struct point){tm, cur[b]};
                    bd->top[bd->n++] = top;
                }
                last_emit = tm;
            }
        } else if (r->type == OVERSHIM_TR_SAMPLE) {
            if ((int64_t)r->a[3] >= 0) push(&s->touched, &s->ntouched, &tc, tm, (double)r->a[3]); /* walked then */
            if (!box && (int64_t)r->a[1] > 0 && (int64_t)r->a[0] > 0) { /* this box: its room for the program */
                s->limit = (double)((int64_t)r->a[1] - (int64_t)r->a[0]) * 1024 + (double)r->v[3];
                snprintf(s->limit_label, sizeof s->limit_label,
                         "the box it ran on: CommitLimit less the rest of its Committed_AS (mode 2 would refuse above)");
            }
        } else if (r->type == OVERSHIM_TR_REFUSAL) {
            struct refusal *f = add_refusal(s);
            if (!f) continue;
            f->t = tm;
            f->tid = r->tid;
            f->request = (double)r->a[2];
            f->committed = s->ncommitted ? s->committed[s->ncommitted - 1].v : 0;
            snprintf(f->call, sizeof f->call, "%s", jout_call_name(r->call));
            snprintf(f->text, sizeof f->text, "%s of %llu bytes refused by %s (errno %llu), %.1f ms after start", f->call,
                     (unsigned long long)r->a[2], r->a[1] ? "the simulator" : "the kernel", (unsigned long long)r->a[0], tm);
        } else if (r->type == OVERSHIM_TR_THREAD) {
            add_instant(s, tm, r->tid, r->a[0] == 1 ? "thread_start" : "thread_exit");
        } else if (r->type == OVERSHIM_TR_EXIT) {
            add_instant(s, tm, r->tid, "exit");
        }
    }
    free(tcur);
    if (box) {
        static struct diagnosis d;
        size_t nreq;
        long at = replay_first_refusal(box, &t.h, t.recs, t.n, &d, &nreq);
        if (at >= 0) {
            struct refusal *f = add_refusal(s);
            if (f) {
                const struct overshim_trace_rec *r = &t.recs[at];
                f->t = r->t_ns / 1e6;
                f->tid = r->tid;
                f->committed = (double)(t.h.start_ac_pages + r->v[0]) * 4096;
                snprintf(f->call, sizeof f->call, "%s", jout_call_name(r->call));
                f->request = (double)d.request_pages * 4096;
                int n = snprintf(f->text, sizeof f->text, "%s would be refused on %s, %.1f ms after start", f->call, boxpath,
                                 f->t);
                if (n > 0 && (size_t)n < sizeof f->text) verdict_text(f->text + n, sizeof f->text - (size_t)n, &d);
            }
        }
    }
    trace_free(&t);
    return 0;
}

static int from_flight(const char *path, struct series *s, char *err, size_t errcap)
{
    static struct flight_file f;
    if (flight_load(path, &f, err, errcap) != 0) return -1;
    s->pid = f.h.pid;
    snprintf(s->comm, sizeof s->comm, "%s", f.h.comm);
    size_t cc = 0, tc = 0;
    /* events and samples, merged in time order: both carry the process's committed */
    size_t i = 0, j = 0;
    while (i < f.nevents || j < f.nsamples) {
        int ev = j >= f.nsamples || (i < f.nevents && f.events[i].t_ns <= f.samples[j].t_ns);
        double tm = (ev ? f.events[i].t_ns : f.samples[j].t_ns) / 1e6;
        if (tm > s->t_max) s->t_max = tm;
        double v = ev ? (double)f.events[i].committed : (double)f.samples[j].committed;
        push(&s->committed, &s->ncommitted, &cc, tm, v);
        if (v > s->v_max) s->v_max = v;
        if (ev) {
            const struct overshim_flight_event *e = &f.events[i++];
            if (e->kind == OVERSHIM_FEV_REFUSAL) {
                struct refusal *r = add_refusal(s);
                if (!r) continue;
                r->t = tm;
                r->tid = e->tid;
                r->committed = v;
                r->request = (double)e->b;
                snprintf(r->call, sizeof r->call, "%s", jout_call_name((int)e->a));
                snprintf(r->text, sizeof r->text, "%s of %lld bytes refused by %s (errno %lld), %.1f ms after start",
                         r->call, (long long)e->b, e->d ? "the simulator" : "the kernel", (long long)e->c, tm);
            } else if (e->kind == OVERSHIM_FEV_THREAD_START || e->kind == OVERSHIM_FEV_THREAD_EXIT || e->kind == OVERSHIM_FEV_EXIT) {
                add_instant(s, tm, e->tid,
                            e->kind == OVERSHIM_FEV_THREAD_START ? "thread_start" : e->kind == OVERSHIM_FEV_EXIT ? "exit" : "thread_exit");
            }
        } else {
            const struct overshim_flight_sample *sm = &f.samples[j++];
            if (sm->touched >= 0) push(&s->touched, &s->ntouched, &tc, tm, (double)sm->touched);
            if (sm->box_commit_limit_kb > 0 && sm->box_committed_as_kb > 0) {
                s->limit = (double)(sm->box_commit_limit_kb - sm->box_committed_as_kb) * 1024 + (double)sm->committed;
                snprintf(s->limit_label, sizeof s->limit_label,
                         "the box it ran on: CommitLimit less the rest of its Committed_AS (mode 2 would refuse above)");
            }
        }
    }
    if (f.h.last_update_ns / 1e6 > s->t_max) s->t_max = f.h.last_update_ns / 1e6;
    /* the last change: the header has the process's committed as it was then */
    double tl = f.h.last_update_ns / 1e6;
    if (!s->ncommitted || s->committed[s->ncommitted - 1].t <= tl) push(&s->committed, &s->ncommitted, &cc, tl, (double)f.h.committed);
    if ((double)f.h.committed > s->v_max) s->v_max = (double)f.h.committed;
    flight_free(&f);
    return 0;
}

int series_load(const char *path, const char *boxpath, struct series *s, char *err, size_t errcap)
{
    memset(s, 0, sizeof *s);
    s->limit = -1;
    static struct live_state box;
    if (boxpath && load_box(boxpath, &box, err, errcap) != 0) return -1;
    int kind = tl_kind(path, err, errcap);
    if (kind <= 0) return -1;
    int r = kind == 2 ? from_trace(path, boxpath ? &box : NULL, boxpath, s, err, errcap) : from_flight(path, s, err, errcap);
    if (r) return r;
    if (boxpath) box_limit(s, &box, boxpath);
    if (s->limit <= 0) s->limit = -1; /* nothing left on that box (mode 0 boxes run past CommitLimit): no line */
    if (s->t_max <= 0) s->t_max = 1;
    return 0;
}

void series_free(struct series *s)
{
    free(s->committed);
    free(s->touched);
    for (size_t b = 0; b < s->nbands; b++) {
        free(s->bands[b].p);
        free(s->bands[b].top);
    }
    free(s->refusals);
    free(s->instants);
}
