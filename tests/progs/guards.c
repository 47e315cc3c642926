/* Many mprotects in one mapping, the patterns that made the ledger quadratic.
 * Usage: guards MODE COUNT [touch] [noscan]
 *   pool:      COUNT slots of 256 KiB in one private writable mapping (a fiber
 *              stack pool), then a PROT_NONE guard page at the start of each slot
 *   alternate: COUNT mprotects over the pages of one mapping, in order: page k/2
 *              to PROT_NONE when k is even, back to PROT_READ|PROT_WRITE when odd;
 *              then every fourth page to PROT_NONE again, so that what the ledger
 *              guessed of the last ones shows in the charge
 * With touch, one byte of each slot (pool, beside its guard) or of the first page
 * (alternate) is written first. With noscan, the PAGEMAP_SCAN ioctl fails with
 * ENOTTY, as before Linux 6.7 (a seccomp filter on this process only), so that the
 * shim's fallback is what looks at the pages. Prints, as JSON, the kernel's smaps `ac` sum over
 * the mapping; under the shim also, on stderr, the ledger's committed bytes before
 * anything settled them from smaps (overshim_stats). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../include/overshim.h"

static unsigned long long ac_bytes_in(uintptr_t lo, uintptr_t hi)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    unsigned long long sum = 0, a = 0, b = 0;
    int in = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long x, y;
        if (sscanf(line, "%llx-%llx ", &x, &y) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            a = x, b = y, in = a < hi && b > lo;
        } else if (!strncmp(line, "VmFlags:", 8) && in && strstr(line, " ac")) {
            unsigned long long s = a > lo ? a : lo, e = b < hi ? b : hi;
            sum += e - s;
        }
    }
    if (f) fclose(f);
    return sum;
}

#define PAGEMAP_SCAN_NR 0xc0606610u /* _IOWR('f', 16, struct pm_scan_arg): linux/fs.h of 6.7 */

static int refuse_pagemap_scan(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args) + sizeof(__u64)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PAGEMAP_SCAN_NR, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOTTY),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        return -1;
    int fd = open("/proc/self/pagemap", O_RDONLY);
    char arg[96] = {0};
    int r = fd >= 0 ? ioctl(fd, PAGEMAP_SCAN_NR, arg) : -1, e = errno;
    if (fd >= 0) close(fd);
    return r == -1 && e == ENOTTY ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: guards pool|alternate COUNT [touch]\n");
        return 2;
    }
    int pool = !strcmp(argv[1], "pool");
    long count = atol(argv[2]);
    int touch = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "touch")) touch = 1;
        if (!strcmp(argv[i], "noscan") && refuse_pagemap_scan() != 0) {
            perror("guards: seccomp");
            return 2;
        }
    }
    const size_t slot = 256 << 10, page = 4096;
    size_t len = pool ? (size_t)count * slot : (size_t)(count + 1) / 2 * page;
    /* between two PROT_NONE pages: a neighbour with an anon_vma that the kernel merged
     * the mapping into would keep every charge (as it did for one next to libc's data) */
    char *fence = mmap(NULL, len + 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    char *m = fence == MAP_FAILED ? MAP_FAILED
                                  : mmap(fence + page, len, PROT_READ | PROT_WRITE,
                                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    if (touch && pool)
        for (long i = 0; i < count; i++) m[(size_t)i * slot + 2 * page] = 1;
    if (touch && !pool) m[0] = 1;
    long failed = 0;
    for (long k = 0; k < count; k++) {
        int r = pool ? mprotect(m + (size_t)k * slot, page, PROT_NONE)
                     : mprotect(m + (size_t)(k / 2) * page, page, k % 2 ? PROT_READ | PROT_WRITE : PROT_NONE);
        failed += r != 0;
    }
    for (size_t o = 0; !pool && o < len; o += 4 * page) failed += mprotect(m + o, page, PROT_NONE) != 0;
    int (*stats)(struct overshim_stats *) = (int (*)(struct overshim_stats *))dlsym(RTLD_DEFAULT, "overshim_stats");
    struct overshim_stats st;
    if (stats && stats(&st) == 0)
        fprintf(stderr, "ledger committed_bytes %lld ranges %llu\n", (long long)st.committed_bytes,
                (unsigned long long)st.ranges);
    printf("{\"mode\":\"%s\",\"count\":%ld,\"touched\":%d,\"failed\":%ld,\"mapped_bytes\":%zu,\"ac_bytes\":%llu}\n",
           argv[1], count, touch, failed, len, ac_bytes_in((uintptr_t)m, (uintptr_t)m + len));
    return failed ? 1 : 0;
}
