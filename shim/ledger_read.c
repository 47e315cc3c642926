/* The ledger's read side (ledger.h): walks of its ranges, with the lock held. */
#include <stddef.h>

#include "ledger.h"
#include "rangetree.h"
#include "touched.h"

struct rangetree *ledger_tree(void); /* ledger.c */

static struct rt_node *node_of(const struct range *r)
{
    return (struct rt_node *)(void *)((char *)r - offsetof(struct rt_node, r));
}

const struct range *ledger_first(void)
{
    struct rt_node *x = rt_first(ledger_tree());
    return x ? &x->r : NULL;
}

const struct range *ledger_next(const struct range *r)
{
    struct rt_node *x = rt_next(ledger_tree(), node_of(r));
    return x ? &x->r : NULL;
}

const struct range *ledger_find(uintptr_t addr)
{
    struct rt_node *x = rt_ending_after(ledger_tree(), addr);
    return x && x->r.lo <= addr ? &x->r : NULL;
}

uint64_t ledger_charged_in(uintptr_t lo, uintptr_t hi)
{
    uint64_t sum = 0;
    for (struct rt_node *x = rt_ending_after(ledger_tree(), lo); x && x->r.lo < hi; x = rt_next_below(ledger_tree(), x, hi)) {
        if (!x->r.acct) continue;
        uintptr_t a = x->r.lo > lo ? x->r.lo : lo, b = x->r.hi < hi ? x->r.hi : hi;
        sum += b - a;
    }
    return sum;
}

uint64_t ledger_mapped_in(uintptr_t lo, uintptr_t hi)
{
    uint64_t sum = 0;
    for (struct rt_node *x = rt_ending_after(ledger_tree(), lo); x && x->r.lo < hi; x = rt_next_below(ledger_tree(), x, hi)) {
        uintptr_t a = x->r.lo > lo ? x->r.lo : lo, b = x->r.hi < hi ? x->r.hi : hi;
        sum += b - a;
    }
    return sum;
}

uint64_t ledger_compute_touched(void)
{
    for (struct thread_rec *t = ledger_threads(); t; t = t->next) t->touched = 0;
    uint64_t total = 0;
    for (struct rt_node *x = rt_first(ledger_tree()); x; x = rt_next(ledger_tree(), x)) {
        if (!x->r.acct) continue;
        uint64_t b = touched_bytes(x->r.lo, x->r.hi);
        total += b;
        if (x->r.owner) x->r.owner->touched += b;
    }
    return total;
}

