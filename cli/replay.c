/* overshim replay TRACE --snapshot BOX [--sweep KEY=LO..HI] [--json]: the commit sequence of
 * a trace (trace=) replayed against BOX's kernel model, as the simulator would decide it
 * (replaymodel.c): the first call BOX refuses with its verdict, or that the program starts;
 * with --sweep, the smallest value of KEY (overcommit_ratio, free, swap) at which it starts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt_fd.h"
#include "render.h"
#include "jout.h"
#include "replaymodel.h"
#include "report_call.h"
#include "snapfile.h"
#include "tlread.h"

int cmd_replay(int argc, char **argv);

static int load_box(const char *path, struct live_state *base)
{
    static struct snapshot sn;
    char err[512];
    if (snapshot_file_read(path, &sn, err, sizeof err) != 0) {
        fprintf(stderr, "overshim: replay: %s\n", err);
        return -1;
    }
    replay_base(&sn, base);
    return 0;
}

/* "overcommit_ratio=50..100", "free=100M..2G" (sizes in kB with K/M/G/T: 1K = 1 kB). */
static int parse_value(const char *s, int key, long long *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0) return -1;
    if (key != SW_RATIO) {
        switch (*end) {
        case 'k': case 'K': end++; break;
        case 'm': case 'M': v *= 1024; end++; break;
        case 'g': case 'G': v *= 1024 * 1024; end++; break;
        case 't': case 'T': v *= 1024.0 * 1024 * 1024; end++; break;
        default: v /= 1024; break; /* bytes */
        }
        if (*end == 'B' || *end == 'b') end++;
    }
    if (*end) return -1;
    *out = (long long)v;
    return 0;
}

static int parse_sweep(const char *arg, int *key, long long *lo, long long *hi)
{
    char name[64];
    const char *eq = strchr(arg, '='), *dots = eq ? strstr(eq, "..") : NULL;
    if (!eq || !dots || (size_t)(eq - arg) >= sizeof name) return -1;
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = 0;
    *key = replay_sweep_key(name);
    if (!*key) return -1;
    char a[64];
    size_t la = (size_t)(dots - eq - 1);
    if (la >= sizeof a) return -1;
    memcpy(a, eq + 1, la);
    a[la] = 0;
    return parse_value(a, *key, lo) || parse_value(dots + 2, *key, hi) || *lo > *hi ? -1 : 0;
}

static void print_call(struct fmtbuf *fb, const struct overshim_trace_rec *r, int json)
{
    struct failed_call fc = {.id = (enum call_id)r->call};
    for (int k = 0; k < 6; k++) fc.a[k] = r->a[k];
    call_args(fb, &fc, json);
}

/* The text form: the verdict, its arithmetic and the remedies, as a report has them. */
static void verdict_text(struct fmtbuf *fb, const struct live_state *b, const struct diagnosis *d)
{
    fb_printf(fb, "VERDICT  %s: %s\n", cause_name(d->cause), d->explanation);
    render_arithmetic_text(fb, d, b);
    for (int i = 0; i < d->nremedies; i++) fb_printf(fb, "REMEDY   %s\n", d->remedies[i]);
}

int cmd_replay(int argc, char **argv)
{
    const char *trace = NULL, *box = NULL, *sweep = NULL;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--snapshot") && i + 1 < argc) box = argv[++i];
        else if (!strcmp(argv[i], "--sweep") && i + 1 < argc) sweep = argv[++i];
        else if (argv[i][0] == '-' || trace) {
            fprintf(stderr, "overshim: replay: unexpected argument '%s' (replay TRACE --snapshot BOX [--sweep KEY=LO..HI] [--json])\n", argv[i]);
            return 2;
        } else trace = argv[i];
    }
    if (!trace || !box) {
        fprintf(stderr, "overshim: replay: needs a trace and --snapshot BOX (replay TRACE --snapshot BOX [--sweep KEY=LO..HI] [--json])\n");
        return 2;
    }
    int key = 0;
    long long lo = 0, hi = 0;
    if (sweep && parse_sweep(sweep, &key, &lo, &hi) != 0) {
        fprintf(stderr, "overshim: replay: --sweep '%s': expected overcommit_ratio=LO..HI, free=LO..HI or swap=LO..HI (sizes with K/M/G)\n", sweep);
        return 2;
    }
    static struct trace_file t;
    static struct live_state base, b;
    char err[700];
    if (trace_load(trace, &t, err, sizeof err) != 0) {
        fprintf(stderr, "overshim: replay: %s\n", err);
        return 1;
    }
    if (load_box(box, &base) != 0) return 1;
    static struct diagnosis d, dlow;
    size_t nreq = 0;
    static char out[65536];
    struct fmtbuf fb;
    fflush(stdout);
    fb_init(&fb, out, sizeof out, 1);
    long at = replay_first_refusal(&base, &t.h, t.recs, t.n, &d, &nreq);
    long long answer = -1;
    long low_at = -1;
    if (key) {
        b = base;
        replay_set(&b, key, hi);
        size_t nn;
        if (replay_first_refusal(&b, &t.h, t.recs, t.n, &dlow, &nn) < 0) {
            long long l = lo, h = hi; /* invariant: h starts */
            b = base;
            replay_set(&b, key, l);
            if (replay_first_refusal(&b, &t.h, t.recs, t.n, &dlow, &nn) < 0) h = l;
            while (h - l > 1 && h != l) {
                long long m = l + (h - l) / 2;
                b = base;
                replay_set(&b, key, m);
                if (replay_first_refusal(&b, &t.h, t.recs, t.n, &dlow, &nn) < 0) h = m;
                else l = m;
            }
            answer = h;
            if (answer > lo) {
                b = base;
                replay_set(&b, key, answer - 1);
                low_at = replay_first_refusal(&b, &t.h, t.recs, t.n, &dlow, &nn);
            }
        }
    }
    const char *kname = key == SW_RATIO ? "overcommit_ratio" : key == SW_FREE ? "free_kb" : "swap_kb";
    if (json) {
        fb_printf(&fb, "{\"schema\":1,\"event\":\"replay\",\"trace\":%pJ,\"snapshot\":%pJ,\"pid\":%d,\"comm\":%pJ,"
                       "\"requests\":%zu,\"starts\":%s,\"refused\":",
                  trace, box, t.h.pid, t.h.comm, nreq, at < 0 ? "true" : "false");
        if (at >= 0) {
            const struct overshim_trace_rec *r = &t.recs[at];
            fb_printf(&fb, "{\"index\":%ld,\"t_ms\":%llu.%03llu,\"tid\":%d,\"call\":{\"name\":%pJ,\"args\":{", at,
                      (unsigned long long)(r->t_ns / 1000000), (unsigned long long)(r->t_ns / 1000 % 1000), r->tid,
                      call_name((enum call_id)r->call));
            print_call(&fb, r, 1);
            fb_puts(&fb, "}},\"verdict\":");
            render_verdict_json(&fb, &d, &base);
            fb_puts(&fb, "}");
        } else {
            fb_puts(&fb, "null");
        }
        if (key) {
            fb_printf(&fb, ",\"sweep\":{\"key\":%pJ,\"lo\":%lld,\"hi\":%lld,\"answer\":", kname, lo, hi);
            if (answer >= 0) fb_printf(&fb, "%lld", answer);
            else fb_puts(&fb, "null");
            fb_puts(&fb, ",\"below\":");
            if (low_at >= 0) {
                fb_printf(&fb, "{\"value\":%lld,\"call\":%pJ,\"cause\":%pJ,\"shortfall_pages\":%lld}", answer - 1,
                          call_name((enum call_id)t.recs[low_at].call), cause_name(dlow.cause), (long long)dlow.shortfall_pages);
            } else {
                fb_puts(&fb, "null");
            }
            fb_puts(&fb, "}");
        }
        fb_puts(&fb, "}\n");
    } else {
        fb_printf(&fb, "overshim replay of %s (pid %d, %s: %zu call%s that can commit%s) on %s (%s, model %s, "
                       "vm.overcommit_memory=%d)\n",
                  trace, t.h.pid, t.h.comm, nreq, nreq == 1 ? "" : "s", at >= 0 ? ", up to the refused one" : "", box,
                  base.release, base.k.label, base.in.overcommit_memory);
        if (at < 0) {
            fb_printf(&fb, "STARTS   every recorded call passes on that box\n");
        } else {
            const struct overshim_trace_rec *r = &t.recs[at];
            fb_printf(&fb, "REFUSED  %s(", call_name((enum call_id)r->call));
            print_call(&fb, r, 0);
            fb_printf(&fb, ") by thread %d, %llu ms after start\n", r->tid, (unsigned long long)(r->t_ns / 1000000));
            verdict_text(&fb, &base, &d);
        }
        if (key && answer < 0)
            fb_printf(&fb, "SWEEP    %s: refused even at %lld\n", kname, hi);
        else if (key) {
            fb_printf(&fb, "SWEEP    smallest %s at which it starts: %lld", kname, answer);
            if (low_at >= 0)
                fb_printf(&fb, " (at %lld: %s refused, %s, %lld pages short)", answer - 1,
                          call_name((enum call_id)t.recs[low_at].call), cause_name(dlow.cause), (long long)dlow.shortfall_pages);
            else if (answer == lo)
                fb_printf(&fb, " (the low end of the range: it may start lower)");
            fb_puts(&fb, "\n");
        }
    }
    fb_flush(&fb);
    trace_free(&t);
    if (fb.failed) {
        fprintf(stderr, "overshim: replay: cannot write the output\n");
        return 1;
    }
    return 0;
}
