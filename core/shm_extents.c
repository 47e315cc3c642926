/* Allocated extents of a shmem file (shm_extents.h). */
#include "shm_extents.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>

uint64_t shm_extents_missing(const struct shm_extents *x, uint64_t off, uint64_t len)
{
    uint64_t end = off + len, have = 0;
    for (int i = 0; i < x->n; i++) {
        uint64_t a = x->lo[i] > off ? x->lo[i] : off, b = x->hi[i] < end ? x->hi[i] : end;
        if (b > a) have += b - a;
    }
    return len - have;
}

static void del(struct shm_extents *x, int i)
{
    memmove(&x->lo[i], &x->lo[i + 1], sizeof x->lo[0] * (size_t)(x->n - i - 1));
    memmove(&x->hi[i], &x->hi[i + 1], sizeof x->hi[0] * (size_t)(x->n - i - 1));
    x->n--;
}

uint64_t shm_extents_covered(const struct shm_extents *x)
{
    uint64_t t = 0;
    for (int i = 0; i < x->n; i++) t += x->hi[i] - x->lo[i];
    return t;
}

uint64_t shm_extents_add(struct shm_extents *x, uint64_t off, uint64_t len)
{
    if (!len) return 0;
    uint64_t before = shm_extents_covered(x), lo = off, hi = off + len;
    /* absorb every extent that touches [lo, hi) */
    for (int i = 0; i < x->n;) {
        if (x->hi[i] >= lo && x->lo[i] <= hi) {
            if (x->lo[i] < lo) lo = x->lo[i];
            if (x->hi[i] > hi) hi = x->hi[i];
            del(x, i);
        } else {
            i++;
        }
    }
    if (x->n == SHMEM_EXTENTS) { /* full: merge the two closest neighbours */
        int best = 0;
        for (int i = 1; i + 1 < x->n; i++)
            if (x->lo[i + 1] - x->hi[i] < x->lo[best + 1] - x->hi[best]) best = i;
        x->hi[best] = x->hi[best + 1];
        del(x, best + 1);
    }
    int at = 0;
    while (at < x->n && x->lo[at] < lo) at++;
    memmove(&x->lo[at + 1], &x->lo[at], sizeof x->lo[0] * (size_t)(x->n - at));
    memmove(&x->hi[at + 1], &x->hi[at], sizeof x->hi[0] * (size_t)(x->n - at));
    x->lo[at] = lo;
    x->hi[at] = hi;
    x->n++;
    return shm_extents_covered(x) - before;
}

uint64_t shm_extents_remove(struct shm_extents *x, uint64_t off, uint64_t len)
{
    uint64_t before = shm_extents_covered(x), end = off + len;
    for (int i = 0; i < x->n;) {
        uint64_t a = x->lo[i], b = x->hi[i];
        if (b <= off || a >= end) {
            i++;
        } else if (a >= off && b <= end) {
            del(x, i);
        } else if (a < off && b > end) { /* a hole in the middle: split */
            if (x->n == SHMEM_EXTENTS) { /* no room: keep the whole (errs high) */
                i++;
                continue;
            }
            memmove(&x->lo[i + 1], &x->lo[i], sizeof x->lo[0] * (size_t)(x->n - i));
            memmove(&x->hi[i + 1], &x->hi[i], sizeof x->hi[0] * (size_t)(x->n - i));
            x->n++;
            x->hi[i] = off;
            x->lo[i + 1] = end;
            i += 2;
        } else if (a < off) {
            x->hi[i++] = off;
        } else {
            x->lo[i++] = end;
        }
    }
    return before - shm_extents_covered(x);
}

