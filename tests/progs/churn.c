/* A thread per task: N short threads, each maps a page (every third keeps it) and
 * mallocs a little. The shim must not grow with N: exited threads beyond
 * LEDGER_MAX_EXITED that nothing refers to are folded into one row. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

static void *task(void *a)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED && (intptr_t)a % 3) munmap(p, 4096);
    free(malloc(100));
    return a;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, task, (void *)(intptr_t)i) != 0) return 1;
        pthread_join(t, NULL);
    }
    printf("%d threads\n", n);
    return 0;
}
