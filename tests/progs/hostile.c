/* Patterns that real programs use and that the shim must survive (issue 11): refusals
 * on small stacks, a task sharing the memory and TLS of its parent, simultaneous
 * refusals, failure storms. Every refusal here is a real one the kernel makes on a
 * shared machine without harm: a request of twice RAM+swap (mode 0 refuses it), or a
 * thread stack of that size. Usage: hostile MODE [ARGS]; prints what happened. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static size_t too_big(void)
{
    struct sysinfo si;
    sysinfo(&si);
    return 2 * ((size_t)si.totalram + (size_t)si.totalswap) * si.mem_unit;
}

static void *volatile sink;

static int refused_mmap(void)
{
    void *p = mmap(NULL, too_big(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED && errno == ENOMEM;
}

static int refused_malloc(void)
{
    sink = malloc(too_big());
    return sink == NULL;
}

static void *nothing(void *a) { return a; }

static int refused_thread(void)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, too_big());
    pthread_t t;
    int rc = pthread_create(&t, &a, nothing, NULL);
    pthread_attr_destroy(&a);
    if (rc == 0) pthread_join(t, NULL);
    return rc == EAGAIN || rc == ENOMEM;
}

static const char *what;
static void *small_stack_thread(void *a)
{
    (void)a;
    int ok = 1;
    if (!strcmp(what, "mmap") || !strcmp(what, "all")) ok &= refused_mmap();
    if (!strcmp(what, "malloc") || !strcmp(what, "all")) ok &= refused_malloc();
    if (!strcmp(what, "pthread_create") || !strcmp(what, "all")) ok &= refused_thread();
    return (void *)(intptr_t)ok;
}

/* Recurse until only `left` bytes of this thread's stack remain, then refuse. */
static uintptr_t stack_lo;
static size_t left;
static int only_mmap;
static int __attribute__((noinline)) deep(int n)
{
    volatile char pad[512];
    pad[0] = (char)n;
    if ((uintptr_t)__builtin_frame_address(0) > stack_lo + left + sizeof pad) return deep(n + 1) + pad[0];
    return refused_mmap() && (only_mmap || refused_malloc()) ? 0 : 1000000;
}

static void *recursing_thread(void *a)
{
    (void)a;
    pthread_attr_t at;
    pthread_getattr_np(pthread_self(), &at);
    void *lo;
    size_t sz;
    pthread_attr_getstack(&at, &lo, &sz);
    size_t guard = 0;
    pthread_attr_getguardsize(&at, &guard);
    pthread_attr_destroy(&at);
    /* measured here (glibc 2.36): with the guard counted in the stack glibc reports, a bare
     * refused mmap needs ~400 bytes of what is left, as expected; without, ~3.5 KiB */
    stack_lo = (uintptr_t)lo + guard;
    /* bind mmap, malloc and sysinfo first: lazy PLT binding alone needs ~2 KiB of stack */
    munmap(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), 4096);
    free(malloc(64));
    (void)too_big();
    int r = deep(0);
    return (void *)(intptr_t)(r < 1000000);
}

static int run_on_stack(void *(*fn)(void *), size_t kib)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    if (pthread_attr_setstacksize(&a, kib * 1024) != 0) return 2;
    pthread_t t;
    if (pthread_create(&t, &a, fn, NULL) != 0) return 2;
    void *ok;
    pthread_join(t, &ok);
    return ok ? 0 : 1;
}

/* clone(CLONE_VM) without CLONE_SETTLS: the child runs on its own stack with the
 * parent's thread pointer. It is refused, maps and unmaps, and returns. */
static int vm_child(void *a)
{
    (void)a;
    int ok = refused_mmap();
    void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) munmap(p, 1 << 20);
    return ok ? 0 : 1;
}

static int clonevm(void)
{
    for (int i = 0; i < 100; i++) free(malloc(1000)); /* the parent's own malloc counts */
    void *keep = malloc(40000);
    size_t sz = 256 * 1024;
    char *stack = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return 2;
    pid_t c = clone(vm_child, stack + sz, CLONE_VM | SIGCHLD, NULL);
    if (c < 0) return 2;
    int st;
    waitpid(c, &st, 0);
    printf("child %d exit %d\n", (int)c, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    int ok = refused_mmap(); /* the parent's own refusal, reported as its own */
    printf("parent refused %d\n", ok);
    free(keep);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 && ok ? 0 : 1;
}

/* N threads refused at the same moment. */
static pthread_barrier_t bar;
static size_t sim_len;
static void *at_once(void *a)
{
    (void)a;
    pthread_barrier_wait(&bar);
    void *p = mmap(NULL, sim_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return (void *)(intptr_t)(p == MAP_FAILED && errno == ENOMEM);
}

static int simultaneous(int n, size_t len)
{
    sim_len = len ? len : too_big();
    pthread_t t[64];
    if (n > 64) n = 64;
    pthread_barrier_init(&bar, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        int e = pthread_create(&t[i], NULL, at_once, NULL);
        if (e) { /* the barrier would never open: say so instead of waiting or joining garbage */
            printf("pthread_create %d of %d: %s\n", i + 1, n, strerror(e));
            return 1;
        }
    }
    int refused = 0;
    for (int i = 0; i < n; i++) {
        void *ok;
        pthread_join(t[i], &ok);
        refused += ok != NULL;
    }
    printf("refused %d of %d\n", refused, n);
    return refused == n ? 0 : 1;
}

/* 200 idle threads (so that a full report is larger than the shim's 16 KiB buffer and
 * goes out in pieces) and 8 threads refused N times each, at once. */
static pthread_barrier_t idle_bar;
static void *idle_thread(void *a)
{
    (void)a;
    pthread_barrier_wait(&idle_bar);
    return NULL;
}

static void *refusing_thread(void *a)
{
    long n = (long)(intptr_t)a;
    pthread_barrier_wait(&bar);
    long k = 0;
    for (long i = 0; i < n; i++) k += refused_mmap();
    return (void *)(intptr_t)k;
}

static int mixed_storm(long n)
{
    pthread_t idle[200], busy[8];
    pthread_barrier_init(&idle_bar, NULL, 201);
    pthread_barrier_init(&bar, NULL, 8);
    for (int i = 0; i < 200; i++) pthread_create(&idle[i], NULL, idle_thread, NULL);
    for (int i = 0; i < 8; i++) pthread_create(&busy[i], NULL, refusing_thread, (void *)(intptr_t)n);
    long total = 0;
    for (int i = 0; i < 8; i++) {
        void *k;
        pthread_join(busy[i], &k);
        total += (long)(intptr_t)k;
    }
    pthread_barrier_wait(&idle_bar);
    for (int i = 0; i < 200; i++) pthread_join(idle[i], NULL);
    printf("refused %ld of %ld\n", total, 8 * n);
    return total == 8 * n ? 0 : 1;
}

/* A 200 us timer whose handler is refused while main is refused in a loop. */
static volatile sig_atomic_t handled;
static void on_alarm(int s)
{
    (void)s;
    int e = errno;
    refused_mmap();
    handled++;
    errno = e;
}

static int storm(long n, int with_timer)
{
    if (with_timer) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGALRM, &sa, NULL);
        struct itimerval it = {{0, 200}, {0, 200}};
        setitimer(ITIMER_REAL, &it, NULL);
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    long refused = 0;
    for (long i = 0; i < n; i++) refused += with_timer ? refused_malloc() : refused_mmap();
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (with_timer) {
        struct itimerval off = {{0, 0}, {0, 0}};
        setitimer(ITIMER_REAL, &off, NULL);
    }
    double us = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3 / (double)n;
    printf("refused %ld of %ld, %.2f us each%s\n", refused, n, us, with_timer && handled ? ", handler ran" : "");
    return refused == n ? 0 : 1;
}

/* VmSize and mappings as they stand, then a refusal: under the shim its report's
 * overshim_footprint must be what the shim added to both. */
static int footprint(void)
{
    char line[512];
    long vm = -1, maps = 0;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmSize:", 7)) vm = atol(line + 7);
    if (f) fclose(f);
    f = fopen("/proc/self/maps", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strstr(line, "[vsyscall]")) maps++;
    if (f) fclose(f);
    printf("vmsize_kb %ld maps %ld\n", vm, maps);
    return refused_mmap() ? 0 : 1;
}

/* Started with fd 2 closed (2>&-), so that the data file it opens becomes fd 2, then
 * refused: the file must hold only what the program wrote. */
static int reopened_stderr(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return 2;
    int ok = refused_mmap();
    if (write(fd, "DATA\n", 5) != 5) return 2;
    close(fd);
    printf("data file was fd %d\n", fd);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "smallstack") && argc > 3) { /* smallstack KIB mmap|malloc|pthread_create|all */
        what = argv[3];
        int r = run_on_stack(small_stack_thread, strtoul(argv[2], NULL, 0));
        printf("small stack %s KiB, %s: %s\n", argv[2], what, r == 0 ? "refused" : "not refused");
        return r;
    }
    if (!strcmp(mode, "recurse") && argc > 2) { /* recurse LEFT_KIB [mmap]: on a 256 KiB thread; LEFTb: bytes */
        char *end;
        left = strtoul(argv[2], &end, 0);
        if (*end != 'b') left *= 1024;
        only_mmap = argc > 3 && !strcmp(argv[3], "mmap");
        int r = run_on_stack(recursing_thread, 256);
        printf("recursion leaving %s KiB: %s\n", argv[2], r == 0 ? "refused" : "not refused");
        return r;
    }
    if (!strcmp(mode, "clonevm")) return clonevm();
    if (!strcmp(mode, "footprint")) return footprint();
    if (!strcmp(mode, "reopened-stderr") && argc > 2) return reopened_stderr(argv[2]);
    if (!strcmp(mode, "simultaneous")) /* simultaneous N [BYTES] */
        return simultaneous(argc > 2 ? atoi(argv[2]) : 8, argc > 3 ? strtoull(argv[3], NULL, 0) : 0);
    if (!strcmp(mode, "storm")) return storm(argc > 2 ? atol(argv[2]) : 1000, 0);
    if (!strcmp(mode, "mixedstorm")) return mixed_storm(argc > 2 ? atol(argv[2]) : 1000);
    if (!strcmp(mode, "timerstorm")) return storm(argc > 2 ? atol(argv[2]) : 1000, 1);
    fprintf(stderr, "usage: hostile smallstack KIB WHAT | recurse LEFT_KIB | clonevm | simultaneous N [BYTES] | "
                    "storm N | timerstorm N | footprint\n");
    return 2;
}
