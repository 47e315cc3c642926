/* Signals while the shim works: SIGALRM every 100 us; the handler maps and unmaps
 * memory (async-signal-safe system calls, through the shim's wrappers) while the
 * main thread keeps the shim busy with mmap/munmap/mprotect for SECONDS seconds.
 * Guarantee tested: a handler's mmap/munmap/mprotect/mremap never deadlocks on the
 * shim, whatever the interrupted thread was doing inside it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>

static volatile unsigned long handled;

static void on_alarm(int sig)
{
    (void)sig;
    void *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
        mprotect(p, 4096, PROT_READ);
        munmap(p, 8192);
    }
    handled++;
}

/* SIGALRM to on_alarm every usec microseconds; 0 stops it. */
static void alarm_every(long usec)
{
    struct sigaction sa = {.sa_handler = on_alarm};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (usec) sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, usec}, {0, usec}};
    setitimer(ITIMER_REAL, &it, NULL);
}

/* sigstorm first: the timer fires every 20 us from before the process's first
 * call any wrapper sees, so a handler's mmap lands while the shim resolves its real
 * functions on this same thread (the slots are still empty then). Prints "first ok". */
static int first_call_storm(void)
{
    alarm_every(20);
    for (int i = 0; i < 20; i++) {
        char *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) continue;
        mprotect(p, 4096, PROT_READ);
        munmap(p, 65536);
    }
    alarm_every(0);
    printf("first ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "first")) return first_call_storm();
    int secs = argc > 1 ? atoi(argv[1]) : 2;
    alarm_every(100);
    time_t end = time(NULL) + secs;
    unsigned long loops = 0;
    while (time(NULL) < end) {
        char *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) continue;
        p[0] = 1;
        mprotect(p + 4096, 4096, PROT_NONE);
        munmap(p, 65536);
        loops++;
    }
    alarm_every(0);
    printf("loops %s, signals handled %s\n", loops > 100 ? "many" : "few", handled > 100 ? "many" : "few");
    return 0;
}
