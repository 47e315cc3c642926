/* Load for the shim: THREADS threads for SECONDS seconds doing mmap, mprotect,
 * mremap, munmap, malloc, free and pthread_create/join of short threads, each on
 * its own ranges. At the end every worker stops and the main thread prints, as
 * JSON, the smaps `ac` sum over exactly the ranges still mapped, to compare with
 * the ledger's summary. Usage: stress THREADS SECONDS */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 32

struct worker {
    pthread_t t;
    unsigned seed;
    char *addr[SLOTS];
    size_t len[SLOTS];
    unsigned long ops;
};

static volatile int stop;

static void *short_thread(void *a)
{
    char *m = malloc(1000);
    if (m) m[0] = 1;
    free(m);
    return a;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    while (!stop) {
        unsigned r = rand_r(&w->seed);
        int k = (int)(r % SLOTS);
        size_t pages = 1 + (r >> 8) % 64;
        switch ((r >> 16) % 9) {
        case 0:
        case 1:
            if (!w->addr[k]) {
                int prot = (r >> 20) & 1 ? PROT_READ | PROT_WRITE : PROT_NONE;
                int flags = MAP_PRIVATE | MAP_ANONYMOUS | (((r >> 21) & 3) == 0 ? MAP_NORESERVE : 0);
                char *p = mmap(NULL, pages * 4096, prot, flags, -1, 0);
                if (p != MAP_FAILED) {
                    w->addr[k] = p;
                    w->len[k] = pages * 4096;
                    if (prot != PROT_NONE && (r >> 23) & 1) p[0] = 1;
                }
            }
            break;
        case 2:
            if (w->addr[k]) {
                size_t off = ((r >> 8) % (w->len[k] / 4096)) * 4096;
                int prot = (r >> 20) % 3 == 0 ? PROT_NONE : (r >> 20) % 3 == 1 ? PROT_READ : PROT_READ | PROT_WRITE;
                mprotect(w->addr[k] + off, w->len[k] - off, prot);
            }
            break;
        case 3:
            if (w->addr[k]) {
                size_t nl = w->len[k] + pages * 4096;
                char *p = mremap(w->addr[k], w->len[k], nl, MREMAP_MAYMOVE);
                if (p != MAP_FAILED) w->addr[k] = p, w->len[k] = nl;
            }
            break;
        case 4:
            if (w->addr[k]) {
                munmap(w->addr[k], w->len[k]);
                w->addr[k] = NULL;
            }
            break;
        case 5:
        case 6: {
            void *m[8];
            for (int i = 0; i < 8; i++) m[i] = malloc(16 + ((r >> i) & 0xfff) * (i == 7 ? 64 : 1));
            for (int i = 0; i < 8; i++) free(m[i]);
            break;
        }
        case 7:
            if ((r >> 10) % 16 == 0) {
                pthread_t t;
                if (pthread_create(&t, NULL, short_thread, NULL) == 0) pthread_join(t, NULL);
            }
            break;
        default:
            if (w->addr[k] && w->len[k] > 8192) { /* a hole in the middle, then the two pieces */
                munmap(w->addr[k] + 4096, 4096);
                /* not munmap(addr, len): another thread may have been given the hole already */
                munmap(w->addr[k], 4096);
                munmap(w->addr[k] + 8192, w->len[k] - 8192);
                w->addr[k] = NULL;
            }
        }
        w->ops++;
    }
    return NULL;
}

static unsigned long long ac_kb_in(uintptr_t lo, uintptr_t hi)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    unsigned long long sum = 0, a = 0, b = 0;
    int in = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long x, y;
        if (sscanf(line, "%llx-%llx ", &x, &y) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            a = x, b = y, in = a < hi && b > lo;
        } else if (!strncmp(line, "VmFlags:", 8) && in && strstr(line, " ac")) {
            unsigned long long s = a > lo ? a : lo, e = b < hi ? b : hi;
            sum += (e - s) / 1024;
        }
    }
    fclose(f);
    return sum;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 32;
    int secs = argc > 2 ? atoi(argv[2]) : 20;
    struct worker *w = calloc((size_t)n, sizeof *w);
    for (int i = 0; i < n; i++) {
        w[i].seed = (unsigned)i * 7919u + 1;
        pthread_create(&w[i].t, NULL, work, &w[i]);
    }
    sleep((unsigned)secs);
    stop = 1;
    unsigned long long ops = 0, ac = 0, ranges = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(w[i].t, NULL);
        ops += w[i].ops;
    }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < SLOTS; k++)
            if (w[i].addr[k]) {
                ac += ac_kb_in((uintptr_t)w[i].addr[k], (uintptr_t)w[i].addr[k] + w[i].len[k]);
                ranges++;
            }
    printf("{\"threads\":%d,\"seconds\":%d,\"ops\":%llu,\"ranges\":%llu,\"ac_bytes\":%llu}\n", n, secs, ops, ranges,
           ac * 1024);
    fflush(stdout);
    exit(0);
}
