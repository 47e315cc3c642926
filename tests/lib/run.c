/* Test helpers for running programs (see run.h). */
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

const char *build_dir(void)
{
    static char dir[PATH_MAX];
    if (!dir[0]) {
        const char *e = getenv("OVERSHIM_BUILD");
        if (!e || !realpath(e, dir)) {
            if (!realpath("build", dir)) snprintf(dir, sizeof dir, "build");
        }
    }
    return dir;
}

const char *shim_path(void)
{
    static char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/libovershim.so", build_dir());
    return p;
}

char *test_dir(const char *name)
{
    char *d = malloc(PATH_MAX);
    snprintf(d, PATH_MAX, "%s/tests/tmp/%s.%d", build_dir(), name, (int)getpid());
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && chmod 777 '%s'", d, d, d);
    if (system(cmd) != 0) abort();
    return d;
}

static void drain(int fd, char **buf, size_t *len, size_t *cap)
{
    char tmp[65536];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0) return;
    if (*len + (size_t)n + 1 > *cap) {
        while (*len + (size_t)n + 1 > *cap) *cap = *cap ? *cap * 2 : 65536;
        *buf = realloc(*buf, *cap);
    }
    memcpy(*buf + *len, tmp, (size_t)n);
    *len += (size_t)n;
    (*buf)[*len] = 0;
}

void run_cmd(struct run *r, char *const argv[], char *const extra_env[], const char *cwd, int preload, int timeout_s)
{
    memset(r, 0, sizeof *r);
    int po[2], pe[2];
    if (pipe(po) || pipe(pe)) abort();
    pid_t pid = fork();
    if (pid < 0) { /* the machine is out of tasks or memory: say so, status -1 */
        int e = errno;
        close(po[0]), close(pe[0]), close(po[1]), close(pe[1]);
        r->out = calloc(1, 1);
        r->err = malloc(128);
        if (!r->out || !r->err) abort();
        snprintf(r->err, 128, "run_cmd: fork failed: %s", strerror(e));
        r->status = -1;
        return;
    }
    if (pid == 0) {
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]), close(pe[0]), close(po[1]), close(pe[1]);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        if (cwd && chdir(cwd) != 0) _exit(126);
        setpgid(0, 0);
        unsetenv("LD_PRELOAD");
        unsetenv("OVERSHIM_OPTIONS");
        if (preload) setenv("LD_PRELOAD", shim_path(), 1);
        for (int i = 0; extra_env && extra_env[i]; i++) putenv(extra_env[i]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(po[1]), close(pe[1]);
    size_t oc = 0, ec = 0;
    r->out = calloc(1, 1), r->err = calloc(1, 1);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int open_fds = 2;
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    while (open_fds > 0) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > timeout_s) {
            r->timed_out = 1;
            kill(-pid, SIGKILL);
            break;
        }
        if (poll(fds, 2, 200) <= 0) continue;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            size_t before = i ? r->err_len : r->out_len;
            if (i) drain(fds[i].fd, &r->err, &r->err_len, &ec);
            else drain(fds[i].fd, &r->out, &r->out_len, &oc);
            if ((i ? r->err_len : r->out_len) == before) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0) close(fds[i].fd);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

const char *find_file(const char *dir, const char *prefix, const char *suffix)
{
    static char path[PATH_MAX];
    DIR *d = opendir(dir);
    if (!d) return NULL;
    struct dirent *e;
    const char *found = NULL;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name), s = strlen(suffix);
        if (!strncmp(e->d_name, prefix, strlen(prefix)) && n >= s && !strcmp(e->d_name + n - s, suffix)) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            found = path;
            break;
        }
    }
    closedir(d);
    return found;
}

char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    b[got] = 0;
    fclose(f);
    return b;
}

char *public_dir(const char *name)
{
    char *d = malloc(PATH_MAX);
    snprintf(d, PATH_MAX, "/tmp/overshim-%s-XXXXXX", name);
    if (!mkdtemp(d)) abort();
    chmod(d, 0777);
    return d;
}

char *public_copy(const char *src, const char *dir)
{
    char *dst = malloc(PATH_MAX);
    const char *base = strrchr(src, '/');
    snprintf(dst, PATH_MAX, "%s/%s", dir, base ? base + 1 : src);
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "cp -p '%s' '%s' && chmod a+rx '%s'", src, dst, dst);
    if (system(cmd) != 0) abort();
    return dst;
}

void rm_public(char *dir)
{
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {}
    free(dir);
}
