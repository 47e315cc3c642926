/* Live system and process state for diagnose (see livestate.h). */
#include "livestate.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fmt.h"
#include "rawsys.h"
#include "sysstate.h"


static int64_t lim(int res, int64_t *max)
{
    struct rlimit r;
    if (syscall(SYS_prlimit64, 0, res, NULL, &r) != 0) return LS_UNLIMITED;
    if (max) *max = r.rlim_max == RLIM_INFINITY ? LS_UNLIMITED : (int64_t)r.rlim_max;
    return r.rlim_cur == RLIM_INFINITY ? LS_UNLIMITED : (int64_t)r.rlim_cur;
}

/* Tasks (threads) of real uid `uid` and of the whole system, from /proc. */
static void count_tasks(struct live_state *s)
{
    char dbuf[8192], path[64];
    int fd = raw_open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) return;
    int64_t mine = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, dbuf, sizeof dbuf);
        if (n <= 0) break;
        for (long off = 0; off < n;) {
            struct {
                uint64_t ino;
                int64_t off;
                unsigned short reclen;
                unsigned char type;
                char name[];
            } *d = (void *)(dbuf + off);
            off += d->reclen;
            if (d->name[0] < '1' || d->name[0] > '9') continue;
            osh_snprintf(path, sizeof path, "/proc/%s/status", d->name);
            static char st[4096];
            if (raw_read_file(path, st, sizeof st) <= 0) continue;
            const char *u = strstr(st, "\nUid:");
            if (!u) continue;
            u += 5;
            while (*u == '\t' || *u == ' ') u++;
            int64_t ruid = 0;
            while (*u >= '0' && *u <= '9') ruid = ruid * 10 + (*u++ - '0');
            if (ruid == s->ruid) {
                int64_t th = meminfo_get(st, "Threads");
                mine += th > 0 ? th : 1;
            }
        }
    }
    raw_close(fd);
    s->user_tasks = mine;
}

static void pids_cgroup(struct live_state *s)
{
    char cg[512], path[700];
    s->pids_max = s->pids_current = -1;
    if (raw_read_file("/proc/self/cgroup", cg, sizeof cg) <= 0) return;
    char *p = strstr(cg, "0::"); /* cgroup v2 */
    if (!p) return;
    p += 3;
    char *nl = strchr(p, '\n');
    if (nl) *nl = 0;
    osh_snprintf(path, sizeof path, "/sys/fs/cgroup%s/pids.max", p);
    char v[32];
    if (raw_read_file(path, v, sizeof v) <= 0) return;
    s->pids_max = !strncmp(v, "max", 3) ? LS_UNLIMITED : sys_read_long(path);
    osh_snprintf(path, sizeof path, "/sys/fs/cgroup%s/pids.current", p);
    s->pids_current = sys_read_long(path);
}

/* start_data, end_data and start_brk (/proc/self/stat fields 45-47, 3.5+) and the break
 * itself (brk(0) returns it unchanged), for brk's heap-plus-data check. */
static void brk_facts(struct live_state *s)
{
    size_t text_cap;
    char *text = raw_scratch(&text_cap); /* report lock held */
    if (raw_read_file("/proc/self/stat", text, text_cap) <= 0) return;
    const char *p = strrchr(text, ')');
    if (!p) return;
    int64_t f[48] = {0};
    int field = 2;
    for (p++; *p && field < 47;) {
        while (*p == ' ') p++;
        if (!*p || *p == '\n') break;
        field++;
        int64_t v = 0;
        while (*p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
        while (*p && *p != ' ' && *p != '\n') p++;
        f[field] = v;
    }
    if (field < 47) return;
    s->start_data = f[45];
    s->end_data = f[46];
    s->start_brk = f[47];
    s->cur_brk = (int64_t)syscall(SYS_brk, 0);
}

void livestate_read(struct live_state *s, int full)
{
    size_t text_cap;
    char *text = raw_scratch(&text_cap); /* report lock held */
    memset(s, 0, sizeof *s);
    sys_kernel_release(s->release, sizeof s->release);
    kmodel_parse_release(s->release, &s->k);
    s->in.page_kb = sysconf(_SC_PAGESIZE) / 1024;
    if (raw_read_file("/proc/meminfo", text, text_cap) > 0) livestate_meminfo(s, text);
    s->in.overcommit_memory = (int)sys_read_long("/proc/sys/vm/overcommit_memory");
    s->in.overcommit_ratio = sys_read_long("/proc/sys/vm/overcommit_ratio");
    s->in.overcommit_kbytes = sys_read_long("/proc/sys/vm/overcommit_kbytes");
    if (s->in.overcommit_kbytes < 0) s->in.overcommit_kbytes = 0;
    s->in.admin_reserve_kbytes = sys_read_long("/proc/sys/vm/admin_reserve_kbytes");
    s->in.user_reserve_kbytes = sys_read_long("/proc/sys/vm/user_reserve_kbytes");
    s->max_map_count = sys_read_long("/proc/sys/vm/max_map_count");
    s->min_free_kbytes = sys_read_long("/proc/sys/vm/min_free_kbytes");
    s->threads_max = sys_read_long("/proc/sys/kernel/threads-max");
    s->pid_max = sys_read_long("/proc/sys/kernel/pid_max");
    s->in.cap_sys_admin = sys_cap_sys_admin();
    s->in.ncpus = (int)sysconf(_SC_NPROCESSORS_CONF);
    if (raw_read_file("/proc/zoneinfo", text, text_cap) > 0) {
        int64_t tr = zoneinfo_totalreserve(text);
        if (tr >= 0) {
            s->in.totalreserve = tr;
            s->in.totalreserve_known = 1;
            s->totalreserve_from_zoneinfo = 1;
        }
    }
    if (raw_read_file("/proc/self/status", text, text_cap) > 0) {
        s->vm_size_pages = meminfo_get(text, "VmSize") / (s->in.page_kb ? s->in.page_kb : 4);
        s->vm_data_pages = meminfo_get(text, "VmData") / (s->in.page_kb ? s->in.page_kb : 4);
        const char *c = strstr(text, "CapEff:");
        if (c) {
            c += 7;
            while (*c == '\t' || *c == ' ') c++;
            uint64_t v = 0;
            for (; (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'); c++)
                v = v * 16 + (uint64_t)(*c <= '9' ? *c - '0' : *c - 'a' + 10);
            s->cap_sys_resource = (v >> 24) & 1;
        }
    }
    s->map_count = sys_map_count();
    s->rlim_as = lim(RLIMIT_AS, NULL);
    s->rlim_data = lim(RLIMIT_DATA, &s->rlim_data_max);
    s->rlim_nproc = lim(RLIMIT_NPROC, NULL);
    s->rlim_stack = lim(RLIMIT_STACK, NULL);
    s->ruid = (int64_t)syscall(SYS_getuid);
    char la[128];
    s->nr_tasks = -1;
    if (raw_read_file("/proc/loadavg", la, sizeof la) > 0) {
        const char *sl = strchr(la, '/');
        if (sl) {
            s->nr_tasks = 0;
            sl++;
            while (*sl >= '0' && *sl <= '9') s->nr_tasks = s->nr_tasks * 10 + (*sl++ - '0');
        }
    }
    s->user_tasks = -1;
    s->proc_ac_pages = -1;
    brk_facts(s);
    if (full) {
        count_tasks(s);
        pids_cgroup(s);
    } else {
        s->pids_max = s->pids_current = -1;
    }
}
