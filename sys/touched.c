/* Touched-page counting (see touched.h). */
#include "touched.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rawsys.h"

#ifndef PAGEMAP_SCAN
/* The PAGEMAP_SCAN ioctl on /proc/PID/pagemap (Linux 6.7+), as its uapi header
 * declares it; linux/fs.h here predates it. */
struct page_region {
    __u64 start, end, categories;
};
struct pm_scan_arg {
    __u64 size, flags, start, end, walk_end, vec, vec_len, max_pages;
    __u64 category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#endif

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define CHUNK 512 /* pages per pread: 4 KiB of pagemap entries */
#define FIND_PAGES 128 /* what touched_find looks at without PAGEMAP_SCAN */

static int pm_fd = -2;
static int scan_ok = 1; /* PAGEMAP_SCAN answered, or was not tried yet */

void touched_reset(void)
{
    if (pm_fd >= 0) raw_close(pm_fd);
    pm_fd = -2;
}

static uint64_t by_mincore(uintptr_t lo, uintptr_t hi)
{
    unsigned char vec[CHUNK];
    uint64_t pages = 0;
    for (uintptr_t a = lo; a < hi;) {
        uintptr_t n = (hi - a) / 4096;
        if (n > CHUNK) n = CHUNK;
        if (raw_mincore((void *)a, n * 4096, vec) != 0) return pages * 4096;
        for (uintptr_t i = 0; i < n; i++) pages += vec[i] & 1;
        a += n * 4096;
    }
    return pages * 4096;
}

static int pagemap_fd(void)
{
    int fd = __atomic_load_n(&pm_fd, __ATOMIC_ACQUIRE);
    if (fd == -2) { /* first use, possibly in two threads at once: one fd wins */
        int mine = raw_open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
        int expect = -2;
        if (!__atomic_compare_exchange_n(&pm_fd, &expect, mine, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) && mine >= 0)
            raw_close(mine);
        fd = __atomic_load_n(&pm_fd, __ATOMIC_ACQUIRE);
    }
    return fd;
}

uint64_t touched_bytes(uintptr_t lo, uintptr_t hi)
{
    if (hi <= lo) return 0;
    int fd = pagemap_fd();
    if (fd < 0) return by_mincore(lo, hi);
    uint64_t ent[CHUNK], pages = 0;
    for (uintptr_t a = lo; a < hi;) {
        uintptr_t n = (hi - a) / 4096;
        if (n > CHUNK) n = CHUNK;
        ssize_t r = raw_pread(fd, ent, n * sizeof ent[0], (off_t)(a / 4096 * sizeof ent[0]));
        if (r <= 0) return pages * 4096 + by_mincore(a, hi);
        size_t got = (size_t)r / sizeof ent[0];
        for (size_t i = 0; i < got; i++) pages += (ent[i] & (PM_PRESENT | PM_SWAPPED)) != 0;
        a += got * 4096;
    }
    return pages * 4096;
}

/* Without PAGEMAP_SCAN: one read of FIND_PAGES pagemap entries around near (its
 * own frame, so that the ioctl's path does not carry the buffer on the caller's
 * stack). */
static __attribute__((noinline)) int find_bounded(int fd, uintptr_t lo, uintptr_t hi, uintptr_t near, uintptr_t *at)
{
    near &= ~(uintptr_t)4095;
    uintptr_t a = near > lo + FIND_PAGES / 2 * 4096 ? near - FIND_PAGES / 2 * 4096 : lo;
    if (a >= hi) return 0;
    uintptr_t b = hi - a > FIND_PAGES * 4096 ? a + FIND_PAGES * 4096 : hi;
    size_t n = (b - a) / 4096;
    uint64_t ent[FIND_PAGES];
    ssize_t r = fd >= 0 ? raw_pread(fd, ent, n * sizeof ent[0], (off_t)(a / 4096 * sizeof ent[0])) : -1;
    if (r > 0) {
        for (size_t i = 0; i < (size_t)r / sizeof ent[0]; i++)
            if (ent[i] & (PM_PRESENT | PM_SWAPPED)) return *at = a + i * 4096, 1;
        return 0;
    }
    unsigned char vec[FIND_PAGES];
    if (raw_mincore((void *)a, n * 4096, vec) != 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (vec[i] & 1) return *at = a + i * 4096, 1;
    return 0;
}

int touched_find(uintptr_t lo, uintptr_t hi, uintptr_t near, uintptr_t *at)
{
    if (hi <= lo) return 0;
    int fd = pagemap_fd();
    if (fd >= 0 && __atomic_load_n(&scan_ok, __ATOMIC_RELAXED)) {
        /* the first page that is present (but not the shared zero page, which a read
         * fault maps without an anon_vma) or swapped */
        struct page_region reg;
        struct pm_scan_arg a = {.size = sizeof a, .start = lo, .end = hi, .vec = (uintptr_t)&reg, .vec_len = 1,
                                .max_pages = 1, .category_inverted = PAGE_IS_PFNZERO,
                                .category_mask = PAGE_IS_PFNZERO,
                                .category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
                                .return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED};
        long n = syscall(SYS_ioctl, fd, PAGEMAP_SCAN, &a);
        if (n >= 0) {
            if (n > 0) *at = (uintptr_t)reg.start;
            return n > 0;
        }
        if (errno == ENOTTY || errno == EINVAL || errno == ENOSYS || errno == EPERM || errno == EACCES)
            __atomic_store_n(&scan_ok, 0, __ATOMIC_RELAXED); /* before 6.7, or filtered: not again */
    }
    return find_bounded(fd, lo, hi, near, at);
}
