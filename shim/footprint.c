/* The shim's own share (see footprint.h). */
#include "footprint.h"

#include <fcntl.h>
#include <string.h>

#include "heap.h"
#include "rawsys.h"
#include "region_rec.h"
#include "state.h"
#include "unwind.h"

#define MAX_EXTENTS 48

struct extent {
    uintptr_t lo, hi;
    int noreserve; /* mapped MAP_NORESERVE: charged in mode 2 only */
};

struct extents {
    struct extent e[MAX_EXTENTS];
    int n;
};

static void add(struct extents *x, uintptr_t lo, uintptr_t hi, int noreserve)
{
    if (hi > lo && x->n < MAX_EXTENTS) x->e[x->n++] = (struct extent){lo, hi, noreserve};
}

static uint64_t hex(const char **s)
{
    uint64_t v = 0;
    for (;; (*s)++) {
        char c = **s;
        if (c >= '0' && c <= '9') v = v * 16 + (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v = v * 16 + (uint64_t)(c - 'a' + 10);
        else return v;
    }
}

static void count_line(const char *l, const struct extents *x, struct footprint *f, int mode)
{
    uintptr_t lo = (uintptr_t)hex(&l);
    if (*l++ != '-') return;
    uintptr_t hi = (uintptr_t)hex(&l);
    if (*l++ != ' ') return;
    /* the overlap counts: the kernel may merge a neighbour into the shim's bss */
    uint64_t bytes = 0, charged = 0;
    int writable = l[0] == 'r' && l[1] == 'w' && l[3] == 'p';
    for (int i = 0; i < x->n; i++) {
        uintptr_t a = lo > x->e[i].lo ? lo : x->e[i].lo, b = hi < x->e[i].hi ? hi : x->e[i].hi;
        if (b <= a) continue;
        bytes += b - a;
        if (writable && (!x->e[i].noreserve || mode == 2)) charged += b - a;
    }
    if (!bytes) return;
    f->vm_bytes += bytes;
    f->mappings++;
    f->committed_bytes += charged;
}

int footprint_read(struct footprint *f, int mode)
{
    memset(f, 0, sizeof *f);
    struct extents x = {.n = 0};
    uintptr_t lo, hi;
    unwind_self_range(&lo, &hi);
    add(&x, lo & ~(uintptr_t)4095, (hi + 4095) & ~(uintptr_t)4095, 0);
    if (region_table_range(&lo, &hi) == 0) add(&x, lo, hi, 0);
    if (osh_st.fork_wiped) add(&x, (uintptr_t)osh_fs, (uintptr_t)osh_fs + 4096, 0);
    struct { uintptr_t lo, hi; } he[MAX_EXTENTS];
    int nh = heap_extents((uintptr_t *)he, MAX_EXTENTS - x.n);
    for (int i = 0; i < nh; i++) add(&x, he[i].lo, he[i].hi, 0);
    int fd = raw_open("/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return -1;
    char buf[8192];
    size_t have = 0;
    for (;;) {
        ssize_t r = raw_read(fd, buf + have, sizeof buf - 1 - have);
        if (r <= 0) break;
        have += (size_t)r;
        buf[have] = 0;
        char *line = buf, *nl;
        while ((nl = memchr(line, '\n', (size_t)(buf + have - line))) != NULL) {
            *nl = 0;
            count_line(line, &x, f, mode);
            line = nl + 1;
        }
        have = (size_t)(buf + have - line);
        memmove(buf, line, have);
        if (have == sizeof buf - 1) have = 0; /* a line longer than the buffer: dropped */
    }
    raw_close(fd);
    return 0;
}
