/* 500 forks from one thread while 4 threads hammer mmap/munmap/malloc/free.
 * Every child uses the wrappers (malloc, mmap) and exits; a child that does not
 * exit within 10 s counts as hung. Prints "forks=N hung=H failed=F wipeonfork=W",
 * W the number of this process's mappings marked MADV_WIPEONFORK (smaps "wf"). */
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int stop;

static void *hammer(void *a)
{
    unsigned n = (unsigned)(uintptr_t)a;
    while (!stop) {
        void *p = mmap(NULL, 4096 * (1 + n % 7), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        char *m = malloc(16 + (n * 37) % 100000);
        if (m) m[0] = 1;
        free(m);
        if (p != MAP_FAILED) munmap(p, 4096 * (1 + n % 7));
        n++;
    }
    return NULL;
}

static int wipeonfork_maps(void)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmFlags:", 8) && strstr(line, " wf")) n++;
    if (f) fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    int forks = argc > 1 ? atoi(argv[1]) : 500, hung = 0, failed = 0;
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, hammer, (void *)(uintptr_t)(i * 1000));
    for (int i = 0; i < forks; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            char *m = malloc(1000);
            void *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (!m || p == MAP_FAILED) _exit(1);
            free(m);
            munmap(p, 8192);
            _exit(0);
        }
        if (pid < 0) {
            failed++;
            continue;
        }
        int st = 0, done = 0;
        for (int k = 0; k < 10000 && !done; k++) {
            if (waitpid(pid, &st, WNOHANG) == pid) done = 1;
            else usleep(1000);
        }
        if (!done) {
            hung++;
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
        } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            failed++;
        }
    }
    stop = 1;
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    printf("forks=%d hung=%d failed=%d wipeonfork=%d\n", forks, hung, failed, wipeonfork_maps());
    return hung || failed;
}
