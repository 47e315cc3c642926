/* Thread creation under strict overcommit: each new thread's 8 MiB stack is
 * charged in full. Usage: threads MIB COUNT (commit MIB first, then start COUNT
 * threads that wait). Prints how many started and pthread_create's error. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int hold[2]; /* threads wait for the end of the pipe */

static void *wait_end(void *a)
{
    char c;
    while (read(hold[0], &c, 1) > 0) {}
    return a;
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
    int want = argc > 2 ? atoi(argv[2]) : 100;
    if (mib && mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) {
        printf("commit of %zu MiB refused\n", mib);
        return 2;
    }
    pthread_t *t = calloc((size_t)want, sizeof *t);
    int started = 0, rc = 0;
    if (pipe(hold) != 0) return 2;
    for (; started < want; started++) {
        rc = pthread_create(&t[started], NULL, wait_end, NULL);
        if (rc) break;
    }
    printf("threads started: %d of %d%s%s\n", started, want, rc ? "; pthread_create: " : "", rc ? strerror(rc) : "");
    close(hold[1]);
    for (int i = 0; i < started; i++) pthread_join(t[i], NULL);
    return rc ? 1 : 0;
}
