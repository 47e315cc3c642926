/* The commit timeline inside the process: the flight recorder (flight=PATH, flight.c) and
 * the commit trace (trace=PATH, trace.c), both files mapped MAP_SHARED and kept current with
 * plain stores, so that a SIGKILL loses nothing (include/overshim_flight.h is their layout).
 * Samples of /proc are piggy-backed on the calls the shim wraps (timeline_tick), at most one
 * a second; nothing here starts a thread, installs a handler or makes a system call per
 * update. Every entry point does nothing unless osh_timeline is set. */
#ifndef OVERSHIM_TIMELINE_H
#define OVERSHIM_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "failure.h"

struct thread_rec;

/* Non-zero when flight= or trace= is recording in this process (bit 1 flight, bit 2 trace). */
extern int osh_timeline;

/* Constructor, after the options: create and map the files. A bad path or a file that
 * cannot be made is one line on stderr and no recording; never fails the shim. */
void timeline_init(void);
/* The ledger's charge of t changed by bytes (ledger lock held); op is enum overshim_trace_op,
 * [lo, lo+len) the range it came from; proc the process's committed after. */
void timeline_charge(struct thread_rec *t, int64_t bytes, int op, uintptr_t lo, size_t len, int64_t proc,
                     int64_t peak);
/* A thread record became live, or exited (ledger lock held). */
void timeline_thread(struct thread_rec *t, int started);
/* A call that can commit, before it is made (the simulator's view of it; lock not held). */
void timeline_request(const struct failed_call *fc, int model);
/* A refusal, the kernel's or the simulator's. */
void timeline_refusal(const struct failed_call *fc);
/* The process leaves: the files say it exited, and how. */
void timeline_exit(const char *via, int status, int have_status);
/* Maybe take a sample (at most one a second); called from wrappers, lock not held. */
void timeline_tick(void);
/* A fork child: stop writing to the parent's files. */
void timeline_fork_child(void);

/* The two writers (flight.c, trace.c), for timeline.c. */
struct overshim_flight_sample;
int flight_open(const char *path, char *err, size_t errcap);
void flight_charge(struct thread_rec *t, int64_t bytes, int op, uintptr_t lo, size_t len, int64_t proc,
                   int64_t peak, uint64_t now);
void flight_thread(struct thread_rec *t, int started, uint64_t now);
void flight_event(int kind, int call, int64_t a, int64_t b, int64_t c, int64_t d, uint64_t now);
void flight_sample(const struct overshim_flight_sample *s, uint64_t now); /* under the ledger lock: slots too */
void flight_exit(const char *via, int status, uint64_t now);
void flight_sample_cost(uint64_t ns);
void flight_close(void);
int trace_open(const char *path, int64_t max_bytes, int64_t start_ac_pages, int64_t start_rss_kb, char *err,
               size_t errcap);
struct overshim_trace_rec *trace_claim(void);   /* NULL: full or off; fill, then trace_commit */
void trace_commit(struct overshim_trace_rec *r, int type);
void trace_exit(int status);
void trace_close(void);
uint64_t timeline_now(void);              /* monotonic ns since start (vDSO clock, no system call) */

#endif
