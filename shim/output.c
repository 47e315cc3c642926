/* Report destinations (see output.h). */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "fmt.h"
#include "rawsys.h"

static char tmpdir[256];
static char basedir[512];

void out_set_dir(const char *dir)
{
    if (dir && dir[0] == '/' && strlen(dir) < sizeof basedir) memcpy(basedir, dir, strlen(dir) + 1);
}

void out_set_tmpdir(const char *dir)
{
    if (dir && dir[0] == '/' && strlen(dir) < sizeof tmpdir) memcpy(tmpdir, dir, strlen(dir) + 1);
}

void out_setup(struct out_stream *s, const char *spec)
{
    s->spec = spec;
    s->pid = 0;
    s->path[0] = 0;
    s->fd = !strcmp(spec, "none") ? -2 : -1;
}

void out_expand(const char *spec, pid_t pid, char *dst, size_t cap)
{
    struct fmtbuf fb;
    fb_init(&fb, dst, cap, -1);
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

/* Create path exclusively; on EEXIST (a file, or a planted symlink) try .1 .. .99. */
static int create_excl(char *path, size_t cap)
{
    size_t base = strlen(path);
    for (int i = 0; i < 100; i++) {
        if (i > 0) os_snprintf(path + base, cap - base, ".%d", i);
        int fd = raw_open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_APPEND, 0600);
        if (fd >= 0) return fd;
        if (errno != EEXIST) break;
    }
    path[base] = 0;
    return -1;
}

int out_fd(struct out_stream *s)
{
    if (s->fd == -2) return -1;
    pid_t pid = raw_getpid();
    if (s->fd >= 0 && s->pid == pid) return s->fd;
    if (s->fd >= 0 && s->fd != 2) raw_close(s->fd); /* inherited from the parent: not ours */
    s->fd = -1;
    s->pid = pid;
    if (!strcmp(s->spec, "stderr")) {
        os_snprintf(s->path, sizeof s->path, "stderr");
        return s->fd = 2;
    }
    char want[600], spec[1100];
    if (basedir[0] && s->spec[0] != '/') os_snprintf(spec, sizeof spec, "%s/%s", basedir, s->spec);
    else os_snprintf(spec, sizeof spec, "%s", s->spec);
    out_expand(spec, pid, want, sizeof want);
    os_snprintf(s->path, sizeof s->path, "%s", want);
    int fd = create_excl(s->path, sizeof s->path);
    if (fd < 0) {
        const char *slash = strrchr(want, '/');
        const char *name = slash ? slash + 1 : want;
        const char *dirs[2] = {tmpdir[0] ? tmpdir : NULL, "/tmp"};
        for (int i = 0; i < 2 && fd < 0; i++) {
            if (!dirs[i]) continue;
            os_snprintf(s->path, sizeof s->path, "%s/%s", dirs[i], name);
            fd = create_excl(s->path, sizeof s->path);
        }
    }
    if (fd < 0) {
        os_snprintf(s->path, sizeof s->path, "stderr");
        fd = 2;
    }
    return s->fd = fd;
}
