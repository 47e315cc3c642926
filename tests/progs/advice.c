/* Refusals for overshim's advice tests (tests/integ/test_advice.c), safe on a shared
 * machine. Usage:
 *   advice forksize MIB   make the process's accountable memory (smaps `ac`) MIB MiB, then fork
 *   advice fork-nproc     RLIMIT_NPROC 1 as uid 65534, then fork
 *   advice crossfree      a thread mallocs, main frees, then a refused mmap (a report to read)
 *   advice hugetlb        4 MiB of MAP_HUGETLB (refused when the pool has no free huge pages)
 * Prints what happened; exits 0 when the fork passed, 1 when it was refused, 2 on a setup error.
 * No stdio and no malloc before the fork: the sizes must be the program's own mappings. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static char smaps[1 << 20];

static void say(const char *a, const char *b)
{
    if (write(1, a, strlen(a)) < 0 || (b && write(1, b, strlen(b)) < 0) || write(1, "\n", 1) < 0) _exit(2);
}

/* Σ Size of the VMAs whose VmFlags have `ac`, in KiB: what fork charges the child. */
static long accountable_kib(void)
{
    int fd = open("/proc/self/smaps", O_RDONLY);
    if (fd < 0) return -1;
    size_t n = 0;
    ssize_t r;
    while (n < sizeof smaps - 1 && (r = read(fd, smaps + n, sizeof smaps - 1 - n)) > 0) n += (size_t)r;
    close(fd);
    smaps[n] = 0;
    long total = 0, size = 0;
    for (char *l = smaps; l && *l;) {
        char *nl = strchr(l, '\n');
        if (!strncmp(l, "Size:", 5)) size = atol(l + 5);
        else if (!strncmp(l, "VmFlags:", 8)) {
            for (char *p = l + 8; p < (nl ? nl : l + strlen(l)) - 1; p++)
                if (p[0] == 'a' && p[1] == 'c' && p[-1] == ' ') total += size;
        }
        l = nl ? nl + 1 : NULL;
    }
    return total;
}

static int do_fork(void)
{
    pid_t pid = fork();
    if (pid < 0) {
        say("fork: ", strerror(errno));
        return 1;
    }
    if (pid == 0) _exit(0);
    waitpid(pid, NULL, 0);
    say("fork: ok", NULL);
    return 0;
}

enum { BLOCKS = 64 };
static void *volatile blocks[BLOCKS];

static void *allocate(void *arg)
{
    for (int i = 0; i < BLOCKS; i++) blocks[i] = malloc(4096);
    return arg;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "forksize") && argc > 2) {
        long want = atol(argv[2]) * 1024, have = accountable_kib();
        if (have < 0 || want <= have) return 2;
        if (mmap(NULL, (size_t)(want - have) * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
            MAP_FAILED)
            return 2;
        return do_fork();
    }
    if (!strcmp(mode, "fork-nproc")) {
        struct rlimit r = {1, 1};
        if (setrlimit(RLIMIT_NPROC, &r) != 0 || (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))) return 2;
        return do_fork();
    }
    if (!strcmp(mode, "crossfree")) {
        pthread_t t;
        if (pthread_create(&t, NULL, allocate, NULL) != 0 || pthread_join(t, NULL) != 0) return 2;
        for (int i = 0; i < BLOCKS; i++) free(blocks[i]);
        void *p = mmap(NULL, 1ull << 46, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        say(p == MAP_FAILED ? "mmap: refused" : "mmap: ok", NULL);
        return p == MAP_FAILED ? 1 : 0;
    }
    if (!strcmp(mode, "hugetlb")) {
        void *p = mmap(NULL, 4u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
        say(p == MAP_FAILED ? "hugetlb: refused" : "hugetlb: ok", NULL);
        return p == MAP_FAILED ? 1 : 0;
    }
    say("usage: advice forksize MIB | fork-nproc | crossfree | hugetlb", NULL);
    return 2;
}
