/* /proc readers (see sysstate.h). */
#include "sysstate.h"

#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fmt.h"
#include "rawsys.h"

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

static int64_t parse_num(const char **pp)
{
    const char *p = *pp;
    if (*p < '0' || *p > '9') return -1;
    int64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        if (v > INT64_MAX / 10 - 10) return -1;
        v = v * 10 + (*p++ - '0');
    }
    *pp = p;
    return v;
}

int64_t meminfo_get(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        if (!strncmp(line, key, klen) && line[klen] == ':') {
            const char *p = skip_ws(line + klen + 1);
            return parse_num(&p);
        }
        line = strchr(line, '\n');
        if (line) line++;
    }
    return -1;
}

int64_t sys_read_long(const char *path)
{
    char buf[64];
    if (raw_read_file(path, buf, sizeof buf) <= 0) return -1;
    const char *p = skip_ws(buf);
    return parse_num(&p);
}

int64_t status_get_kb(const char *key)
{
    static char buf[8192];
    if (raw_read_file("/proc/self/status", buf, sizeof buf) <= 0) return -1;
    return meminfo_get(buf, key);
}

/* zoneinfo: "Node 0, zone   Normal" blocks with "high", "boost", "managed" and
 * "protection: (a, b, c, d, e)". */
int64_t zoneinfo_totalreserve(const char *text)
{
    int64_t total = 0;
    int zones = 0, last_node = -1, node_idx = 0;
    const char *p = text;
    while ((p = strstr(p, "Node ")) != NULL) {
        const char *zone = strstr(p, ", zone");
        if (!zone) break;
        const char *next = strstr(zone, "\nNode ");
        const char *end = next ? next : zone + strlen(zone);
        int64_t high = -1, boost = 0, managed = -1, prot[8], maxprot = 0;
        int nprot = 0, idx = -1;
        /* zone index inside the node = number of earlier zones of the same node */
        for (const char *l = zone; l && l < end;) {
            const char *q = skip_ws(l);
            if (!strncmp(q, "high ", 5)) {
                q = skip_ws(q + 5);
                high = parse_num(&q);
            } else if (!strncmp(q, "boost ", 6)) {
                q = skip_ws(q + 6);
                boost = parse_num(&q);
            } else if (!strncmp(q, "managed ", 8)) {
                q = skip_ws(q + 8);
                managed = parse_num(&q);
            } else if (!strncmp(q, "protection: (", 13)) {
                q += 13;
                while (nprot < 8) {
                    q = skip_ws(q);
                    int64_t v = parse_num(&q);
                    if (v < 0) break;
                    prot[nprot++] = v;
                    q = skip_ws(q);
                    if (*q != ',') break;
                    q++;
                }
            }
            l = strchr(l, '\n');
            if (l) l++;
        }
        /* index of this zone inside its node: count preceding blocks of that node */
        const char *np = p + 5;
        int node = (int)parse_num(&np);
        if (node != last_node) {
            last_node = node;
            node_idx = 0;
        }
        idx = node_idx++;
        if (high < 0 || managed < 0 || nprot == 0) {
            p = end;
            continue;
        }
        for (int i = idx; i < nprot; i++)
            if (prot[i] > maxprot) maxprot = prot[i];
        int64_t c = maxprot + high - boost;
        if (c > managed) c = managed;
        if (c < 0) c = 0;
        total += c;
        zones++;
        p = end;
    }
    return zones ? total : -1;
}

void sys_kernel_release(char *buf, size_t cap)
{
    struct utsname u;
    if (syscall(SYS_uname, &u) == 0) os_snprintf(buf, cap, "%s", u.release);
    else os_snprintf(buf, cap, "unknown");
}

int sys_cap_sys_admin(void)
{
    static char buf[8192];
    if (raw_read_file("/proc/self/status", buf, sizeof buf) <= 0) return 0;
    const char *p = strstr(buf, "CapEff:");
    if (!p) return 0;
    p = skip_ws(p + 7);
    uint64_t v = 0;
    for (; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++)
        v = v * 16 + (uint64_t)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
    if (!(v & (1ull << 21))) return 0;
    char ns[64];
    ssize_t n = syscall(SYS_readlink, "/proc/self/ns/user", ns, sizeof ns - 1);
    if (n <= 0) return 1; /* no user namespaces: the effective set decides */
    ns[n] = 0;
    return strcmp(ns, "user:[4026531837]") == 0;
}

int64_t sys_map_count(void)
{
    char buf[16384];
    int fd = raw_open("/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return -1;
    int64_t lines = 0;
    int vsyscall = 0;
    ssize_t r;
    while ((r = raw_read(fd, buf, sizeof buf - 1)) > 0) {
        buf[r] = 0;
        for (ssize_t i = 0; i < r; i++) lines += buf[i] == '\n';
        if (strstr(buf, "[vsyscall]")) vsyscall = 1;
    }
    raw_close(fd);
    return lines - vsyscall; /* the [vsyscall] line is no VMA of the mm */
}
