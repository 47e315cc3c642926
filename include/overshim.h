/* overshim public API, for programs that link or dlopen the shim directly.
 * With LD_PRELOAD alone none of this is needed. Every function is safe to call
 * when the shim is inactive (it then does nothing and returns 0/-1). */
#ifndef OVERSHIM_H
#define OVERSHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OVERSHIM_VERSION "0.1.0"

struct overshim_stats {
    int64_t committed_bytes;      /* accountable bytes the ledger holds (all threads) */
    int64_t peak_committed_bytes;
    int64_t malloc_bytes;         /* live malloc bytes counted by the wrappers */
    uint64_t ranges;              /* mappings in the ledger */
    uint64_t threads;             /* threads known (exited ones included) */
    uint64_t failures;            /* refusals seen so far */
};

/* 1 when the shim is loaded and active in this process. */
int overshim_active(void);
/* Fill *st; returns 0, or -1 when the shim is inactive. */
int overshim_stats(struct overshim_stats *st);
/* Write a summary (as report_at_exit does) now, to the configured destinations. */
int overshim_write_summary(void);

#ifdef __cplusplus
}
#endif
#endif
