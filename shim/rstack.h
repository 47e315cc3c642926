/* The report stack: diagnosis, unwinding and rendering need tens of KiB of stack,
 * and a refusal can come on a thread with a 16 KiB stack, on a coroutine's or after
 * deep recursion. So that work runs on a stack of the shim's own (in its bss, so it
 * is there from load, whatever memory is left), one caller at a time under the report lock; the caller's
 * stack holds only the wrapper's frame and the switch (well under 2 KiB).
 * The caller's registers are saved before the switch, and the unwinder starts
 * from them, so the stack in a report is the caller's, not the report stack's. */
#ifndef OVERSHIM_RSTACK_H
#define OVERSHIM_RSTACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Run fn(arg) on the report stack, holding the report lock, with asynchronous
 * signals blocked (a handler that longjmps out would leave the lock held), after
 * saving the caller's registers. Returns 0, or -1 when nothing ran: this task
 * already holds it (a report path that re-entered). */
int rstack_run(void (*fn)(void *), void *arg);
/* Inside fn: the registers saved by rstack_run (a libunwind context), and the
 * kernel tid of the task running fn. */
void *rstack_context(void);
pid_t rstack_tid(void);
/* What rstack_tid reads, for the exit check (no call into another page of text). */
extern pid_t osh_rstack_owner;

#endif
