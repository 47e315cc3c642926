/* /proc readers (see sysstate.h). */
#include "sysstate.h"

#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fmt.h"
#include "rawsys.h"

int64_t sys_read_long(const char *path)
{
    char buf[64];
    if (raw_read_file(path, buf, sizeof buf) <= 0) return -1;
    const char *p = proc_skip_ws(buf);
    return proc_parse_num(&p);
}

int64_t status_get_kb(const char *key)
{
    static char buf[8192];
    if (raw_read_file("/proc/self/status", buf, sizeof buf) <= 0) return -1;
    return meminfo_get(buf, key);
}

void sys_kernel_release(char *buf, size_t cap)
{
    struct utsname u;
    if (syscall(SYS_uname, &u) == 0) osh_snprintf(buf, cap, "%s", u.release);
    else osh_snprintf(buf, cap, "unknown");
}

int sys_cap_sys_admin(void)
{
    static char buf[8192];
    if (raw_read_file("/proc/self/status", buf, sizeof buf) <= 0) return 0;
    const char *p = strstr(buf, "CapEff:");
    if (!p) return 0;
    p = proc_skip_ws(p + 7);
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
