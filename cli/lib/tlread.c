/* Reading the timeline files (tlread.h). */
#include "tlread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *slurp(const char *path, size_t *len, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 20, n = 0;
    char *b = malloc(cap);
    for (size_t r; b && (r = fread(b + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) free(b);
            b = nb;
        }
    }
    fclose(f);
    if (!b) snprintf(err, errcap, "'%s': out of memory", path);
    *len = n;
    return b;
}

int tl_kind(const char *path, char *err, size_t errcap)
{
    char m[8];
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    size_t n = fread(m, 1, 8, f);
    fclose(f);
    if (n == 8 && !memcmp(m, OVERSHIM_FLIGHT_MAGIC, 8)) return 1;
    if (n == 8 && !memcmp(m, OVERSHIM_TRACE_MAGIC, 8)) return 2;
    snprintf(err, errcap, "'%s' is neither a flight recorder (flight=) nor a trace (trace=) file", path);
    return 0;
}

/* A seqlock-protected record as the process left it: odd seq means torn. */
static int whole(uint32_t seq) { return seq && !(seq & 1); }

int flight_parse(const void *buf, size_t len, struct flight_file *f, char *err, size_t errcap)
{
    memset(f, 0, sizeof *f);
    if (len < sizeof f->h) return snprintf(err, errcap, "shorter than a flight header (%zu bytes)", len), -1;
    memcpy(&f->h, buf, sizeof f->h);
    const struct overshim_flight_header *h = &f->h;
    if (memcmp(h->magic, OVERSHIM_FLIGHT_MAGIC, 8)) return snprintf(err, errcap, "not a flight recorder file"), -1;
    if (h->version != OVERSHIM_FLIGHT_VERSION)
        return snprintf(err, errcap, "flight file version %u; this overshim reads version %u", h->version,
                        OVERSHIM_FLIGHT_VERSION),
               -1;
    if (h->slot_size != sizeof(struct overshim_flight_slot) || h->event_size != sizeof(struct overshim_flight_event) ||
        h->sample_size != sizeof(struct overshim_flight_sample) || h->nslots > 1u << 20 || h->nevents > 1u << 20 ||
        h->nsamples > 1u << 20 || h->slots_off + (uint64_t)h->nslots * h->slot_size > len ||
        h->events_off + (uint64_t)h->nevents * h->event_size > len ||
        h->samples_off + (uint64_t)h->nsamples * h->sample_size > len)
        return snprintf(err, errcap, "flight file layout does not fit its size (%zu bytes)", len), -1;
    const char *b = buf;
    uint32_t used = h->slots_used < h->nslots ? h->slots_used : h->nslots;
    f->slots = calloc(used + 1, sizeof *f->slots);
    for (uint32_t i = 0; i < used; i++) {
        struct overshim_flight_slot s;
        memcpy(&s, b + h->slots_off + (uint64_t)i * h->slot_size, sizeof s);
        if (!whole(s.seq)) f->torn++; /* kept: its numbers are from before or after one store */
        f->slots[f->nslots++] = s;
    }
    uint64_t ne = h->event_count < h->nevents ? h->event_count : h->nevents;
    f->events = calloc(ne + 1, sizeof *f->events);
    for (uint64_t k = h->event_count - ne; k < h->event_count; k++) {
        struct overshim_flight_event e;
        memcpy(&e, b + h->events_off + (k % h->nevents) * h->event_size, sizeof e);
        if (e.seq != (uint32_t)(2 * k + 2)) {
            f->torn++;
            continue;
        }
        f->events[f->nevents++] = e;
    }
    uint64_t ns = h->sample_count < h->nsamples ? h->sample_count : h->nsamples;
    f->samples = calloc(ns + 1, sizeof *f->samples);
    for (uint64_t k = h->sample_count - ns; k < h->sample_count; k++) {
        struct overshim_flight_sample s;
        memcpy(&s, b + h->samples_off + (k % h->nsamples) * h->sample_size, sizeof s);
        if (s.seq != (uint32_t)(2 * k + 2)) {
            f->torn++;
            continue;
        }
        f->samples[f->nsamples++] = s;
    }
    return 0;
}

int trace_parse(const void *buf, size_t len, struct trace_file *t, char *err, size_t errcap)
{
    memset(t, 0, sizeof *t);
    if (len < sizeof t->h) return snprintf(err, errcap, "shorter than a trace header (%zu bytes)", len), -1;
    memcpy(&t->h, buf, sizeof t->h);
    if (memcmp(t->h.magic, OVERSHIM_TRACE_MAGIC, 8)) return snprintf(err, errcap, "not a trace file"), -1;
    if (t->h.version != OVERSHIM_TRACE_VERSION || t->h.rec_size != sizeof(struct overshim_trace_rec))
        return snprintf(err, errcap, "trace file version %u (record %u bytes); this overshim reads version %u",
                        t->h.version, t->h.rec_size, OVERSHIM_TRACE_VERSION),
               -1;
    uint64_t fit = (len - sizeof t->h) / sizeof(struct overshim_trace_rec);
    uint64_t n = t->h.rec_count < fit ? t->h.rec_count : fit;
    t->recs = calloc(n + 1, sizeof *t->recs);
    const char *b = (const char *)buf + sizeof t->h;
    for (uint64_t i = 0; i < n; i++) {
        struct overshim_trace_rec r;
        memcpy(&r, b + i * sizeof r, sizeof r);
        if (r.type == 0 || r.type > OVERSHIM_TR_THREAD) {
            t->unfinished++;
            continue;
        }
        t->recs[t->n++] = r;
    }
    return 0;
}

int flight_load(const char *path, struct flight_file *f, char *err, size_t errcap)
{
    size_t len;
    char why[300];
    void *b = slurp(path, &len, err, errcap);
    if (!b) return -1;
    int r = flight_parse(b, len, f, why, sizeof why);
    free(b);
    if (r) snprintf(err, errcap, "'%s': %s", path, why);
    return r;
}

int trace_load(const char *path, struct trace_file *t, char *err, size_t errcap)
{
    size_t len;
    char why[300];
    void *b = slurp(path, &len, err, errcap);
    if (!b) return -1;
    int r = trace_parse(b, len, t, why, sizeof why);
    free(b);
    if (r) snprintf(err, errcap, "'%s': %s", path, why);
    return r;
}

void flight_free(struct flight_file *f)
{
    free(f->slots);
    free(f->events);
    free(f->samples);
}

void trace_free(struct trace_file *t) { free(t->recs); }
