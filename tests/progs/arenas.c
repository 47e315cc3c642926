/* glibc's per-thread malloc arenas, for overshim's tests: N threads each malloc and touch
 * 200 blocks of 100 KB (below the mmap threshold: arena memory), then the shim writes a
 * summary (overshim_write_summary, when loaded) while they are all alive. Usage: arenas N */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_barrier_t done, leave;

static void *run(void *p)
{
    for (int i = 0; i < 200; i++) {
        char *x = malloc(100000);
        if (x) memset(x, 1, 100000);
    }
    pthread_barrier_wait(&done);
    pthread_barrier_wait(&leave);
    return p;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 4;
    if (n < 1 || n > 64) n = 4;
    pthread_t t[64];
    pthread_barrier_init(&done, NULL, (unsigned)n + 1);
    pthread_barrier_init(&leave, NULL, (unsigned)n + 1);
    for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, run, NULL);
    pthread_barrier_wait(&done);
    int (*summary)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "overshim_write_summary");
    printf("summary: %d\n", summary ? summary() : -2);
    pthread_barrier_wait(&leave);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    return 0;
}
