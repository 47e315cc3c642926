/* Reading the flight recorder and trace files (include/overshim_flight.h) in the command:
 * the whole file into memory, its layout checked, torn records left out. */
#ifndef OVERSHIM_TLREAD_H
#define OVERSHIM_TLREAD_H

#include <stddef.h>
#include <stdint.h>

#include "overshim_flight.h"

struct flight_file {
    struct overshim_flight_header h;
    struct overshim_flight_slot *slots; /* nslots consistent slots (used ones) */
    size_t nslots;
    struct overshim_flight_event *events; /* oldest first, consistent ones */
    size_t nevents;
    struct overshim_flight_sample *samples; /* oldest first */
    size_t nsamples;
    size_t torn;                  /* records skipped: being written when the process stopped */
};

struct trace_file {
    struct overshim_trace_header h;
    struct overshim_trace_rec *recs;    /* finished records, in claim order */
    size_t n;
    size_t unfinished;
};

/* 1 flight, 2 trace, 0 neither (err says why), -1 unreadable. */
int tl_kind(const char *path, char *err, size_t errcap);
/* 0, or -1 with one line in err naming the file. Pure on the buffer variants. */
int flight_parse(const void *buf, size_t len, struct flight_file *f, char *err, size_t errcap);
int trace_parse(const void *buf, size_t len, struct trace_file *t, char *err, size_t errcap);
int flight_load(const char *path, struct flight_file *f, char *err, size_t errcap);
int trace_load(const char *path, struct trace_file *t, char *err, size_t errcap);
void flight_free(struct flight_file *f);
void trace_free(struct trace_file *t);

#endif
