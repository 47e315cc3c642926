/* The anon_vma guess (see anonvma.h). A VMA's anon_vma is set by its first fault and
 * shared by every VMA later split from it; a move keeps it; a merge carries it. So
 * the charge stays, by the guess, when a page of the range was seen resident or
 * swapped before it was split off or moved (range.faulted, which splits and moves
 * copy), or a page of any range from the same mmap was (faulted_origin: pieces the
 * ledger keeps apart may be one VMA to the kernel, which merges them back). The
 * knowledge comes from one look per mprotect at the ranges it takes write from, as
 * they were before it split them (what the kernel is about to decide on), up to
 * LOOK_REACH either side of the call. Never the whole mapping: a pool of guard
 * pages is thousands of VMAs, which one look over the mapping would walk each
 * time; and the kernel's walk of even one untouched VMA grows with its size (an
 * entry per 2 MiB where page tables exist), while a pool takes each guard from the
 * same huge remainder. Wrong, until smaps
 * settles it, for a piece split off before another piece was faulted (the kernel:
 * no anon_vma, the guess: charged), for a VMA whose only pages are further away
 * than LOOK_REACH, for pages faulted and then dropped (MADV_DONTNEED), and for a
 * mapping merged into a faulted neighbour. Reading smaps
 * here instead would cost about a millisecond per mprotect. */
#include "anonvma.h"

#include "touched.h"

/* The origins seen faulted, by origin number: a later mmap takes the slot of one
 * ORIGIN_SLOTS mmaps older only once it is seen faulted itself. */
#define ORIGIN_SLOTS 1024
static uint32_t faulted_origin[ORIGIN_SLOTS];

#define LOOK_REACH ((uintptr_t)16 << 20)

int anonvma_rule_applies(const struct range *r) { return r->acct && r->anon && r->kind == RK_MAP; }

static int seen_faulted(const struct range *r)
{
    return r->faulted || (r->origin && faulted_origin[r->origin % ORIGIN_SLOTS] == r->origin);
}

void anonvma_look(struct rangetree *t, struct rt_node *first, uintptr_t lo, uintptr_t hi, struct anonvma_look *out)
{
    out->found = 0;
    out->hit = 0;
    uintptr_t a = 0, b = 0;
    for (struct rt_node *x = first; x && x->r.lo < hi; x = rt_next_below(t, x, hi))
        if (anonvma_rule_applies(&x->r) && !seen_faulted(&x->r)) {
            if (!b) a = x->r.lo;
            b = x->r.hi;
        }
    if (!b) return;
    if (a + LOOK_REACH < lo) a = lo - LOOK_REACH;
    if (b > hi + LOOK_REACH) b = hi + LOOK_REACH;
    if (!touched_find(a, b, lo, &out->hit)) return;
    out->found = 1;
    struct rt_node *h = rt_ending_after(t, out->hit);
    if (h && h->r.lo <= out->hit && h->r.anon && h->r.kind == RK_MAP) {
        h->r.faulted = 1;
        if (h->r.origin) faulted_origin[h->r.origin % ORIGIN_SLOTS] = h->r.origin;
    }
}

int anonvma_keeps_charge(const struct range *r, const struct anonvma_look *look)
{
    /* a range starting past the page found was not looked at: the charge stays */
    return seen_faulted(r) || (look->found && r->lo > look->hit);
}
