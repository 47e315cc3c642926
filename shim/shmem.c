/* Per-page charged shared memory (see shmem.h). */
#include "shmem.h"

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

static uint64_t covered(const struct shm_extents *x)
{
    uint64_t t = 0;
    for (int i = 0; i < x->n; i++) t += x->hi[i] - x->lo[i];
    return t;
}

uint64_t shm_extents_add(struct shm_extents *x, uint64_t off, uint64_t len)
{
    if (!len) return 0;
    uint64_t before = covered(x), lo = off, hi = off + len;
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
    return covered(x) - before;
}

uint64_t shm_extents_remove(struct shm_extents *x, uint64_t off, uint64_t len)
{
    uint64_t before = covered(x), end = off + len;
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
    return before - covered(x);
}

/* --- the runtime table: a few files per process (ZGC has one) --------------------- */

#define SHMEM_FILES 16
static struct file {
    int fd, kind;
    struct shm_extents x;
} files[SHMEM_FILES];
static int nfiles;
static int64_t charged;
static int spin;

static int lock(void)
{
    for (int i = 0; i < 1000000; i++)
        if (!__atomic_exchange_n(&spin, 1, __ATOMIC_ACQUIRE)) return 0;
    return -1;
}
static void unlock(void) { __atomic_store_n(&spin, 0, __ATOMIC_RELEASE); }

static struct file *find(int fd)
{
    for (int i = 0; i < nfiles; i++)
        if (files[i].fd == fd) return &files[i];
    return NULL;
}

void shmem_track(int fd, int kind)
{
    if (fd < 0 || lock()) return;
    struct file *f = find(fd); /* the descriptor was closed and given again: a new file */
    if (f) charged -= (int64_t)covered(&f->x);
    else if (nfiles < SHMEM_FILES) f = &files[nfiles++];
    if (f) {
        memset(f, 0, sizeof *f);
        f->fd = fd;
        f->kind = kind;
    }
    unlock();
}

int shmem_tracked(int fd)
{
    if (!__atomic_load_n(&nfiles, __ATOMIC_RELAXED) || lock()) return 0;
    int t = find(fd) != NULL;
    unlock();
    return t;
}

uint64_t shmem_charge_of(int fd, int mode, uint64_t off, uint64_t len)
{
    if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_ZERO_RANGE)) return 0;
    if (!__atomic_load_n(&nfiles, __ATOMIC_RELAXED) || lock()) return 0;
    struct file *f = find(fd);
    uint64_t c = f ? shm_extents_missing(&f->x, off & ~4095ull, ((off + len + 4095) & ~4095ull) - (off & ~4095ull)) : 0;
    unlock();
    return c;
}

void shmem_fallocated(int fd, int mode, uint64_t off, uint64_t len)
{
    if (!__atomic_load_n(&nfiles, __ATOMIC_RELAXED) || lock()) return;
    struct file *f = find(fd);
    if (f) {
        uint64_t lo = off & ~4095ull, hi = (off + len + 4095) & ~4095ull;
        if (mode & FALLOC_FL_PUNCH_HOLE) /* whole pages inside the hole are freed */
            charged -= (int64_t)shm_extents_remove(&f->x, (off + 4095) & ~4095ull,
                                                   ((off + len) & ~4095ull) > ((off + 4095) & ~4095ull)
                                                       ? ((off + len) & ~4095ull) - ((off + 4095) & ~4095ull)
                                                       : 0);
        else if (!(mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_ZERO_RANGE)))
            charged += (int64_t)shm_extents_add(&f->x, lo, hi - lo);
    }
    unlock();
}

void shmem_truncated(int fd, uint64_t size)
{
    if (!__atomic_load_n(&nfiles, __ATOMIC_RELAXED) || lock()) return;
    struct file *f = find(fd);
    if (f) charged -= (int64_t)shm_extents_remove(&f->x, (size + 4095) & ~4095ull, UINT64_MAX / 2);
    unlock();
}

int64_t shmem_charged_bytes(void) { return __atomic_load_n(&charged, __ATOMIC_RELAXED); }
int shmem_files(void) { return __atomic_load_n(&nfiles, __ATOMIC_RELAXED); }
