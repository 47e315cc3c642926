/* The ledger's range tree (see rangetree.h). No parent pointers: a change records
 * the links it descends through and rebalances along them on the way back, which
 * keeps a node at 64 bytes. */
#include "rangetree.h"

/* An AVL tree of n nodes is at most 1.44 log2(n + 2) high: 64 covers 2^44 ranges. */
#define RT_MAXH 64

static int height(const struct rt_node *x) { return x ? x->height : 0; }

static void fix_height(struct rt_node *x)
{
    int a = height(x->kid[0]), b = height(x->kid[1]);
    x->height = (uint8_t)((a > b ? a : b) + 1);
}

/* x goes down on side d; its child on the other side takes its place (returned). */
static struct rt_node *rotate(struct rt_node *x, int d)
{
    struct rt_node *y = x->kid[!d];
    x->kid[!d] = y->kid[d];
    y->kid[d] = x;
    fix_height(x);
    fix_height(y);
    return y;
}

/* The subtree at x with its heights differing by at most one again; its new root. */
static struct rt_node *rebalance(struct rt_node *x)
{
    int diff = height(x->kid[1]) - height(x->kid[0]);
    if (diff < -1 || diff > 1) {
        int heavy = diff > 0;
        struct rt_node *c = x->kid[heavy];
        if (height(c->kid[!heavy]) > height(c->kid[heavy])) x->kid[heavy] = rotate(c, heavy);
        return rotate(x, !heavy);
    }
    fix_height(x);
    return x;
}

/* path[0..depth) are the links from the root down to the changed place; above a
 * subtree whose height did not change, nothing did. */
static void rebalance_path(struct rt_node **path[], int depth)
{
    while (depth-- > 0) {
        int was = (*path[depth])->height;
        *path[depth] = rebalance(*path[depth]);
        if ((*path[depth])->height == was) break;
    }
}

void rt_insert(struct rangetree *t, struct rt_node *x)
{
    struct rt_node **path[RT_MAXH];
    int d = 0;
    struct rt_node **link = &t->root;
    while (*link) {
        path[d++] = link;
        link = &(*link)->kid[x->r.lo > (*link)->r.lo];
    }
    x->kid[0] = x->kid[1] = NULL;
    x->height = 1;
    *link = x;
    t->n++;
    rebalance_path(path, d);
}

void rt_remove(struct rangetree *t, struct rt_node *x)
{
    struct rt_node **path[RT_MAXH];
    int d = 0;
    struct rt_node **link = &t->root;
    while (*link != x) {
        if (!*link) return; /* not in the tree */
        path[d++] = link;
        link = &(*link)->kid[x->r.lo > (*link)->r.lo];
    }
    if (x->kid[0] && x->kid[1]) {
        /* x's successor (the leftmost of its right subtree) takes its place */
        int at = d;
        path[d++] = link;
        struct rt_node **s = &x->kid[1];
        while ((*s)->kid[0]) {
            path[d++] = s;
            s = &(*s)->kid[0];
        }
        struct rt_node *succ = *s;
        *s = succ->kid[1];
        succ->kid[0] = x->kid[0];
        succ->kid[1] = x->kid[1];
        succ->height = x->height; /* what the ancestors were computed from */
        *link = succ;
        if (d > at + 1) path[at + 1] = &succ->kid[1]; /* was &x->kid[1] */
    } else {
        *link = x->kid[x->kid[0] == NULL];
    }
    t->n--;
    rebalance_path(path, d);
}

struct rt_node *rt_ending_after(const struct rangetree *t, uintptr_t addr)
{
    struct rt_node *x = t->root, *best = NULL;
    while (x) {
        if (x->r.hi > addr) {
            best = x;
            x = x->kid[0];
        } else {
            x = x->kid[1];
        }
    }
    return best;
}

struct rt_node *rt_first(const struct rangetree *t)
{
    struct rt_node *x = t->root;
    while (x && x->kid[0]) x = x->kid[0];
    return x;
}

struct rt_node *rt_next(const struct rangetree *t, const struct rt_node *x)
{
    struct rt_node *y = t->root, *best = NULL;
    while (y) {
        if (y->r.lo > x->r.lo) {
            best = y;
            y = y->kid[0];
        } else {
            y = y->kid[1];
        }
    }
    return best;
}

struct rt_node *rt_next_below(const struct rangetree *t, const struct rt_node *x, uintptr_t hi)
{
    if (x->r.hi >= hi) return NULL; /* the next one starts at or past x's end */
    struct rt_node *y = rt_next(t, x);
    return y && y->r.lo < hi ? y : NULL;
}

struct rt_node *rt_split(struct rangetree *t, struct rt_node *x, uintptr_t at, struct rt_node *fresh)
{
    fresh->r = x->r;
    fresh->r.lo = at;
    x->r.hi = at;
    rt_insert(t, fresh);
    return fresh;
}
