/* The shim's own system calls. Internals never call an interposed public name:
 * everything the shim does for itself is a system call made here, inline (raw_sc,
 * raw_call: process start, the memory calls) or through syscall(2), whose x86-64
 * wrapper in the shim (interpose_shm.c) is itself a bare system call. No wrapper's
 * accounting ever sees it and no allocation happens. */
#ifndef OVERSHIM_RAWSYS_H
#define OVERSHIM_RAWSYS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A system call without libc: the kernel's result as it is (-errno on failure), errno
 * untouched. For process start, where libc's syscall() would cost a lazy binding. */
static inline long raw_sc(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

/* raw_sc with its result as libc's syscall() gives it: -1 with errno set on failure. What
 * a wrapper calls while its real function is not yet known (interpose.h: ENSURE_OR). */
static inline long raw_call(long n, long a, long b, long c, long d, long e, long f)
{
    long r = raw_sc(n, a, b, c, d, e, f);
    if (r < 0 && r > -4096) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int raw_munmap(void *addr, size_t len);
int raw_mprotect(void *addr, size_t len, int prot);
int raw_madvise(void *addr, size_t len, int advice);
int raw_mincore(void *addr, size_t len, unsigned char *vec);
/* Write everything or fail (-1); never raises SIGPIPE or SIGXFSZ in the program,
 * never retries an error, waits at most a second for a reader that does not read. */
ssize_t raw_write_all(int fd, const void *buf, size_t len);
/* fd (a connected socket of the shim's) is written with send(MSG_NOSIGNAL); is_socket
 * 0 forgets it again (before closing it). */
void raw_note_socket(int fd, int is_socket);
ssize_t raw_read(int fd, void *buf, size_t len);
ssize_t raw_pread(int fd, void *buf, size_t len, off_t off);
/* Every descriptor the shim opens is >= 3 and O_CLOEXEC (raw_fd_high moves one the
 * kernel gave at 0-2; -1 if it cannot). */
int raw_open(const char *path, int flags, int mode);
int raw_socket(int domain, int type, int protocol);
int raw_fd_high(int fd);
int raw_close(int fd);
pid_t raw_getpid(void);
pid_t raw_getppid(void);
pid_t raw_gettid(void);
/* clock_gettime through the vDSO (the system call where there is none); errno on failure */
#include <time.h>
int raw_clock_gettime(clockid_t clk, struct timespec *ts);
uint64_t raw_now_ns(void);          /* CLOCK_MONOTONIC */
uint64_t raw_realtime_s(void);      /* CLOCK_REALTIME seconds */
/* One message to syslog through /dev/log (the journal listens there), as
 * "<12>overshim[PID]: MSG" (facility user, severity warning). No libc syslog():
 * it allocates. Best effort. */
void raw_syslog(const char *socket_path, const char *msg, pid_t pid);
/* Read a whole small file into buf (NUL-terminated). Returns bytes read or -1. */
ssize_t raw_read_file(const char *path, char *buf, size_t cap);

/* Record fds 1 and 2 as the program started with them (constructor); raw_std_ok: fd
 * is still that file. raw_write_all drops writes to 0-2 otherwise. */
void raw_std_init(void);
int raw_std_ok(int fd);
/* The report path's one scratch buffer for /proc text (report lock held; users never nest). */
char *raw_scratch(size_t *cap);

#endif
