/* Facts of the running system that the shim reads on first use instead of at start
 * (lazyfacts.c): a process that never makes a call the ledger sees pays for none. */
#ifndef OVERSHIM_LAZYFACTS_H
#define OVERSHIM_LAZYFACTS_H

/* The overcommit mode the ledger charges by: the simulated box's, else this one's
 * vm.overcommit_memory (0 when unreadable). */
int facts_ledger_mode(void);
/* 1 when the modelled kernel (the simulated box's, else this one's, by its release;
 * 1 when unknown) gives an unfaulted anonymous mapping's charge back when mprotect
 * drops write (6.7+). */
int facts_mprotect_uncharges(void);

#endif
