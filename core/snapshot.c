/* Snapshot parsing (see snapshot.h). */
#include "snapshot.h"

#include <string.h>

#include "fmt.h"
#include "procparse.h"

enum section { SEC_TOP, SEC_SYSCTL, SEC_MEMINFO, SEC_ZONEINFO };

static const char *skip(const char *p)
{
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

/* A whole non-negative number up to end (spaces allowed around it). */
static int number(const char *p, const char *end, int64_t *out)
{
    p = skip(p);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) end--;
    if (p == end) return -1;
    int64_t v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9' || v > INT64_MAX / 10 - 10) return -1;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return 0;
}

static int fail(char *err, size_t cap, int line, const char *l, const char *end, const char *why)
{
    int n = (int)(end - l);
    if (n > 80) n = 80;
    osh_snprintf(err, cap, "line %d: %s: '%.*s'", line, why, n, l);
    return -1;
}

static int64_t *sysctl_slot(struct snapshot *s, const char *key, size_t n)
{
    static const struct {
        char k[32]; /* in the entry, not a pointer: no relocation at load */
        size_t off;
    } t[] = {
        {"vm.overcommit_memory", offsetof(struct snapshot, overcommit_memory)},
        {"vm.overcommit_ratio", offsetof(struct snapshot, overcommit_ratio)},
        {"vm.overcommit_kbytes", offsetof(struct snapshot, overcommit_kbytes)},
        {"vm.admin_reserve_kbytes", offsetof(struct snapshot, admin_reserve_kbytes)},
        {"vm.user_reserve_kbytes", offsetof(struct snapshot, user_reserve_kbytes)},
        {"vm.max_map_count", offsetof(struct snapshot, max_map_count)},
        {"vm.min_free_kbytes", offsetof(struct snapshot, min_free_kbytes)},
        {"kernel.threads-max", offsetof(struct snapshot, threads_max)},
        {"kernel.pid_max", offsetof(struct snapshot, pid_max)},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strlen(t[i].k) == n && !strncmp(t[i].k, key, n)) return (int64_t *)((char *)s + t[i].off);
    return NULL;
}

static int64_t *meminfo_slot(struct snapshot *s, const char *key, size_t n)
{
#define MI(name) {#name, offsetof(struct kmodel_meminfo, name)},
    static const struct {
        char k[24];
        size_t off;
    } t[] = {MI(MemTotal) MI(MemFree) MI(Buffers) MI(Cached) MI(SwapCached) MI(Shmem) MI(SwapTotal) MI(SwapFree)
                 MI(SReclaimable) MI(KReclaimable) MI(Hugetlb) MI(HugePages_Total) MI(Hugepagesize) MI(Committed_AS)
                     MI(CommitLimit) MI(MemAvailable)};
#undef MI
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strlen(t[i].k) == n && !strncmp(t[i].k, key, n)) return (int64_t *)((char *)&s->mi + t[i].off);
    return NULL;
}

static int parse(const char *text, struct snapshot *s, char *err, size_t errcap);

int snapshot_parse(const char *text, struct snapshot *s, char *err, size_t errcap)
{
    int r = parse(text, s, err, errcap);
    if (r != 0) osh_one_line(err);
    return r;
}

static int parse(const char *text, struct snapshot *s, char *err, size_t errcap)
{
    memset(s, 0, sizeof *s);
    int64_t *all[] = {&s->overcommit_memory, &s->overcommit_ratio, &s->overcommit_kbytes, &s->admin_reserve_kbytes,
                      &s->user_reserve_kbytes, &s->max_map_count, &s->min_free_kbytes, &s->threads_max,
                      &s->pid_max, &s->totalreserve};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) *all[i] = -1;
    int64_t *mi = (int64_t *)&s->mi;
    for (size_t i = 0; i < sizeof s->mi / sizeof(int64_t); i++) mi[i] = -1;
    s->page_size = 4096;
    s->ncpus = 1;
    if (!text || !*text) return osh_snprintf(err, errcap, "line 1: the file is empty"), -1;
    if (strncmp(text, "# overshim snapshot 1", 21) != 0) {
        const char *e = strchr(text, '\n');
        return fail(err, errcap, 1, text, e ? e : text + strlen(text),
                    "expected the header '# overshim snapshot 1'");
    }
    enum section sec = SEC_TOP;
    const char *zone_start = NULL;
    int line = 0;
    for (const char *l = text; *l;) {
        const char *end = strchr(l, '\n');
        if (!end) end = l + strlen(l);
        line++;
        const char *p = skip(l);
        const char *next = *end ? end + 1 : end;
        for (const char *c = l; c < end; c++)
            if ((unsigned char)*c < 0x20 && *c != '\t' && *c != '\r')
                return fail(err, errcap, line, l, end, "control characters");
        if (p == end || *p == '#' || *p == '\r') {
            l = next;
            continue;
        }
        if (*p == '[') {
            if (!strncmp(p, "[sysctl]", 8)) sec = SEC_SYSCTL;
            else if (!strncmp(p, "[meminfo]", 9)) sec = SEC_MEMINFO;
            else if (!strncmp(p, "[zoneinfo]", 10)) {
                sec = SEC_ZONEINFO;
                zone_start = next;
            } else return fail(err, errcap, line, l, end, "unknown section");
            l = next;
            continue;
        }
        if (sec == SEC_ZONEINFO) { /* verbatim; parsed as a whole below */
            l = next;
            continue;
        }
        const char *sep = memchr(p, sec == SEC_MEMINFO ? ':' : '=', (size_t)(end - p));
        if (!sep) return fail(err, errcap, line, l, end, sec == SEC_MEMINFO ? "expected 'Key: value'" : "expected 'key = value'");
        const char *kend = sep;
        while (kend > p && (kend[-1] == ' ' || kend[-1] == '\t')) kend--;
        size_t klen = (size_t)(kend - p);
        const char *v = skip(sep + 1);
        if (sec == SEC_TOP) {
            if (klen == 6 && !strncmp(p, "kernel", 6)) {
                size_t n = (size_t)(end - v);
                while (n && (v[n - 1] == ' ' || v[n - 1] == '\r')) n--;
                if (n == 0 || n >= sizeof s->release) return fail(err, errcap, line, l, end, "bad kernel release");
                memcpy(s->release, v, n);
                s->release[n] = 0;
                if (kmodel_parse_release(s->release, &s->k) != 0)
                    return fail(err, errcap, line, l, end, "not a kernel release (like 3.10.0-957.el7.x86_64)");
            } else {
                int64_t x;
                if (number(v, end, &x) != 0) return fail(err, errcap, line, l, end, "not a number");
                if (klen == 9 && !strncmp(p, "page_size", 9)) {
                    if (x < 4096 || (x & (x - 1))) return fail(err, errcap, line, l, end, "page_size must be a power of 2, at least 4096");
                    s->page_size = x;
                } else if (klen == 13 && !strncmp(p, "cap_sys_admin", 13)) {
                    if (x > 1) return fail(err, errcap, line, l, end, "cap_sys_admin is 0 or 1");
                    s->cap_sys_admin = (int)x;
                } else if (klen == 5 && !strncmp(p, "ncpus", 5)) {
                    if (x < 1 || x > 65536) return fail(err, errcap, line, l, end, "ncpus must be 1..65536");
                    s->ncpus = (int)x;
                } else {
                    return fail(err, errcap, line, l, end, "unknown key (kernel, page_size, cap_sys_admin, ncpus)");
                }
            }
        } else if (sec == SEC_SYSCTL) {
            int64_t *slot = sysctl_slot(s, p, klen);
            if (slot) { /* other keys of `sysctl -a` are allowed and ignored */
                if (number(v, end, slot) != 0) return fail(err, errcap, line, l, end, "not a number");
            } else if (klen == 0) {
                return fail(err, errcap, line, l, end, "no key");
            }
        } else { /* meminfo */
            int64_t *slot = meminfo_slot(s, p, klen);
            const char *vend = end;
            while (vend > v && (vend[-1] == ' ' || vend[-1] == '\r')) vend--;
            if (vend - v >= 2 && !strncmp(vend - 2, "kB", 2)) vend -= 2;
            int64_t x;
            if (number(v, vend, &x) != 0) return fail(err, errcap, line, l, end, "not a number of kB");
            if (slot) *slot = x;
        }
        l = next;
    }
    if (!s->release[0]) return osh_snprintf(err, errcap, "line %d: no 'kernel = ...' line (uname -r)", line), -1;
    if (s->mi.MemTotal <= 0) return osh_snprintf(err, errcap, "line %d: the [meminfo] section has no MemTotal", line), -1;
    if (s->mi.MemFree < 0) return osh_snprintf(err, errcap, "line %d: the [meminfo] section has no MemFree", line), -1;
    if (s->overcommit_memory > 2) return osh_snprintf(err, errcap, "vm.overcommit_memory must be 0, 1 or 2"), -1;
    if (s->overcommit_ratio > 100000) return osh_snprintf(err, errcap, "vm.overcommit_ratio is out of range"), -1;
    if (zone_start) {
        s->totalreserve = zoneinfo_totalreserve(zone_start);
        if (s->totalreserve < 0)
            return osh_snprintf(err, errcap, "the [zoneinfo] section has no zone with high, managed and protection"), -1;
        s->has_zoneinfo = 1;
    }
    return 0;
}

void snapshot_input(const struct snapshot *s, struct kmodel_input *in)
{
    memset(in, 0, sizeof *in);
    in->page_kb = s->page_size / 1024;
    kmodel_input_from_meminfo(in, &s->mi);
    /* defaults at boot (docs/kernel.md §1.g): reserves are min(free/32, 8 MiB / 128 MiB) */
    int64_t free32 = s->mi.MemFree / 32;
    in->overcommit_memory = s->overcommit_memory >= 0 ? (int)s->overcommit_memory : 0;
    in->overcommit_ratio = s->overcommit_ratio >= 0 ? s->overcommit_ratio : 50;
    in->overcommit_kbytes = s->overcommit_kbytes >= 0 ? s->overcommit_kbytes : 0;
    in->admin_reserve_kbytes = s->admin_reserve_kbytes >= 0 ? s->admin_reserve_kbytes : (free32 < 8192 ? free32 : 8192);
    in->user_reserve_kbytes = s->user_reserve_kbytes >= 0 ? s->user_reserve_kbytes : (free32 < 131072 ? free32 : 131072);
    in->cap_sys_admin = s->cap_sys_admin;
    in->ncpus = s->ncpus;
    in->totalreserve = s->totalreserve >= 0 ? s->totalreserve : 0;
    in->totalreserve_known = s->totalreserve >= 0;
}
