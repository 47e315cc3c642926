/* The ledger's ranges in address order: an AVL tree whose nodes the caller owns
 * (no allocation here). Ranges never overlap, so ordering by start also orders by
 * end, and "the first range ending after an address" is one descent. Every
 * operation is O(log n); a node's lo or hi may be changed in place as long as the
 * ranges stay disjoint (that keeps the order). */
#ifndef OVERSHIM_RANGETREE_H
#define OVERSHIM_RANGETREE_H

#include <stddef.h>
#include <stdint.h>

#include "range.h"

struct rt_node {
    struct rt_node *kid[2]; /* left, right; kid[0] links the caller's free list */
    struct range r;
    uint8_t height;         /* of the subtree rooted here: 1 for a leaf */
};

struct rangetree {
    struct rt_node *root;
    size_t n;
};

/* x->r must not overlap a range already in the tree. */
void rt_insert(struct rangetree *t, struct rt_node *x);
void rt_remove(struct rangetree *t, struct rt_node *x);
/* The first range with hi > addr (it contains addr when its lo <= addr), or NULL. */
struct rt_node *rt_ending_after(const struct rangetree *t, uintptr_t addr);
struct rt_node *rt_first(const struct rangetree *t);
/* In-order successor of x (x in the tree), or NULL; rt_next_below: the same, but
 * NULL unless it starts below hi (for walking the ranges of [lo, hi) from
 * rt_ending_after(lo): no descent once x reaches hi). */
struct rt_node *rt_next(const struct rangetree *t, const struct rt_node *x);
struct rt_node *rt_next_below(const struct rangetree *t, const struct rt_node *x, uintptr_t hi);
/* Cut x at lo < at < hi: x keeps [lo, at), fresh becomes a copy of it over
 * [at, hi) and joins the tree. Returns fresh. */
struct rt_node *rt_split(struct rangetree *t, struct rt_node *x, uintptr_t at, struct rt_node *fresh);

#endif
