/* The program's shmem files and what fallocate allocated in them (shmem.h). */
#include "shmem.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>

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
    if (f) charged -= (int64_t)shm_extents_covered(&f->x);
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
