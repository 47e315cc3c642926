/* vmprobe: the real refusals the VM suite (tests/vm/suite.sh) asks a booted kernel for.
 *
 *   vmprobe mmap PAGES            private writable anonymous mmap
 *   vmprobe fixed RES PAGES       PROT_NONE|MAP_NORESERVE reservation of RES pages, then a
 *                                 MAP_FIXED PROT_READ|PROT_WRITE commit of PAGES at its start
 *                                 (HotSpot's heap commit); says what a failure left there
 *   vmprobe mprotect PAGES        private PROT_NONE mapping made writable
 *   vmprobe mremap PAGES          1 writable page grown to PAGES (MREMAP_MAYMOVE)
 *   vmprobe brk PAGES             sbrk(PAGES pages)
 *   vmprobe fork PAGES            a parent holding PAGES private writable pages forks
 *   vmprobe thread PAGES          pthread_create with a stack of PAGES pages
 *   vmprobe maps [N]              splits one mapping N times, or until max_map_count refuses
 *   vmprobe memfd PAGES TOUCH     memfd grown by fallocate to PAGES, mapped shared, TOUCH pages written
 *   vmprobe largest KIND [RES]    binary search of the largest PAGES KIND accepts: mmap, fixed (in a
 *                                 reservation of RES pages), mprotect, mremap, brk, thread, fork (the
 *                                 parent's mapping)
 *   vmprobe memfd_grow            a memfd grown by fallocate 16 pages at a time until refused
 *   vmprobe memfd_sparse_over N   a sparse memfd of N pages mapped shared, written until SIGBUS
 *   vmprobe asuser UID CMD...     setgid/setuid(UID), then exec CMD
 *
 * Each prints one line of key=value pairs (the suite prefixes it with "OVR case=..."): rc=ok or
 * the errno's name, and cas_kb, /proc/meminfo's Committed_AS read just before the call. Exit 0
 * when the call passed, 1 when it was refused, 2 on a usage or setup error. Real calls only. */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096L

static long meminfo_kb(const char *key)
{
    char buf[8192];
    int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    size_t kl = strlen(key);
    for (char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, key, kl) && p[kl] == ':') return strtol(p + kl + 1, NULL, 10);
    return -1;
}

static const char *ename(int e)
{
    switch (e) {
    case 0: return "ok";
    case ENOMEM: return "ENOMEM";
    case EAGAIN: return "EAGAIN";
    case ENOSPC: return "ENOSPC";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case EFAULT: return "SIGBUS";
    default: return "EOTHER";
    }
}

static int done(int err, long cas)
{
    printf("rc=%s cas_kb=%ld\n", ename(err), cas);
    fflush(stdout);
    return err ? 1 : 0;
}

/* what /proc/self/maps says covers ADDR: "reservation" (---p), "hole", or "rw" */
static const char *what_is_at(uintptr_t addr)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    const char *r = "hole";
    while (f && fgets(line, sizeof line, f)) {
        unsigned long a, b;
        char perm[8];
        if (sscanf(line, "%lx-%lx %7s", &a, &b, perm) == 3 && addr >= a && addr < b) {
            r = perm[0] == '-' && perm[1] == '-' ? "reservation" : "rw";
            break;
        }
    }
    if (f) fclose(f);
    return r;
}

static int try_mmap(long pages)
{
    void *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return errno;
    munmap(p, pages * PG);
    return 0;
}

static int try_fixed(long res, long pages, int keep, const char **left)
{
    void *r = mmap(NULL, res * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED) return -errno;
    void *p = mmap(r, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    int e = p == MAP_FAILED ? errno : 0;
    if (left) *left = what_is_at((uintptr_t)r);
    if (!keep) munmap(r, res * PG); /* munmap of a hole is fine */
    return e;
}

static void *thread_fn(void *a) { return a; }

static int maps_until_refused(long want)
{
    long n = want > 0 ? 2 * want + 2 : 200000;
    char *r = mmap(NULL, n * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED) return done(errno, -1), 2;
    long ok = 0;
    for (long i = 1; i < n && (want <= 0 || ok < want); i += 2) {
        if (mprotect(r + i * PG, PG, PROT_READ)) {
            int e = errno;
            int count = 0;
            FILE *f = fopen("/proc/self/maps", "r");
            char line[512];
            while (f && fgets(line, sizeof line, f)) count++;
            if (f) fclose(f);
            printf("splits=%ld map_count=%d ", ok, count);
            return done(e, meminfo_kb("Committed_AS"));
        }
        ok++;
    }
    printf("splits=%ld ", ok);
    return done(0, meminfo_kb("Committed_AS"));
}

static int memfd(long pages, long touch)
{
    /* every figure is printed at the end: a printf before would add stdio's first malloc */
    long c0 = meminfo_kb("Committed_AS");
    int fd = (int)syscall(SYS_memfd_create, "vmprobe", 0);
    if (fd < 0) return done(errno, c0), 2;
    long c1 = meminfo_kb("Committed_AS");
    int e = fallocate(fd, 0, 0, pages * PG) ? errno : 0;
    long c2 = meminfo_kb("Committed_AS");
    long shm2 = meminfo_kb("Shmem");
    if (e) { /* how far it got */
        off_t sz = lseek(fd, 0, SEEK_END);
        printf("created_kb=%ld fallocate=%s fallocated_kb=%ld shmem_kb=%ld size_kb=%ld ", c1 - c0, ename(e), c2 - c1,
               shm2, (long)sz / 1024);
        return done(e, c0);
    }
    char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int me = p == MAP_FAILED ? errno : 0;
    long c3 = meminfo_kb("Committed_AS");
    for (long i = 0; !me && i < touch && i < pages; i++) p[i * PG] = 1;
    long c4 = meminfo_kb("Committed_AS");
    if (!me) munmap(p, pages * PG);
    long c5 = meminfo_kb("Committed_AS");
    close(fd);
    long c6 = meminfo_kb("Committed_AS");
    printf("created_kb=%ld fallocate=ok fallocated_kb=%ld shmem_kb=%ld mmap=%s mapped_kb=%ld touched_kb=%ld "
           "unmapped_kb=%ld closed_kb=%ld ", c1 - c0, c2 - c1, shm2, ename(me), c3 - c2, c4 - c3, c5 - c4, c6 - c5);
    return done(me, c0);
}

/* a file grown with ftruncate only (sparse), mapped shared and touched: the fault path's charge */
static int memfd_sparse(long pages, long touch)
{
    long c0 = meminfo_kb("Committed_AS");
    int fd = (int)syscall(SYS_memfd_create, "vmprobe", 0);
    if (fd < 0 || ftruncate(fd, pages * PG)) return done(errno, c0), 2;
    long c1 = meminfo_kb("Committed_AS");
    char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return done(errno, c0);
    long c2 = meminfo_kb("Committed_AS");
    for (long i = 0; i < touch && i < pages; i++) p[i * PG] = 1; /* SIGBUS if a page is refused */
    long c3 = meminfo_kb("Committed_AS");
    printf("truncated_kb=%ld mapped_kb=%ld touched_kb=%ld ", c1 - c0, c2 - c1, c3 - c2);
    return done(0, c0);
}

static sigjmp_buf bus_jmp;
static void on_bus(int sig) { (void)sig; siglongjmp(bus_jmp, 1); }

/* a sparse memfd of PAGES mapped shared and written page by page: where does the kernel stop? */
static int memfd_sparse_over(long pages)
{
    long c0 = meminfo_kb("Committed_AS");
    int fd = (int)syscall(SYS_memfd_create, "vmprobe", 0);
    if (fd < 0 || ftruncate(fd, pages * PG)) return done(errno, c0), 2;
    char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return done(errno, c0);
    volatile long i = 0;
    signal(SIGBUS, on_bus);
    int bus = 0;
    if (sigsetjmp(bus_jmp, 1) == 0) {
        for (i = 0; i < pages; i++) p[i * PG] = 1;
    } else {
        bus = 1;
    }
    long c1 = meminfo_kb("Committed_AS");
    printf("written_pages=%ld sigbus=%d charged_kb=%ld commitlimit_kb=%ld ", (long)i, bus, c1 - c0, meminfo_kb("CommitLimit"));
    return done(bus ? EFAULT : 0, c0);
}

/* a memfd grown 16 pages at a time by fallocate until the kernel refuses: how many pages it took */
static int memfd_grow(void)
{
    long c0 = meminfo_kb("Committed_AS");
    int fd = (int)syscall(SYS_memfd_create, "vmprobe", 0);
    if (fd < 0) return done(errno, c0), 2;
    long n = 0;
    int e = 0;
    for (;; n += 16)
        if (fallocate(fd, 0, n * PG, 16 * PG)) { e = errno; break; }
    long c1 = meminfo_kb("Committed_AS");
    printf("grown_pages=%ld error=%s charged_kb=%ld ", n, ename(e), c1 - c0);
    close(fd);
    return done(0, c0);
}

static long largest(int (*ok)(long, long), long arg, long hi)
{
    long lo = 0; /* ok(lo) holds, ok(hi) fails */
    while (ok(hi, arg)) { lo = hi; hi *= 2; if (hi > (1L << 40)) return -1; }
    while (hi - lo > 1) {
        long mid = lo + (hi - lo) / 2;
        if (ok(mid, arg)) lo = mid; else hi = mid;
    }
    return lo;
}
static int ok_mmap(long pages, long unused) { (void)unused; return try_mmap(pages) == 0; }
static int ok_mprotect(long pages, long unused)
{
    (void)unused;
    void *p = mmap(NULL, pages * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 0;
    int ok = mprotect(p, pages * PG, PROT_READ | PROT_WRITE) == 0;
    munmap(p, pages * PG);
    return ok;
}
static int ok_mremap(long pages, long unused)
{
    (void)unused;
    void *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 0;
    void *q = mremap(p, PG, pages * PG, MREMAP_MAYMOVE);
    if (q == MAP_FAILED) return munmap(p, PG), 0;
    munmap(q, pages * PG);
    return 1;
}
static int ok_brk(long pages, long unused)
{
    (void)unused;
    if (sbrk(pages * PG) == (void *)-1) return 0;
    sbrk(-pages * PG);
    return 1;
}
static int ok_thread(long pages, long unused)
{
    (void)unused;
    pthread_attr_t at;
    pthread_t t;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, (size_t)pages * PG);
    int e = pthread_create(&t, &at, thread_fn, NULL);
    if (!e) pthread_join(t, NULL);
    pthread_attr_destroy(&at);
    return e == 0;
}
static int ok_fork(long pages, long unused)
{
    (void)unused;
    void *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 0;
    pid_t c = fork();
    if (c == 0) _exit(0);
    if (c > 0) waitpid(c, NULL, 0);
    munmap(p, pages * PG);
    return c > 0;
}

static int ok_fixed(long pages, long res) { return try_fixed(res > pages ? res : pages, pages, 0, NULL) == 0; }

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) return fprintf(stderr, "usage: see tests/vm/vmprobe.c\n"), 2;
    const char *k = argv[1];
    long a = argc > 2 ? strtol(argv[2], NULL, 0) : 0;
    long b = argc > 3 ? strtol(argv[3], NULL, 0) : 0;
    if (!strcmp(k, "asuser") && argc > 3) {
        if (setgid((gid_t)a) || setuid((uid_t)a)) return perror("setuid"), 2;
        execv(argv[3], argv + 3);
        return perror(argv[3]), 2;
    }
    long cas = meminfo_kb("Committed_AS");
    if (!strcmp(k, "mmap")) return done(try_mmap(a), cas);
    if (!strcmp(k, "fixed")) {
        const char *left = "";
        int e = try_fixed(a, b, 1, &left);
        if (e < 0) return done(-e, cas), 2;
        printf("left=%s ", e ? left : "committed");
        return done(e, cas);
    }
    if (!strcmp(k, "mprotect")) {
        void *p = mmap(NULL, a * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return done(errno, cas), 2;
        cas = meminfo_kb("Committed_AS");
        return done(mprotect(p, a * PG, PROT_READ | PROT_WRITE) ? errno : 0, cas);
    }
    if (!strcmp(k, "mremap")) {
        void *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return done(errno, cas), 2;
        cas = meminfo_kb("Committed_AS");
        return done(mremap(p, PG, a * PG, MREMAP_MAYMOVE) == MAP_FAILED ? errno : 0, cas);
    }
    if (!strcmp(k, "brk")) return done(sbrk(a * PG) == (void *)-1 ? errno : 0, cas);
    if (!strcmp(k, "fork")) {
        void *p = mmap(NULL, a * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return printf("parent=%s ", ename(errno)), done(errno, cas), 2;
        cas = meminfo_kb("Committed_AS");
        pid_t c = fork();
        if (c == 0) _exit(0);
        if (c < 0) return done(errno, cas);
        waitpid(c, NULL, 0);
        return done(0, cas);
    }
    if (!strcmp(k, "thread")) {
        pthread_attr_t at;
        pthread_t t;
        pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, (size_t)a * PG);
        int e = pthread_create(&t, &at, thread_fn, NULL);
        if (!e) pthread_join(t, NULL);
        return done(e, cas);
    }
    if (!strcmp(k, "maps")) return maps_until_refused(a);
    if (!strcmp(k, "memfd")) return memfd(a, b);
    if (!strcmp(k, "memfd_sparse")) return memfd_sparse(a, b);
    if (!strcmp(k, "memfd_sparse_over")) return getenv("OVS_IN_VM") ? memfd_sparse_over(a) : 2;
    if (!strcmp(k, "memfd_grow")) return getenv("OVS_IN_VM") ? memfd_grow() : 2;
    if (!strcmp(k, "largest")) {
        /* the searches allocate real memory (memfd) or huge stacks: only inside the VM's /init */
        if (!getenv("OVS_IN_VM")) return fprintf(stderr, "vmprobe: largest runs only inside the VM (OVS_IN_VM)\n"), 2;
        const char *kind = argc > 2 ? argv[2] : "";
        long res = b, n;
        if (!strcmp(kind, "mmap")) n = largest(ok_mmap, 0, 1024);
        else if (!strcmp(kind, "fixed")) n = largest(ok_fixed, res, 1024);
        else if (!strcmp(kind, "mprotect")) n = largest(ok_mprotect, 0, 1024);
        else if (!strcmp(kind, "mremap")) n = largest(ok_mremap, 0, 1024);
        else if (!strcmp(kind, "brk")) n = largest(ok_brk, 0, 1024);
        else if (!strcmp(kind, "thread")) n = largest(ok_thread, 0, 1024);
        else if (!strcmp(kind, "fork")) n = largest(ok_fork, 0, 1024);

        else return fprintf(stderr, "vmprobe: largest: unknown kind '%s'\n", kind), 2;
        printf("largest=%ld ", n);
        return done(0, meminfo_kb("Committed_AS"));
    }
    fprintf(stderr, "vmprobe: unknown case '%s'\n", k);
    return 2;
}
