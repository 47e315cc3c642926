/* Micro-workloads for `make bench`: each prints the nanoseconds per operation of
 * its loop. tests/bench/run.sh runs each one bare and under the shim, interleaved. */
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

extern char **environ;

static void *volatile sink;

static void malloc64(long n)
{
    for (long i = 0; i < n; i++) {
        void *p = malloc(64);
        sink = p;
        free(p);
    }
}

static void *mixed(void *arg)
{
    long n = (long)(intptr_t)arg;
    void *keep[64] = {0};
    uint32_t x = 12345;
    for (long i = 0; i < n; i++) {
        x = x * 1103515245 + 12345;
        int k = (int)(x >> 8) & 63;
        free(keep[k]);
        keep[k] = malloc(16 + ((x >> 16) & 4095));
    }
    for (int k = 0; k < 64; k++) free(keep[k]);
    return NULL;
}

static void mmap_loop(long n, size_t len, int touch)
{
    for (long i = 0; i < n; i++) {
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) abort();
        if (touch)
            for (size_t o = 0; o < len; o += 4096) p[o] = 1;
        munmap(p, len);
    }
}

static void *mmap_thread(void *arg)
{
    mmap_loop((long)(intptr_t)arg, 4096, 0);
    return NULL;
}

static void *noop(void *a) { return a; }

static void threads(int k, void *(*fn)(void *), long n)
{
    pthread_t t[16];
    for (int i = 0; i < k; i++) pthread_create(&t[i], NULL, fn, (void *)(intptr_t)n);
    for (int i = 0; i < k; i++) pthread_join(t[i], NULL);
}

/* n mprotects in one untouched private writable mapping, ROUNDS times over a fresh
 * mapping (only the mprotects are timed): a PROT_NONE guard page every 256 KiB (a
 * fiber stack pool), or page k/2 to PROT_NONE and back to read-write in turn. The
 * mapping sits between two PROT_NONE pages, so that the kernel does not merge it
 * with a neighbour in one run and not in the other (the shim moves the layout).
 * Timed in the thread's CPU time (user and kernel): a loop of ~1 us system calls
 * on a shared machine is otherwise measured as much by its neighbours' load. */
#define ROUNDS 5
static uint64_t cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t guard_rounds(long n, int alternate)
{
    size_t len = alternate ? (size_t)(n + 1) / 2 * 4096 : (size_t)n << 18;
    uint64_t spent = 0;
    for (int round = 0; round < ROUNDS; round++) {
        char *f = mmap(NULL, len + 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        char *m = f == MAP_FAILED ? f
                                  : mmap(f + 4096, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (m == MAP_FAILED) abort();
        uint64_t t0 = cpu_now();
        for (long k = 0; k < n; k++)
            if ((alternate ? mprotect(m + (size_t)(k / 2) * 4096, 4096, k % 2 ? PROT_READ | PROT_WRITE : PROT_NONE)
                           : mprotect(m + ((size_t)k << 18), 4096, PROT_NONE)) != 0)
                abort();
        spent += cpu_now() - t0;
        munmap(f, len + 8192);
    }
    return spent;
}

/* n mmap+munmap of 4 KiB while `tracked` other mappings exist (alternately readable
 * and writable, so that the kernel cannot merge them). */
static void mmap_among(long tracked, long n)
{
    for (long i = 0; i < tracked; i++)
        if (mmap(NULL, 4096, (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
            MAP_FAILED)
            abort();
}

/* A request the kernel refuses in every overcommit mode: 1 PiB, private writable. */
#define REFUSED ((size_t)1 << 50)

static void refused_mmaps(long n)
{
    for (long i = 0; i < n; i++)
        if (mmap(NULL, REFUSED, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED) abort();
}

static void on_storm_alarm(int sig)
{
    (void)sig;
    mmap(NULL, REFUSED, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* Main loops on n refused mallocs while a 200 us interval timer's handler does a
 * refused mmap. */
static void refusal_storm(long n)
{
    struct sigaction sa = {.sa_handler = on_storm_alarm, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 200}, {0, 200}};
    setitimer(ITIMER_REAL, &it, NULL);
    for (long i = 0; i < n; i++) {
        void *p = malloc(REFUSED);
        sink = p;
        if (p) abort();
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
}

/* Resident set of this process, kB. */
static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) v = atol(line + 6);
    if (f) fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "rss")) { /* RSS after N mappings that cannot merge (argv[2]) */
        long n = argc > 2 ? atol(argv[2]) : 0;
        for (long i = 0; i < n; i++)
            if (mmap(NULL, 4096, (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
                MAP_FAILED)
                abort();
        printf("%ld\n", rss_kb());
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: bench WORKLOAD ITERATIONS\n");
        return 2;
    }
    const char *w = argv[1];
    long n = atol(argv[2]);
    if (!strcmp(w, "guards") || !strcmp(w, "alternate")) { /* ns per mprotect */
        printf("%.2f\n", (double)guard_rounds(n, w[0] == 'a') / (double)(n * ROUNDS));
        return 0;
    }
    if (!strncmp(w, "mmap4k_among", 12)) mmap_among(atol(w + 12), n); /* untimed: the mappings to be among */
    uint64_t t0 = now();
    if (!strcmp(w, "malloc64")) malloc64(n);
    else if (!strcmp(w, "malloc_mixed_1t")) mixed((void *)(intptr_t)n);
    else if (!strcmp(w, "malloc_mixed_4t")) threads(4, mixed, n / 4);
    else if (!strcmp(w, "mmap4k") || !strncmp(w, "mmap4k_among", 12)) mmap_loop(n, 4096, 0);
    else if (!strcmp(w, "refused_mmap")) refused_mmaps(n);
    else if (!strcmp(w, "refusal_storm")) refusal_storm(n);
    else if (!strcmp(w, "mmap64k_touch")) mmap_loop(n, 65536, 1);
    else if (!strcmp(w, "mmap_8threads")) threads(8, mmap_thread, n / 8);
    else if (!strcmp(w, "fork_wait")) {
        for (long i = 0; i < n; i++) {
            pid_t p = fork();
            if (p == 0) _exit(0);
            waitpid(p, NULL, 0);
        }
    } else if (!strcmp(w, "pthread_create_join")) {
        for (long i = 0; i < n; i++) {
            pthread_t t;
            pthread_create(&t, NULL, noop, NULL);
            pthread_join(t, NULL);
        }
    } else if (!strcmp(w, "process_start")) { /* a short program, started and waited for: under the shim
                                                  the child inherits LD_PRELOAD and loads it too */
        char *av[] = {"/bin/true", NULL};
        for (long i = 0; i < n; i++) {
            pid_t p;
            if (posix_spawn(&p, av[0], NULL, NULL, av, environ) != 0) abort();
            waitpid(p, NULL, 0);
        }
    } else {
        fprintf(stderr, "bench: unknown workload %s\n", w);
        return 2;
    }
    printf("%.2f\n", (double)(now() - t0) / (double)n);
    return 0;
}
