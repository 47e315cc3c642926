/* Raw system calls for the shim's own use (see rawsys.h). */
#include "rawsys.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    return (void *)r;
}

int raw_munmap(void *addr, size_t len) { return (int)syscall(SYS_munmap, addr, len); }
int raw_mprotect(void *addr, size_t len, int prot) { return (int)syscall(SYS_mprotect, addr, len, prot); }
int raw_madvise(void *addr, size_t len, int advice) { return (int)syscall(SYS_madvise, addr, len, advice); }
int raw_mincore(void *addr, size_t len, unsigned char *vec) { return (int)syscall(SYS_mincore, addr, len, vec); }

/* Set at start when RLIMIT_FSIZE is finite: a write past it would raise SIGXFSZ and
 * kill the program, so the shim's writes block that signal and consume the one
 * they caused (losing the file, never the program). No handler is installed. */
int raw_fsize_limited;

static ssize_t write_all(int fd, const void *buf, size_t len);

ssize_t raw_write_all(int fd, const void *buf, size_t len)
{
    if (!raw_fsize_limited) return write_all(fd, buf, len);
    sigset_t x, old, pending;
    sigemptyset(&x);
    sigaddset(&x, SIGXFSZ);
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &x, &old, sizeof(long));
    syscall(SYS_rt_sigpending, &pending, sizeof(long));
    int was_pending = sigismember(&pending, SIGXFSZ);
    ssize_t r = write_all(fd, buf, len);
    if (!was_pending) {
        struct timespec zero = {0, 0};
        syscall(SYS_rt_sigtimedwait, &x, NULL, &zero, sizeof(long));
    }
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof(long));
    return r;
}

static ssize_t write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        long r = syscall(SYS_write, fd, p + done, len - done);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (r == 0) return -1;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

ssize_t raw_read(int fd, void *buf, size_t len)
{
    long r;
    do r = syscall(SYS_read, fd, buf, len); while (r < 0 && errno == EINTR);
    return r;
}

ssize_t raw_pread(int fd, void *buf, size_t len, off_t off)
{
    long r;
    do r = syscall(SYS_pread64, fd, buf, len, off); while (r < 0 && errno == EINTR);
    return r;
}

int raw_open(const char *path, int flags, int mode) { return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode); }
int raw_close(int fd) { return (int)syscall(SYS_close, fd); }
pid_t raw_getpid(void) { return (pid_t)syscall(SYS_getpid); }
pid_t raw_getppid(void) { return (pid_t)syscall(SYS_getppid); }
pid_t raw_gettid(void) { return (pid_t)syscall(SYS_gettid); }

uint64_t raw_now_ns(void)
{
    struct timespec ts;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t raw_realtime_s(void)
{
    struct timespec ts;
    syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec;
}

ssize_t raw_read_file(const char *path, char *buf, size_t cap)
{
    if (cap == 0) return -1;
    int fd = raw_open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return -1;
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = raw_read(fd, buf + n, cap - 1 - n);
        if (r <= 0) break;
        n += (size_t)r;
    }
    raw_close(fd);
    buf[n] = 0;
    return (ssize_t)n;
}

void raw_syslog(const char *socket_path, const char *msg, pid_t pid)
{
    if (strlen(socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) return;
    int fd = (int)syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, socket_path, strlen(socket_path) + 1);
    char buf[1200];
    char num[16];
    int n = 0, k = 0;
    unsigned v = (unsigned)pid;
    do num[k++] = (char)('0' + v % 10); while ((v /= 10) && k < 15);
    const char *head = "<12>overshim[";
    while (*head && n < (int)sizeof buf - 1) buf[n++] = *head++;
    while (k && n < (int)sizeof buf - 1) buf[n++] = num[--k];
    if (n < (int)sizeof buf - 3) buf[n++] = ']', buf[n++] = ':', buf[n++] = ' ';
    while (*msg && n < (int)sizeof buf - 1) buf[n++] = *msg++;
    syscall(SYS_sendto, fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL, &a, (socklen_t)sizeof a);
    raw_close(fd);
}
