/* A program with a known commit history, for the flight recorder and trace tests
 * (tests/integ/test_timeline.c): CHUNKS mappings of MIB MiB, TOUCH percent of each
 * touched, SLEEP_MS between them (each step also maps and unmaps one page, so the shim
 * takes its samples); then two threads that map 8 MiB each and wait; then a summary
 * (overshim_write_summary, when the shim is there), "READY" on stdout, and either an
 * exit (mode "exit") or a wait to be killed (mode "hold").
 * Usage: timeline CHUNKS MIB TOUCH SLEEP_MS exit|hold
 *        timeline closefds N: close every descriptor above 2, open own.dat on every number from
 *        3 to 63 (one the shim had among them), then N 4 KiB mmap+munmap; print own.dat's size */
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int hold_fd[2];
static pthread_barrier_t ready;

static void *worker(void *arg)
{
    (void)arg;
    char *p = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) memset(p, 1, 1 << 20);
    pthread_barrier_wait(&ready);
    char c;
    while (read(hold_fd[0], &c, 1) > 0) {}
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "closefds")) {
        for (int fd = 3; fd < 1024; fd++) close(fd);
        int own = open("own.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
        for (int fd = own + 1; fd < 64; fd++) dup2(own, fd); /* whichever number the shim had */
        for (long i = 0; i < atol(argv[2]); i++) munmap(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), 4096);
        struct stat st;
        if (own < 0 || fstat(own, &st) != 0) return 2;
        printf("own.dat fd %d, %lld bytes\n", own, (long long)st.st_size);
        return 0;
    }
    if (argc < 6) return 2;
    int chunks = atoi(argv[1]), mib = atoi(argv[2]), touch = atoi(argv[3]), sleep_ms = atoi(argv[4]);
    int hold = !strcmp(argv[5], "hold");
    for (int i = 0; i < chunks; i++) {
        size_t len = (size_t)mib << 20;
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            printf("mmap %d refused\n", i);
            continue;
        }
        for (size_t o = 0; o < len * (size_t)touch / 100; o += 4096) p[o] = 1;
        usleep((useconds_t)sleep_ms * 1000);
        munmap(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), 4096);
    }
    if (pipe(hold_fd) != 0) return 2;
    pthread_barrier_init(&ready, NULL, 3);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, worker, NULL);
    pthread_barrier_wait(&ready);
    int (*summary)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "overshim_write_summary");
    if (summary) summary();
    printf("READY\n");
    fflush(stdout);
    if (hold) {
        sleep(120);
        return 3;
    }
    close(hold_fd[1]);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    return 0;
}
