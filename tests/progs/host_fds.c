/* A refusal the kernel makes (mmap of 1 PiB: more than the address space), with the
 * program's descriptors in unusual states. Usage: host_fds closed LOG JSON | quiet.
 *   closed: fds 0..1023 closed first (a daemon that closed everything); after two
 *           refusals every descriptor still open is the shim's: each must be
 *           close-on-exec (exit 5 otherwise), and the report files (LOG and JSON, the
 *           paths given in OVERSHIM_OPTIONS) must be >= 3 (exit 4 otherwise). Exit 3
 *           when the mmap succeeded, 0 when all is well. (libunwind's own pipe, made
 *           on the first stack capture, may still take 0 and 1.)
 *   quiet:  writes nothing itself (the shim's writes are the only ones on stdout and
 *           stderr). Exit 0 when refused, 3 otherwise.
 *   pending: as quiet, with SIGPIPE blocked and one pending before the refusal: it must
 *           still be pending after the shim's writes (exit 6 if it is gone). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int refused(void)
{
    void *p = mmap(NULL, 1ull << 50, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "quiet")) return refused() ? 0 : 3;
    if (!strcmp(mode, "pending")) {
        sigset_t pipe_only, now;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        sigprocmask(SIG_BLOCK, &pipe_only, NULL);
        raise(SIGPIPE);
        if (!refused()) return 3;
        sigpending(&now);
        return sigismember(&now, SIGPIPE) ? 0 : 6;
    }
    if (strcmp(mode, "closed") != 0) return 2;
    for (int fd = 0; fd < 1024; fd++) close(fd);
    if (!refused()) return 3;
    if (!refused()) return 3; /* a second report into the same, already open, files */
    if (argc < 4) return 2;
    for (int fd = 0; fd < 1024; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags < 0) continue;
        if (!(flags & FD_CLOEXEC)) return 5;
        char link[64], target[4096];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd); /* readlink opens no descriptor */
        ssize_t n = readlink(link, target, sizeof target - 1);
        target[n > 0 ? n : 0] = 0;
        /* the program opened nothing: a descriptor below 3 is the shim's, or its
         * libunwind's (the pipe it probes memory with) */
        if (fd < 3) {
            fprintf(stderr, "fd %d open: %s\n", fd, target);
            return 4;
        }
    }
    return 0;
}
