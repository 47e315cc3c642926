/* Issue 11: the host program's descriptors and report paths that are not regular files
 * (the malloc family's tcache and the start-up warning: test_host_malloc.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define HUGE_PAGES "1000000000000" /* refuse mmap-pages: more than any address space */

/* Entries in dir besides . and .. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* Names in /dev that start with one of the device names the tests write to, followed
 * by a dot: what the old no-overwrite rule made (/dev/null.1). Joined into one string. */
static void dev_leftovers(char *out, size_t cap)
{
    out[0] = 0;
    DIR *d = opendir("/dev");
    if (!d) return;
    struct dirent *e;
    static const char *const dev[] = {"null.", "full.", "stdout.", "stderr.", "fd."};
    while ((e = readdir(d)))
        for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++)
            if (!strncmp(e->d_name, dev[i], strlen(dev[i])) && strlen(out) + strlen(e->d_name) + 2 < cap) {
                strcat(out, e->d_name);
                strcat(out, " ");
            }
    closedir(d);
}

/* Parse text as JSON Lines: every line must parse. Returns the number of lines and
 * counts those whose event is `kind` (may be NULL). */
static int json_text_lines(const char *text, const char *kind, int *kinds)
{
    int n = 0;
    if (kinds) *kinds = 0;
    char *copy = strdup(text), *save = NULL;
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char err[256];
        struct jval *v = json_parse(l, err, sizeof err);
        cr_expect(v != NULL, "line %d is not JSON (%s): %.200s", n + 1, err, l);
        if (v && kind && kinds && json_str(v, "event") && !strcmp(json_str(v, "event"), kind)) ++*kinds;
        json_free(v);
        n++;
    }
    free(copy);
    return n;
}

static char *slurp_fd(int fd)
{
    size_t len = 0, cap = 65536;
    char *b = malloc(cap);
    for (;;) {
        if (len + 65536 + 1 > cap) b = realloc(b, cap *= 2);
        ssize_t r = read(fd, b + len, 65536);
        if (r <= 0) break;
        len += (size_t)r;
    }
    b[len] = 0;
    return b;
}

static void opts(char *buf, size_t cap, const char *fmt, const char *a, const char *b)
{
    char o[9000];
    snprintf(o, sizeof o, fmt, a, b);
    snprintf(buf, cap, "OVERSHIM_OPTIONS=%s", o);
}

/* ---- 6. descriptors: the shim's are >= 3 and close-on-exec ------------------ */

/* fds 0..1023 closed, then two refusals: the JSON file is not where stderr was, so
 * the SUMMARY line stays out of it; every line parses and the text log holds both
 * reports. */
Test(host, closed_stdio_keeps_reports_apart)
{
    char *dir = test_dir("closedfds");
    char log[4200], json[4200], env0[9100];
    snprintf(log, sizeof log, "%s/r.log", dir);
    snprintf(json, sizeof json, "%s/r.jsonl", dir);
    opts(env0, sizeof env0, "log=%s:json=%s:report_at_exit=1", log, json);
    char *env[] = {env0, NULL};
    char *argv[] = {(char *)prog("host_fds"), "closed", log, json, NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 30);
    cr_expect_eq(r.status, 0, "exit %d (4: a report file at 0-2, 5: a descriptor not close-on-exec)", r.status);
    char *text = read_all(json);
    cr_assert(text, "no %s", json);
    int enomem, n = json_text_lines(text, "enomem", &enomem);
    cr_expect_eq(enomem, 2, "both refusals in the JSON file");
    cr_expect_geq(n, 4, "two enomem events, the summary and the exit event: %d lines", n);
    cr_expect(strstr(text, "SUMMARY") == NULL, "the stderr line went into the JSON file");
    free(text);
    text = read_all(log);
    cr_assert(text);
    const char *first = strstr(text, "overshim: mmap refused");
    cr_expect(first && strstr(first + 1, "overshim: mmap refused") && strstr(text, "STACK"), "%s", text);
    cr_expect(strstr(text, "\"schema\"") == NULL, "JSON in the text log");
    free(text);
    run_free(&r);
    free(dir);
}

/* ---- 7. report paths that are not regular files ----------------------------- */

static void refuse_in(struct run *r, const char *dir, const char *options, char *extra)
{
    char env0[9000];
    snprintf(env0, sizeof env0, "OVERSHIM_OPTIONS=%s", options);
    char *env[] = {env0, extra, NULL};
    char *argv[] = {(char *)prog("refuse"), "mmap-pages", HUGE_PAGES, NULL};
    run_cmd(r, argv, env, dir, 1, 30);
}

/* The same program without the shim: the status and stdout a shimmed run must keep. */
static void bare(struct run *r)
{
    char *argv[] = {(char *)prog("refuse"), "mmap-pages", HUGE_PAGES, NULL};
    run_cmd(r, argv, NULL, NULL, 0, 30);
}

Test(host, fifo_with_a_reader_gets_the_report)
{
    char *dir = test_dir("fifo");
    char tf[4200], jf[4200], o[9000];
    snprintf(tf, sizeof tf, "%s/log.fifo", dir);
    snprintf(jf, sizeof jf, "%s/json.fifo", dir);
    cr_assert_eq(mkfifo(tf, 0600), 0);
    cr_assert_eq(mkfifo(jf, 0600), 0);
    int rt = open(tf, O_RDONLY | O_NONBLOCK), rj = open(jf, O_RDONLY | O_NONBLOCK); /* readers, before any writer */
    cr_assert(rt >= 0 && rj >= 0);
    snprintf(o, sizeof o, "log=%s:json=%s", tf, jf);
    struct run r, b;
    refuse_in(&r, dir, o, NULL);
    bare(&b);
    cr_expect_eq(r.status, b.status);
    cr_expect_str_eq(r.out, b.out);
    char *text = slurp_fd(rt), *json = slurp_fd(rj);
    cr_expect(strstr(text, "overshim: mmap refused") && strstr(text, "STACK"), "text through the FIFO: %s", text);
    int exits, n = json_text_lines(json, "exit", &exits);
    cr_expect_geq(n, 2, "JSON through the FIFO: %s", json);
    cr_expect_eq(exits, 1);
    cr_expect_eq(entries(dir), 2, "only the two FIFOs in %s", dir);
    free(text);
    free(json);
    close(rt);
    close(rj);
    run_free(&r);
    run_free(&b);
    free(dir);
}

/* A reader that never reads: once the FIFO is full the shim waits for room once (a
 * second), then drops what does not fit, and does not wait again for every later
 * report (100 refusals would otherwise cost a second each). */
Test(host, fifo_reader_that_never_reads, .timeout = 60)
{
    char *dir = test_dir("fifo-stuck");
    char f[4200], e0[4400];
    snprintf(f, sizeof f, "%s/log.fifo", dir);
    cr_assert_eq(mkfifo(f, 0600), 0);
    int rd = open(f, O_RDONLY | O_NONBLOCK);
    cr_assert(rd >= 0);
    snprintf(e0, sizeof e0, "OVERSHIM_OPTIONS=log=%s:json=none:verbosity=0:max_reports=100", f);
    char *env[] = {e0, NULL};
    char *argv[] = {(char *)prog("refuse"), "many", "50", NULL};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 40);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_expect(!r.timed_out);
    cr_expect_eq(r.status, 0, "%s", r.out);
    cr_expect_lt(t1.tv_sec - t0.tv_sec, 15, "100 refusals took %ld s", (long)(t1.tv_sec - t0.tv_sec));
    cr_expect_eq(entries(dir), 1);
    close(rd);
    run_free(&r);
    free(dir);
}

/* No reader: the open fails at once (never blocks the program) and the report falls
 * back as an unwritable path does, to $TMPDIR. */
Test(host, fifo_without_a_reader_falls_back)
{
    char *dir = test_dir("fifo-alone"), *tmp = test_dir("fifo-tmp");
    char f[4200], o[9000], t[4300];
    snprintf(f, sizeof f, "%s/log.fifo", dir);
    cr_assert_eq(mkfifo(f, 0600), 0);
    snprintf(o, sizeof o, "log=%s:json=none", f);
    snprintf(t, sizeof t, "TMPDIR=%s", tmp);
    struct run r, b;
    refuse_in(&r, dir, o, t);
    bare(&b);
    cr_expect(!r.timed_out, "the program hung on a FIFO without a reader");
    cr_expect_eq(r.status, b.status);
    cr_expect_str_eq(r.out, b.out);
    cr_expect_eq(entries(dir), 1, "only the FIFO in %s", dir);
    char alt[4300];
    snprintf(alt, sizeof alt, "%s/log.fifo", tmp);
    char *rep = read_all(alt);
    cr_expect(rep && strstr(rep, "overshim: mmap refused"), "the report went to $TMPDIR: %s", r.err);
    free(rep);
    run_free(&r);
    run_free(&b);
    free(dir);
    free(tmp);
}

static int unix_socket(const char *path, int type)
{
    int s = socket(AF_UNIX, type, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0, "bind %s: %s", path, strerror(errno));
    if (type == SOCK_STREAM) cr_assert_eq(listen(s, 4), 0);
    return s;
}

/* A socket path short enough for sun_path (the build directory may be deep). */
static char *short_dir(const char *name)
{
    char *d = malloc(64);
    snprintf(d, 64, "/tmp/osh-%s-XXXXXX", name);
    cr_assert(mkdtemp(d));
    return d;
}

Test(host, unix_stream_socket_is_connected_to)
{
    char *dir = short_dir("sock");
    char s[128], o[9000];
    snprintf(s, sizeof s, "%s/j.sock", dir);
    int l = unix_socket(s, SOCK_STREAM);
    snprintf(o, sizeof o, "log=none:json=%s", s);
    struct run r, b;
    refuse_in(&r, dir, o, NULL);
    bare(&b);
    cr_expect_eq(r.status, b.status);
    cr_expect_str_eq(r.out, b.out);
    struct pollfd p = {l, POLLIN, 0};
    cr_assert_eq(poll(&p, 1, 5000), 1, "the shim never connected");
    int c = accept(l, NULL, NULL); /* the connection waits in the backlog after the program left */
    cr_assert(c >= 0);
    char *json = slurp_fd(c);
    int enomem, n = json_text_lines(json, "enomem", &enomem);
    cr_expect_eq(enomem, 1, "%s", json);
    cr_expect_geq(n, 2);
    cr_expect_eq(entries(dir), 1, "only the socket in %s", dir);
    free(json);
    close(c);
    close(l);
    unlink(s);
    rmdir(dir);
    run_free(&r);
    run_free(&b);
    free(dir);
}

Test(host, unix_datagram_socket_is_connected_to)
{
    char *dir = short_dir("dgram");
    char s[128], o[9000];
    snprintf(s, sizeof s, "%s/j.sock", dir);
    int d = unix_socket(s, SOCK_DGRAM);
    snprintf(o, sizeof o, "log=none:json=%s", s);
    struct run r;
    refuse_in(&r, dir, o, NULL);
    cr_expect_eq(r.status, 0);
    char all[262144];
    size_t len = 0;
    for (;;) {
        ssize_t k = recv(d, all + len, sizeof all - 1 - len, MSG_DONTWAIT);
        if (k <= 0) break;
        len += (size_t)k;
    }
    all[len] = 0;
    int enomem;
    json_text_lines(all, "enomem", &enomem);
    cr_expect_eq(enomem, 1, "%s", all);
    close(d);
    unlink(s);
    rmdir(dir);
    run_free(&r);
    free(dir);
}

/* /dev/stdout and its other names are the program's fd 1, written as it is (a pipe
 * here, which cannot be reopened as a file anyway): the JSON lines arrive between the
 * program's own, which are unchanged. No file is made, in the directory or in /dev. */
Test(host, dev_stdout_is_fd_1)
{
    static const char *const names[] = {"/dev/stdout", "stdout", "/dev/fd/1", "/proc/self/fd/1"};
    char before[4096], after[4096];
    dev_leftovers(before, sizeof before);
    struct run b;
    bare(&b);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *dir = test_dir("stdout");
        char o[9000];
        snprintf(o, sizeof o, "log=none:json=%s", names[i]);
        struct run r;
        refuse_in(&r, dir, o, NULL);
        cr_expect_eq(r.status, b.status, "%s", names[i]);
        char own[65536] = "", json[262144] = "";
        char *copy = strdup(r.out), *save = NULL;
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            char *to = l[0] == '{' ? json : own;
            size_t cap = l[0] == '{' ? sizeof json : sizeof own;
            if (strlen(to) + strlen(l) + 2 < cap) strcat(strcat(to, l), "\n");
        }
        free(copy);
        cr_expect_str_eq(own, b.out, "%s: the program's own output changed", names[i]);
        int exits, n = json_text_lines(json, "exit", &exits);
        cr_expect_geq(n, 2, "%s: %s", names[i], r.out);
        cr_expect_eq(exits, 1, "%s", names[i]);
        cr_expect_eq(entries(dir), 0, "%s: files written", names[i]);
        run_free(&r);
        free(dir);
    }
    dev_leftovers(after, sizeof after);
    cr_expect_str_eq(after, before, "new files in /dev");
    run_free(&b);
}

/* /dev/null is not opened at all (like none): no report path on the SUMMARY line, no
 * /dev/null.1 (as root the old rule created one). */
Test(host, dev_null_is_none)
{
    char before[4096], after[4096];
    dev_leftovers(before, sizeof before);
    char *dir = test_dir("null");
    struct run r, b;
    refuse_in(&r, dir, "log=/dev/null:json=/dev/null", NULL);
    bare(&b);
    cr_expect_eq(r.status, b.status);
    cr_expect_str_eq(r.out, b.out);
    cr_expect(strstr(r.err, "SUMMARY: overshim:") && !strstr(r.err, "(report:"), "%s", r.err);
    cr_expect_eq(entries(dir), 0);
    dev_leftovers(after, sizeof after);
    cr_expect_str_eq(after, before, "new files in /dev (root: %d)", getuid() == 0);
    run_free(&r);
    run_free(&b);
    free(dir);
}

/* /dev/full is written as it is: every write fails with ENOSPC, once, and the program
 * goes on as before (ten refusals, ten reports lost). */
Test(host, dev_full_loses_the_reports_not_the_program)
{
    char before[4096], after[4096];
    dev_leftovers(before, sizeof before);
    char *dir = test_dir("full");
    char e0[] = "OVERSHIM_OPTIONS=log=/dev/full:json=/dev/full:report_at_exit=1";
    char *env[] = {e0, NULL};
    char *argv[] = {(char *)prog("refuse"), "many", "5", NULL};
    struct run r, b;
    run_cmd(&r, argv, env, dir, 1, 60);
    run_cmd(&b, argv, NULL, dir, 0, 60);
    cr_expect(!r.timed_out);
    cr_expect_eq(r.status, b.status, "%s", r.err);
    cr_expect_str_eq(r.out, b.out);
    cr_expect_eq(entries(dir), 0);
    dev_leftovers(after, sizeof after);
    cr_expect_str_eq(after, before, "new files in /dev (root: %d)", getuid() == 0);
    run_free(&r);
    run_free(&b);
    free(dir);
}

/* Run argv under the shim with stdout and stderr on the given descriptors, in a test
 * directory (a shim that took a keyword for a file name leaves it there); the exit
 * status, or 128 + the signal that killed it. */
static int run_on(char *const argv[], const char *options, int out, int err)
{
    char *dir = test_dir("run-on");
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir) != 0) _exit(126);
        dup2(out, 1);
        dup2(err, 2);
        setenv("LD_PRELOAD", shim_path(), 1);
        setenv("OVERSHIM_OPTIONS", options, 1);
        signal(SIGPIPE, SIG_DFL); /* as a program starts by default, whatever the runner set */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    cr_expect_eq(entries(dir), 0, "%s: files written for %s", argv[0], options);
    free(dir);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A reader that is gone: writing to the pipe or socket raises SIGPIPE, which kills by
 * default. The shim's writes never do: a JSON stream on stdout, the SUMMARY line on
 * stderr, a socket peer that closed. The program writes nothing itself. */
Test(host, sigpipe_never_kills_the_program)
{
    char *argv[] = {(char *)prog("host_fds"), "quiet", NULL};
    int p[2];
    cr_assert_eq(pipe(p), 0);
    close(p[0]);
    cr_expect_eq(run_on(argv, "log=none:json=stdout", p[1], p[1]), 0, "JSON into a pipe without a reader");
    cr_expect_eq(run_on(argv, "log=stderr:json=none", p[1], p[1]), 0, "the report on a stderr without a reader");
    cr_expect_eq(run_on(argv, "log=none:json=none", p[1], p[1]), 0, "the SUMMARY line on a stderr without a reader");
    close(p[1]);
    int sp[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    close(sp[0]);
    cr_expect_eq(run_on(argv, "log=stdout:json=stdout", sp[1], sp[1]), 0, "a socket whose peer closed");
    close(sp[1]);
    /* the program blocks SIGPIPE itself and has one pending: it stays pending */
    int q[2];
    cr_assert_eq(pipe(q), 0);
    close(q[0]);
    char *pending[] = {(char *)prog("host_fds"), "pending", NULL};
    cr_expect_eq(run_on(pending, "log=none:json=stdout", q[1], q[1]), 0, "the program's own pending SIGPIPE was taken");
    close(q[1]);
}

struct closer {
    int listener;
};

static void *accept_and_close(void *a)
{
    struct closer *c = a;
    int s = accept(c->listener, NULL, NULL);
    if (s >= 0) close(s);
    return NULL;
}

/* A socket the shim connected itself, whose listener accepts and hangs up at once:
 * the later writes fail (EPIPE, with MSG_NOSIGNAL), the program does not notice. */
Test(host, socket_peer_gone_is_not_fatal)
{
    char *dir = short_dir("gone");
    char s[128], o[9000];
    snprintf(s, sizeof s, "%s/j.sock", dir);
    struct closer c = {unix_socket(s, SOCK_STREAM)};
    pthread_t t;
    pthread_create(&t, NULL, accept_and_close, &c);
    snprintf(o, sizeof o, "log=none:json=%s", s);
    int devnull = open("/dev/null", O_WRONLY);
    char *argv[] = {(char *)prog("refuse"), "many", "10", NULL};
    cr_expect_eq(run_on(argv, o, devnull, devnull), 0);
    pthread_join(t, NULL);
    close(devnull);
    close(c.listener);
    unlink(s);
    rmdir(dir);
    free(dir);
}
