/* Whether mprotect taking write away gives a range's charge back (Linux 6.7+): the
 * kernel does when the range's VMA has no anon_vma. The ledger cannot see anon_vmas;
 * this is its guess (see anonvma.c), marked uncertain until smaps settles it. */
#ifndef OVERSHIM_ANONVMA_H
#define OVERSHIM_ANONVMA_H

#include <stdint.h>

#include "rangetree.h"

/* What one look at the pages found. */
struct anonvma_look {
    int found;     /* a resident or swapped page at hit; nothing after it was looked at */
    uintptr_t hit;
};

/* A range the rule is about: charged, anonymous, mapped by the program. */
int anonvma_rule_applies(const struct range *r);
/* Before an mprotect of [lo, hi) that takes write away is applied (and the ledger
 * splits for it): at most one system call, over the ranges whose answer is still
 * open. first is rt_ending_after(t, lo). Lock held. */
void anonvma_look(struct rangetree *t, struct rt_node *first, uintptr_t lo, uintptr_t hi, struct anonvma_look *out);
/* For a piece of [lo, hi) the rule applies to: 1 when, by the guess, its charge stays. */
int anonvma_keeps_charge(const struct range *r, const struct anonvma_look *look);

#endif
