/* overshim plot TRACE|FLIGHT -o FILE [--format html|chrome] [--snapshot BOX]: the commit
 * timeline as one self-contained HTML file (inline SVG, no script, no network) or as Chrome
 * Trace Event JSON (Perfetto, chrome://tracing). The series come from timeseries.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jout.h"
#include "replaymodel.h"
#include "timeseries.h"

int cmd_plot(int argc, char **argv);

/* Colours the screenshot test looks for (tests/integ/test_timeline.c) */
#define C_COMMITTED "#1f77b4"
#define C_TOUCHED "#ff7f0e"
#define C_LIMIT "#d62728"
#define C_REFUSAL "#9467bd"
static const char *const band_colours[] = {"#aec7e8", "#98df8a", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5",
                                           "#c7c7c7"};

#define W 1100
#define H 520
#define X0 90
#define X1 1060
#define Y0 40
#define Y1 440

static double sx(const struct series *s, double t) { return X0 + (s->t_max > 0 ? t / s->t_max : 0) * (X1 - X0); }
static double sy(double v, double vmax) { return Y1 - (vmax > 0 ? v / vmax : 0) * (Y1 - Y0); }

static void mib(char *b, size_t n, double bytes) { snprintf(b, n, "%.1f MiB", bytes / 1048576); }

/* A step line through the points, at most two points per pixel column. */
static void polyline(FILE *f, const struct series *s, const struct point *p, size_t n, double vmax, const char *colour,
                     const char *extra)
{
    if (!n) return;
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2.5\" %s points=\"", colour, extra);
    double last_y = sy(p[0].v, vmax);
    int last_x = -1;
    for (size_t i = 0; i < n; i++) {
        double x = sx(s, p[i].t), y = sy(p[i].v, vmax);
        if ((int)x == last_x && i + 1 < n && (int)sx(s, p[i + 1].t) == last_x) continue;
        fprintf(f, "%.1f,%.1f %.1f,%.1f ", x, last_y, x, y);
        last_y = y;
        last_x = (int)x;
    }
    fprintf(f, "%.1f,%.1f\"/>\n", (double)X1, last_y);
}

static void html_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

static int write_html(FILE *f, const struct series *s)
{
    double vmax = s->v_max * 1.1;
    if (s->limit >= 0 && s->limit * 1.05 > vmax) vmax = s->limit * 1.05;
    if (vmax <= 0) vmax = 1;
    fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>overshim: %s (pid %d)</title>\n"
               "<style>body{font:14px sans-serif;margin:16px;background:#fff;color:#222}"
               "pre{background:#f6f6f6;padding:8px;font-size:12px}td{padding:0 8px}</style></head><body>\n",
            s->comm, s->pid);
    fprintf(f, "<h2>overshim: %s (pid %d), committed and touched over %.1f %s</h2>\n", s->comm, s->pid,
            s->t_max < 2000 ? s->t_max : s->t_max / 1000, s->t_max < 2000 ? "ms" : "s");
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", W, H, W, H);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#ffffff\" stroke=\"#888\"/>\n", X0, Y0, X1 - X0,
            Y1 - Y0);
    /* axes: 5 ticks each */
    for (int i = 0; i <= 5; i++) {
        double v = vmax * i / 5, y = sy(v, vmax);
        char b[32];
        mib(b, sizeof b, v);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>"
                   "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>\n",
                X0, y, X1, y, X0 - 4, y + 4, b);
        double t = s->t_max * i / 5;
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">", sx(s, t), Y1 + 16);
        if (s->t_max < 2000) fprintf(f, "%.1f ms</text>\n", t);
        else fprintf(f, "%.2f s</text>\n", t / 1000);
    }
    /* bands: each thread's committed, stacked (the trace has them over time) */
    for (size_t k = 0; k < s->nbands; k++) {
        const struct band *b = &s->bands[k];
        fprintf(f, "<polygon fill=\"%s\" fill-opacity=\"0.55\" stroke=\"none\" points=\"", band_colours[k % 8]);
        for (size_t i = 0; i < b->n; i++) {
            double x = sx(s, b->p[i].t), x2 = i + 1 < b->n ? sx(s, b->p[i + 1].t) : X1;
            fprintf(f, "%.1f,%.1f %.1f,%.1f ", x, sy(b->top[i], vmax), x2, sy(b->top[i], vmax));
        }
        for (size_t i = b->n; i-- > 0;) {
            double x = sx(s, b->p[i].t), x2 = i + 1 < b->n ? sx(s, b->p[i + 1].t) : X1;
            fprintf(f, "%.1f,%.1f %.1f,%.1f ", x2, sy(b->top[i] - b->p[i].v, vmax), x, sy(b->top[i] - b->p[i].v, vmax));
        }
        fprintf(f, "\"><title>thread %d %s</title></polygon>\n", b->tid, b->name);
    }
    polyline(f, s, s->committed, s->ncommitted, vmax, C_COMMITTED, "");
    polyline(f, s, s->touched, s->ntouched, vmax, C_TOUCHED, "");
    if (s->limit >= 0) {
        double y = sy(s->limit, vmax);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2.5\" "
                   "stroke-dasharray=\"10,4\"/>\n",
                X0, y, X1, y, C_LIMIT);
    }
    for (size_t i = 0; i < s->nrefusals; i++) {
        const struct refusal *r = &s->refusals[i];
        double x = sx(s, r->t), y = sy(r->committed, vmax);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>"
                   "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"7\" fill=\"%s\"><title>",
                x, Y0, x, Y1, C_REFUSAL, x, y, C_REFUSAL);
        html_escape(f, r->text);
        fprintf(f, "</title></circle>\n");
    }
    fprintf(f, "</svg>\n<table>\n");
    char b1[32], b2[32];
    mib(b1, sizeof b1, s->v_max);
    fprintf(f, "<tr><td style=\"color:%s\">&#9473;&#9473;</td><td>committed (the ledger's charge), peak %s</td></tr>\n",
            C_COMMITTED, b1);
    fprintf(f, "<tr><td style=\"color:%s\">&#9473;&#9473;</td><td>touched (resident or swapped pages of those ranges, where a sample walked them)</td></tr>\n",
            C_TOUCHED);
    if (s->limit >= 0) {
        mib(b2, sizeof b2, s->limit);
        fprintf(f, "<tr><td style=\"color:%s\">&#9476;&#9476;</td><td>", C_LIMIT);
        html_escape(f, s->limit_label);
        fprintf(f, ": %s</td></tr>\n", b2);
    }
    for (size_t k = 0; k < s->nbands; k++)
        fprintf(f, "<tr><td style=\"background:%s\"></td><td>thread %d %s</td></tr>\n", band_colours[k % 8],
                s->bands[k].tid, s->bands[k].name);
    fprintf(f, "</table>\n");
    for (size_t i = 0; i < s->nrefusals; i++) {
        fprintf(f, "<pre style=\"border-left:4px solid %s\">", C_REFUSAL);
        html_escape(f, s->refusals[i].text);
        fprintf(f, "</pre>\n");
    }
    fprintf(f, "</body></html>\n");
    return ferror(f) ? -1 : 0;
}

/* Chrome Trace Event JSON: "ph":"M" names, "ph":"C" counters, "ph":"i" instants; ts in µs. */
static int write_chrome(FILE *f, const struct series *s)
{
    fprintf(f, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"producer\":\"overshim\",\"pid\":%d},\"traceEvents\":[\n",
            s->pid);
    fprintf(f, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"tid\":0,\"args\":{\"name\":", s->pid);
    jout_str(f, s->comm);
    fprintf(f, "}}");
    for (size_t i = 0; i < s->ncommitted; i++)
        fprintf(f, ",\n{\"ph\":\"C\",\"name\":\"committed\",\"pid\":%d,\"tid\":0,\"ts\":%.0f,\"args\":{\"bytes\":%.0f}}",
                s->pid, s->committed[i].t * 1000, s->committed[i].v);
    for (size_t i = 0; i < s->ntouched; i++)
        fprintf(f, ",\n{\"ph\":\"C\",\"name\":\"touched\",\"pid\":%d,\"tid\":0,\"ts\":%.0f,\"args\":{\"bytes\":%.0f}}",
                s->pid, s->touched[i].t * 1000, s->touched[i].v);
    for (size_t k = 0; k < s->nbands; k++) {
        const struct band *b = &s->bands[k];
        for (size_t i = 0; i < b->n; i++)
            fprintf(f, ",\n{\"ph\":\"C\",\"name\":\"thread_committed\",\"pid\":%d,\"tid\":%d,\"ts\":%.0f,"
                       "\"args\":{\"tid %d\":%.0f}}",
                    s->pid, b->tid, b->p[i].t * 1000, b->tid, b->p[i].v);
    }
    if (s->limit >= 0)
        fprintf(f, ",\n{\"ph\":\"C\",\"name\":\"limit\",\"pid\":%d,\"tid\":0,\"ts\":0,\"args\":{\"bytes\":%.0f}}"
                   ",\n{\"ph\":\"C\",\"name\":\"limit\",\"pid\":%d,\"tid\":0,\"ts\":%.0f,\"args\":{\"bytes\":%.0f}}",
                s->pid, s->limit, s->pid, s->t_max * 1000, s->limit);
    for (size_t i = 0; i < s->nrefusals; i++) {
        fprintf(f, ",\n{\"ph\":\"i\",\"name\":\"refusal\",\"s\":\"p\",\"pid\":%d,\"tid\":%d,\"ts\":%.0f,\"args\":{\"call\":",
                s->pid, s->refusals[i].tid, s->refusals[i].t * 1000);
        jout_str(f, s->refusals[i].call);
        fprintf(f, ",\"request_bytes\":%.0f,\"text\":", s->refusals[i].request);
        jout_str(f, s->refusals[i].text);
        fprintf(f, "}}");
    }
    for (size_t i = 0; i < s->ninstants; i++) {
        fprintf(f, ",\n{\"ph\":\"i\",\"name\":\"%s\",\"s\":\"t\",\"pid\":%d,\"tid\":%d,\"ts\":%.0f}", s->instants[i].name,
                s->pid, s->instants[i].tid, s->instants[i].t * 1000);
    }
    fprintf(f, "\n]}\n");
    return ferror(f) ? -1 : 0;
}

int cmd_plot(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *box = NULL, *format = "html";
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--format") && i + 1 < argc) format = argv[++i];
        else if (!strcmp(argv[i], "--snapshot") && i + 1 < argc) box = argv[++i];
        else if (argv[i][0] == '-' || in) {
            fprintf(stderr, "overshim: plot: unexpected argument '%s' (plot TRACE|FLIGHT -o FILE [--format html|chrome] [--snapshot BOX])\n", argv[i]);
            return 2;
        } else in = argv[i];
    }
    if (!in || !out) {
        fprintf(stderr, "overshim: plot: needs a trace or flight file and -o FILE\n");
        return 2;
    }
    if (strcmp(format, "html") && strcmp(format, "chrome")) {
        fprintf(stderr, "overshim: plot: --format '%s': html or chrome\n", format);
        return 2;
    }
    static struct series s;
    char err[700];
    if (series_load(in, box, &s, err, sizeof err) != 0) {
        fprintf(stderr, "overshim: plot: %s\n", err);
        return 1;
    }
    FILE *f = fopen(out, "w");
    if (!f) {
        fprintf(stderr, "overshim: plot: cannot write '%s': %s\n", out, strerror(errno));
        series_free(&s);
        return 1;
    }
    int r = !strcmp(format, "html") ? write_html(f, &s) : write_chrome(f, &s);
    if (fclose(f) != 0) r = -1;
    series_free(&s);
    if (r) {
        fprintf(stderr, "overshim: plot: cannot write '%s'\n", out);
        return 1;
    }
    return 0;
}
