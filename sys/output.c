/* Report destinations (see output.h). */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "fmt.h"
#include "rawsys.h"

static char tmpdir[256];
static char basedir[512];

__attribute__((section(".text.startup"))) void out_set_dir(const char *dir)
{
    if (dir && dir[0] == '/' && strlen(dir) < sizeof basedir) memcpy(basedir, dir, strlen(dir) + 1);
}

__attribute__((section(".text.startup"))) void out_set_tmpdir(const char *dir)
{
    if (dir && dir[0] == '/' && strlen(dir) < sizeof tmpdir) memcpy(tmpdir, dir, strlen(dir) + 1);
}

/* "none" or "/dev/null", compared without strcmp or a string in .rodata (process start
 * calls it for both streams: a page of text and one of data fewer) */
__attribute__((section(".text.startup"))) static int is_null(const char *path)
{
    static const uint64_t none = 0x656e6f6eull; /* "none" little-endian, then NUL */
    uint64_t w = 0;
    size_t n = 0;
    while (n < 10 && path[n]) n++;
    if (n == 4) {
        for (int i = 3; i >= 0; i--) w = w << 8 | (uint8_t)path[i];
        return w == none;
    }
    return n == 9 && path[0] == '/' && path[1] == 'd' && path[2] == 'e' && path[3] == 'v' && path[4] == '/' &&
           path[5] == 'n' && path[6] == 'u' && path[7] == 'l' && path[8] == 'l';
}

__attribute__((section(".text.startup"))) void out_setup(struct out_stream *s, const char *spec)
{
    s->spec = spec;
    s->pid = 0;
    s->path[0] = 0;
    s->owned = 0;
    s->fd = is_null(spec) ? -2 : -1;
}

void out_expand(const char *spec, pid_t pid, char *dst, size_t cap)
{
    struct fmtbuf fb;
    fb_init_str(&fb, dst, cap);
    for (const char *p = spec; *p; p++) {
        if (p[0] == '%' && p[1] == 'p') {
            fb_printf(&fb, "%d", (int)pid);
            p++;
        } else if (p[0] == '%' && p[1] == 't') {
            fb_printf(&fb, "%llu", (unsigned long long)raw_realtime_s());
            p++;
        } else {
            fb_putc(&fb, *p);
        }
    }
    fb_cstr(&fb);
}

/* The program's own descriptors, named: "stdout", "stderr", /dev/stdout, /dev/stderr,
 * /dev/fd/N, /proc/self/fd/N. Written to as they are, never opened or closed (opening
 * /dev/stdout would reopen the file behind fd 1, or fail for a socket). -1 otherwise. */
int out_named_fd(const char *path)
{
    if (!strcmp(path, "stdout") || !strcmp(path, "/dev/stdout")) return 1;
    if (!strcmp(path, "stderr") || !strcmp(path, "/dev/stderr")) return 2;
    const char *n = NULL;
    if (!strncmp(path, "/dev/fd/", 8)) n = path + 8;
    else if (!strncmp(path, "/proc/self/fd/", 14)) n = path + 14;
    if (!n || !*n) return -1;
    long v = 0;
    for (; *n; n++) {
        if (*n < '0' || *n > '9' || v > 1000000) return -1;
        v = v * 10 + (*n - '0');
    }
    return (int)v;
}

/* Create path exclusively; on EEXIST (a file, or a planted symlink) try .1 .. .99. */
static int create_excl(char *path, size_t cap)
{
    size_t base = strlen(path);
    for (int i = 0; i < 100; i++) {
        if (i > 0) osh_snprintf(path + base, cap - base, ".%d", i);
        int fd = raw_open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_APPEND, 0600);
        if (fd >= 0) return fd;
        if (errno != EEXIST) break;
    }
    path[base] = 0;
    return -1;
}

/* A Unix socket bound at path: a stream connection, else a datagram one (connect
 * answers EPROTOTYPE for the other kind). Non-blocking, so that a listener that never
 * accepts or never reads cannot stop the program (raw_write_all waits a little). */
static int connect_unix(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    if (n >= sizeof a.sun_path) return -1;
    memcpy(a.sun_path, path, n + 1);
    static const int types[2] = {SOCK_STREAM, SOCK_DGRAM};
    for (int i = 0; i < 2; i++) {
        int fd = raw_socket(AF_UNIX, types[i] | SOCK_NONBLOCK, 0);
        if (fd < 0) return -1;
        long r;
        do r = syscall(SYS_connect, fd, &a, (socklen_t)sizeof a); while (r < 0 && errno == EINTR);
        if (r == 0) {
            raw_note_socket(fd, 1);
            return fd;
        }
        int e = errno;
        raw_close(fd);
        if (e != EPROTOTYPE) return -1;
    }
    return -1;
}

#define NOT_SPECIAL -1 /* no such path, a regular file, a symlink, a directory: create_excl's rules */
#define UNUSABLE -3    /* special, but cannot be written now (a FIFO without reader): fall back */

/* Paths that are not regular files are written to as they are: a character device
 * (/dev/full, a tty) or a FIFO is opened for writing (never created, never truncated),
 * a Unix socket is connected to; /dev/null (by device number too) is not written at
 * all. The no-overwrite and no-symlink rules are for regular files: a symlink is never
 * followed, whatever it points to, so a planted one still only moves the report to
 * the next free name. Everything is opened O_NONBLOCK: a FIFO without a reader fails
 * at once (ENXIO) instead of hanging the program in open, a tty or serial line that
 * does not drain cannot hang it in write. Returns the fd, *null set for /dev/null, or
 * NOT_SPECIAL / UNUSABLE. */
static int open_special(const char *path, int *null, int *owned)
{
    struct stat st, got;
    if (syscall(SYS_newfstatat, AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) != 0) return NOT_SPECIAL;
    int fd;
    if (S_ISCHR(st.st_mode)) {
        if (major(st.st_rdev) == 1 && minor(st.st_rdev) == 3) {
            *null = 1;
            return UNUSABLE;
        }
        fd = raw_open(path, O_WRONLY | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK, 0);
    } else if (S_ISFIFO(st.st_mode)) {
        fd = raw_open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK, 0);
    } else if (S_ISSOCK(st.st_mode)) {
        fd = connect_unix(path);
        if (fd >= 0) *owned = 1;
        return fd >= 0 ? fd : UNUSABLE;
    } else if (S_ISBLK(st.st_mode)) {
        return UNUSABLE; /* a disk: never written */
    } else {
        return NOT_SPECIAL;
    }
    if (fd < 0) return UNUSABLE;
    /* the same kind of file as the one looked at (it may have been replaced since) */
    if (syscall(SYS_fstat, fd, &got) != 0 || (got.st_mode & S_IFMT) != (st.st_mode & S_IFMT) ||
        got.st_rdev != st.st_rdev) {
        raw_close(fd);
        return UNUSABLE;
    }
    *owned = 1;
    return fd;
}

static void drop(struct out_stream *s)
{
    if (s->fd >= 0 && s->owned) {
        raw_note_socket(s->fd, 0);
        raw_close(s->fd);
    }
    s->fd = -1;
    s->owned = 0;
}

/* A stream opened for one report (a foreign task's): its fd closed if the shim opened it. */
void out_release(struct out_stream *s) { drop(s); }

int out_fd(struct out_stream *s)
{
    if (s->fd == -2) return -1;
    pid_t pid = raw_getpid();
    if (s->fd >= 0 && s->pid == pid) return s->fd;
    drop(s); /* opened by the parent: its descriptor, not this process's stream */
    s->pid = pid;
    int named = out_named_fd(s->spec);
    if (named >= 0) {
        osh_snprintf(s->path, sizeof s->path, "%s", s->spec);
        return s->fd = named;
    }
    char want[600], spec[1100];
    if (basedir[0] && s->spec[0] != '/') osh_snprintf(spec, sizeof spec, "%s/%s", basedir, s->spec);
    else osh_snprintf(spec, sizeof spec, "%s", s->spec);
    out_expand(spec, pid, want, sizeof want);
    osh_snprintf(s->path, sizeof s->path, "%s", want);
    if ((named = out_named_fd(want)) >= 0) return s->fd = named;
    int null = 0, owned = 0;
    int fd = is_null(want) ? (null = 1, UNUSABLE) : open_special(want, &null, &owned);
    if (null) {
        s->fd = -2;
        return -1;
    }
    if (fd >= 0) {
        s->owned = owned;
        return s->fd = fd;
    }
    if (fd == NOT_SPECIAL) fd = create_excl(s->path, sizeof s->path);
    if (fd < 0) {
        const char *slash = strrchr(want, '/');
        const char *name = slash ? slash + 1 : want;
        const char *dirs[2] = {tmpdir[0] ? tmpdir : NULL, "/tmp"};
        for (int i = 0; i < 2 && fd < 0; i++) {
            if (!dirs[i]) continue;
            osh_snprintf(s->path, sizeof s->path, "%s/%s", dirs[i], name);
            fd = create_excl(s->path, sizeof s->path);
        }
    }
    if (fd < 0) {
        osh_snprintf(s->path, sizeof s->path, "stderr");
        return s->fd = 2;
    }
    s->owned = 1;
    return s->fd = fd;
}
