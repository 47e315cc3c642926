/* The ledger's range tree against a plain sorted array: random inserts, removals,
 * splits and in-place trims as the ledger makes them, with lookups, in-order
 * iteration and the AVL invariants checked after every step. Removed nodes are
 * freed, so under ASan a link left pointing at one is caught. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rangetree.h"

#define PAGE 4096u
#define SPACE 2048 /* pages in the address space the random ranges live in */
#define MAXR 1024

struct ref {
    uintptr_t lo, hi;
    uint32_t tag;
    struct rt_node *node;
};
static struct ref ref[MAXR];
static size_t nref;

static struct rt_node *new_node(uintptr_t lo, uintptr_t hi, uint32_t tag)
{
    struct rt_node *x = calloc(1, sizeof *x);
    cr_assert(x);
    x->r.lo = lo;
    x->r.hi = hi;
    x->r.origin = tag;
    return x;
}

/* Height of the subtree, checking order, stored heights and balance on the way. */
static int check(const struct rt_node *x, uintptr_t lo, uintptr_t hi, size_t *count)
{
    if (!x) return 0;
    cr_assert(x->r.lo >= lo && x->r.hi <= hi && x->r.lo < x->r.hi, "node [%#lx, %#lx) out of order",
              (unsigned long)x->r.lo, (unsigned long)x->r.hi);
    int a = check(x->kid[0], lo, x->r.lo, count), b = check(x->kid[1], x->r.hi, hi, count);
    cr_assert(a - b <= 1 && b - a <= 1, "unbalanced at %#lx: %d vs %d", (unsigned long)x->r.lo, a, b);
    int h = (a > b ? a : b) + 1;
    cr_assert_eq(x->height, h, "stored height %d, real %d", x->height, h);
    (*count)++;
    return h;
}

static void check_all(const struct rangetree *t)
{
    size_t count = 0;
    int h = check(t->root, 0, UINTPTR_MAX, &count);
    cr_assert_eq(count, t->n);
    cr_assert_eq(t->n, nref);
    cr_assert_leq(h, (int)(1.4405 * log2((double)t->n + 2) + 1), "height %d for %zu nodes", h, t->n);
    /* in-order iteration gives exactly the reference, node for node */
    size_t i = 0;
    for (struct rt_node *x = rt_first(t); x; x = rt_next(t, x), i++) {
        cr_assert_lt(i, nref);
        cr_assert_eq(x, ref[i].node, "position %zu", i);
        cr_assert(x->r.lo == ref[i].lo && x->r.hi == ref[i].hi && x->r.origin == ref[i].tag);
    }
    cr_assert_eq(i, nref);
}

/* The reference answer to rt_ending_after. */
static struct rt_node *ref_ending_after(uintptr_t addr)
{
    for (size_t i = 0; i < nref; i++)
        if (ref[i].hi > addr) return ref[i].node;
    return NULL;
}

static void ref_insert_at(size_t i, struct ref r)
{
    memmove(&ref[i + 1], &ref[i], (nref - i) * sizeof ref[0]);
    ref[i] = r;
    nref++;
}

static void ref_remove_at(size_t i)
{
    memmove(&ref[i], &ref[i + 1], (nref - i - 1) * sizeof ref[0]);
    nref--;
}

Test(rangetree, random_against_array)
{
    struct rangetree t = {0};
    nref = 0;
    srand(12345);
    uint32_t tag = 0;
    size_t ops[5] = {0};
    for (int step = 0; step < 40000; step++) {
        int op = rand() % 5;
        if (op == 0 || nref == 0) { /* insert a free stretch of 1-8 pages */
            uintptr_t lo = PAGE * (1 + (uintptr_t)(rand() % SPACE)), hi = lo + PAGE * (1 + (uintptr_t)(rand() % 8));
            size_t i = 0;
            while (i < nref && ref[i].hi <= lo) i++;
            if (nref == MAXR || (i < nref && ref[i].lo < hi)) continue;
            struct rt_node *x = new_node(lo, hi, ++tag);
            rt_insert(&t, x);
            ref_insert_at(i, (struct ref){lo, hi, tag, x});
        } else if (op == 1) { /* remove */
            size_t i = (size_t)rand() % nref;
            rt_remove(&t, ref[i].node);
            free(ref[i].node);
            ref_remove_at(i);
        } else if (op == 2) { /* split at an interior page */
            size_t i = (size_t)rand() % nref;
            size_t pages = (ref[i].hi - ref[i].lo) / PAGE;
            if (pages < 2 || nref == MAXR) continue;
            uintptr_t at = ref[i].lo + PAGE * (1 + (uintptr_t)rand() % (pages - 1));
            struct rt_node *fresh = new_node(0, 0, 0);
            cr_assert_eq(rt_split(&t, ref[i].node, at, fresh), fresh);
            cr_assert(fresh->r.lo == at && fresh->r.hi == ref[i].hi && fresh->r.origin == ref[i].tag,
                      "the new piece is a copy of the old range over its right part");
            struct ref right = {at, ref[i].hi, ref[i].tag, fresh};
            ref[i].hi = at;
            ref_insert_at(i + 1, right);
        } else if (op == 3) { /* trim in place, as clip does at the edges */
            size_t i = (size_t)rand() % nref;
            if (ref[i].hi - ref[i].lo < 2 * PAGE) continue;
            if (rand() & 1) ref[i].node->r.lo = ref[i].lo += PAGE;
            else ref[i].node->r.hi = ref[i].hi -= PAGE;
        } else { /* lookups, inside, between and past every range */
            for (int k = 0; k < 8; k++) {
                uintptr_t addr = (uintptr_t)(rand() % ((SPACE + 16) * (int)PAGE));
                cr_assert_eq(rt_ending_after(&t, addr), ref_ending_after(addr), "lookup %#lx", (unsigned long)addr);
            }
        }
        ops[op]++;
        check_all(&t);
    }
    for (int op = 0; op < 5; op++) cr_expect_gt(ops[op], 1000, "op %d ran %zu times", op, ops[op]);
    while (nref) {
        size_t i = (size_t)rand() % nref;
        rt_remove(&t, ref[i].node);
        free(ref[i].node);
        ref_remove_at(i);
        check_all(&t);
    }
    cr_assert_null(t.root);
}

/* Ascending inserts (every mmap above the last one) and front removals keep it
 * balanced: a tree that did not rebalance would be a list here. */
Test(rangetree, sequential_stays_balanced)
{
    enum { N = 100000 };
    struct rangetree t = {0};
    struct rt_node *nodes = calloc(N, sizeof *nodes);
    cr_assert(nodes);
    for (size_t i = 0; i < N; i++) {
        nodes[i].r.lo = PAGE * (2 * i + 1);
        nodes[i].r.hi = nodes[i].r.lo + PAGE;
        rt_insert(&t, &nodes[i]);
    }
    cr_assert_eq(t.n, N);
    cr_assert_leq(t.root->height, (int)(1.4405 * log2(N + 2.0)), "height %d", t.root->height);
    for (size_t i = 0; i < N; i += 997) {
        cr_assert_eq(rt_ending_after(&t, nodes[i].r.lo), &nodes[i]);
        cr_assert_eq(rt_ending_after(&t, nodes[i].r.hi), i + 1 < N ? &nodes[i + 1] : NULL, "a gap: the next range");
    }
    size_t seen = 0;
    for (struct rt_node *x = rt_first(&t); x; x = rt_next(&t, x)) cr_assert_eq(x, &nodes[seen++]);
    cr_assert_eq(seen, N);
    for (size_t i = 0; i < N / 2; i++) rt_remove(&t, &nodes[i]);
    cr_assert_eq(t.n, N - N / 2);
    cr_assert_eq(rt_first(&t), &nodes[N / 2]);
    cr_assert_leq(t.root->height, (int)(1.4405 * log2(N / 2 + 2.0)), "height %d", t.root->height);
    free(nodes);
}

/* Removing the root, again and again: every removal takes the two-children path
 * (the successor moves up from deep in the right subtree) while the tree is big. */
Test(rangetree, remove_inner_nodes)
{
    struct rangetree t = {0};
    nref = 0;
    srand(777);
    for (int k = 0; k < 4000 && nref < MAXR; k++) {
        uintptr_t lo = PAGE * (1 + (uintptr_t)(rand() % SPACE)), hi = lo + PAGE;
        size_t i = 0;
        while (i < nref && ref[i].hi <= lo) i++;
        if (i < nref && ref[i].lo < hi) continue;
        struct rt_node *x = new_node(lo, hi, (uint32_t)k + 1);
        rt_insert(&t, x);
        ref_insert_at(i, (struct ref){lo, hi, (uint32_t)k + 1, x});
    }
    cr_assert_gt(nref, 500);
    check_all(&t);
    while (t.root) {
        struct rt_node *x = t.root;
        size_t i = 0;
        while (ref[i].node != x) i++;
        rt_remove(&t, x);
        free(x);
        ref_remove_at(i);
        check_all(&t);
    }
    cr_assert_eq(nref, 0);
}

/* A node not in the tree is left alone by rt_remove, and an empty tree answers NULL. */
Test(rangetree, empty_and_foreign)
{
    struct rangetree t = {0};
    cr_assert_null(rt_first(&t));
    cr_assert_null(rt_ending_after(&t, 0));
    struct rt_node a = {.r = {.lo = PAGE, .hi = 2 * PAGE}}, b = {.r = {.lo = 4 * PAGE, .hi = 5 * PAGE}};
    rt_insert(&t, &a);
    rt_remove(&t, &b);
    cr_assert_eq(t.n, 1);
    cr_assert_eq(rt_first(&t), &a);
    cr_assert_null(rt_next(&t, &a));
}
