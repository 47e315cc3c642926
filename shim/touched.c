/* Touched-page counting (see touched.h). */
#include "touched.h"

#include <fcntl.h>

#include "rawsys.h"

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define CHUNK 512 /* pages per pread: 4 KiB of pagemap entries */

static int pm_fd = -2;

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

uint64_t touched_bytes(uintptr_t lo, uintptr_t hi)
{
    if (hi <= lo) return 0;
    int fd = __atomic_load_n(&pm_fd, __ATOMIC_ACQUIRE);
    if (fd == -2) { /* first use, possibly in two threads at once: one fd wins */
        int mine = raw_open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
        int expect = -2;
        if (!__atomic_compare_exchange_n(&pm_fd, &expect, mine, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) && mine >= 0)
            raw_close(mine);
        fd = __atomic_load_n(&pm_fd, __ATOMIC_ACQUIRE);
    }
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
