/* Real refusals that are safe on a shared machine: per-process limits only.
 * Usage: refuse MODE [ARG]. Prints what happened; exits 0 when the call was
 * refused as intended, 3 when it unexpectedly succeeded. */
#include <dlfcn.h>
#include <signal.h>
#include <fcntl.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') v = atol(line + strlen(key) + 1);
    if (f) fclose(f);
    return v;
}

static void limit(int res, unsigned long long bytes)
{
    struct rlimit r = {bytes, bytes};
    if (getrlimit(res, &r) == 0) r.rlim_cur = bytes;
    if (r.rlim_max != RLIM_INFINITY && r.rlim_max < bytes) r.rlim_max = bytes;
    if (setrlimit(res, &r) != 0) {
        perror("setrlimit");
        exit(2);
    }
}

static int report(const char *what, void *p)
{
    if (p == MAP_FAILED || p == NULL) {
        printf("%s: refused: %s\n", what, strerror(errno));
        return 0;
    }
    printf("%s: succeeded\n", what);
    return 3;
}

static void *idle(void *a) { return a; }

/* The first len characters of s are exactly name. */
static int is(const char *s, size_t len, const char *name) { return strlen(name) == len && !strncmp(s, name, len); }

static void *volatile sink; /* keeps the compiler from dropping a malloc whose block is unused */
static void *volatile vnull; /* realloc(NULL, n) that gcc cannot turn into malloc(n) */
void *__libc_malloc(size_t n); /* glibc's own entry: no wrapper sees it */

/* mallinfo2 (size_t fields) is glibc 2.33's; before it, mallinfo (int fields, deprecated
 * from 2.33 on) says the same of a small heap. */
#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33)
#define heap_info() mallinfo2()
#else
#define heap_info() mallinfo()
#endif

/* Inlined into main: `overshim symbolize` must show it as an inlined frame. */
static inline __attribute__((always_inline)) void *map_pages(unsigned long long n)
{
    return mmap(NULL, n * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* first-in-handler: the process's first call any wrapper sees is a refused mmap in a
 * signal handler, with RLIMIT_AS at the address space already in use (no further page
 * can be mapped): whatever the shim reads or sets up on first use (its report stack, the
 * system's facts, the tid's place, its own image, the program's path) must work there.
 * Nothing before it goes through a wrapper: /proc/self/status is read with open/read
 * into the stack, stdout is unbuffered. */
static long vmsize_kb_raw(void)
{
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    const char *v = strstr(buf, "\nVmSize:");
    return v ? atol(v + 9) : -1;
}

static volatile int handler_refused = -1;

static void first_call(int sig)
{
    (void)sig;
    void *p = mmap(NULL, 64u << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    handler_refused = p == MAP_FAILED && errno == ENOMEM;
}

static int first_in_handler(void)
{
    long kb = vmsize_kb_raw();
    if (kb <= 0) return 2;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = first_call;
    if (sigaction(SIGUSR1, &sa, NULL) != 0) return 2;
    struct rlimit r = {(rlim_t)kb * 1024, RLIM_INFINITY};
    if (getrlimit(RLIMIT_AS, &r) == 0) r.rlim_cur = (rlim_t)kb * 1024;
    if (setrlimit(RLIMIT_AS, &r) != 0) return 2;
    raise(SIGUSR1);
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_AS, &r);
    printf("mmap in the handler: %s\n", handler_refused == 1 ? "refused" : "not refused");
    return handler_refused == 1 ? 0 : 3;
}

/* Built a second time as refuse_tls, with TLS of its own: glibc then places the shim's
 * TLS block elsewhere, and the shim's malloc takes its other fast path. */
#ifdef OWN_TLS
static __thread volatile int own_tls;
#endif

int main(int argc, char **argv)
{
#ifdef OWN_TLS
    own_tls = argc;
#endif
    const char *mode = argc > 1 ? argv[1] : "";
    unsigned long long arg = argc > 2 ? strtoull(argv[2], NULL, 0) : 0;
    const int RW = PROT_READ | PROT_WRITE, PA = MAP_PRIVATE | MAP_ANONYMOUS;
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(mode, "first-in-handler")) return first_in_handler();
    if (!strcmp(mode, "mmap-pages")) /* private writable anonymous of N pages */
        return report("mmap", map_pages(arg));
    if (!strcmp(mode, "rlimit-as")) { /* RLIMIT_AS = VmSize + 64 MiB, then a 512 MiB PROT_NONE reservation */
        limit(RLIMIT_AS, (unsigned long long)status_kb("VmSize") * 1024 + (64ull << 20));
        return report("mmap", mmap(NULL, 512ull << 20, PROT_NONE, PA | MAP_NORESERVE, -1, 0));
    }
    if (!strcmp(mode, "rlimit-data")) { /* RLIMIT_DATA = VmData + 64 MiB, then 128 MiB private RW */
        limit(RLIMIT_DATA, (unsigned long long)status_kb("VmData") * 1024 + (64ull << 20));
        return report("mmap", mmap(NULL, 128ull << 20, RW, PA, -1, 0));
    }
    if (!strcmp(mode, "rlimit-data-fixed")) {
        /* HotSpot's pattern: reserve, then commit with MAP_FIXED. The kernel checks the net
         * growth (0 over a reservation), so the first commit passes and takes VmData past
         * the limit; the next commit is refused. */
        char *res = mmap(NULL, 256ull << 20, PROT_NONE, PA | MAP_NORESERVE, -1, 0);
        if (res == MAP_FAILED) return 2;
        limit(RLIMIT_DATA, (unsigned long long)status_kb("VmData") * 1024 + (64ull << 20));
        if (mmap(res, 128ull << 20, RW, PA | MAP_FIXED, -1, 0) == MAP_FAILED) {
            printf("first commit refused: %s\n", strerror(errno));
            return 3;
        }
        return report("mmap", mmap(res + (128ull << 20), 64ull << 20, RW, PA | MAP_FIXED, -1, 0));
    }
    if (!strcmp(mode, "map-count")) { /* one-page mappings that cannot merge, until the limit */
        long n = 0;
        for (;;) {
            void *p = mmap(NULL, 4096, (n & 1) ? PROT_READ : RW, PA, -1, 0);
            if (p == MAP_FAILED) break;
            n++;
        }
        printf("mappings made: %ld\n", n);
        return report("mmap", MAP_FAILED);
    }
    if (!strcmp(mode, "nproc")) { /* as an unprivileged uid at RLIMIT_NPROC */
        limit(RLIMIT_NPROC, arg ? arg : 1);
        if (getuid() == 0 && setuid(65534) != 0) {
            perror("setuid");
            return 2;
        }
        pthread_t t;
        int rc = pthread_create(&t, NULL, idle, NULL);
        printf("pthread_create: %s\n", rc ? strerror(rc) : "succeeded");
        if (!rc) pthread_join(t, NULL);
        return rc == EAGAIN ? 0 : 3;
    }
    if (!strcmp(mode, "sbrk-data")) { /* the heap grown past RLIMIT_DATA */
        limit(RLIMIT_DATA, (unsigned long long)status_kb("VmData") * 1024 + (64ull << 20));
        void *p = sbrk(128 << 20);
        return report("sbrk", p == (void *)-1 ? MAP_FAILED : p);
    }
    if (!strcmp(mode, "malloc-pages"))
        return report("malloc", malloc(arg * 4096));
    if (!strcmp(mode, "many")) { /* RLIMIT_AS just above current use; arg failing mallocs and mmaps */
        limit(RLIMIT_AS, (unsigned long long)status_kb("VmSize") * 1024 + (16ull << 20));
        int refused = 0;
        for (unsigned long long i = 0; i < arg; i++) {
            void *m = malloc(64ull << 20);
            void *p = mmap(NULL, 64ull << 20, RW, PA, -1, 0);
            refused += (m == NULL) + (p == MAP_FAILED);
        }
        printf("refused %d of %llu\n", refused, 2 * arg);
        return refused == (int)(2 * arg) ? 0 : 3;
    }
    if (!strcmp(mode, "small-heap")) {
        /* Small mallocs with a warm tcache and no other free memory: 20 blocks of 64
         * bytes freed (glibc keeps 7 in the tcache, the rest go to other bins), every
         * other free chunk used up by 16-byte mallocs, the heap capped where it
         * stands, the top chunk used up. Then 64-byte mallocs until arg NULLs: 7
         * tcache hits, then no memory. A shim that believed more than 7 blocks were
         * cached would let a NULL through unreported.
         * With argv[3], a TAKER takes 7 blocks of the bin after the frees (malloc,
         * realloc, reallocarray, calloc, posix_memalign, aligned_alloc, memalign,
         * valloc, pvalloc, or libc: glibc's __libc_malloc, which no wrapper sees), and
         * then the tcache is drained behind the shim's back, so that whatever this
         * glibc did on the taking call, a shim that did not lower its count for it
         * misses 7 NULLs. "-tiny" uses bin 0: 24-byte blocks, requests of 8 bytes (0
         * for pvalloc, which glibc 2.38+ turns into 1). "-big" uses the last bin (chunks
         * of 1040): blocks of 1020 bytes, requests of 1030 (past 1024). argv[4], a FREER for the 20
         * frees: free, free_sized, free_aligned_sized (the shim's, found with dlsym:
         * this glibc may lack them). */
        const char *taker = argc > 3 ? argv[3] : NULL, *freer = argc > 4 ? argv[4] : "free";
        int tiny = taker && strstr(taker, "-tiny") != NULL, big = taker && strstr(taker, "-big") != NULL;
        size_t S = tiny ? 24 : big ? 1020 : 64, T = tiny ? 8 : big ? 1030 : 64;
        void (*sized)(void *, size_t) = NULL;
        void (*aligned_sized)(void *, size_t, size_t) = NULL;
        if (!strcmp(freer, "free_sized") && !(sized = (void (*)(void *, size_t))dlsym(RTLD_DEFAULT, freer))) return 2;
        if (!strcmp(freer, "free_aligned_sized") &&
            !(aligned_sized = (void (*)(void *, size_t, size_t))dlsym(RTLD_DEFAULT, freer)))
            return 2;
        enum { K = 20 };
        void *b[K];
        for (int i = 0; i < K; i++) b[i] = aligned_sized ? aligned_alloc(16, S) : malloc(S);
        for (int i = 0; i < K; i++) {
            if (sized) sized(b[i], S);
            else if (aligned_sized) aligned_sized(b[i], 16, S);
            else free(b[i]);
        }
        void *(*filler)(size_t) = malloc;
        if (taker) {
            size_t len = strcspn(taker, "-");
            for (int i = 0; i < 7; i++) {
                void *p = NULL;
                if (is(taker, len, "malloc")) p = malloc(T);
                else if (is(taker, len, "realloc")) p = realloc(vnull, T);
                else if (is(taker, len, "reallocarray")) p = reallocarray(vnull, 1, T);
                else if (is(taker, len, "calloc")) p = calloc(1, T);
                else if (is(taker, len, "posix_memalign")) p = posix_memalign(&p, 16, T) ? NULL : p;
                else if (is(taker, len, "aligned_alloc")) p = aligned_alloc(16, T);
                else if (is(taker, len, "memalign")) p = memalign(16, T);
                else if (is(taker, len, "valloc")) p = valloc(T);
                else if (is(taker, len, "pvalloc")) p = pvalloc(tiny ? 0 : T);
                else if (is(taker, len, "libc")) p = __libc_malloc(T);
                else return 2;
                if (!p) return 2;
                sink = p; /* kept */
            }
            for (int i = 0; i < 7; i++) sink = __libc_malloc(S); /* whatever is left in the bin */
            filler = __libc_malloc; /* a filler through the shim could lower the count itself */
        }
        malloc_trim(0); /* merges the other bins' blocks into the top chunk */
        __typeof__(heap_info()) mi = heap_info();
        for (int i = 0; mi.fordblks > mi.keepcost && i < 1000000; i++) { /* free chunks besides the top */
            sink = filler(16);
            mi = heap_info();
        }
        limit(RLIMIT_AS, (unsigned long long)status_kb("VmSize") * 1024);
        limit(RLIMIT_DATA, (unsigned long long)status_kb("VmData") * 1024);
        size_t top = (size_t)heap_info().keepcost;
        if (top > 80) sink = malloc(top - 40); /* leaves the top chunk at its 32-byte minimum */
        unsigned long long ok = 0, refused = 0;
        for (size_t i = 0; refused < arg && i < 1000000; i++) {
            sink = malloc(S); /* never freed; through sink, or gcc 16 deletes a malloc only tested */
            if (sink) ok++;
            else refused++;
        }
        printf("small mallocs: %llu succeeded, %llu refused\n", ok, refused);
        return refused == arg ? 0 : 3;
    }
    fprintf(stderr, "usage: refuse mmap-pages N | rlimit-as | rlimit-data | rlimit-data-fixed | map-count | "
                    "nproc | sbrk-data | malloc-pages N | many N | small-heap N [TAKER[-tiny|-big] [FREER]]\n");
    return 2;
}
