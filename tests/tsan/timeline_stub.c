/* The timeline hooks the ledger calls (shim/timeline.h), off: the TSan driver links the
 * ledger without the flight recorder and trace. */
#include "timeline.h"

int osh_timeline;
void timeline_charge(struct thread_rec *t, int64_t bytes, int op, uintptr_t lo, size_t len, int64_t proc, int64_t peak)
{
    (void)t, (void)bytes, (void)op, (void)lo, (void)len, (void)proc, (void)peak;
}
void timeline_thread(struct thread_rec *t, int started) { (void)t, (void)started; }
