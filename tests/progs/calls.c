/* One call of the shim's table (shim/symbols.def), made the ordinary way, for
 * tests/integ/test_calls.c: `calls NAME` makes it once and prints
 * "NAME ok 0" or "NAME failed ERR" (errno, or the error number the call returns),
 * "NAME absent 0" when this libc has no such function. The exit family leaves with
 * status 7 after printing. An unknown name prints "NAME unknown 0" (the test then
 * fails: a row of the table without a way to call it here). */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void say(const char *n, const char *what, int err)
{
    printf("%s %s %d\n", n, what, err);
    fflush(stdout);
}

static void result(const char *n, int ok, int err) { say(n, ok ? "ok" : "failed", ok ? 0 : err); }

static int child(void *arg)
{
    (void)arg;
    return 0;
}

static void *thread(void *arg) { return arg; }

#define MB (1u << 20)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    const char *n = argv[1];
    errno = 0;
    if (!strcmp(n, "mmap")) {
        void *p = mmap(NULL, MB, PROT_READ | PROT_WRITE, ANON, -1, 0);
        result(n, p != MAP_FAILED, errno);
    } else if (!strcmp(n, "mmap64")) {
        void *p = mmap64(NULL, MB, PROT_READ | PROT_WRITE, ANON, -1, 0);
        result(n, p != MAP_FAILED, errno);
    } else if (!strcmp(n, "munmap")) {
        void *p = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, ANON, -1, 0);
        errno = 0;
        /* the middle page: the kernel splits the mapping in two */
        int r = munmap((char *)p + 4096, 4096);
        result(n, r == 0, errno);
    } else if (!strcmp(n, "mremap")) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, ANON, -1, 0);
        errno = 0;
        void *q = mremap(p, 4096, 8 * 4096, MREMAP_MAYMOVE);
        result(n, q != MAP_FAILED, errno);
    } else if (!strcmp(n, "mprotect")) {
        void *p = mmap(NULL, MB, PROT_NONE, ANON | MAP_NORESERVE, -1, 0);
        errno = 0;
        int r = mprotect(p, MB, PROT_READ | PROT_WRITE);
        result(n, r == 0, errno);
    } else if (!strcmp(n, "brk")) {
        char *cur = sbrk(0);
        errno = 0;
        int r = brk(cur + 4096);
        result(n, r == 0, errno);
    } else if (!strcmp(n, "sbrk")) {
        void *p = sbrk(4096);
        result(n, p != (void *)-1, errno);
    } else if (!strcmp(n, "malloc")) {
        void *p = malloc(1000);
        result(n, p != NULL, errno);
    } else if (!strcmp(n, "calloc")) {
        void *p = calloc(10, 100);
        result(n, p != NULL, errno);
    } else if (!strcmp(n, "realloc")) {
        void *p = malloc(10);
        errno = 0;
        void *q = realloc(p, 1000);
        result(n, q != NULL, errno);
    } else if (!strcmp(n, "reallocarray")) {
        void *p = reallocarray(NULL, 10, 100);
        result(n, p != NULL, errno);
    } else if (!strcmp(n, "free")) {
        free(malloc(100));
        result(n, 1, 0);
    } else if (!strcmp(n, "free_sized") || !strcmp(n, "free_aligned_sized")) {
        /* C23's, newer than this libc's headers: reached by name (the shim exports both) */
        void *f = dlsym(RTLD_DEFAULT, n);
        if (!f) return say(n, "absent", 0), 0;
        void *p = aligned_alloc(64, 128);
        if (!strcmp(n, "free_sized")) ((void (*)(void *, size_t))f)(p, 128);
        else ((void (*)(void *, size_t, size_t))f)(p, 64, 128);
        result(n, 1, 0);
    } else if (!strcmp(n, "posix_memalign")) {
        void *p = NULL;
        int e = posix_memalign(&p, 64, 1000);
        result(n, e == 0, e);
    } else if (!strcmp(n, "aligned_alloc")) {
        void *p = aligned_alloc(64, 1024);
        result(n, p != NULL, errno);
    } else if (!strcmp(n, "memalign")) {
        void *p = memalign(64, 1000);
        result(n, p != NULL, errno);
    } else if (!strcmp(n, "valloc")) {
        void *p = valloc(1000);
        result(n, p != NULL, errno);
    } else if (!strcmp(n, "pvalloc")) {
        void *p = pvalloc(1000);
        result(n, p != NULL, errno);
    } else if (!strcmp(n, "malloc_usable_size")) {
        void *p = malloc(100);
        result(n, malloc_usable_size(p) >= 100, 0);
    } else if (!strcmp(n, "clone")) {
        static char stack[64 << 10] __attribute__((aligned(16)));
        int pid = clone(child, stack + sizeof stack, SIGCHLD, NULL);
        int e = errno, st = 0;
        if (pid > 0) waitpid(pid, &st, 0);
        result(n, pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, e);
    } else if (!strcmp(n, "pthread_create")) {
        pthread_t t;
        int e = pthread_create(&t, NULL, thread, NULL);
        if (!e) pthread_join(t, NULL);
        result(n, e == 0, e);
    } else if (!strcmp(n, "pthread_setname_np")) {
        int e = pthread_setname_np(pthread_self(), "calls-test");
        char got[16] = "";
        pthread_getname_np(pthread_self(), got, sizeof got);
        result(n, e == 0 && !strcmp(got, "calls-test"), e);
    } else if (!strcmp(n, "fork")) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        int e = errno, st = 0;
        if (pid > 0) waitpid(pid, &st, 0);
        result(n, pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, e);
    } else if (!strcmp(n, "posix_spawn") || !strcmp(n, "posix_spawnp")) {
        pid_t pid;
        char *args[] = {"true", NULL};
        int e = !strcmp(n, "posix_spawn") ? posix_spawn(&pid, "/bin/true", NULL, NULL, args, environ)
                                          : posix_spawnp(&pid, "true", NULL, NULL, args, environ);
        int st = 0;
        if (!e) waitpid(pid, &st, 0);
        result(n, e == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, e);
    } else if (!strcmp(n, "syscall")) {
        long r = syscall(SYS_getpid);
        result(n, r == (long)getpid(), errno);
    } else if (!strcmp(n, "memfd_create")) {
        int fd = memfd_create("calls", 0);
        result(n, fd >= 0, errno);
    } else if (!strcmp(n, "shm_open")) {
        char name[64];
        snprintf(name, sizeof name, "/overshim-calls-%d", (int)getpid());
        int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
        int e = errno;
        if (fd >= 0) shm_unlink(name);
        result(n, fd >= 0, e);
    } else if (!strcmp(n, "fallocate") || !strcmp(n, "fallocate64")) {
        /* 1 MiB allocated in a memfd: shmem the kernel charges page by page */
        int fd = memfd_create("calls", 0);
        errno = 0;
        int r = !strcmp(n, "fallocate") ? fallocate(fd, 0, 0, MB) : fallocate64(fd, 0, 0, MB);
        result(n, fd >= 0 && r == 0, errno);
    } else if (!strcmp(n, "ftruncate") || !strcmp(n, "ftruncate64")) {
        int fd = memfd_create("calls", 0);
        errno = 0;
        int r = !strcmp(n, "ftruncate") ? ftruncate(fd, MB) : ftruncate64(fd, MB);
        result(n, fd >= 0 && r == 0, errno);
    } else if (!strcmp(n, "exit")) {
        result(n, 1, 0);
        exit(7);
    } else if (!strcmp(n, "_exit")) {
        result(n, 1, 0);
        _exit(7);
    } else if (!strcmp(n, "_Exit")) {
        result(n, 1, 0);
        _Exit(7);
    } else {
        say(n, "unknown", 0);
    }
    return 0;
}
