/* Four threads each map and touch known amounts; the main thread prints the
 * truth (per thread: tid, mapped, touched) and the smaps `ac` sum of exactly
 * those ranges, as JSON, then exits. Thread i maps (i+1)*16 MiB and touches
 * (i+1)*8 MiB, with transparent huge pages off for the ranges. Each thread also
 * churns small blocks of every glibc tcache size (so most of its mallocs are
 * tcache hits the shim does not check) and keeps one block of each size live; it
 * prints their usable bytes, which the summary must show exactly. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct job {
    int i;
    pid_t tid;
    char *p;
    size_t mapped, touched, malloc_live;
    void *keep[100];
};

/* Every size from 1 to 1100 bytes in steps of 13: fill and empty the tcache bin
 * three times, then keep one block (malloc, calloc or realloc'ed). */
static size_t small_churn(void **keep)
{
    void *tmp[7];
    size_t live = 0;
    int k = 0;
    for (size_t n = 1; n <= 1100; n += 13, k++) {
        for (int r = 0; r < 3; r++) {
            for (int i = 0; i < 7; i++) tmp[i] = malloc(n);
            for (int i = 0; i < 7; i++) free(tmp[i]);
        }
        void *p = k % 3 == 0 ? calloc(1, n) : malloc(n);
        if (k % 5 == 0) p = realloc(p, n + 40);
        if (!p) exit(2);
        keep[k] = p;
        live += malloc_usable_size(p);
    }
    return live;
}

static void *worker(void *a)
{
    struct job *j = a;
    j->tid = gettid();
    char name[16];
    snprintf(name, sizeof name, "worker-%d", j->i);
    pthread_setname_np(pthread_self(), name); /* an exited thread keeps the name it was given */
    j->mapped = (size_t)(j->i + 1) << 24;
    j->touched = (size_t)(j->i + 1) << 23;
    j->p = mmap(NULL, j->mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (j->p == MAP_FAILED) exit(2);
    madvise(j->p, j->mapped, MADV_NOHUGEPAGE);
    for (size_t o = 0; o < j->touched; o += 4096) j->p[o] = 1;
    j->malloc_live = small_churn(j->keep);
    return NULL;
}

static unsigned long long ac_kb_in(uintptr_t lo, uintptr_t hi)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    unsigned long long sum = 0, a = 0, b = 0, size = 0;
    int in = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long x, y;
        if (sscanf(line, "%llx-%llx ", &x, &y) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            a = x, b = y, in = a < hi && b > lo;
        } else if (!strncmp(line, "Size:", 5)) {
            size = strtoull(line + 5, NULL, 10);
        } else if (!strncmp(line, "VmFlags:", 8) && in && strstr(line, " ac")) {
            unsigned long long s = a > lo ? a : lo, e = b < hi ? b : hi;
            sum += (e - s) / 1024;
            (void)size;
        }
    }
    fclose(f);
    return sum;
}

int main(void)
{
    struct job j[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        memset(&j[i], 0, sizeof j[i]);
        j[i].i = i;
        pthread_create(&t[i], NULL, worker, &j[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    unsigned long long ac = 0;
    printf("{\"threads\":[");
    for (int i = 0; i < 4; i++) {
        ac += ac_kb_in((uintptr_t)j[i].p, (uintptr_t)j[i].p + j[i].mapped);
        printf("%s{\"tid\":%d,\"mapped\":%zu,\"touched\":%zu,\"malloc_live\":%zu}", i ? "," : "", (int)j[i].tid,
               j[i].mapped, j[i].touched, j[i].malloc_live);
    }
    printf("],\"ac_bytes\":%llu}\n", ac * 1024);
    fflush(stdout);
    exit(0);
}
