/* A service with a dataset in memory that forks a child (a background save, a
 * health check): seed 002's "fork: Cannot allocate memory" under strict overcommit.
 * Usage: bigfork MIB (the dataset, committed but not touched). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1536;
    void *data = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (data == MAP_FAILED) {
        printf("dataset of %zu MiB: %s\n", mib, strerror(errno));
        return 2;
    }
    printf("dataset of %zu MiB committed\n", mib);
    pid_t pid = fork();
    if (pid < 0) {
        printf("fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) _exit(0);
    waitpid(pid, NULL, 0);
    printf("fork: ok\n");
    return 0;
}
