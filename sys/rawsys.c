/* Raw system calls for the shim's own use (see rawsys.h). */
#include "rawsys.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "compiler.h"
#include "elfsym.h"
#include "startvec.h"

/* the memory calls inline, not through libc's syscall(), which is the shim's own wrapper */
void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return (void *)raw_call(SYS_mmap, (long)addr, (long)len, prot, flags, fd, (long)off);
}

int raw_munmap(void *addr, size_t len) { return (int)raw_call(SYS_munmap, (long)addr, (long)len, 0, 0, 0, 0); }
int raw_mprotect(void *addr, size_t len, int prot)
{
    return (int)raw_call(SYS_mprotect, (long)addr, (long)len, prot, 0, 0, 0);
}
int raw_madvise(void *addr, size_t len, int advice)
{
    return (int)raw_call(SYS_madvise, (long)addr, (long)len, advice, 0, 0, 0);
}
int raw_mincore(void *addr, size_t len, unsigned char *vec)
{
    return (int)raw_call(SYS_mincore, (long)addr, (long)len, (long)vec, 0, 0, 0);
}

/* Descriptors the shim connected as sockets (report paths that are Unix sockets):
 * written with send(MSG_NOSIGNAL) instead of write. At most a few report streams
 * exist; they change under the report lock, readers only compare. */
static int sock_fds[4] = {-1, -1, -1, -1};

void raw_note_socket(int fd, int is_socket)
{
    for (int i = 0; i < (int)(sizeof sock_fds / sizeof sock_fds[0]); i++) {
        int cur = __atomic_load_n(&sock_fds[i], __ATOMIC_RELAXED);
        if (is_socket ? cur == -1 : cur == fd) {
            __atomic_store_n(&sock_fds[i], is_socket ? fd : -1, __ATOMIC_RELAXED);
            return;
        }
    }
}

static int is_socket(int fd)
{
    for (int i = 0; i < (int)(sizeof sock_fds / sizeof sock_fds[0]); i++)
        if (__atomic_load_n(&sock_fds[i], __ATOMIC_RELAXED) == fd) return 1;
    return 0;
}

#define SEEN_EPIPE 1
#define SEEN_EFBIG 2

/* A descriptor opened O_NONBLOCK (a FIFO, a device, a socket, or a stdout the program
 * made non-blocking) whose reader is slow: wait this long for room, then give up on
 * the rest of this write (the report is cut short, the program goes on). A reader that
 * let one wait run out is not waited for again until it takes a whole write, so that a
 * storm of refusals is not slowed by a second per line. */
#define STALL_MS 1000
static int stalled_fd = -1;

static int wait_writable(int fd)
{
    if (__atomic_load_n(&stalled_fd, __ATOMIC_RELAXED) == fd) return -1;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    long r;
    do r = syscall(SYS_poll, &p, 1, STALL_MS); while (r < 0 && errno == EINTR);
    if (r == 1 && !(p.revents & (POLLERR | POLLNVAL))) return 0;
    __atomic_store_n(&stalled_fd, fd, __ATOMIC_RELAXED);
    return -1;
}

static ssize_t write_all(int fd, const void *buf, size_t len, int sock, int *seen)
{
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        /* the program's own stdout and stderr may be blocking pipes nobody drains: wait for
         * room at most a while, and write no more than fits once there is (PIPE_BUF) */
        size_t chunk = len - done;
        if (fd <= 2 && !sock) {
            if (wait_writable(fd) != 0) return -1;
            if (chunk > 4096) chunk = 4096;
        }
        long r = sock ? syscall(SYS_sendto, fd, p + done, chunk, MSG_NOSIGNAL | MSG_DONTWAIT, NULL, 0)
                      : syscall(SYS_write, fd, p + done, chunk);
        if (r < 0) {
            if (errno == EINTR) continue;
            if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_writable(fd) == 0) continue;
            if (errno == EPIPE) *seen |= SEEN_EPIPE;
            if (errno == EFBIG) *seen |= SEEN_EFBIG;
            return -1; /* ENOSPC (/dev/full, a full disk), EPIPE, EBADF...: never retried */
        }
        if (r == 0) return -1;
        done += (size_t)r;
    }
    if (__atomic_load_n(&stalled_fd, __ATOMIC_RELAXED) == fd) __atomic_store_n(&stalled_fd, -1, __ATOMIC_RELAXED);
    return (ssize_t)done;
}

/* Writes must never kill the host. write(2) to a pipe, FIFO or socket whose reader
 * is gone raises SIGPIPE (stderr is often one: a journald stream, `| head`), and past
 * RLIMIT_FSIZE it raises SIGXFSZ; both kill by default. So the shim blocks them for
 * its write and consumes the one its own failed write raised (EPIPE, EFBIG): the
 * program never sees it. A signal the program had blocked and pending before is left
 * pending. Sockets the shim connected itself use MSG_NOSIGNAL. No handler is
 * installed. */
/* The program's stdout and stderr as they were at start (device and inode), so that
 * the shim writes to fd 1 or 2 only while it is still that file: a program started
 * with 2>&- whose next open() got fd 2, or a daemon that closed 0-2 and opened its
 * data files, must not find the shim's lines in them. */
static struct {
    int known;
    uint64_t dev, ino;
} std_at_start[3] OSH_HOT;
static int std_checked OSH_HOT; /* only the shim checks: the command writes where it is told */

OSH_START_TEXT void raw_std_init(void)
{
    std_checked = 1;
    for (int fd = 1; fd <= 2; fd++) {
        struct stat st;
        if (raw_sc(SYS_fstat, fd, (long)&st, 0, 0, 0, 0) == 0) {
            std_at_start[fd].known = 1;
            std_at_start[fd].dev = (uint64_t)st.st_dev;
            std_at_start[fd].ino = (uint64_t)st.st_ino;
        }
    }
}

int raw_std_ok(int fd)
{
    if (!std_checked) return 1;
    if (fd < 1 || fd > 2 || !std_at_start[fd].known) return 0;
    struct stat st;
    return syscall(SYS_fstat, fd, &st) == 0 && (uint64_t)st.st_dev == std_at_start[fd].dev &&
           (uint64_t)st.st_ino == std_at_start[fd].ino;
}

ssize_t raw_write_all(int fd, const void *buf, size_t len)
{
    int seen = 0;
    if (fd >= 0 && fd <= 2 && !raw_std_ok(fd)) return (ssize_t)len; /* not the stream the program started with */
    if (is_socket(fd)) return write_all(fd, buf, len, 1, &seen);
    /* the kernel's signal sets, one word (glibc's sigset_t is 128 bytes of stack each) */
    const unsigned long pipe = 1ul << (SIGPIPE - 1), xfsz = 1ul << (SIGXFSZ - 1);
    unsigned long x = pipe | xfsz, old = 0, before = 0, mine = 0; /* RLIMIT_FSIZE may be set later */
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &x, &old, sizeof x);
    if (old & x) syscall(SYS_rt_sigpending, &before, sizeof before); /* the program blocks one: pending already? */
    ssize_t r = write_all(fd, buf, len, 0, &seen);
    if ((seen & SEEN_EPIPE) && !(before & pipe)) mine |= pipe;
    if ((seen & SEEN_EFBIG) && !(before & xfsz)) mine |= xfsz;
    for (int i = 0; i < 2 && mine; i++) {
        struct timespec zero = {0, 0};
        long sig = syscall(SYS_rt_sigtimedwait, &mine, NULL, &zero, sizeof mine);
        if (sig <= 0) break;
        mine &= ~(1ul << (sig - 1));
    }
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof old);
    return r;
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

/* The shim's own descriptors are >= 3 and close-on-exec. With 0-2 closed the kernel
 * hands out the lowest free number: a report file at 2 would receive the SUMMARY line
 * and everything else written to stderr, and a program it execs would inherit it as
 * its stderr. A descriptor the kernel gave at 0-2 is moved up and the low one closed
 * (leaving it free for the program, as if the shim had not opened anything). */
int raw_fd_high(int fd)
{
    if (fd < 0 || fd > 2) return fd;
    int hi = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3);
    int e = errno;
    syscall(SYS_close, fd);
    errno = e;
    return hi;
}

int raw_open(const char *path, int flags, int mode)
{
    return raw_fd_high((int)syscall(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, mode));
}

int raw_socket(int domain, int type, int protocol)
{
    return raw_fd_high((int)syscall(SYS_socket, domain, type | SOCK_CLOEXEC, protocol));
}
int raw_close(int fd) { return (int)syscall(SYS_close, fd); }
pid_t raw_getpid(void) { return (pid_t)raw_sc(SYS_getpid, 0, 0, 0, 0, 0, 0); }
pid_t raw_getppid(void) { return (pid_t)raw_sc(SYS_getppid, 0, 0, 0, 0, 0, 0); }
pid_t raw_gettid(void) { return (pid_t)syscall(SYS_gettid); }

/* The vDSO's clock_gettime, found on first use (what libc's calls; not imported: its
 * GLIBC_2.17 version costs every process start a version check); 1 once looked up and
 * absent: the system call. */
typedef int (*vdso_clock_fn)(clockid_t, struct timespec *);
static vdso_clock_fn vdso_clock;

int raw_clock_gettime(clockid_t clk, struct timespec *ts)
{
    vdso_clock_fn f = __atomic_load_n(&vdso_clock, __ATOMIC_ACQUIRE);
    if (OSH_UNLIKELY(!f)) {
        f = (vdso_clock_fn)startvec_vdso_function("__vdso_clock_gettime", ELF_GNU_HASH_LIT("__vdso_clock_gettime"));
        if (!f) f = (vdso_clock_fn)1;
        __atomic_store_n(&vdso_clock, f, __ATOMIC_RELEASE);
    }
    if (f != (vdso_clock_fn)1 && f(clk, ts) == 0) return 0;
    long r = raw_sc(SYS_clock_gettime, clk, (long)ts, 0, 0, 0, 0);
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return 0;
}

uint64_t raw_now_ns(void)
{
    struct timespec ts;
    raw_clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t raw_realtime_s(void)
{
    struct timespec ts;
    raw_clock_gettime(CLOCK_REALTIME, &ts);
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
    int fd = raw_socket(AF_UNIX, SOCK_DGRAM, 0);
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

/* One buffer for the /proc text the report path reads (meminfo, zoneinfo, status,
 * cmdline, environ, the smaps stream): each user reads, parses and is done before the
 * next one starts, all under the report lock. Sized for a large machine's zoneinfo. */
static char scratch[256 * 1024];
char *raw_scratch(size_t *cap)
{
    *cap = sizeof scratch;
    return scratch;
}
