/* The timeline files as series to draw (overshim plot): the process's committed bytes over
 * time, touched bytes at each sample, each thread's committed (the trace has them over time),
 * the limit of a box, refusals with their arithmetic, and instants (threads, exit). */
#ifndef OVERSHIM_TIMESERIES_H
#define OVERSHIM_TIMESERIES_H

#include <stddef.h>

struct point {
    double t, v; /* ms since start, bytes */
};

struct band {
    int tid;
    char name[17];
    struct point *p; /* the thread's committed at each grid time */
    double *top;     /* the stack's top there (this band and those below it) */
    size_t n;
};

struct refusal {
    double t, committed, request;
    int tid;
    char call[32];
    char text[4096]; /* the call, and with a box its verdict and arithmetic */
};

struct instant {
    double t;
    int tid;
    const char *name; /* thread_start, thread_exit, exit */
};

struct series {
    int pid;
    char comm[17];
    double t_max, v_max;
    struct point *committed, *touched;
    size_t ncommitted, ntouched;
    struct band bands[8];
    size_t nbands;
    double limit;        /* bytes; -1 none */
    char limit_label[256];
    struct refusal *refusals;
    size_t nrefusals;
    struct instant *instants;
    size_t ninstants;
};

/* path: a trace or a flight file; box: a snapshot for the limit line and the replayed
 * refusal, or NULL (the limit then from the samples of the box the program ran on). */
int series_load(const char *path, const char *box, struct series *s, char *err, size_t errcap);
void series_free(struct series *s);

#endif
