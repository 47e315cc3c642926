/* smaps reconciliation (see reconcile.h). Streams /proc/self/smaps through a
 * fixed buffer: no allocation, bounded stack. */
#include "reconcile.h"

#include <fcntl.h>
#include <string.h>

#include "heap.h"
#include "ledger.h"
#include "rawsys.h"

struct vma {
    uintptr_t lo, hi;
    int file, heap, stack, vsyscall;
    int ac, wr, sh, gd; /* VmFlags */
    uint64_t rss_kb;
};

static uintptr_t hex(const char **pp)
{
    uintptr_t v = 0;
    const char *p = *pp;
    for (;; p++) {
        char c = *p;
        if (c >= '0' && c <= '9') v = v * 16 + (uintptr_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v = v * 16 + (uintptr_t)(c - 'a' + 10);
        else break;
    }
    *pp = p;
    return v;
}

/* "7f12-7f34 rw-p 00000000 08:01 1234   /path" */
static int parse_header(const char *l, struct vma *v)
{
    const char *p = l;
    v->lo = hex(&p);
    if (*p != '-') return 0;
    p++;
    v->hi = hex(&p);
    if (*p != ' ') return 0;
    /* skip perms, offset, dev, inode */
    for (int f = 0; f < 4; f++) {
        while (*p == ' ') p++;
        while (*p && *p != ' ') p++;
    }
    while (*p == ' ') p++;
    v->heap = !strncmp(p, "[heap]", 6);
    v->stack = !strncmp(p, "[stack]", 7);
    v->vsyscall = !strncmp(p, "[vsyscall]", 10);
    v->file = *p == '/';
    return 1;
}

static void finish(struct reconcile *out, const struct vma *v, int ac)
{
    if (v->vsyscall) return;
    out->map_count++;
    out->vm_size += v->hi - v->lo;
    if (!ac) return;
    uint64_t size = v->hi - v->lo, tracked = ledger_charged_in(v->lo, v->hi);
    if (tracked > size) tracked = size;
    out->kernel_accountable += size;
    out->tracked += tracked;
    uint64_t un = size - tracked;
    if (v->heap) out->untracked_heap += un;
    else if (v->stack) out->untracked_stack += un;
    else if (v->file) out->untracked_file += un;
    else out->untracked_anon += un;
}

/* glibc's per-thread arena heaps: new_heap maps 64 MiB (HEAP_MAX_SIZE) PROT_NONE|MAP_NORESERVE
 * on a 64 MiB boundary and makes its front writable with mprotect as it grows; being
 * NORESERVE they are charged only in mode 2 (mprotect_fixup skips VM_NORESERVE), so they
 * are counted here whether `ac` or not: the writable front, and what of it is resident. */
static void arena(struct reconcile *out, const struct vma *v)
{
    if (v->file || v->heap || v->stack || v->vsyscall || !v->wr || v->sh) return;
    if ((v->lo & ((64ull << 20) - 1)) || v->hi - v->lo > (64ull << 20)) return;
    if (ledger_charged_in(v->lo, v->hi)) return; /* a mapping of the program's own */
    out->arena_heaps++;
    out->arena_bytes += v->hi - v->lo;
    out->arena_rss += v->rss_kb * 1024;
}

static int has_flag(const char *l, const char *f)
{
    for (const char *p = l + 8; *p && *p != '\n'; p++)
        if (p[0] == f[0] && p[1] == f[1] && p[-1] == ' ' && (p[2] == ' ' || p[2] == '\n' || p[2] == 0)) return 1;
    return 0;
}

/* One line of smaps text: a VMA header starts the next VMA, VmFlags decodes its flags. */
static void feed_line(char *line, struct vma *cur, int *in_vma, void (*fn)(const struct vma *, void *), void *ctx)
{
    if (!strncmp(line, "Rss:", 4)) {
        const char *p = line + 4;
        while (*p == ' ') p++;
        uint64_t kb = 0;
        while (*p >= '0' && *p <= '9') kb = kb * 10 + (uint64_t)(*p++ - '0');
        cur->rss_kb = kb;
    } else if (!strncmp(line, "VmFlags:", 8)) {
        cur->ac = has_flag(line, "ac");
        cur->wr = has_flag(line, "wr");
        cur->sh = has_flag(line, "sh");
        cur->gd = has_flag(line, "gd");
    } else if (((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f')) && strchr(line, '-') &&
               strchr(line, ' ') && strchr(line, '-') < strchr(line, ' ')) {
        if (*in_vma) fn(cur, ctx);
        memset(cur, 0, sizeof *cur);
        *in_vma = parse_header(line, cur);
    }
}

/* Stream /proc/self/smaps, calling fn once per VMA with its VmFlags decoded. */
static int smaps_each(void (*fn)(const struct vma *, void *), void *ctx)
{
    size_t buf_cap;
    char *buf = raw_scratch(&buf_cap); /* callers are serialised by the report lock */
    int fd = raw_open("/proc/self/smaps", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return -1;
    size_t have = 0;
    struct vma cur = {0};
    int in_vma = 0;
    for (;;) {
        ssize_t r = raw_read(fd, buf + have, buf_cap - 1 - have);
        if (r <= 0) break;
        have += (size_t)r;
        buf[have] = 0;
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
            *nl = 0;
            feed_line(line, &cur, &in_vma, fn, ctx);
            line = nl + 1;
        }
        size_t rest = have - (size_t)(line - buf);
        memmove(buf, line, rest);
        have = rest;
        if (have >= buf_cap - 1) have = 0; /* an absurd line: drop it */
    }
    if (in_vma) fn(&cur, ctx);
    raw_close(fd);
    return 0;
}

static void reconcile_one(const struct vma *v, void *ctx)
{
    if (!v->vsyscall) ledger_settle(v->lo, v->hi, v->ac); /* guesses about 6.7+ uncharges end here */
    finish(ctx, v, v->ac);
    arena(ctx, v);
}

void reconcile_scan(struct reconcile *out)
{
    memset(out, 0, sizeof *out);
    if (smaps_each(reconcile_one, out) != 0) return;
    int64_t mine = __atomic_load_n(&os_heap_mapped, __ATOMIC_RELAXED);
    out->shim_heap = mine > 0 ? ((uint64_t)mine < out->untracked_anon ? (uint64_t)mine : out->untracked_anon) : 0;
    out->untracked_anon -= out->shim_heap;
    out->untracked = out->kernel_accountable - out->tracked - out->shim_heap;
    out->ok = 1;
}

struct facts_ctx {
    uintptr_t lo, hi;
    struct smaps_facts *f;
};

static void facts_one(const struct vma *v, void *p)
{
    struct facts_ctx *c = p;
    struct smaps_facts *f = c->f;
    if (v->vsyscall) return;
    uint64_t pages = (v->hi - v->lo) / 4096;
    f->map_count++;
    f->vm_size_pages += pages;
    if (v->ac) {
        f->ac_total_pages += pages;
        f->ac_vmas++;
        if (pages > f->ac_largest_pages) f->ac_largest_pages = pages;
    }
    uintptr_t a = v->lo > c->lo ? v->lo : c->lo, b = v->hi < c->hi ? v->hi : c->hi;
    if (a >= b) return;
    uint64_t in = (b - a) / 4096;
    f->mapped_pages += in;
    if (v->ac) f->accounted_pages += in;
    if (v->wr && !v->sh && !v->gd) f->data_pages += in;
}

void smaps_facts(uintptr_t lo, uintptr_t hi, struct smaps_facts *out)
{
    memset(out, 0, sizeof *out);
    struct facts_ctx c = {lo, hi, out};
    out->ok = smaps_each(facts_one, &c) == 0;
}

void smaps_facts_text(char *text, uintptr_t lo, uintptr_t hi, struct smaps_facts *out)
{
    memset(out, 0, sizeof *out);
    struct facts_ctx c = {lo, hi, out};
    struct vma cur = {0};
    int in_vma = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        feed_line(line, &cur, &in_vma, facts_one, &c);
        line = nl ? nl + 1 : NULL;
    }
    if (in_vma) facts_one(&cur, &c);
    out->ok = 1;
}
